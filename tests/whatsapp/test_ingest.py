"""Every message and status of every webhook lands once, in order of meaning, sealed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.inbox import first_contacts, ingest, statuses
from appliance.inbox.customers import find_by_phone, read_customer
from appliance.inbox.messages import read_conversation
from appliance.store.chatroom import CustomerToken
from appliance.store.models import (
    Conversation,
    Customer,
    CustomerKey,
    InboxEvent,
    Media,
    Message,
    NumberHealth,
    PendingStatus,
)
from appliance.whatsapp.webhook_events import store
from appliance.whatsapp.webhook_parse import parse
from tests.conftest import BOTH_ENGINES
from tests.whatsapp.conftest import batch, envelope, status, text_message

pytestmark = BOTH_ENGINES


def deliver(rt, body) -> ingest.Outcome:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ingest.process_event(rt, store(rt.keyring.system, raw))


def outbound(rt, customer_id: int, wamid: str | None = None) -> Message:
    convo = Conversation.get(Conversation.customer == customer_id)
    return Message.create(conversation=convo, direction="out", wamid=wamid, status="sent")


def test_a_customers_first_message_makes_customer_conversation_and_sealed_message(wa_rt):
    outcome = deliver(wa_rt, text_message("wamid.M1", body="Paket saya di mana?"))
    assert outcome.messages == 1
    customer_id = find_by_phone(wa_rt, "+62 812-3456-7890")
    assert read_customer(wa_rt, customer_id, actor="user:1").name == "Siti Rahayu"
    convo = Conversation.get(Conversation.customer == customer_id)
    [msg] = read_conversation(wa_rt, convo.id, actor="user:1")
    assert (msg.body, msg.kind, msg.direction) == ("Paket saya di mana?", "text", "in")
    assert Customer.get_by_id(customer_id).last_inbound_at is not None
    assert InboxEvent.get().state == "done"


def test_the_same_event_delivered_three_times_is_stored_once(wa_rt):
    for _ in range(3):
        deliver(wa_rt, text_message("wamid.DUP"))
    assert Message.select().count() == 1 and Customer.select().count() == 1


def test_processing_the_same_event_twice_applies_it_once(wa_rt):
    event_id = store(wa_rt.keyring.system, json.dumps(text_message("wamid.T2")).encode())
    assert not ingest.process_event(wa_rt, event_id).skipped
    assert ingest.process_event(wa_rt, event_id).skipped
    assert Message.select().count() == 1


def test_every_entry_change_message_and_status_of_a_batch_is_processed(wa_rt):
    # Given one POST with three entries: two customers' messages and a second message
    body = batch(text_message("wamid.B1", wa_id="6281111111111", user_id="ID.1"),
                 text_message("wamid.B2", wa_id="6282222222222", user_id="ID.2"),
                 text_message("wamid.B3", wa_id="6281111111111", user_id="ID.1"))
    body["entry"][0]["changes"].append(body["entry"][1]["changes"][0])  # two changes in one
    body["entry"][0]["changes"][0]["value"]["messages"].append(
        {**body["entry"][0]["changes"][0]["value"]["messages"][0], "id": "wamid.B4"})
    outcome = deliver(wa_rt, body)
    assert outcome.messages == 4 and outcome.duplicates == 1
    assert {m.wamid for m in Message.select()} == {"wamid.B1", "wamid.B2", "wamid.B3",
                                                    "wamid.B4"}
    assert Customer.select().count() == 2


def test_a_batch_names_its_new_inbound_messages_for_the_actors_after_it(wa_rt):
    # Given a POST with two new messages and one already seen
    deliver(wa_rt, text_message("wamid.SEEN"))
    outcome = deliver(wa_rt, batch(text_message("wamid.N1", wa_id="6281111111111"),
                                   text_message("wamid.N2", wa_id="6282222222222"),
                                   text_message("wamid.SEEN")))
    # Then the outcome carries the new ones' ids only (Auto Reply acts on them, off the
    # hot path), and no text of theirs
    assert sorted(outcome.inbound_ids) == sorted(
        m.id for m in Message.select().where(Message.wamid.in_(["wamid.N1", "wamid.N2"])))


def test_a_customer_without_a_phone_number_is_known_by_their_business_scoped_id(wa_rt):
    deliver(wa_rt, text_message("wamid.U1", wa_id=None, user_id="ID.77", name="@siti"))
    deliver(wa_rt, text_message("wamid.U2", wa_id=None, user_id="ID.77"))
    assert Customer.select().count() == 1
    assert Customer.get().phone_index is None
    # and when the phone later appears, it is added to the same customer
    deliver(wa_rt, text_message("wamid.U3", wa_id="6287777777777", user_id="ID.77"))
    assert Customer.select().count() == 1
    assert find_by_phone(wa_rt, "+62 877-7777-7777") == Customer.get().id


def test_a_status_before_its_message_waits_then_applies(wa_rt):
    deliver(wa_rt, text_message("wamid.IN"))
    out = outbound(wa_rt, Customer.get().id)
    deliver(wa_rt, status("wamid.OUT", "delivered"))
    assert PendingStatus.select().count() == 1 and out.status == "sent"
    out.wamid = "wamid.OUT"
    out.save()
    assert statuses.apply_pending(out) == 1
    assert Message.get_by_id(out.id).status == "delivered"
    assert PendingStatus.select().count() == 0


def test_a_status_names_its_message_through_our_callback_when_the_send_answer_was_lost(wa_rt):
    deliver(wa_rt, text_message("wamid.IN"))
    out = outbound(wa_rt, Customer.get().id)
    deliver(wa_rt, status("wamid.LOST", "sent", callback=statuses.callback_for(out.id)))
    out = Message.get_by_id(out.id)
    assert out.wamid == "wamid.LOST" and out.status == "sent"


def test_read_stays_read_when_a_late_delivered_arrives(wa_rt):
    deliver(wa_rt, text_message("wamid.IN"))
    out = outbound(wa_rt, Customer.get().id, wamid="wamid.R")
    deliver(wa_rt, status("wamid.R", "read", timestamp="1764000200"))
    deliver(wa_rt, status("wamid.R", "delivered", timestamp="1764000100"))
    assert Message.get_by_id(out.id).status == "read"


def test_a_failed_status_keeps_metas_error_code(wa_rt):
    deliver(wa_rt, text_message("wamid.IN"))
    out = outbound(wa_rt, Customer.get().id, wamid="wamid.F")
    deliver(wa_rt, status("wamid.F", "failed", code=131047))
    row = Message.get_by_id(out.id)
    assert (row.status, row.error_code) == ("failed", 131047)


def test_a_status_cannot_change_an_inbound_message(wa_rt):
    deliver(wa_rt, text_message("wamid.IN"))
    deliver(wa_rt, status("wamid.IN", "read"))
    assert Message.get(Message.wamid == "wamid.IN").status == "received"


def test_an_image_is_recorded_and_its_download_queued(wa_rt):
    body = text_message("wamid.IMG")
    msg = body["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.update(type="image", image={"caption": "bukti transfer", "mime_type": "image/jpeg",
                                    "sha256": "abc", "id": "1003383421387256"})
    del msg["text"]
    outcome = deliver(wa_rt, body)
    [media] = Media.select()
    assert outcome.media_ids == [media.id]
    assert (media.wa_media_id, media.state) == ("1003383421387256", "pending")


def test_a_disconnected_number_is_recorded_from_the_account_webhook(wa_rt):
    deliver(wa_rt, envelope({"event": "ACCOUNT_OFFBOARDED"}, field="account_update"))
    assert NumberHealth.get().status == "DISCONNECTED"


def test_an_unreadable_body_is_marked_failed_not_retried_forever(wa_rt):
    deliver(wa_rt, b'{"object": "whatsapp_business_account", "entry": [')
    event = InboxEvent.get()
    assert (event.state, event.error) == ("failed", "not_json")


def test_a_crash_halfway_leaves_the_event_for_the_sweeper_and_no_half_rows(wa_rt, monkeypatch):
    # Given one POST from two customers never seen before
    body = batch(text_message("wamid.C1", wa_id="6281111111111", user_id="ID.1"),
                 text_message("wamid.C2", wa_id="6282222222222", user_id="ID.2"))
    event_id = store(wa_rt.keyring.system, json.dumps(body).encode())
    real = first_contacts.audit_created

    def crash(*args, **kwargs):  # after their customer, key and token rows were written
        raise RuntimeError("worker killed")

    # When the worker dies while it makes them
    monkeypatch.setattr(first_contacts, "audit_created", crash)
    with pytest.raises(RuntimeError):
        ingest.process_event(wa_rt, event_id)
    # Then nothing of them is left, and the event waits for the sweeper
    assert Message.select().count() == 0 and Customer.select().count() == 0
    assert CustomerKey.select().count() == 0 and CustomerToken.select().count() == 0
    assert InboxEvent.get_by_id(event_id).state == "new"
    monkeypatch.setattr(first_contacts, "audit_created", real)
    ingest.process_event(wa_rt, event_id)
    assert Message.select().count() == 2 and Customer.select().count() == 2


KEYS = st.sampled_from(["object", "entry", "changes", "value", "field", "messages", "statuses",
                        "contacts", "id", "from", "type", "text", "timestamp", "status", "errors",
                        "code", "wa_id", "user_id", "profile", "name", "image"]) \
    | st.text(max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(doc=json_values)
def test_the_parser_never_raises_on_any_json(doc):
    if isinstance(doc, dict):  # mostly past the envelope check, into the walk
        doc = {"object": "whatsapp_business_account", **doc}
    parse(json.dumps(doc).encode())


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_the_parser_never_raises_on_any_bytes(raw):
    parse(raw)


def test_a_hostile_nesting_depth_is_refused_without_recursion():
    assert parse(b"[" * 100_000 + b"]" * 100_000).problems == ["too_deep"]


def _number_change(wamid: str, old: str, new: str) -> dict:
    return envelope({"contacts": [{"profile": {"name": "Siti Rahayu"}, "wa_id": old}],
                     "messages": [{"from": old, "id": wamid, "timestamp": "1764000300",
                                   "type": "system", "system": {
                                       "body": f"User Siti Rahayu changed from {old} to {new}",
                                       "wa_id": new, "type": "user_changed_number"}}]})


def test_a_number_change_moves_the_customer_and_shows_no_number(wa_rt):
    # Given Siti, who wrote from her old number
    deliver(wa_rt, text_message("wamid.N1"))
    siti = find_by_phone(wa_rt, "+6281234567890")
    # When WhatsApp says she changed it
    deliver(wa_rt, _number_change("wamid.N2", "6281234567890", "6285711112222"))
    # Then she is found by the new number only, and the line agents read names neither
    assert find_by_phone(wa_rt, "+6285711112222") == siti
    assert find_by_phone(wa_rt, "+6281234567890") is None
    line = Message.get(Message.wamid == "wamid.N2")
    assert (line.kind, line.body_sealed) == ("number_changed", None)
    # ... and her next message, from the new number, joins the same conversation
    deliver(wa_rt, text_message("wamid.N3", wa_id="6285711112222", user_id=None))
    assert Conversation.get_by_id(Message.get(Message.wamid == "wamid.N3").conversation_id
                                  ).customer_id == siti


def test_a_number_change_to_a_number_another_customer_has_moves_nothing(wa_rt):
    deliver(wa_rt, text_message("wamid.O1"))
    deliver(wa_rt, text_message("wamid.O2", wa_id="6285711112222", user_id="ID.2002",
                                name="Budi"))
    siti = find_by_phone(wa_rt, "+6281234567890")
    budi = find_by_phone(wa_rt, "+6285711112222")
    deliver(wa_rt, _number_change("wamid.O3", "6281234567890", "6285711112222"))
    assert find_by_phone(wa_rt, "+6281234567890") == siti
    assert find_by_phone(wa_rt, "+6285711112222") == budi
    assert Message.get(Message.wamid == "wamid.O3").kind == "number_changed"
