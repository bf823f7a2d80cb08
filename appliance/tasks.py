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
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from appliance.config import Settings

log = logging.getLogger(__name__)

QUEUES = ("webhook", "send", "broadcast", "maintenance")
PRIORITY = {"webhook": 0, "send": 10, "broadcast": 20, "maintenance": 100}  # lower runs first

# Actors are declared against a stub until `bind` hands them the real broker, so that
# importing this module never connects anywhere (Dramatiq binds actors at decoration).
dramatiq.set_broker(StubBroker())


@dramatiq.actor(queue_name="maintenance", priority=PRIORITY["maintenance"], max_retries=0)
def ping() -> None:
    """Proves a worker consumes the queues; carries nothing."""
    log.info("worker ping")


ACTORS: list[Any] = [ping]


def bind(broker: dramatiq.Broker) -> None:
    dramatiq.set_broker(broker)
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)


def redis_broker(settings: Settings) -> RedisBroker:
    return RedisBroker(url=settings.broker_url)  # type: ignore[no-untyped-call]


def run_worker(settings: Settings, ready_file: Path | None = None) -> None:
    """The worker process: consumes every queue until SIGTERM or SIGINT."""
    if settings.log_level != "debug":  # its start/stop chatter is not an operator's business
        logging.getLogger("dramatiq").setLevel(logging.WARNING)
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
