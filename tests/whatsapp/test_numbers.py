"""Several WhatsApp numbers on one box: each brand's customers land in its division, its
window and health are its own, its webhooks are its app's, and an alert about one number
goes out from another when it cannot send."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from werkzeug.test import Client

from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.inbox import ingest, outbound, window
from appliance.notify import alerts
from appliance.runtime import Runtime
from appliance.store import migrations
from appliance.store.db import db, execute, open_database
from appliance.store.models import Conversation, Customer, Division, InboxEvent, NumberHealth
from appliance.store.numbers import CustomerWindow, WaNumber
from appliance.whatsapp import health, numbers, webhook_routing
from appliance.whatsapp.connection import NotConfigured
from appliance.whatsapp.webhook_events import store
from appliance.whatsapp.webhook_parse import parse
from tests.conftest import BOTH_ENGINES
from tests.whatsapp.conftest import APP_SECRET, PHONE_NUMBER_ID, signed, text_message
from webui.webhook_app import create_webhook_app

pytestmark = BOTH_ENGINES

KOPI = "109876543210987"  # the second brand's phone number id
KOPI_SECRET = "kopi-app-secret-9876543210"


def to_number(body: dict, phone_number_id: str) -> dict:
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = phone_number_id
    return body


def deliver(rt, body: dict) -> ingest.Outcome:
    return ingest.process_event(rt, store(rt.keyring.system, json.dumps(body).encode()))


@pytest.fixture
def two_brands(wa_rt):
    """Toko Gembok (number 1, Sales) and Kopi Nusantara (number 2, Billing)."""
    Division.create(name="Sales")
    Division.create(name="Billing")
    numbers.add(wa_rt, phone_number_id=KOPI, label="Kopi Nusantara", division="Billing",
                actor="system")
    yield wa_rt
    numbers.clear_cache()


def test_a_customer_who_writes_to_both_brands_has_a_conversation_with_each(two_brands):
    rt = two_brands
    deliver(rt, text_message("wamid.N1", body="Halo toko"))
    deliver(rt, to_number(text_message("wamid.N2", body="Halo kopi"), KOPI))
    [customer] = Customer.select()
    first, kopi = Conversation.select().order_by(Conversation.number_id)
    assert (first.number_id, kopi.number_id) == (1, 2)
    assert kopi.division_id == Division.get(Division.name == "Billing").id
    assert first.division_id != kopi.division_id  # number 1 has no division: the default
    assert {w.number_id for w in CustomerWindow.select()} == {1, 2}
    assert customer.id == first.customer_id == kopi.customer_id


def test_a_reply_from_the_brand_she_wrote_to_yesterday_is_refused_though_she_wrote_today(
        two_brands):
    rt = two_brands
    now = str(int(time.time()))
    deliver(rt, to_number(text_message("wamid.W1", timestamp=now), KOPI))
    kopi = Conversation.get(Conversation.number_id == 2)
    assert outbound.queue_text(rt, kopi.id, "Halo, Kak", actor="user:1")
    # A day later she writes to the first brand: Kopi's window stays closed
    CustomerWindow.update(last_inbound_at=utcnow() - timedelta(hours=25)).execute()
    deliver(rt, text_message("wamid.W2", timestamp=now))
    assert window.last_inbound(kopi.customer_id, 1) is not None
    with pytest.raises(outbound.WindowClosedError):
        outbound.queue_text(rt, kopi.id, "Masih ada?", actor="user:1")


def test_the_chatroom_names_the_number_and_filters_by_it(two_brands):
    from appliance.auth.permissions import principal_for
    from appliance.auth.users import create_user
    from appliance.inbox import conversations

    rt = two_brands
    deliver(rt, text_message("wamid.C1"))
    deliver(rt, to_number(text_message("wamid.C2"), KOPI))
    ayu, _ = create_user(rt, username="ayu", display_name="Ayu", role="supervisor",
                         actor="system", divisions=[d.id for d in Division.select()])
    Conversation.update(division=Division.get(Division.name == "Sales").id).where(
        Conversation.number_id == 1).execute()
    seen = conversations.list_conversations(rt, principal_for(ayu), number=2)
    assert [(s.number_id, s.number) for s in seen] == [(2, "Kopi Nusantara")]
    assert len(conversations.list_conversations(rt, principal_for(ayu))) == 2


@pytest.fixture
def kopi_app(two_brands, wa_settings):
    """Kopi Nusantara is on its own Meta app: its own secret signs its webhooks."""
    WaNumber.delete().where(WaNumber.phone_number_id == KOPI).execute()
    numbers.clear_cache()
    numbers.add(two_brands, phone_number_id=KOPI, label="Kopi Nusantara", actor="system",
                app_secret=KOPI_SECRET, verify_token="kopi-verify")
    return Client(create_webhook_app(wa_settings, enqueue=False))


def post(client, body: dict, secret: str) -> int:
    raw, headers = signed(body, secret)
    return client.post("/webhooks/whatsapp", data=raw, headers=headers).status_code


def test_each_brands_webhook_must_be_signed_by_its_own_app(kopi_app):
    assert post(kopi_app, text_message("wamid.S1"), APP_SECRET) == 200
    assert post(kopi_app, to_number(text_message("wamid.S2"), KOPI), KOPI_SECRET) == 200
    # A leaked secret of one app cannot write into the other brand's inbox
    assert post(kopi_app, to_number(text_message("wamid.S3"), KOPI), APP_SECRET) == 404
    assert post(kopi_app, text_message("wamid.S4"), KOPI_SECRET) == 404
    assert InboxEvent.select().count() == 2


def test_the_handshake_answers_to_either_brands_verify_token(kopi_app):
    args = {"hub.mode": "subscribe", "hub.challenge": "42"}
    for token, status in (("test-verify-token", 200), ("kopi-verify", 200), ("other", 403)):
        resp = kopi_app.get("/webhooks/whatsapp", query_string={**args,
                                                                 "hub.verify_token": token})
        assert resp.status_code == status


def test_a_webhook_for_an_unknown_number_is_refused_counted_and_forgotten_once_added(wa_rt,
                                                                                     wa_settings):
    client = Client(create_webhook_app(wa_settings, enqueue=False))
    body = to_number(text_message("wamid.U1"), "555000111222333")
    assert post(client, body, APP_SECRET) == 404
    assert post(client, body, APP_SECRET) == 404
    [refused] = webhook_routing.refused()
    assert (refused.phone_number_id, refused.count) == ("555000111222333", 2)
    assert InboxEvent.select().count() == 0  # nothing of it is kept: Meta keeps it
    numbers.add(wa_rt, phone_number_id="555000111222333", label="Cabang Medan", actor="system")
    assert post(client, body, APP_SECRET) == 200
    assert webhook_routing.refused() == []
    numbers.clear_cache()


def test_an_account_update_names_its_number_or_every_number_of_its_waba(two_brands):
    rt = two_brands
    WaNumber.update(display_phone_number="6281100000077", waba_id="102290129340398").where(
        WaNumber.phone_number_id == KOPI).execute()
    numbers.clear_cache()
    quality = {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "time": 1764000000, "changes": [{
            "field": "phone_number_quality_update", "value": {
                "display_phone_number": "6281100000077", "event": "FLAGGED",
                "current_limit": "TIER_2K"}}]}]}
    deliver(rt, quality)
    assert health.current(2).status == "FLAGGED" and health.current(1).status == ""
    offboarded = {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "time": 1764000100, "changes": [{
            "field": "account_update", "value": {"event": "PARTNER_REMOVED"}}]}]}
    deliver(rt, offboarded)
    assert health.current(2).status == "DISCONNECTED"  # number 1 has no WABA id set here
    assert parse(json.dumps(offboarded).encode()).account[0].account == "102290129340398"


def test_an_alert_about_a_cut_off_number_goes_out_from_the_other(two_brands):
    rt = Runtime(load_settings({"GEMBOK_DATA_DIR": str(two_brands.settings.data_dir),
                                "GEMBOK_ALERTS_PHONES": "+6281299990000"}),
                 two_brands.keyring, two_brands.index)
    cut = health.record(health.HealthState(status="DISCONNECTED"), source="webhook",
                        event="PARTNER_REMOVED", number_id=2)
    assert cut is not None
    used: list[int] = []

    def factory(number_id: int):
        used.append(number_id)
        raise NotConfigured("not in this test")

    alerts.send_health_alert(rt, cut, factory)
    assert used == [1]  # from Toko Gembok's number, which can send
    # When both are cut off, the alert is kept for when one is back
    both = health.record(health.HealthState(status="DISCONNECTED"), source="webhook",
                         event="PARTNER_REMOVED", number_id=1)
    assert both is not None
    used.clear()
    result = alerts.send_health_alert(rt, both, factory)
    assert used == [] and result.kept
    assert NumberHealth.get_by_id(cut).number_id == 2


def test_a_data_dir_made_before_several_numbers_becomes_one_number(tmp_path):
    open_database(tmp_path / "old.db", bytes(range(32)))
    execute(db, "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at DATETIME NOT NULL)")
    for mig in migrations.all_migrations()[:15]:  # a box of issue 15
        mig.module.apply(db)
        execute(db, "INSERT INTO schema_version VALUES (?, ?, ?)",
                (mig.version, mig.name, utcnow()))
    at = utcnow() - timedelta(hours=2)
    execute(db, "INSERT INTO customer (id, created_at, last_inbound_at) VALUES (7, ?, ?)",
            (utcnow(), at))
    execute(db, "INSERT INTO conversation (id, customer_id, status, created_at, "
                "last_message_at) VALUES (3, 7, 'open', ?, ?)", (utcnow(), at))
    assert migrations.migrate(db) == [16, 17]
    assert Conversation.get_by_id(3).number_id == 1
    assert [(w.customer_id, w.number_id, w.last_inbound_at) for w in CustomerWindow.select()] \
        == [(7, 1, at)]
    [first] = WaNumber.select()
    assert (first.id, first.phone_number_id, first.label) == (1, "", "Nomor utama")
    db.close()


def test_number_one_comes_from_the_whatsapp_settings_and_cannot_be_retired(wa_rt):
    [first] = numbers.all_numbers(wa_rt)
    assert (first.id, first.phone_number_id, first.complete) == (1, PHONE_NUMBER_ID, True)
    with pytest.raises(numbers.NumberError, match="cannot be retired"):
        numbers.set_active(wa_rt, 1, False, actor="system")
    with pytest.raises(numbers.NumberError, match="already on this box"):
        numbers.add(wa_rt, phone_number_id=PHONE_NUMBER_ID, label="Again", actor="system")
    with pytest.raises(numbers.NumberError, match="digits only"):
        numbers.add(wa_rt, phone_number_id="12ab", label="Typo", actor="system")
    assert "secrets=<hidden>" in repr(first) and first.access_token not in repr(first)
