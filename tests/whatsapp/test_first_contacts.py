"""First contacts on the batch path make the very rows the model path made, sealed the same."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from appliance.audit import chain
from appliance.bootstrap import initialise
from appliance.inbox import ingest
from appliance.inbox.customers import find_by_phone, find_or_create_from_whatsapp
from appliance.inbox.routing import division_for_new_conversation
from appliance.inbox.search_tokens import query_tokens
from appliance.keys.customer_keys import customer_keys
from appliance.store.chatroom import ChangeEvent, CustomerToken
from appliance.store.db import db, execute
from appliance.store.models import AuditEntry, Conversation, Customer, CustomerKey, Message
from appliance.store.sealed import open_text
from appliance.whatsapp.webhook_events import store
from tests.conftest import BOTH_ENGINES, settings_for
from tests.whatsapp.conftest import WHATSAPP_ENV, batch, envelope

pytestmark = BOTH_ENGINES

ANI, BUDI, DEWI = "6281111111111", "6282222222222", "6283333333333"


def message(wamid: str, wa_id: str | None, user_id: str | None, name: str | None = None,
            text: str = "Halo kak") -> dict:
    contact: dict = {}
    msg: dict = {"id": wamid, "timestamp": "1764000000", "type": "text", "text": {"body": text}}
    if name is not None:
        contact["profile"] = {"name": name}
    if wa_id:
        contact["wa_id"] = msg["from"] = wa_id
    if user_id:
        contact["user_id"] = msg["from_user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [msg]})


def number_change(wamid: str, old: str, new: str) -> dict:
    return envelope({"contacts": [{"profile": {"name": "Dewi"}, "wa_id": old}],
                     "messages": [{"from": old, "id": wamid, "timestamp": "1764000300",
                                   "type": "system", "system": {
                                       "body": f"User Dewi changed from {old} to {new}",
                                       "wa_id": new, "type": "user_changed_number"}}]})


# Batches as the worker gets them: several stored webhooks applied in one transaction.
BATCHES = [
    [message("wamid.A1", ANI, "ID.A", "Ani Lestari")],
    [message("wamid.B1", BUDI, "ID.B", "Budi Santoso"),          # phone, BSUID and name
     message("wamid.C1", None, "ID.C", "@citra"),                  # BSUID only
     message("wamid.D1", DEWI, None, "Dewi"),                      # phone only
     message("wamid.E1", "6284444444444", "ID.E"),                 # no name yet ...
     message("wamid.E2", "6284444444444", "ID.E", "Eko Prasetyo"),  # ... then one
     message("wamid.F1", ANI, "ID.F", "Fajar"),      # Ani's phone under a new BSUID: Ani's
     message("wamid.G1", BUDI, "ID.G", "Gita"),      # Budi's, made in this very batch
     message("wamid.B2", "6285555555555", "ID.B"),   # Budi's BSUID, a number he does not have
     batch(message("wamid.H1", "6286666666666", "ID.H", "Hadi"),
           message("wamid.H2", "6286666666666", "ID.H", "Hadi")),
     message("wamid.I1", "6287777777777", "ID.I"),
     message("wamid.B1", BUDI, "ID.B", "Budi Santoso"),          # Meta's duplicate
     number_change("wamid.D2", DEWI, "6288888888888"),
     message("wamid.J1", "6289999999999", "ID.J", "Joko Widodo", text="Saya Joko")],
    [message("wamid.I2", "6287777777777", "ID.I", "Indah"),       # a name, a batch later
     message("wamid.K1", "6281212121212", "ID.K", "Kartika"),
     message("wamid.K2", "6281212121212", "ID.K", "Kartika")],
]
REDELIVERED = batch(*[body for b in BATCHES for body in b])  # everything again, in one POST


def apply(rt, bodies: list[dict]) -> None:
    ingest.process_events(rt, [store(rt.keyring.system, json.dumps(b).encode())
                               for b in bodies])


def model_path(batch_self, m, user, phone):
    """How a first contact was made before: the model layer, one customer at a time."""
    return batch_self._model_path(m, user, phone)


def model_conversation(batch_self, key, at):
    cid, number_id = key
    return Conversation.create(customer=cid, last_message_at=at, number_id=number_id,
                               division=division_for_new_conversation(batch_self.rt.settings)).id


def shape(value) -> str:
    return re.sub(r"\d", "0", str(value))


def snapshot(rt, since_seq: int) -> dict:
    """Every row a first contact writes, opened; timestamps of our own clock by shape."""
    def opened(model, column, row_id, token, cid):
        return open_text(customer_keys(rt.master, cid), model, column, row_id, token)

    customers = [(c.id, opened(Customer, "name", c.id, c.name_sealed, c.id),
                  opened(Customer, "phone", c.id, c.phone_sealed, c.id),
                  opened(Customer, "wa_user", c.id, c.wa_user_sealed, c.id),
                  c.phone_index, c.wa_user_index, c.erased_at, c.last_inbound_at)
                 for c in Customer.select().order_by(Customer.id)]
    convo_of = {c.id: c.customer_id for c in Conversation.select()}
    messages = [(m.id, m.conversation_id, m.direction, m.wamid, m.kind, m.status, m.sent_at,
                 opened(Message, "body", m.id, m.body_sealed, convo_of[m.conversation_id]),
                 json.loads(opened(Message, "payload", m.id, m.payload_sealed,
                                   convo_of[m.conversation_id]) or "null"))
                for m in Message.select().order_by(Message.id)]
    count, broken = chain.find_break(rt.keyring.audit_key)
    return {
        "customers": customers,
        "keys": [(k.customer_id, k.version, k.master_id) for k in
                 CustomerKey.select().order_by(CustomerKey.customer, CustomerKey.version)],
        "tokens": sorted((t.customer_id, bytes(t.token)) for t in CustomerToken.select()),
        "audit": [(e.seq, e.actor, e.action, e.target, e.detail) for e in
                  AuditEntry.select().where(AuditEntry.seq > since_seq).order_by(AuditEntry.seq)],
        "chain": (count, broken),
        "conversations": [(c.id, c.customer_id, c.division_id, c.assignee_id, c.status,
                           c.last_message_at, c.first_response_at, c.resolved_at)
                          for c in Conversation.select().order_by(Conversation.id)],
        "messages": messages,
        "changes": [(e.conversation_id, e.kind) for e in ChangeEvent.select()
                    .order_by(ChangeEvent.id)],
        "stored times": {table: sorted({shape(v) for (v,) in execute(
            db, f"SELECT created_at FROM {table}").fetchall()})  # noqa: S608 - our names
            for table in ("customer", "customer_key", "conversation", "message")},
        "events": [(state, error) for state, error in execute(
            db, "SELECT state, error FROM inbox_event ORDER BY id").fetchall()],
    }


def two_boxes(tmp_path):
    """Two copies of one appliance: same master, keys and index key, so rows compare."""
    first = settings_for(tmp_path / "a" / "var", **WHATSAPP_ENV)
    initialise(first)
    db.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    return first, settings_for(tmp_path / "b" / "var", **WHATSAPP_ENV)


def run(settings) -> dict:
    rt, _ = initialise(settings)
    try:
        since_seq = AuditEntry.select().count()
        for bodies in BATCHES:
            apply(rt, bodies)
        apply(rt, [REDELIVERED])
        return snapshot(rt, since_seq)
    finally:
        db.close()


def test_first_contacts_make_the_same_rows_as_the_model_path(engine, tmp_path, monkeypatch):
    if engine == "postgres":
        pytest.skip("compares ids, which PostgreSQL hands out in blocks (store.bulk.Ids): "
                    "the two paths are compared on SQLite")
    model_box, batch_box = two_boxes(tmp_path)
    monkeypatch.setattr(ingest._sizer, "learn", lambda count, seconds: None)
    monkeypatch.setattr(ingest._sizer, "size", 100)  # each batch in one transaction, both ways
    # Given the same webhooks, applied the old way (the model layer) on one copy ...
    with monkeypatch.context() as patched:
        patched.setattr(ingest._Batch, "_first_contact", model_path)
        patched.setattr(ingest._Batch, "_new_conversation", model_conversation)
        before = run(model_box)
    # ... and on the batch path on the other
    after = run(batch_box)
    # Then every row is the same, opened: customers, keys, search tokens, audit, messages
    assert len(after["customers"]) == 9  # Ani .. Kartika, less Fajar and Gita (not new)
    assert after["chain"][1] is None
    for table in before:
        assert after[table] == before[table], table


def test_a_redelivered_first_contact_adds_nothing(wa_rt):
    apply(wa_rt, [message("wamid.R1", BUDI, "ID.B", "Budi")])
    counts = [m.select().count() for m in (Customer, CustomerKey, CustomerToken, AuditEntry,
                                           Conversation, Message)]
    apply(wa_rt, [message("wamid.R1", BUDI, "ID.B", "Budi"),
                  batch(message("wamid.R1", BUDI, "ID.B", "Budi"))])
    assert [m.select().count() for m in (Customer, CustomerKey, CustomerToken, AuditEntry,
                                         Conversation, Message)] == counts


def test_a_first_contact_is_found_by_the_last_four_digits_and_never_by_a_longer_tail(wa_rt):
    apply(wa_rt, [message("wamid.S1", "6281234567890", "ID.S", "Siti Rahayu")])
    siti = find_by_phone(wa_rt, "+6281234567890")
    tokens = {bytes(t.token) for t in CustomerToken.select().where(
        CustomerToken.customer == siti)}
    assert tokens == {wa_rt.index("name", "siti"), wa_rt.index("name", "rahayu"),
                      wa_rt.index("tail", "7890")}
    assert query_tokens(wa_rt, "7890")[0] in tokens
    assert not {wa_rt.index("tail", "67890"), wa_rt.index("tail", "567890")} & tokens


def test_first_contacts_made_between_other_audit_entries_keep_the_chain_whole(wa_rt):
    # Given entries before, between and after batches of first contacts
    wa_rt.audit(actor="system", action="test.before")
    apply(wa_rt, [message(f"wamid.Q{n}", f"62813000000{n:02d}", f"ID.Q{n}", "Q")
                  for n in range(30)])
    wa_rt.audit(actor="system", action="test.between")
    apply(wa_rt, [message("wamid.Q99", "6281300000099", "ID.Q99", "Q")])
    # Then the chain verifies, with one "customer.created" by the webhook per customer
    count, broken = chain.find_break(wa_rt.keyring.audit_key)
    assert broken is None and count == AuditEntry.select().count()
    created = AuditEntry.select().where(AuditEntry.action == "customer.created")
    assert sorted(e.target for e in created) == sorted(f"customer:{c.id}"
                                                       for c in Customer.select())
    assert {e.actor for e in created} == {"webhook"}


def test_a_first_contact_made_the_model_way_elsewhere_meanwhile_takes_no_batch_id(wa_rt):
    # Given the number-change line (model path) in the middle of a batch of first contacts
    apply(wa_rt, [message("wamid.M1", DEWI, "ID.D", "Dewi"),
                  message("wamid.M2", BUDI, "ID.B", "Budi"),
                  number_change("wamid.M3", DEWI, "6288888888888"),
                  message("wamid.M4", "6284444444444", "ID.E", "Eko")])
    # Then every customer has their own row, key and conversation
    assert Customer.select().count() == 3 == CustomerKey.select().count()
    assert find_by_phone(wa_rt, "+6288888888888") is not None
    assert find_or_create_from_whatsapp(wa_rt, phone=BUDI, user_id="ID.B", name=None) == \
        find_by_phone(wa_rt, "+" + BUDI)


def test_a_busy_box_never_shrinks_a_transaction_below_its_floor():
    # Given a transaction that took long (the listener had the cores meanwhile)
    sizer = ingest._Sizer()
    sizer.learn(count=40, seconds=2.0)
    # Then the next one still carries enough events to pay for its commit
    assert sizer.size == ingest.MIN_EVENTS
    sizer.learn(count=40, seconds=0.001)  # and a quick one lets it grow, up to 500
    assert sizer.size == 500
