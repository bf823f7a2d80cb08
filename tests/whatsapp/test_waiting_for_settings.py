"""Work that arrives while WhatsApp is only partly configured waits, in one line each time.

Ayu installed Gembok and entered the app secret, so customers' messages arrive, but not
yet the access token. Siti's photo, an agent's reply and a number alert cannot reach Meta:
each job says once what to configure (no traceback, no retry storm) and goes through
when Ayu has run `gembok whatsapp configure`. The jobs run in a real Dramatiq worker on
a StubBroker; the simulator plays Meta on a loopback port, as in the quick start.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from datetime import timedelta

import dramatiq
import httpx
import pytest
from dramatiq.brokers.stub import StubBroker
from werkzeug.serving import make_server

from appliance import tasks
from appliance.bootstrap import initialise
from appliance.clock import utcnow
from appliance.inbox import ingest, outbound
from appliance.store.alerts import KeptAlert
from appliance.store.db import db
from appliance.store.models import Conversation, Media, Message, Outbox
from appliance.whatsapp import credentials, health
from appliance.whatsapp.webhook_events import store
from simulator.app import create_simulator
from simulator.config import new_config
from tests.conftest import free_port, settings_for
from tests.whatsapp.conftest import APP_SECRET, VERIFY_TOKEN, envelope, text_message

CONFIGURE = "enter the access token with `gembok whatsapp configure`"


@pytest.fixture
def meta():
    """The simulator on a loopback port, where the quick start puts it."""
    sim = create_simulator(new_config(), background=False)
    server = make_server("127.0.0.1", free_port(), sim, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sim, server.server_port
    server.shutdown()
    thread.join()
    sim.close()


@pytest.fixture
def half_configured(tmp_path, meta, smtpd, monkeypatch):
    """Gembok with the app secret and number id, but no access token yet."""
    sim, port = meta
    settings = settings_for(
        tmp_path / "var", GEMBOK_WHATSAPP_APP_SECRET=APP_SECRET,
        GEMBOK_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        GEMBOK_WHATSAPP_PHONE_NUMBER_ID=sim.config.phone_number_id,
        GEMBOK_SIMULATOR_PORT=str(port), GEMBOK_SMTP_HOST="127.0.0.1",
        GEMBOK_SMTP_PORT=str(smtpd.port), GEMBOK_SMTP_CA_FILE=str(smtpd.ca_file),
        GEMBOK_ALERTS_EMAILS="it@toko.example", GEMBOK_ALERTS_PHONES="+6281299990000")
    credentials._cache.clear()
    rt, _ = initialise(settings)
    monkeypatch.setattr(tasks, "_runtime", rt)
    yield rt
    db.close()
    credentials._cache.clear()


@pytest.fixture
def worker():
    broker = StubBroker()
    tasks.bind(broker)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield broker, worker
    worker.stop()
    tasks.bind(StubBroker())


def until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.05)
    return result


def said(caplog) -> list[logging.LogRecord]:
    """What the appliance and the worker logged at WARNING and above."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_one_plain_line(records: list[logging.LogRecord], words: str) -> None:
    [record] = records
    assert words in record.getMessage() and "\n" not in record.getMessage()
    assert record.exc_info is None and record.exc_text is None


def test_a_photo_waits_for_the_access_token_then_arrives(half_configured, meta, worker,
                                                         caplog, monkeypatch):
    sim, port = meta
    monkeypatch.setattr(tasks, "WAIT_FOR_SETTINGS_MS", 1000)
    # Given Siti sends a photo, and its webhook is stored
    with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                      headers={"X-Sim-Token": sim.config.control_token}) as control:
        control.post("/_sim/customers", json={"phone": "+6281234567890", "name": "Siti"})
        sent = control.post("/_sim/customers/6281234567890/messages", json={
            "type": "image", "image": {"caption": "bukti"}, "mime_type": "image/jpeg",
            "content_base64": base64.b64encode(b"\xff\xd8\xff\xe0" + b"bukti" * 99).decode()})
    raw = json.dumps(envelope({"contacts": [{"profile": {"name": "Siti"},
                                             "wa_id": "6281234567890"}],
                               "messages": [sent.json()["message"]]})).encode()
    [media_id] = ingest.process_event(half_configured, store(half_configured.keyring.system,
                                                             raw)).media_ids
    # When the worker fetches it without an access token
    with caplog.at_level(logging.WARNING):
        tasks.fetch_media.send(media_id)
        until(lambda: said(caplog))
        # Then it says once, in one line, what to configure, and the photo waits
        assert_one_plain_line(said(caplog), CONFIGURE)
        assert Media.get_by_id(media_id).state == "pending"
        # When Ayu enters the token, the next try fetches the photo
        credentials.store_secrets(half_configured, actor="cli",
                                  access_token=sim.config.access_token)
        until(lambda: Media.get_by_id(media_id).state == "stored")
    assert_one_plain_line(said(caplog), CONFIGURE)  # and nothing else was said


def test_a_reply_waits_for_the_outbox_sweeper(half_configured, worker, caplog):
    # Given Siti wrote a minute ago and an agent replies
    raw = json.dumps(text_message("wamid.IN1", timestamp=str(int(time.time()) - 60))).encode()
    ingest.process_event(half_configured, store(half_configured.keyring.system, raw))
    outbox_id = outbound.queue_text(half_configured, Conversation.get().id, "Baik, kak",
                                    actor="user:3")
    # When the worker takes the reply without an access token
    with caplog.at_level(logging.WARNING):
        tasks.send_outbox.send(outbox_id)
        broker, stub_worker = worker
        broker.join("send")
        stub_worker.join()
    # Then one line says what to configure, and the reply stays queued for the sweeper
    assert_one_plain_line(said(caplog), CONFIGURE)
    assert Outbox.get_by_id(outbox_id).state == "queued"


def test_a_number_alert_is_emailed_and_its_whatsapp_copy_kept(half_configured, worker,
                                                                smtpd, caplog):
    # Given Meta tells that the number was flagged
    row_id = health.record(health.HealthState(status="FLAGGED"), source="webhook",
                           event="ACCOUNT_VIOLATION")
    # When the alert job runs without an access token
    with caplog.at_level(logging.WARNING):
        tasks.alert_health.send(row_id)
        broker, stub_worker = worker
        broker.join("send")
        stub_worker.join()
    # Then the e-mail went, one line says what to configure, and the WhatsApp copy waits
    assert len(smtpd.handler.messages) == 1
    assert_one_plain_line(said(caplog), CONFIGURE)
    assert KeptAlert.get(KeptAlert.health == row_id).reason == "not_configured"


def test_a_photo_stops_waiting_once_meta_no_longer_keeps_it(half_configured, worker, caplog):
    # Given a photo that arrived eight days ago, and still no access token
    raw = json.dumps(envelope({
        "contacts": [{"profile": {"name": "Siti"}, "wa_id": "6281234567890"}],
        "messages": [{"from": "6281234567890", "id": "wamid.OLD", "timestamp": "1764000000",
                      "type": "image", "image": {"id": "1003383421387256"}}]})).encode()
    [media_id] = ingest.process_event(half_configured, store(half_configured.keyring.system,
                                                             raw)).media_ids
    Message.update(created_at=utcnow() - timedelta(days=8)).execute()
    # When its job comes round again
    with caplog.at_level(logging.WARNING):
        tasks.fetch_media.send(media_id)
        broker, stub_worker = worker
        broker.join("webhook")
        stub_worker.join()
    # Then it is failed as expired (Meta keeps a webhook's media 7 days), not queued again
    assert Media.get_by_id(media_id).error == "expired"
    assert_one_plain_line(said(caplog), f"media {media_id} not stored: expired")
