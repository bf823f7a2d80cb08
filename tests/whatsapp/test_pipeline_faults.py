"""Nothing Meta acknowledged is ever lost or doubled, whatever part of the box falls over.

Real processes throughout: redis-server, the gunicorn webhook listener over TLS, the
Dramatiq worker and the scheduler, each started and killed like systemd would.
"""

from __future__ import annotations

import signal
import time

import pytest

from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import InboxEvent, Message
from tests.whatsapp.conftest import batch, text_message
from tests.whatsapp.harness import Appliance

pytestmark = pytest.mark.slow
CANARY_NAME = "Kanari Zzyzx Wulandari"
CANARY_BODY = "Rahasia Zzyzx: NIK 3174051234567890"


def canary_message(n: int) -> dict:
    return text_message(f"wamid.CANARY{n:05d}", body=f"{CANARY_BODY} #{n}",
                        wa_id=f"62811999{n:05d}", user_id=f"ID.9{n:05d}", name=CANARY_NAME)


@pytest.fixture
def box(tmp_path):
    appliance = Appliance(tmp_path, GEMBOK_WHATSAPP_SWEEP_AFTER_SECONDS="5")
    yield appliance
    appliance.close()
    db.close()


def counts(box: Appliance) -> tuple[int, int, int]:
    """(messages, distinct wamids, events not yet done), read by a separate connection."""
    open_runtime(box.settings)
    try:
        messages = Message.select().count()
        distinct = Message.select(Message.wamid).distinct().count()
        waiting = InboxEvent.select().where(InboxEvent.state == "new").count()
        return messages, distinct, waiting
    finally:
        db.close()


def wait_for(box: Appliance, messages: int, timeout: float = 60) -> tuple[int, int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = counts(box)
        if seen[0] >= messages and seen[2] == 0:
            return seen
        time.sleep(0.3)
    return counts(box)


def assert_nothing_personal_leaked(box: Appliance) -> None:
    logs = box.log_text()
    redis = box.redis_dump() if "redis" in box.procs else b""
    for secret in (CANARY_NAME, "Rahasia Zzyzx", "3174051234567890", "6281199900"):
        assert secret.encode() not in logs, f"{secret!r} in a log"
        assert secret.encode() not in redis, f"{secret!r} in Redis"


def test_webhooks_that_arrive_while_redis_is_down_are_kept_and_processed_after(box):
    # Given the whole pipeline runs, then Redis goes down
    for name in ("redis", "inbox-writer", "webhook", "worker"):
        box.start(name)
    box.stop("redis")
    # When Meta delivers 20 messages
    assert [box.post(canary_message(n)) for n in range(20)] == [200] * 20
    assert counts(box) == (0, 0, 20)  # acknowledged = stored, not yet processed
    # Then, once Redis is back, the sweeper queues them and each is stored exactly once
    box.start("redis")
    box.start("scheduler")
    assert wait_for(box, 20) == (20, 20, 0)
    assert_nothing_personal_leaked(box)


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(box):
    # Given 300 messages waiting, in batches of 3 updates per POST
    box.start("redis")
    box.start("inbox-writer")
    box.start("webhook")
    for n in range(0, 300, 3):
        assert box.post(batch(*(canary_message(n + i) for i in range(3)))) == 200
    # When a worker starts on them and is SIGKILLed partway
    box.start("worker")
    deadline = time.monotonic() + 30
    while counts(box)[0] < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    box.stop("worker", signal.SIGKILL)
    done_at_kill = counts(box)[0]
    assert 0 < done_at_kill < 300
    # Then a new worker and the sweeper finish the job, each message once
    box.start("worker")
    box.start("scheduler")
    assert wait_for(box, 300) == (300, 300, 0)
    assert_nothing_personal_leaked(box)


def test_the_same_webhook_delivered_three_times_through_the_listener_is_stored_once(box):
    for name in ("redis", "inbox-writer", "webhook", "worker"):
        box.start(name)
    for _ in range(3):
        assert box.post(canary_message(1)) == 200
    assert wait_for(box, 1)[:2] == (1, 1)
    assert_nothing_personal_leaked(box)


def test_the_webhook_listener_commits_directly_when_the_inbox_writer_is_down(box):
    # Given Redis and a worker, but no inbox writer (crashed, or restarting)
    for name in ("redis", "webhook", "worker"):
        box.start(name)
    # When messages arrive, they are still committed before the 200 and processed
    assert [box.post(canary_message(n)) for n in range(5)] == [200] * 5
    assert wait_for(box, 5) == (5, 5, 0)
    # and when the writer comes back, the listener uses it again
    box.start("inbox-writer")
    assert box.post(canary_message(6)) == 200
    assert wait_for(box, 6) == (6, 6, 0)
    assert_nothing_personal_leaked(box)


def test_the_real_listener_refuses_forgeries_and_oversized_bodies(box):
    box.start("webhook")
    assert box.post(canary_message(1), secret="not-the-app-secret") == 401
    raw = b"{" + b" " * (10 * 2**20) + b"}"
    assert box.post(raw) == 413
    assert box.post(b'{"object": "whatsapp_business_account", "entry": [') == 200
    open_runtime(box.settings)
    try:
        assert InboxEvent.select().count() == 1  # only the signed (if unreadable) one
    finally:
        db.close()
    assert_nothing_personal_leaked(box)
