"""`gembok run` keeps the appliance up when one of its processes dies, as systemd does.

Before issue 11, a SIGKILLed worker (or writer, or listener) stopped everything, and the
listener refused Meta until someone restarted the quick start by hand.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest

from appliance.store.db import db
from appliance.store.models import Message
from appliance.whatsapp.credentials import load_credentials
from tests.process.conftest import Office
from tests.running import eventually
from tests.whatsapp.conftest import text_message

OFFICE_ENV = {"GEMBOK_WHATSAPP_SWEEP_AFTER_SECONDS": "5"}  # Redis' loss is found sooner
CHILDREN = ["worker", "inbox-writer", "webhook", "redis", "web", "simulator"]


def ours(office: Office, body: dict) -> bytes:
    """The body addressed to the office's number (the listener refuses other numbers)."""
    metadata = body["entry"][0]["changes"][0]["value"]["metadata"]
    metadata["phone_number_id"] = load_credentials(office.rt).phone_number_id
    return json.dumps(body).encode()


class Meta:
    """Posts signed customer messages all along, and remembers which were acknowledged."""

    def __init__(self, office: Office) -> None:
        self.office = office
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            wamid = f"wamid.LOAD{n:06d}"
            body = ours(self.office, text_message(wamid, body=f"pesan ke-{n}",
                                                  wa_id=f"62812700{n % 50:05d}",
                                                  user_id=None))
            try:
                if self.office.post_webhook(body, timeout=3) == 200:
                    self.acknowledged.append(wamid)
            except httpx.HTTPError:
                pass  # down for a moment: Meta retries, and nothing was acknowledged
            time.sleep(0.02)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture(scope="module")
def meta(office: Office):
    office.division("Sales")
    load = Meta(office)
    yield load
    load.close()


@pytest.mark.parametrize("name", CHILDREN)
def test_a_child_killed_under_load_is_back_and_the_webhook_answers_within_seconds(
        office: Office, meta: Meta, name: str) -> None:
    # Given the appliance under a steady stream of Meta's webhooks
    before = len(meta.acknowledged)
    eventually(lambda: len(meta.acknowledged) > before + 5, timeout=20)
    old = office.run.tree_now()[name]

    # When one of its processes is killed outright
    os.kill(old, signal.SIGKILL)
    killed_at = time.monotonic()

    # Then a signed webhook is answered again within 5 s
    def answered() -> bool:
        """the webhook listener answers a signed POST"""
        try:
            return office.post_webhook(ours(office, text_message(
                f"wamid.PROBE{name}{time.monotonic_ns()}", user_id=None)), timeout=1) == 200
        except httpx.HTTPError:
            return False

    eventually(answered, timeout=10)
    assert time.monotonic() - killed_at < 5
    # ... and the dead process was started again, and said so in one line
    eventually(lambda: office.run.tree_now()[name] != old, timeout=30)
    assert any("restarting it" in line and "died" in line for line in office.run.err)


def test_nothing_acknowledged_was_lost_and_the_doctor_counts_the_restarts(
        office: Office, meta: Meta) -> None:
    meta.close()
    wanted = set(meta.acknowledged)
    assert len(wanted) > 100

    def all_stored() -> bool:
        """every acknowledged message is a message in the Chatroom"""
        db.close()
        stored = {m.wamid for m in Message.select(Message.wamid)
                  .where(Message.wamid.startswith("wamid.LOAD"))}
        return wanted <= stored

    eventually(all_stored, timeout=90)
    doctor = office.cli("doctor", check=False).stdout
    assert "restarted after dying" in doctor
    for name in CHILDREN:
        assert f"{name} 1x" in doctor
    assert office.run.proc.poll() is None  # still running
