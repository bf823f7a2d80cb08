"""A reply typed by an agent is never lost, never sent twice by two workers, and a crash
between Meta's answer and our commit re-sends it at most once."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest

from appliance.clock import utcnow
from appliance.inbox import ingest, outbound
from appliance.store.models import AuditEntry, Conversation, Message, Outbox
from appliance.whatsapp.client import CloudApiClient, RateLimited, TokenError
from appliance.whatsapp.error_text import plain_words
from appliance.whatsapp.webhook_events import store
from simulator.app import create_simulator
from simulator.config import new_config
from tests.conftest import BOTH_ENGINES
from tests.whatsapp.conftest import text_message

pytestmark = BOTH_ENGINES


@pytest.fixture
def sim():
    simulator = create_simulator(new_config(), background=False)
    yield simulator
    simulator.close()


@pytest.fixture
def client(sim):
    with CloudApiClient("http://sim.test", "v25.0", sim.config.phone_number_id,
                        sim.config.access_token, transport=httpx.WSGITransport(app=sim),
                        backoff=0.01) as api:
        yield api


@pytest.fixture
def conversation(wa_rt, sim):
    """Siti exists on the simulator's side and has just written to us."""
    control = sim_control(sim)
    control.post("/_sim/customers", json={"phone": "+6281234567890", "name": "Siti"}
                 ).raise_for_status()
    control.post("/_sim/customers/6281234567890/messages",
                 json={"type": "text", "text": {"body": "Halo"}}).raise_for_status()
    control.close()
    raw = json.dumps(text_message("wamid.IN1", wa_id="6281234567890",
                                  timestamp=str(int(time.time())))).encode()
    ingest.process_event(wa_rt, store(wa_rt.keyring.system, raw))
    return Conversation.get().id


def sim_control(sim) -> httpx.Client:
    """The simulator's control API, as the tests drive it: on loopback, with its token."""
    return httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://127.0.0.1",
                        headers={"X-Sim-Token": sim.config.control_token})


def inbox(sim) -> list:
    with sim_control(sim) as c:
        return c.get("/_sim/customers/6281234567890/inbox").json()["messages"]


def test_a_reply_is_stored_with_its_outbox_row_and_audited(wa_rt, conversation):
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    row = Outbox.get_by_id(outbox_id)
    assert row.state == "queued" and Message.get_by_id(row.message_id).status == "queued"
    last = AuditEntry.select().order_by(AuditEntry.seq.desc()).get()
    assert (last.actor, last.action) == ("user:3", "message.queued")


def test_a_reply_goes_out_once_even_when_two_workers_get_it(wa_rt, conversation, client, sim):
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    assert outbound.send_outbox(wa_rt, outbox_id, client) == "sent"
    assert outbound.send_outbox(wa_rt, outbox_id, client) == "not_queued"
    assert len(inbox(sim)) == 1
    assert Message.get(Message.direction == "out").wamid == inbox(sim)[0]["wamid"]


def test_a_rate_limited_send_goes_back_to_the_queue(wa_rt, conversation, client, sim):
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    with sim_control(sim) as c:
        c.post("/_sim/faults", json={"path": "messages", "kind": "rate_limit", "count": 10}
               ).raise_for_status()
    with pytest.raises(RateLimited):
        outbound.send_outbox(wa_rt, outbox_id, client)
    assert Outbox.get_by_id(outbox_id).state == "queued"


def test_a_refused_token_fails_the_message_and_says_so(wa_rt, conversation, sim):
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    with CloudApiClient("http://sim.test", "v25.0", sim.config.phone_number_id, "wrong",
                        transport=httpx.WSGITransport(app=sim)) as bad, \
            pytest.raises(TokenError):
        outbound.send_outbox(wa_rt, outbox_id, bad)
    message = Message.get(Message.direction == "out")
    assert (message.status, message.error_code) == ("failed", 190)
    assert "token" in plain_words(190, "en")


def test_a_crash_after_metas_answer_resends_at_most_once(wa_rt, conversation, client, sim,
                                                         monkeypatch):
    # Given a worker that dies after Meta accepted the message, before our commit
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    monkeypatch.setattr(outbound, "apply_pending", lambda m: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        outbound.send_outbox(wa_rt, outbox_id, client)
    monkeypatch.undo()
    assert Outbox.get_by_id(outbox_id).state == "sending"
    # When the sweeper finds it stuck, it sends it again, once
    stale = utcnow() - timedelta(minutes=5)
    Outbox.update(updated_at=stale).where(Outbox.id == outbox_id).execute()
    assert outbound.sweep_outbox() == [outbox_id]
    monkeypatch.setattr(outbound, "apply_pending", lambda m: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        outbound.send_outbox(wa_rt, outbox_id, client)
    monkeypatch.undo()
    # and if that one is cut off too, it gives up instead of looping
    Outbox.update(updated_at=stale).where(Outbox.id == outbox_id).execute()
    assert outbound.sweep_outbox() == []
    assert Outbox.get_by_id(outbox_id).state == "failed"
    assert len(inbox(sim)) == 2  # at most one extra copy reached the customer


def test_a_stuck_send_whose_status_arrived_is_closed_not_resent(wa_rt, conversation, client,
                                                                sim, monkeypatch):
    outbox_id = outbound.queue_text(wa_rt, conversation, "Baik, kak", actor="user:3")
    monkeypatch.setattr(outbound, "apply_pending", lambda m: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        outbound.send_outbox(wa_rt, outbox_id, client)
    monkeypatch.undo()
    # Meta's `sent` status names the message through our callback data
    for post in sim.flush():
        ingest.process_event(wa_rt, store(wa_rt.keyring.system,
                                          json.dumps(post["body"]).encode()))
    Outbox.update(updated_at=utcnow() - timedelta(minutes=5)).where(Outbox.id == outbox_id) \
        .execute()
    assert outbound.sweep_outbox() == []
    assert Outbox.get_by_id(outbox_id).state == "sent" and len(inbox(sim)) == 1
