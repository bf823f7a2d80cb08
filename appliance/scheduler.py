"""Provides the periodic jobs: audit checkpoint, nightly backup, sweepers, health, key jobs,
backlog alarm, the DPO's reminders, erasures and retention purges.

Jobs are plain calls; each runs no more often than asked. The scheduler knows nothing of
the queue: whoever starts it hands it the queue port (`appliance.queue_port`), so the core
stays free of Dramatiq. It runs on one host at a time: each tick holds a lease in the
store (`store.leases`), renewed every `RENEW_SECONDS`; a scheduler on another host stands
by until the holder has been silent for `LEASE_SECONDS`.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from appliance.audit import checkpoint as audit_checkpoint
from appliance.automation import auto_reply, campaigns, template_book
from appliance.backup_schedule import run_nightly
from appliance.clock import utcnow
from appliance.inbox.outbound import sweep_outbox
from appliance.notify import kept_alerts
from appliance.notify.backlog import BacklogAlarm
from appliance.privacy import requests, retention
from appliance.queue_port import QueuePort
from appliance.runtime import Runtime
from appliance.store import leases
from appliance.store.keystate import KeyJob
from appliance.whatsapp import health, numbers, webhook_events
from appliance.whatsapp.client import GraphError, TokenError
from appliance.whatsapp.connection import NotConfigured, make_client

log = logging.getLogger(__name__)
LEASE = "scheduler"
LEASE_SECONDS = 60.0
RENEW_SECONDS = 10.0


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]
    last: float = field(default=float("-inf"))


class Scheduler:
    def __init__(self, rt: Runtime, queue: QueuePort | None = None, *,
                 holder: str | None = None) -> None:
        self.holder = holder or socket.gethostname()
        self.held_until = float("-inf")  # monotonic time the lease was last renewed for
        self.standing_by = False
        self.alarm = BacklogAlarm()
        self.jobs = [
            Job("audit checkpoint", 60.0, lambda: checkpoint(rt)),
            Job("nightly backup", 60.0, lambda: run_nightly(rt)),
            Job("inbox purge", 600.0, lambda: purge_inbox(rt)),
            # UU PDP: reminders before a request's 3 x 24 h, erasures whose confirmation
            # has left, and each division's retention (hourly: a restart loses no day)
            Job("privacy reminders", 300.0, lambda: requests.remind(rt)),
            Job("privacy erasures", 30.0, lambda: requests.finish_erasures(rt)),
            Job("retention purge", 3600.0, lambda: retention.purge(rt)),
        ]
        if queue is not None:
            self.jobs += [
                Job("inbox sweeper", 10.0, lambda: sweep_inbox(rt, queue.process_events)),
                Job("outbox sweeper", 30.0,
                    lambda: [queue.send_outbox(i) for i in sweep_outbox()]),
                Job("number health", 60.0, lambda: poll_health(rt, queue.alert_health)),
                Job("key jobs", 30.0, lambda: nudge_key_jobs(queue.rotate_data_keys)),
                Job("auto reply sweeper", 30.0, lambda: sweep_auto_reply(queue.auto_reply)),
                Job("auto reply menus and waits", 30.0,
                    lambda: [queue.send_outbox(i) for i in auto_reply.sweep(rt)]),
                Job("template sync", 6 * 3600.0, lambda: sync_templates(rt)),
                Job("broadcast", 5.0, lambda: [queue.run_campaign(i)
                                               for i in campaigns.due(rt)]),
                Job("backlog alarm", 30.0, lambda: self.alarm.check(
                    rt.settings, webhook_events.backlog(),
                    webhook_events.oldest_waiting_seconds())),
            ]

    def holds_lease(self, now: float) -> bool:
        """Whether this host runs the jobs now; asks the store every `RENEW_SECONDS`."""
        if now < self.held_until:
            return True
        try:
            held = leases.take(LEASE, self.holder, LEASE_SECONDS)
        except Exception:  # the database is away: run nothing rather than run twice
            log.exception("the scheduler lease could not be read")
            return False
        if held != (not self.standing_by):
            log.warning("scheduler on %s %s", self.holder,
                        "runs the jobs" if held else "stands by: another host holds the lease")
        self.standing_by = not held
        self.held_until = now + RENEW_SECONDS if held else float("-inf")
        return held

    def release(self) -> None:
        leases.release(LEASE, self.holder)

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not self.holds_lease(now):
            return
        for job in self.jobs:
            if now - job.last >= job.every_seconds:
                job.last = now
                try:
                    job.run()
                except Exception:  # a failing job must not stop the others or the appliance
                    log.exception("scheduled job %r failed", job.name)

    def run_forever(self, should_stop: Callable[[], bool], interval: float = 1.0) -> None:
        try:
            while not should_stop():
                self.tick()
                time.sleep(interval)
        finally:
            self.release()


def checkpoint(rt: Runtime) -> None:
    audit_checkpoint.write(rt.settings.audit_head_file, rt.keyring.audit_key)


BACKLOG_ALERT = 10_000


def sweep_auto_reply(enqueue: Callable[[list[int]], object]) -> list[int]:
    """Inbound messages whose Auto Reply job never ran (Redis lost it) are queued again."""
    waiting = auto_reply.unanswered()
    if waiting:
        enqueue(waiting)
    return waiting


def nudge_key_jobs(enqueue_job: Callable[[int], object]) -> list[int]:
    """A running key job that made no progress for a minute lost its queue message: resend."""
    stale = utcnow() - timedelta(seconds=60)
    ids = [j.id for j in KeyJob.select(KeyJob.id).where(KeyJob.state == "running",
                                                          KeyJob.updated_at < stale)]
    for job_id in ids:
        enqueue_job(job_id)
    return ids


def poll_health(rt: Runtime, enqueue_alert: Callable[[int], object]) -> int | None:
    """Asks Meta for each active number's state; a change is stored and alerted like a
    webhook's. Returns number 1's change (what a one-number box had), if any."""
    first = None
    for number in numbers.active(rt):
        row_id = _poll_number(rt, number.id, enqueue_alert)
        if number.id == numbers.FIRST_NUMBER:
            first = row_id
    return first


def _poll_number(rt: Runtime, number_id: int,
                 enqueue_alert: Callable[[int], object]) -> int | None:
    try:
        client = make_client(rt, number_id)
    except NotConfigured:
        return None
    try:
        with client:
            doc = client.phone_number()
    except TokenError:
        row_id = health.token_rejected(number_id)
        if row_id is not None:
            enqueue_alert(row_id)
        return row_id
    except GraphError as exc:
        log.warning("number %d health poll failed: WhatsApp error %s", number_id, exc.code)
        return None
    numbers.note_display(number_id, str(doc.get("display_phone_number") or ""))
    row_id = health.record(health.from_phone_number(doc), source="poll", number_id=number_id)
    if row_id is not None:
        enqueue_alert(row_id)
    elif kept_alerts.waiting() and health.can_send(health.current(number_id)):
        # Kept WhatsApp alerts go with the next alert; with no change to alert about (a
        # refusal while the number looked fine, or WhatsApp configured since), here.
        with make_client(rt, number_id) as late:
            kept_alerts.flush(rt.settings, late)
    return row_id


def purge_inbox(rt: Runtime) -> tuple[int, int]:
    """Raw webhooks past their time: failed ones after `inbox.failed_days`, applied ones
    (a digest only, kept against replays) after a day."""
    failed, applied = webhook_events.purge(rt.settings.inbox.failed_days)
    if failed:
        log.info("purged %d webhook events that could not be applied (older than %d days)",
                 failed, rt.settings.inbox.failed_days)
    return failed, applied


def sweep_inbox(rt: Runtime, enqueue_events: Callable[[list[int]], object]) -> int:
    """Re-queues webhooks stored but not processed in time (Redis wiped, worker killed).

    Processing is idempotent, so re-queuing one that a worker is still busy with is safe.
    """
    stale = webhook_events.stale_ids(rt.settings.whatsapp.sweep_after_seconds)
    for start in range(0, len(stale), 100):
        enqueue_events(stale[start:start + 100])
    if stale:
        log.warning("sweeper re-queued %d webhook events not processed in time", len(stale))
    waiting = webhook_events.backlog()
    if waiting > BACKLOG_ALERT:
        log.error("webhook backlog is %d events: are the workers running?", waiting)
    return len(stale)


def sync_templates(rt: Runtime) -> None:
    """Meta's template webhooks keep the list current; a sync now and then mends one lost."""
    try:
        done = template_book.sync(rt)
    except (NotConfigured, GraphError, template_book.TemplateError) as exc:
        log.info("templates not synced: %s", exc)
        return
    for failed in done.failed:
        log.warning("templates of account %s not synced", failed)
