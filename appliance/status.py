"""Provides the box at a glance, for the admin TUI's Status screen: services, queues, health.

Facts only, each gathered on its own so that one that cannot be read (Redis down, say)
shows as such instead of hiding the others.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
import redis

from appliance import broker_link, units
from appliance.audit.verify import Verdict, verify
from appliance.automation import campaigns
from appliance.config import Settings
from appliance.privacy import requests as privacy_requests
from appliance.runtime import Runtime
from appliance.store.backup import list_backups
from appliance.supervisor.state import read_state
from appliance.tls import certificate_expiry
from appliance.whatsapp import health, numbers, webhook_events, webhook_routing

QUEUES = ("webhook", "send", "broadcast", "maintenance")  # as in appliance.tasks
UNITS = units.UNITS  # the production units (systemd/), one per process of `gembok run`


@dataclass(frozen=True)
class Service:
    name: str
    up: bool
    detail: str


@dataclass
class BoxStatus:
    services: list[Service] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)
    events_waiting: int = 0
    number: str = "unknown"
    disk_used_mb: float = 0.0
    disk_free_gb: float = 0.0
    last_backup: str = "never"
    certificate: str = ""
    audit: str = ""
    audit_ok: bool = True
    campaigns: list[str] = field(default_factory=list)  # running broadcasts, a line each
    requests: list[str] = field(default_factory=list)  # UU PDP requests open, most urgent first


def services(settings: Settings) -> list[Service]:
    """What `gembok run` started and whether each is alive; else the systemd units' states."""
    state = read_state(settings.run_dir)
    if state is None or not psutil.pid_exists(state.supervisor_pid):
        return unit_states() or [Service("gembok run", False, "not running")]
    out = [Service("supervisor + scheduler", True, f"pid {state.supervisor_pid}")]
    for name, pid in sorted(state.children.items()):
        alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        out.append(Service(name, alive, f"pid {pid}"))
    return out


def unit_states() -> list[Service]:
    """Empty where systemd is not in charge (a laptop, a container without it)."""
    try:
        return [Service(u.name, u.active, u.detail) for u in units.unit_states()]
    except units.UnitsUnknown:
        return [Service("systemd units", False, "unknown: systemd does not answer")]


def queue_depths(settings: Settings) -> dict[str, int]:
    client = broker_link.client(settings.broker_url, settings.redis.ca_file, socket_timeout=1,
                                socket_connect_timeout=1)
    try:
        return {q: int(client.llen(f"dramatiq:{q}")) + int(client.zcard(f"dramatiq:{q}.DQ"))
                for q in QUEUES}
    finally:
        client.close()


def gather(rt: Runtime, *, check_audit: bool = True) -> BoxStatus:
    settings = rt.settings
    status = BoxStatus(services=services(settings))
    try:
        status.queues = queue_depths(settings)
        status.services.append(Service("redis (queues)", True, "answers"))
    except (redis.RedisError, OSError, broker_link.BrokerConfigError):
        status.services.append(Service("redis (queues)", False,
                                        "no answer: see `gembok doctor`"))
    status.events_waiting = webhook_events.backlog()
    served = numbers.active(rt)
    status.number = "; ".join(
        (f"{n.label}: " if len(served) > 1 else "") + health.current(n.id).describe()
        for n in served)
    status.number += "".join(f"; REFUSED webhooks for unknown number {r.phone_number_id} "
                             f"({r.count})" for r in webhook_routing.refused())
    status.campaigns = [f"{p.name}: {p.done:,} done, {p.left:,} left, {p.per_second:.0f}/s"
                        for p in campaigns.running()]
    status.requests = [f"{rid} ({kind}): {clock.words}"
                       + (" [RED]" if clock.colour == "red" else "")
                       for rid, kind, clock in privacy_requests.open_clocks()]
    status.disk_used_mb = sum(p.stat().st_size for p in settings.data_dir.rglob("*")
                              if p.is_file()) / 2**20
    status.disk_free_gb = shutil.disk_usage(settings.data_dir).free / 2**30
    backups = list_backups(settings)
    if backups:
        status.last_backup = backups[0].name.split("-")[0]
    try:
        expiry = certificate_expiry(settings.tls_cert_path)
        days = (expiry - datetime.now(UTC)).days
        status.certificate = f"expires {expiry:%Y-%m-%d} ({days} days)"
    except (OSError, ValueError):
        status.certificate = "unreadable"
    if check_audit:
        verdict: Verdict = verify(rt.keyring.audit_key, settings.audit_head_file)
        status.audit, status.audit_ok = verdict.summary, verdict.ok
    return status
