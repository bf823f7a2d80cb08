"""Provides `gembok doctor`: one line per check of a box, and whether all of them passed.

Each check says what it looked at and, when it fails, what to do. The footprint lines
(time to ready, memory of all processes) are what the README's figures come from.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import psutil
import redis

from appliance import broker_link
from appliance.audit.verify import verify
from appliance.backup_schedule import made_at
from appliance.clock import utcnow
from appliance.config import Settings
from appliance.errors import GembokError
from appliance.runtime import Runtime, open_runtime
from appliance.store.backup import list_backups
from appliance.supervisor.children import Port, plan
from appliance.supervisor.ports import PortInUse, check_free
from appliance.supervisor.run import _http_ok
from appliance.supervisor.state import read_state
from appliance.tls import certificate_expiry
from appliance.units import UnitsUnknown, unit_states
from appliance.whatsapp import health, webhook_events
from appliance.whatsapp.credentials import load_credentials


@dataclass(frozen=True)
class Result:
    status: str  # "ok", "warn", "FAIL" or "info"
    name: str
    detail: str


def run_checks(settings: Settings) -> list[Result]:
    results: list[Result] = []
    results.append(_master_key_mode(settings))
    rt = _guard(results, "keys and database", lambda: open_runtime(settings))
    if rt is not None:
        verdict = verify(rt.keyring.audit_key, settings.audit_head_file)
        results.append(Result("ok" if verdict.ok else "FAIL", "audit chain", verdict.summary))
        results.append(_whatsapp(rt))
    results.append(_redis(settings))
    results.extend(_ports(settings))
    results.append(_certificate(settings))
    results.append(backups_check(settings))
    results.extend(_footprint(settings))
    try:
        installed = unit_states()
    except UnitsUnknown as exc:
        results.append(Result("FAIL", "units", str(exc)))
        installed = []
    if installed:  # the Ansible install: systemd runs the units
        from appliance.doctor_box import box_checks

        results.extend(box_checks(settings, installed))
    return results


def _guard(results: list[Result], name: str, check: Callable[[], Runtime]) -> Runtime | None:
    try:
        rt = check()
    except GembokError as exc:
        results.append(Result("FAIL", name, str(exc)))
        return None
    results.append(Result("ok", name, f"master key {rt.master.key_id} opens the keyring, "
                                      f"the database and its schema is current"))
    return rt


def _whatsapp(rt: Runtime) -> Result:
    creds = load_credentials(rt)
    waiting = webhook_events.backlog()
    missing = [n for n in ("phone_number_id", "access_token", "app_secret", "verify_token")
               if not getattr(creds, n)]
    if missing:
        return Result("warn", "whatsapp", f"not configured ({', '.join(missing)} missing): "
                                          "run `gembok whatsapp configure`")
    status = "warn" if waiting > 1000 else "ok"
    return Result(status, "whatsapp", f"configured; number {health.current().describe()}; "
                                      f"{waiting} webhook events waiting")


def _master_key_mode(settings: Settings) -> Result:
    path = settings.master_key_path
    try:
        info = path.stat()
    except OSError as exc:
        return Result("FAIL", "master key file", f"{path}: {exc.strerror}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return Result("FAIL", "master key file",
                      f"{path} has mode {mode:04o}: run chmod 600 {path}")
    return Result("ok", "master key file", f"{path} (mode {mode:04o}, owner uid {info.st_uid})")


def _redis(settings: Settings) -> Result:
    shown = redacted(settings.broker_url)
    try:
        client = broker_link.client(settings.broker_url, settings.redis.ca_file, socket_timeout=2)
        client.ping()
        client.close()
    except broker_link.BrokerConfigError as exc:
        return Result("FAIL", "redis", str(exc))
    except (redis.RedisError, OSError) as exc:
        return Result("FAIL", "redis", f"no answer at {shown} "
                                       f"({exc.__class__.__name__}); is the appliance running?")
    return Result("ok", "redis", f"answers at {shown}")


def redacted(url: str) -> str:
    """The broker URL without its password, fit for a terminal or a ticket."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}").geturl()


def _ports(settings: Settings) -> Iterator[Result]:
    for child in plan(settings):
        for port in child.ports:
            yield _port(port, child.health_url)


def _port(port: Port, health_url: str | None) -> Result:
    name = f"port {port.port}"
    try:
        check_free(port)
    except PortInUse as exc:
        if health_url and _http_ok(health_url):
            return Result("ok", name, f"{port.label} answers at {health_url}")
        return Result("FAIL", name, str(exc))
    return Result("ok", name, f"free for the {port.label} ({port.host})")


def _certificate(settings: Settings) -> Result:
    path = settings.tls_cert_path
    try:
        expiry = certificate_expiry(path)
    except (OSError, ValueError) as exc:
        return Result("FAIL", "TLS certificate", f"{path} cannot be read: {exc}")
    days = (expiry - datetime.now(UTC)).days
    status = "FAIL" if days < 0 else "warn" if days < 30 else "ok"
    return Result(status, "TLS certificate", f"{path} expires {expiry:%Y-%m-%d} ({days} days)")


NIGHTLY_LATE_HOURS = 26  # a night's backup plus the time it takes and a little slack


def backups_check(settings: Settings, now: datetime | None = None) -> Result:
    """A nightly backup that silently stopped is found here, not on the day it is needed."""
    folders = list_backups(settings)
    if not folders:
        return Result("warn", "backups", "none yet: the scheduler makes one at backup.daily_at, "
                                         "or run `gembok backup create`")
    newest = folders[0]
    hours = ((now or utcnow()) - made_at(newest)).total_seconds() / 3600
    where = f"newest {newest.name}, {hours:.0f} h old; {len(folders)} on the box"
    if settings.backup.daily_at and hours > NIGHTLY_LATE_HOURS:
        return Result("warn", "backups", f"{where}: the nightly backup has not run; see the "
                                         "scheduler's log (`journalctl -u gembok-scheduler` or "
                                         "the output of `gembok run`)")
    return Result("ok", "backups", f"{where}; copy them off the box")


def _footprint(settings: Settings) -> Iterator[Result]:
    state = read_state(settings.run_dir)
    if state is None or not psutil.pid_exists(state.supervisor_pid):
        yield Result("info", "footprint", "gembok run is not running here: no figures")
        return
    yield Result("info", "startup", f"all ports answered {state.ready_seconds:.2f} s after "
                                    "`gembok run` started")
    restarted = {name: n for name, n in state.restarts.items() if n}
    if restarted:
        yield Result("warn", "restarts", "restarted after dying: " + ", ".join(
            f"{name} {n}x" for name, n in sorted(restarted.items()))
            + "; the output of `gembok run` says why")
    else:
        yield Result("ok", "restarts", "no process has died since `gembok run` started")
    procs = _tree(state.supervisor_pid)
    rss = sum(_safe(lambda p: p.memory_info().rss, p) for p in procs)
    pss = sum(_safe(lambda p: p.memory_full_info().pss, p) for p in procs)
    yield Result("info", "memory", f"{len(procs)} processes: {rss / 2**20:.0f} MB resident "
                                   f"(RSS summed), {pss / 2**20:.0f} MB proportional (PSS)")


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _safe(measure: Callable[[psutil.Process], int], proc: psutil.Process) -> int:
    try:
        return measure(proc)
    except (psutil.Error, AttributeError):
        return 0

