"""A raw webhook lives only until it is applied; erasure reaches the ones still held."""

from __future__ import annotations

import json
from datetime import timedelta

from appliance.auth.permissions import BOX_ADMIN
from appliance.clock import utcnow
from appliance.inbox import ingest
from appliance.privacy.erasure import erase_customer
from appliance.privacy.raw_events import without_customer
from appliance.scheduler import purge_inbox
from appliance.store.models import Customer, InboxEvent
from appliance.whatsapp import webhook_events
from appliance.whatsapp.webhook_events import open_event, store
from tests.whatsapp.conftest import text_message


def _batch(*docs: dict) -> dict:
    """Meta's way: several customers' changes in one POST."""
    return {"object": "whatsapp_business_account",
            "entry": [entry for doc in docs for entry in doc["entry"]]}


def test_an_applied_event_keeps_no_body(wa_rt):
    event_id = store(wa_rt.keyring.system, json.dumps(text_message("wamid.A1")).encode())
    ingest.process_event(wa_rt, event_id)
    row = InboxEvent.get_by_id(event_id)
    assert (row.state, row.body_sealed) == ("done", None)


def test_an_event_that_cannot_be_applied_is_kept_for_failed_days_then_purged(wa_rt,
                                                                              monkeypatch):
    event_id = store(wa_rt.keyring.system, b"{not json")
    ingest.process_event(wa_rt, event_id)
    applied = store(wa_rt.keyring.system, json.dumps(text_message("wamid.A1")).encode())
    ingest.process_event(wa_rt, applied)
    assert InboxEvent.get_by_id(event_id).state == "failed"
    days, now = wa_rt.settings.inbox.failed_days, utcnow()
    monkeypatch.setattr(webhook_events, "utcnow", lambda: now + timedelta(days=days, hours=-1))
    assert purge_inbox(wa_rt) == (0, 1)  # the applied one's digest goes after a day
    monkeypatch.setattr(webhook_events, "utcnow", lambda: now + timedelta(days=days, hours=1))
    assert purge_inbox(wa_rt) == (1, 0)
    assert InboxEvent.select().count() == 0


def test_erasure_takes_the_customer_out_of_a_waiting_batch_and_keeps_the_others(wa_rt):
    # Given Siti and Budi wrote; Siti's first message made her a customer
    first = store(wa_rt.keyring.system, json.dumps(text_message("wamid.S0")).encode())
    ingest.process_event(wa_rt, first)
    siti = Customer.get().id
    # ... and a batch holding a new message of each waits to be applied
    waiting = store(wa_rt.keyring.system, json.dumps(_batch(
        text_message("wamid.S1", body="NIK saya 3174091203870007"),
        text_message("wamid.B1", body="Pesanan 8812 mana?", wa_id="6281399990000",
                     user_id="ID.2002", name="Budi Santoso"))).encode())

    # When Siti is erased
    erase_customer(wa_rt, BOX_ADMIN, siti)

    # Then the waiting batch no longer names her, and Budi's message is still in it
    raw = open_event(wa_rt.keyring.system, InboxEvent.get_by_id(waiting))
    for trace in (b"3174091203870007", b"6281234567890", b"ID.1001", b"Siti Rahayu"):
        assert trace not in raw
    assert b"Pesanan 8812 mana?" in raw and b"Budi Santoso" in raw


def test_erasure_drops_a_failed_event_that_names_the_customer(wa_rt):
    first = store(wa_rt.keyring.system, json.dumps(text_message("wamid.S0")).encode())
    ingest.process_event(wa_rt, first)
    broken = store(wa_rt.keyring.system, b'{"entry": [{"from": "6281234567890", "x": ')
    ingest.process_event(wa_rt, broken)
    erase_customer(wa_rt, BOX_ADMIN, Customer.get().id)
    assert InboxEvent.get_or_none(InboxEvent.id == broken) is None


def test_a_body_that_names_only_the_customer_leaves_nothing():
    raw = json.dumps(text_message("wamid.S1")).encode()
    assert without_customer(raw, {"6281234567890", "ID.1001"}) is None


def test_an_account_update_in_the_same_body_stays():
    doc = text_message("wamid.S1")
    doc["entry"].append({"id": "1", "changes": [{"field": "account_update",
                                                  "value": {"event": "ACCOUNT_UPDATE"}}]})
    kept = without_customer(json.dumps(doc).encode(), {"6281234567890", "ID.1001"})
    assert kept is not None and b"ACCOUNT_UPDATE" in kept and b"6281234567890" not in kept
