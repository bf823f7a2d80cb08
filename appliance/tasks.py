"""Provides the Dramatiq actors and the worker loop: the only module that imports dramatiq.

Actors take row ids only (no customer data ever enters Redis), are idempotent, and call
one service each. Queues go by urgency: webhook > send > broadcast > maintenance, and
maintenance never shares the webhook queue.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import dramatiq
import dramatiq.errors
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from appliance import broker_link
from appliance.automation import auto_reply as automation
from appliance.automation import campaign_runner
from appliance.config import Settings
from appliance.inbox import ingest, outbound
from appliance.keys import data_rotation
from appliance.notify import alerts, content_granted, new_device
from appliance.queue_port import QueuePort
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import close_connection
from appliance.store.numbers import number_of_media, number_of_outbox
from appliance.whatsapp import health, media
from appliance.whatsapp.client import TokenError
from appliance.whatsapp.connection import NotConfigured, make_client

log = logging.getLogger(__name__)

QUEUES = ("webhook", "send", "broadcast", "maintenance")
PRIORITY = {"webhook": 0, "send": 10, "broadcast": 20, "maintenance": 100}  # lower runs first

# Actors are declared against a stub until `bind` hands them the real broker, so that
# importing this module never connects anywhere (Dramatiq binds actors at decoration).
dramatiq.set_broker(StubBroker())


_runtime: Runtime | None = None


def configure(rt: Runtime) -> None:
    """Gives the actors of this process their open appliance (keys, database)."""
    global _runtime
    _runtime = rt


def _rt() -> Runtime:
    if _runtime is None:
        raise RuntimeError("tasks.configure(rt) was not called in this process")
    return _runtime


@dramatiq.actor(queue_name="maintenance", priority=PRIORITY["maintenance"], max_retries=0)
def ping() -> None:
    """Proves a worker consumes the queues; carries nothing."""
    log.info("worker ping")


@dramatiq.actor(queue_name="webhook", priority=PRIORITY["webhook"], max_retries=20,
                min_backoff=500, max_backoff=60_000)
def process_events(event_ids: list[int]) -> None:
    """Stored webhook POSTs (a group committed together), answered by Auto Reply in the
    same transactions; replies and media downloads follow as jobs, after the commit."""
    rt = _rt()
    answered: list[automation.Answered] = []

    def answer(batch: ingest.Outcome) -> None:
        """Auto Reply from the texts and keys the batch holds in memory, in its transaction
        (a job of its own, reading and opening every message again, held first contacts to
        0.66 of the throughput without Auto Reply, the daily mix to 0.76; this way 0.77 and
        0.89-0.92 with 1,000 rules; bench/ingest.py --auto-reply). Nothing of it runs
        before the write lock: a job that opened its connection first took the lock after
        a later job, and a customer's quick messages were stored out of order."""
        done = automation.within_batch(rt, batch.inbound_ids, handoff=batch.handoff,
                                       keys=batch.keys)
        if done is None:  # the rule book changed: compiled by its own job, off the lock
            batch.unanswered += batch.inbound_ids
        else:
            answered.append(done)

    outcome = ingest.process_events(rt, event_ids, then=answer)
    for media_id in outcome.media_ids:
        fetch_media.send(media_id)
    for row_id in outcome.health_rows:
        alert_health.send(row_id)
    for done in answered:
        _send_all(done.outbox)
        automation.notify(rt, done)
    if outcome.unanswered:  # Auto Reply failed in the batch: its own job tries again
        auto_reply.send(outcome.unanswered)
    if outcome.preferences:  # Meta's stop or resume: no message of theirs to answer
        confirm_preferences.send()


def _send_all(outbox_ids: list[int]) -> None:
    """One conversation's messages (the notice, then the menu) go in the order written."""
    for group in outbound.by_conversation(outbox_ids):
        if len(group) == 1:
            send_outbox.send(group[0])
        else:
            send_in_order.send(group)


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"], max_retries=5,
                min_backoff=1000, max_backoff=60_000)
def auto_reply(message_ids: list[int]) -> None:
    """Auto Reply's rules for inbound messages its batch did not answer (a failure there,
    or Redis lost the batch: the sweeper); each is handled once (its log row)."""
    _send_all(automation.respond(_rt(), message_ids))


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"], max_retries=5,
                min_backoff=1000, max_backoff=60_000)
def confirm_preferences() -> None:
    """Tells customers who stopped (or resumed) marketing in WhatsApp's own settings that
    the business has it; the scheduler's sweep does the same for a job Redis lost."""
    for outbox_id in automation.confirm_preferences(_rt()):
        send_outbox.send(outbox_id)


@dramatiq.actor(queue_name="broadcast", priority=PRIORITY["broadcast"], max_retries=0,
                time_limit=300_000)
def run_campaign(campaign_id: int) -> None:
    """A campaign sent for a minute, then queued again while more is due now: a long
    campaign never holds one job for hours (a job Redis re-delivers after a kill would
    otherwise restart from the top), and the scheduler takes up one whose job was lost."""
    try:
        outcome = campaign_runner.run(_rt(), campaign_id, seconds=60.0)
    except NotConfigured as exc:
        log.warning("campaign %d waits: %s", campaign_id, exc)
        return
    if outcome == "more":
        run_campaign.send(campaign_id)


WAIT_FOR_SETTINGS_MS = 5 * 60_000  # a download that waits for the admin tries again then


@dramatiq.actor(queue_name="webhook", priority=PRIORITY["webhook"] + 1, max_retries=10,
                min_backoff=1000, max_backoff=300_000)
def fetch_media(media_id: int) -> None:
    """One attachment from Meta, sealed; Meta's 5xx and timeouts come back through retries.

    While WhatsApp is only partly configured the download waits: one line naming what to
    set, and the same job again in five minutes, as a new message rather than a Dramatiq
    retry (retries run out after ten, and each printed a full traceback). No sweeper looks
    for pending media, so this message is the job's only carrier; it stops once the row is
    no longer pending or Meta's seven days are over (`media.still_wanted`).
    """
    try:
        client = make_client(_rt(), number_of_media(media_id))
    except NotConfigured as exc:
        if media.still_wanted(media_id):
            log.warning("attachment %d waits, next try in %d min: %s", media_id,
                        WAIT_FOR_SETTINGS_MS // 60_000, exc)
            fetch_media.send_with_options(args=(media_id,), delay=WAIT_FOR_SETTINGS_MS)
        return
    with client:
        media.fetch_media(_rt(), media_id, client)


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"], max_retries=8,
                min_backoff=1000, max_backoff=120_000)
def send_outbox(outbox_id: int) -> None:
    """One reply to a customer; rate limits and Meta's 5xx come back through retries.

    Without a usable WhatsApp configuration the reply stays queued (one line says what to
    set): the outbox sweeper sends it again, so no retry and no traceback here.
    """
    number_id = number_of_outbox(outbox_id)  # a reply leaves from its conversation's number
    try:
        client = make_client(_rt(), number_id)
    except NotConfigured as exc:
        log.warning("reply %d waits for the outbox sweeper: %s", outbox_id, exc)
        return
    with client:
        try:
            outbound.send_outbox(_rt(), outbox_id, client)
        except TokenError:
            row_id = health.token_rejected(number_id)
            if row_id is not None:
                alert_health.send(row_id)


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"], max_retries=8,
                min_backoff=1000, max_backoff=120_000)
def send_in_order(outbox_ids: list[int]) -> None:
    """Several replies to one customer, one after the other (two jobs would race, and the
    menu could arrive before the welcome). A retry starts again from the first: those
    already sent are no longer queued and are skipped."""
    for outbox_id in outbox_ids:
        send_outbox.fn(outbox_id)


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"] - 1, max_retries=3)
def alert_health(health_row_id: int) -> None:
    """Tells the admins, by e-mail and WhatsApp, that the number's health changed.

    Never raises for WhatsApp: a WhatsApp copy that cannot go now (number down, or
    WhatsApp not configured: one line) is kept and sent late, so a retry here would only
    e-mail the admins again.
    """
    alerts.send_health_alert(_rt(), health_row_id,
                             lambda number_id: make_client(_rt(), number_id))


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"], max_retries=5)
def notify_new_device(login_event_id: int) -> None:
    """Tells a user their account was signed in to from a new browser."""
    new_device.send_new_device_email(_rt(), login_event_id)


@dramatiq.actor(queue_name="send", priority=PRIORITY["send"] - 1, max_retries=8)
def notify_content_granted(audit_seq: int) -> None:
    """Tells every admin that someone was given `content` (retried while SMTP is down)."""
    content_granted.send_content_granted_email(_rt(), audit_seq)


@dramatiq.actor(queue_name="maintenance", priority=PRIORITY["maintenance"], max_retries=20,
                time_limit=120_000)
def rotate_data_keys(job_id: int) -> None:
    """Ten seconds of re-sealing, then back in the queue: live messages are never starved."""
    if not data_rotation.run(_rt(), job_id, budget_seconds=10.0):
        job = data_rotation.progress(job_id)
        if job is not None and job.state == "running":
            rotate_data_keys.send(job_id)


ACTORS: list[Any] = [ping, process_events, auto_reply, confirm_preferences, fetch_media,
                     send_outbox, send_in_order,
                     alert_health, notify_new_device, notify_content_granted, rotate_data_keys,
                     run_campaign]


def bind(broker: dramatiq.Broker) -> None:
    dramatiq.set_broker(broker)
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)


def redis_broker(settings: Settings) -> RedisBroker:
    """A broker that fails fast when Redis is down: callers fall back on the sweeper."""
    pool = broker_link.connection_pool(settings.broker_url, settings.redis.ca_file,
                                       socket_timeout=2, socket_connect_timeout=2)
    return RedisBroker(connection_pool=pool)  # type: ignore[no-untyped-call]


class DramatiqQueue:
    """The queue port (`appliance.queue_port`) over a broker: the only way faces, the
    scheduler and the CLI reach the actors. A send the broker refuses answers False and is
    logged here, by job kind only: the job's state is in the database, and its
    sweeper or its caller takes it from there."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        bind(broker)

    def _send(self, actor: Any, *args: Any) -> bool:
        try:
            actor.send(*args)
        except Exception as exc:  # Redis down, restarting, or refusing: all mean "not now"
            log.warning("cannot queue %s (%s); it waits for its sweeper or is done here",
                        actor.actor_name, type(exc).__name__)
            return False
        return True

    def process_events(self, event_ids: list[int]) -> bool:
        return self._send(process_events, event_ids)

    def fetch_media(self, media_id: int) -> bool:
        return self._send(fetch_media, media_id)

    def auto_reply(self, message_ids: list[int]) -> bool:
        return self._send(auto_reply, message_ids)

    def send_outbox(self, outbox_id: int) -> bool:
        return self._send(send_outbox, outbox_id)

    def alert_health(self, health_row_id: int) -> bool:
        return self._send(alert_health, health_row_id)

    def notify_new_device(self, login_event_id: int) -> bool:
        return self._send(notify_new_device, login_event_id)

    def notify_content_granted(self, audit_seq: int) -> bool:
        return self._send(notify_content_granted, audit_seq)

    def rotate_data_keys(self, job_id: int) -> bool:
        return self._send(rotate_data_keys, job_id)

    def run_campaign(self, campaign_id: int) -> bool:
        return self._send(run_campaign, campaign_id)


def queue_port(settings: Settings) -> QueuePort:
    """The port of a served process, built once: Redis as configured, failing fast."""
    return DramatiqQueue(redis_broker(settings))


def run_worker(settings: Settings, ready_file: Path | None = None) -> None:
    """The worker process: consumes every queue until SIGTERM or SIGINT."""
    if settings.log_level != "debug":  # its start/stop chatter is not an operator's business
        logging.getLogger("dramatiq").setLevel(logging.WARNING)
    configure(open_runtime(settings))
    automation.prepare()  # the rule book compiled before the first batch needs it
    close_connection()
    broker = redis_broker(settings)
    bind(broker)
    worker = dramatiq.Worker(broker, queues=set(QUEUES), worker_threads=settings.worker.threads)
    worker.queue_prefetch = settings.worker.threads * 2  # explicit: the default starves 1 thread
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.start()
    if ready_file is not None:
        ready_file.touch(mode=0o600)
    try:
        stop.wait()
    finally:
        worker.stop()
        broker.close()
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)

