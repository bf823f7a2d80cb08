"""Group commit: many requests' events, one transaction, each request told its own row id."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.test import Client

from appliance.store.db import connect_raw
from appliance.store.models import InboxEvent
from appliance.whatsapp.event_writer import WriterClient, WriterUnavailable, serve
from appliance.whatsapp.webhook_events import fingerprint_key, open_event, seal_event
from tests.whatsapp.conftest import signed, text_message
from webui.webhook_app import create_webhook_app


@pytest.fixture
def writer(wa_rt, wa_settings):
    committed: list[list[int]] = []
    stop = threading.Event()
    up = threading.Event()
    thread = threading.Thread(target=serve, kwargs=dict(
        socket_path=wa_settings.inbox_writer_socket,
        connect=lambda: connect_raw(wa_settings.db_file, wa_rt.keyring.database_key),
        on_commit=committed.append, should_stop=stop.is_set, ready=up.set))
    wa_settings.run_dir.mkdir(exist_ok=True)
    thread.start()
    assert up.wait(10)
    yield committed
    stop.set()
    thread.join(10)


def test_concurrent_requests_each_get_their_own_committed_row(wa_rt, wa_settings, writer):
    client = WriterClient(wa_settings.inbox_writer_socket)
    bodies = [f'{{"n": {n}}}'.encode() for n in range(200)]

    def store(body: bytes) -> tuple[int, bytes]:
        event = seal_event(wa_rt.keyring.system, body, fingerprint_key(b"k" * 32))
        return client.store(event.uid, event.body, event.digest), body

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(store, bodies))
    client.close()
    ids = [row_id for row_id, _ in results]
    assert len(set(ids)) == 200
    for row_id, body in results:
        assert open_event(wa_rt.keyring.system, InboxEvent.get_by_id(row_id)) == body
    assert sorted(i for batch in writer for i in batch) == sorted(ids)
    assert len(writer) < 200  # several requests shared a commit


def test_the_listener_hands_events_to_the_writer_when_it_runs(wa_rt, wa_settings, writer):
    app = create_webhook_app(wa_settings, enqueue=False)
    raw, headers = signed(text_message("wamid.W1"))
    assert Client(app).post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 200
    app.writer.close()
    deadline = time.monotonic() + 5  # the writer acknowledges first, then queues the ids
    while not writer and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer == [[InboxEvent.get().id]]


def test_a_replayed_body_is_acknowledged_but_not_stored_again(wa_rt, wa_settings, writer):
    # Given a signed webhook the listener has stored
    app = create_webhook_app(wa_settings, enqueue=False)
    raw, headers = signed(text_message("wamid.REPLAY"))
    assert Client(app).post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 200

    # When someone who captured it sends it again and again (a signature has no time)
    for _ in range(3):
        assert Client(app).post("/webhooks/whatsapp", data=raw, headers=headers
                                ).status_code == 200
    app.writer.close()

    # Then it is stored once
    assert InboxEvent.select().count() == 1


def test_a_replay_is_not_stored_again_without_the_writer_either(wa_rt, wa_settings):
    app = create_webhook_app(wa_settings, enqueue=False)
    raw, headers = signed(text_message("wamid.REPLAY2"))
    for _ in range(3):
        assert Client(app).post("/webhooks/whatsapp", data=raw, headers=headers
                                ).status_code == 200
    assert InboxEvent.select().count() == 1


def test_without_a_writer_the_client_says_so(wa_settings):
    with pytest.raises(WriterUnavailable):
        WriterClient(wa_settings.run_dir / "nobody.sock").store("0" * 32, b"x" * 40)
