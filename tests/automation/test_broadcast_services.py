"""Broadcast's services on one box, without Meta: who a campaign reaches and why not, what
Meta's template and status webhooks do to it, and one runner per campaign.

The sending itself (the HTTP client, the shared rate, a worker killed mid-campaign) is
tested through the real processes in tests/process/test_broadcast.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from appliance.auth.permissions import BOX_ADMIN, Denied, Principal
from appliance.automation import (
    audience,
    campaign_runner,
    campaign_statuses,
    campaigns,
    template_book,
)
from appliance.automation.audience import AudienceError, Filter
from appliance.clock import utcnow
from appliance.crypto.aead import place
from appliance.inbox.divisions import create_division
from appliance.keys.customer_keys import customer_keys
from appliance.privacy import consent
from appliance.store import broadcast as store
from appliance.store.chatroom import Note
from appliance.store.models import Conversation, Customer, Message
from appliance.whatsapp.webhook_parse import StatusUpdate
from tests.factories import deliver_text, make_inbound

BILL = [{"type": "BODY", "text": "Halo {{1}}, tagihan Anda {{2}} jatuh tempo besok."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Berhenti promosi"}]}]


def template(name: str = "pengingat", category: str = "MARKETING",
             status: str = "APPROVED") -> int:
    now = utcnow()
    return int(store.WaTemplate.create(
        meta_id=str(1000 + store.WaTemplate.select().count()), name=name, language="id",
        category=category, previous_category="", status=status, reason="",
        components=json.dumps(BILL), parameter_format="POSITIONAL", synced_at=now,
        updated_at=now).id)


def template_webhook(field: str, value: dict) -> bool:
    """A template webhook of number 1's account (this box's has no id set: '')."""
    return template_book.apply_update(field, value, "", first=True)


VALUES = [{"name": "1", "source": "name"}, {"name": "2", "source": "text", "value": "Rp150.000"}]


def supervisor_of(*divisions: int) -> Principal:
    return Principal(7, "supervisor", frozenset(divisions), frozenset({"broadcast.manage"}))


@pytest.fixture
def sales(wa_rt) -> int:
    return create_division(wa_rt, BOX_ADMIN, "Sales")


def customer_in(rt, division: int, name: str, phone_tail: str) -> int:
    """A customer who wrote to the shop, their conversation in `division`."""
    message = Message.get_by_id(deliver_text(rt, wamid=f"wamid.B{phone_tail}", body="halo",
                                             name=name, wa_id=f"62812000{phone_tail}"))
    convo = Conversation.get_by_id(message.conversation_id)
    Conversation.update(division=division).where(Conversation.id == convo.id).execute()
    return int(convo.customer_id)


def test_a_marketing_campaign_reaches_only_customers_with_an_opt_in_on_record(wa_rt, sales):
    ani = customer_in(wa_rt, sales, "Ani", "0001")
    budi = customer_in(wa_rt, sales, "Budi", "0002")
    citra = customer_in(wa_rt, sales, "Citra", "0003")
    consent.record(ani, "marketing", True, source="import", proof="form/1")
    consent.record(budi, "marketing", True, source="import", proof="form/2")
    consent.record(budi, "marketing", False, source="keyword", proof="wamid.X")
    me = supervisor_of(sales)
    cid = campaigns.create(wa_rt, me, name="Tagihan Desember", template_id=template(),
                           parameters=VALUES, audience_filter=Filter())
    preview = campaigns.preview(wa_rt, me, cid)
    assert preview.to_send == 1
    assert preview.excluded == {"opted_out": 1, "no_opt_in": 1}
    rows = {r.customer_id: r for r in store.CampaignRecipient.select()}
    assert rows[ani].state == "queued" and rows[budi].reason == "opted_out"
    assert rows[citra].reason == "no_opt_in" and rows[citra].values_sealed is None
    # Ani's values are sealed under her key, pinned to her row
    opened = customer_keys(wa_rt.master, ani).open(
        bytes(rows[ani].values_sealed), place("campaign_recipient", "values", rows[ani].id))
    assert json.loads(opened) == {"1": "Ani", "2": "Rp150.000"}


def test_a_utility_campaign_goes_to_everyone_the_filter_finds_unless_asked_for_consent(
        wa_rt, sales):
    customer_in(wa_rt, sales, "Ani", "0001")
    customer_in(wa_rt, sales, "Budi", "0002")
    me = supervisor_of(sales)
    utility = template("pesanan", "UTILITY")
    everyone = campaigns.create(wa_rt, me, name="Info", template_id=utility,
                                parameters=VALUES, audience_filter=Filter())
    assert campaigns.preview(wa_rt, me, everyone).to_send == 2
    asked = campaigns.create(wa_rt, me, name="Info 2", template_id=utility, parameters=VALUES,
                             audience_filter=Filter(consent="granted"))
    assert campaigns.preview(wa_rt, me, asked).excluded == {"no_opt_in": 2}


def test_a_supervisor_of_sales_neither_reads_nor_keeps_a_billing_campaign(wa_rt, sales):
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    customer_in(wa_rt, billing, "Dewi", "0004")
    theirs = campaigns.create(wa_rt, supervisor_of(billing), name="Billing", parameters=VALUES,
                              template_id=template(), audience_filter=Filter())
    me = supervisor_of(sales)
    with pytest.raises(AudienceError):
        campaigns.create(wa_rt, me, name="Mine", template_id=template("lain"),
                         parameters=VALUES, audience_filter=Filter(divisions=(billing,)))
    for act in (campaigns.get, campaigns.report):
        with pytest.raises(Denied):
            act(me, theirs)
    with pytest.raises(Denied):
        campaigns.pause(wa_rt, me, theirs)
    assert [c.id for c in campaigns.list_campaigns(me)] == []


def test_a_rejected_or_paused_template_cannot_be_chosen_nor_started(wa_rt, sales):
    customer_in(wa_rt, sales, "Ani", "0001")
    me = supervisor_of(sales)
    with pytest.raises(template_book.TemplateError, match="rejected"):
        campaigns.create(wa_rt, me, name="X", template_id=template("a", status="REJECTED"),
                         parameters=VALUES, audience_filter=Filter())
    tid = template("b", "UTILITY")
    cid = campaigns.create(wa_rt, me, name="Y", template_id=tid, parameters=VALUES,
                           audience_filter=Filter())
    assert template_webhook("message_template_status_update", {
        "event": "PAUSED", "message_template_id": int(store.WaTemplate.get_by_id(tid).meta_id),
        "message_template_name": "b", "message_template_language": "id", "reason": "LOW_QUALITY"})
    with pytest.raises(template_book.TemplateError, match="paused"):
        campaigns.start(wa_rt, me, cid)


def test_a_completed_category_change_moves_the_template_an_impending_one_does_not(wa_rt):
    tid = template("info", "UTILITY")
    meta_id = int(store.WaTemplate.get_by_id(tid).meta_id)
    assert not template_webhook("template_category_update", {
        "message_template_id": meta_id, "correct_category": "MARKETING"})
    assert template_book.get(tid).category == "UTILITY"
    assert template_webhook("template_category_update", {
        "message_template_id": meta_id, "message_template_name": "info",
        "message_template_language": "id", "previous_category": "UTILITY",
        "new_category": "MARKETING"})
    moved = template_book.get(tid)
    assert moved.marketing and moved.previous_category == "UTILITY"


def test_a_template_parameter_without_a_source_is_refused_in_words(wa_rt, sales):
    with pytest.raises(AudienceError, match="has no source"):
        campaigns.create(wa_rt, supervisor_of(sales), name="X", template_id=template(),
                         parameters=VALUES[:1], audience_filter=Filter())
    with pytest.raises(AudienceError, match="line break"):
        campaigns.create(wa_rt, supervisor_of(sales), name="X", template_id=template("c"),
                         parameters=[VALUES[0], {"name": "2", "source": "text",
                                                 "value": "a\nb"}],
                         audience_filter=Filter())


def sent_campaign(rt, division: int, n: int = 2) -> tuple[int, list[int]]:
    """A running campaign whose recipients were all sent (as the runner records them)."""
    people = [customer_in(rt, division, f"P{i}", f"{i:04d}") for i in range(1, n + 1)]
    for p in people:
        consent.record(p, "marketing", True, source="import", proof="form/1")
    me = supervisor_of(division)
    cid = campaigns.create(rt, me, name="Promo", template_id=template(), parameters=VALUES,
                           audience_filter=Filter())
    campaigns.start(rt, me, cid)
    store.claim(cid, 100, utcnow())
    ids = [r.id for r in store.CampaignRecipient.select().order_by(store.CampaignRecipient.id)]
    store.record_answers([(rid, f"wamid.C{rid}", "marketing_messages") for rid in ids], [], [],
                         utcnow())
    return cid, ids


def status(rid: int, state: str, code: int | None = None) -> StatusUpdate:
    return StatusUpdate(f"wamid.C{rid}", state, utcnow(), code,
                        campaign_statuses.callback_for(rid))


def test_meta_capping_a_person_makes_them_capped_once_retried_after_a_day_and_never_again(
        wa_rt, sales):
    _, [rid, _] = sent_campaign(wa_rt, sales)
    campaign_statuses.apply([status(rid, "failed", 131049)])
    row = store.CampaignRecipient.get_by_id(rid)
    assert (row.state, row.reason, row.capped_times) == ("capped", "capped_once", 1)
    assert row.next_at > utcnow() + timedelta(hours=23)
    # a day later it is claimed again, sent, and capped a second time: final
    store.CampaignRecipient.update(next_at=utcnow()).where(
        store.CampaignRecipient.id == rid).execute()
    assert [r[0] for r in store.claim(row.campaign_id, 10, utcnow())] == [rid]
    campaign_statuses.apply([status(rid, "failed", 131049)])
    row = store.CampaignRecipient.get_by_id(rid)
    assert (row.state, row.reason, row.capped_times) == ("capped", "capped", 2)
    assert store.claim(row.campaign_id, 10, utcnow() + timedelta(days=3)) == []


def test_meta_saying_a_person_stopped_marketing_records_their_opt_out(wa_rt, sales):
    _, [rid, other] = sent_campaign(wa_rt, sales)
    withdrawals = campaign_statuses.apply([status(rid, "failed", 131050),
                                           status(other, "delivered"), status(other, "sent")])
    assert store.CampaignRecipient.get_by_id(rid).reason == "opted_out"
    assert store.CampaignRecipient.get_by_id(other).state == "delivered"  # never backwards
    [w] = withdrawals
    assert (w.purpose, w.granted, w.source, w.proof) == ("marketing", False, "error_131050",
                                                         f"wamid.C{rid}")


def test_a_message_in_flight_when_its_worker_died_is_unknown_and_settled_by_its_status(
        wa_rt, sales):
    cid, ids = sent_campaign(wa_rt, sales, 3)
    late = ids[-1]
    store.CampaignRecipient.update(state="sending", wamid=None).where(
        store.CampaignRecipient.id == late).execute()
    store.Campaign.update(runner="dead", lease_until=utcnow() - timedelta(seconds=1)).where(
        store.Campaign.id == cid).execute()
    assert campaign_runner.take_lease(wa_rt, cid, "next")
    assert store.CampaignRecipient.get_by_id(late).state == "unknown"
    assert not campaign_runner.take_lease(wa_rt, cid, "third")  # one runner at a time
    campaign_statuses.apply([status(late, "sent")])
    row = store.CampaignRecipient.get_by_id(late)
    assert (row.state, row.wamid) == ("sent", f"wamid.C{late}")


def test_a_customer_who_answers_a_broadcast_lands_in_the_chatroom_with_the_campaign_named(
        wa_rt, sales):
    _, [rid, _] = sent_campaign(wa_rt, sales)
    who = store.CampaignRecipient.get_by_id(rid).customer_id
    make_inbound(wa_rt, who, "Sudah saya bayar kak")
    assert store.CampaignRecipient.get_by_id(rid).replied_at is not None
    notes = Note.select().join(Conversation).where(Conversation.customer == who)
    assert notes.count() == 1
    make_inbound(wa_rt, who, "Terima kasih")  # one note per campaign, not per message
    assert notes.count() == 1


def test_the_report_exports_counts_and_no_phone_number(wa_rt, sales):
    cid, ids = sent_campaign(wa_rt, sales)
    campaign_statuses.apply([status(ids[0], "read"), status(ids[1], "failed", 131026)])
    campaigns.set_rate(wa_rt, BOX_ADMIN, "marketing", "IDR", "586.33")
    text = campaigns.report_csv(supervisor_of(sales), cid)
    assert "delivered,1" in text and "read,1" in text and "failed,1" in text
    assert "estimated_cost_IDR,586.33" in text
    assert "62812" not in text and "P1" not in text


def test_quiet_hours_span_midnight_in_office_time():
    jakarta_2130 = utcnow().replace(hour=14, minute=30)  # 21:30 WIB
    jakarta_0900 = utcnow().replace(hour=2, minute=0)  # 09:00 WIB
    assert campaign_runner.in_quiet_hours(jakarta_2130, "21:00", "08:00", "Asia/Jakarta")
    assert not campaign_runner.in_quiet_hours(jakarta_0900, "21:00", "08:00", "Asia/Jakarta")
    assert not campaign_runner.in_quiet_hours(jakarta_2130, "00:00", "00:00", "Asia/Jakarta")


def test_the_audience_never_includes_an_erased_customer(wa_rt, sales):
    ani = customer_in(wa_rt, sales, "Ani", "0001")
    Customer.update(erased_at=utcnow()).where(Customer.id == ani).execute()
    assert audience.find(supervisor_of(sales), Filter()) == []


def test_the_admins_status_screen_line_of_a_running_campaign_has_counts_and_no_names(
        wa_rt, sales):
    cid, _ = sent_campaign(wa_rt, sales, 3)
    [line] = campaigns.running()
    assert (line.id, line.name, line.done, line.left) == (cid, "Promo", 3, 0)
    assert line.per_second > 0  # three sent just now, over the last ten seconds


def test_a_campaign_is_sent_from_the_brand_number_chosen_and_only_an_active_one(wa_rt, sales):
    from appliance.whatsapp import numbers

    me = supervisor_of(sales)
    kopi = numbers.add(wa_rt, phone_number_id="109876543210987", label="Kopi Nusantara",
                       actor="system")
    try:
        cid = campaigns.create(wa_rt, me, name="Promo kopi", template_id=template(),
                               parameters=VALUES, audience_filter=Filter(), number_id=kopi.id)
        assert store.Campaign.get_by_id(cid).number_id == kopi.id
        numbers.set_active(wa_rt, kopi.id, False, actor="system")
        with pytest.raises(campaigns.CampaignError, match="no active number"):
            campaigns.create(wa_rt, me, name="Promo lagi", template_id=template("lagi"),
                             parameters=VALUES, audience_filter=Filter(), number_id=kopi.id)
    finally:
        numbers.clear_cache()
