"""A customer's first contact: the privacy notice, the menu that routes, the away message.

Stories of the supervisor who set up the bot and of the customer who writes at any hour:
the notice goes once per version and the ledger proves it; "Tagihan" lands in Billing's
inbox, not Sales'; nobody answering the menu still reaches a person; after 17:00 and on a
cuti bersama day the away message goes, once.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from appliance.auth.permissions import BOX_ADMIN, Denied, Principal
from appliance.automation import auto_reply, menu_book, rule_book, schedules
from appliance.automation.menu import Choice, Menu
from appliance.automation.rules import Action, Rule, RuleError, Trigger
from appliance.clock import utcnow
from appliance.inbox.conversations import open_conversation
from appliance.inbox.divisions import create_division
from appliance.keys.customer_keys import customer_keys
from appliance.privacy import consent, notice, opt_words
from appliance.store.automation import AutoReplyLog, MenuState
from appliance.store.chatroom import Note
from appliance.store.consent import PrivacyNotice
from appliance.store.models import AuditEntry, Conversation, Message
from appliance.store.sealed import open_text
from tests.factories import deliver_choice, deliver_text

SITI, JOHN = "6281234567890", "447700900123"
SUMMARY = ("Halo! Kami, PT Maju Jaya, memproses nama dan nomor Anda untuk melayani "
           "pertanyaan Anda, selama 1 tahun. Balas BERHENTI untuk menarik persetujuan.")


@pytest.fixture()
def office(wa_rt):
    sales = create_division(wa_rt, BOX_ADMIN, "Sales")  # the first: new conversations land here
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    return wa_rt, sales, billing


def sent_texts(rt, convo_id: int) -> list[str]:
    """What the customer was sent in the conversation, as the thread keeps it."""
    keys = customer_keys(rt.master, Conversation.get_by_id(convo_id).customer_id)
    return [open_text(keys, Message, "body", m.id, m.body_sealed) or "" for m in
            Message.select().where(Message.conversation == convo_id, Message.direction == "out")
            .order_by(Message.id)]


def writes(rt, wamid: str, text: str, wa_id: str = SITI) -> int:
    return deliver_text(rt, wamid=wamid, body=text, wa_id=wa_id)


def convo_of(message_id: int) -> Conversation:
    return Conversation.get_by_id(Message.get_by_id(message_id).conversation_id)


def publish(rt, version: str = "2026-12") -> None:
    notice.publish(rt, BOX_ADMIN, version, summary_id=SUMMARY,
                   full_id="Pemberitahuan lengkap.\n\nData Anda disimpan di server kami.",
                   summary_en="Hello! We process your name and number to answer you.",
                   full_en="The full notice.")


def set_menu(rt, sales: int, billing: int, **changes) -> Menu:
    menu = Menu(True, "Ada yang bisa kami bantu?", "How can we help?",
                (Choice(billing, "Tagihan", "Billing", words=("bayar",)),
                 Choice(sales, "Penjualan", "Sales", words=("beli", "promo"))),
                default_division_id=sales, timeout_minutes=10)
    menu = Menu(**{**menu.__dict__, **changes})
    return menu_book.save_menu(rt, BOX_ADMIN, menu)


# -- the privacy notice ----------------------------------------------------------------

def test_a_customers_first_message_gets_the_privacy_notice_once_and_the_ledger_shows_it(office):
    rt, _, _ = office
    publish(rt)
    first = writes(rt, "wamid.P1", "Halo kak")
    assert len(auto_reply.respond(rt, [first])) == 1
    convo = convo_of(first)
    [text] = sent_texts(rt, convo.id)
    assert text.startswith("Halo! Kami, PT Maju Jaya")
    second = writes(rt, "wamid.P2", "Ada yang bisa bantu?")
    assert auto_reply.respond(rt, [second]) == []  # shown already: nothing more
    [shown] = [r for r in consent.history(convo.customer_id) if r.event == "notice_shown"]
    assert shown.notice_version == "2026-12" and shown.proof.startswith("message:")
    reader = Principal(0, "admin", frozenset(), frozenset({"conversation.read"}),
                       every_division=True)
    thread = open_conversation(rt, reader, convo.id)
    assert [m.automated for m in thread.messages if m.direction == "out"] == ["privacy notice"]


def test_a_new_version_of_the_notice_is_shown_again_and_the_old_one_stays_readable(office):
    rt, _, _ = office
    publish(rt, "v1")
    auto_reply.respond(rt, [writes(rt, "wamid.V1", "Halo")])
    publish(rt, "v2")
    auto_reply.respond(rt, [writes(rt, "wamid.V2", "Halo lagi")])
    customer = convo_of(Message.get(Message.wamid == "wamid.V2").id).customer_id
    assert sorted(r.notice_version for r in consent.history(customer)
                  if r.event == "notice_shown") == ["v1", "v2"]
    assert notice.find("v1") is not None
    with pytest.raises(notice.NoticeError, match="published already"):
        publish(rt, "v2")
    with pytest.raises(Exception, match="never changed"):
        PrivacyNotice.update(summary_id="diam-diam diubah").execute()
    with pytest.raises(Exception, match="never deleted"):
        PrivacyNotice.delete().execute()


def test_an_english_speaking_customer_gets_the_english_notice(office):
    rt, _, _ = office
    publish(rt)
    message = writes(rt, "wamid.E1", "Hello there", wa_id=JOHN)
    auto_reply.respond(rt, [message])
    [text] = sent_texts(rt, convo_of(message).id)
    assert text.startswith("Hello! We process your name")


def test_only_an_admin_publishes_the_notice(office):
    rt, sales, _ = office
    budi = Principal(5, "supervisor", frozenset({sales}), frozenset({"automation.manage"}))
    with pytest.raises(Denied):
        notice.publish(rt, budi, "v1", summary_id="x", full_id="y")
    with pytest.raises(notice.NoticeError, match="short name"):
        notice.publish(rt, BOX_ADMIN, "versi satu!", summary_id="x", full_id="y")


def test_the_notice_page_shows_the_version_a_customer_was_sent(office):
    rt, _, _ = office
    publish(rt, "v1")
    page = notice.page(notice.find("v1"), "id")
    assert "Pemberitahuan privasi (v1)" in page and "Data Anda disimpan" in page
    assert "<script" not in page
    assert "No privacy notice" in notice.page(None, "en")


# -- the menu --------------------------------------------------------------------------

def test_choosing_tagihan_puts_the_conversation_in_billings_inbox_and_not_in_sales(office):
    rt, sales, billing = office
    set_menu(rt, sales, billing)
    first = writes(rt, "wamid.M1", "Selamat pagi")
    assert len(auto_reply.respond(rt, [first])) == 1
    convo = convo_of(first)
    assert convo.division_id == sales and MenuState.get_by_id(convo.id).closed_at is None
    sent = Message.select().where(Message.direction == "out").get()
    payload = json.loads(open_text(customer_keys(rt.master, convo.customer_id), Message,
                                   "payload", sent.id, sent.payload_sealed))
    assert payload["interactive"]["type"] == "button"
    tap = deliver_choice(rt, wamid="wamid.M2", reply_id="menu:c:1", title="Tagihan",
                         wa_id=SITI, kind="button_reply")
    auto_reply.respond(rt, [tap])
    convo = Conversation.get_by_id(convo.id)
    assert convo.division_id == billing and convo.assignee_id is None
    log = AutoReplyLog.get(AutoReplyLog.message == tap)
    assert (log.outcome, log.routed_to) == ("menu_choice", billing)
    assert "kami teruskan ke bagian Tagihan" in sent_texts(rt, convo.id)[-1]
    sales_agent = Principal(7, "agent", frozenset({sales}), frozenset({"conversation.read"}))
    with pytest.raises(Denied):
        open_conversation(rt, sales_agent, convo.id)
    moved = AuditEntry.get(AuditEntry.action == "conversation.transferred")
    assert moved.actor == "autoreply"


def test_a_written_answer_routes_like_a_tap(office):
    rt, sales, billing = office
    set_menu(rt, sales, billing)
    auto_reply.respond(rt, [writes(rt, "wamid.W1", "Halo")])
    answer = writes(rt, "wamid.W2", "mau bayar")
    auto_reply.respond(rt, [answer])
    assert convo_of(answer).division_id == billing


def test_talk_to_a_person_is_always_a_way_out(office):
    rt, sales, billing = office
    set_menu(rt, sales, billing, default_division_id=billing)
    auto_reply.respond(rt, [writes(rt, "wamid.H1", "Halo")])
    person = writes(rt, "wamid.H2", "saya mau bicara dengan petugas")
    auto_reply.respond(rt, [person])
    convo = convo_of(person)
    assert convo.division_id == billing
    assert "petugas kami akan segera membalas" in sent_texts(rt, convo.id)[-1]
    assert MenuState.get_by_id(convo.id).outcome == "person"


def test_an_answer_that_matches_nothing_gets_the_menu_once_more_then_the_default_takes_it(
        office):
    rt, sales, billing = office
    set_menu(rt, sales, billing, default_division_id=billing)
    first = writes(rt, "wamid.T1", "Halo")
    auto_reply.respond(rt, [first])
    assert len(auto_reply.respond(rt, [writes(rt, "wamid.T2", "hmm")])) == 1  # again
    assert auto_reply.respond(rt, [writes(rt, "wamid.T3", "hmm lagi")]) == []  # not a third
    convo = convo_of(first)
    MenuState.update(sent_at=utcnow() - timedelta(minutes=11)).execute()
    auto_reply.sweep(rt)
    assert Conversation.get_by_id(convo.id).division_id == billing
    assert MenuState.get_by_id(convo.id).outcome == "timeout"
    assert any("no choice in 10 minutes" in open_text(
        customer_keys(rt.master, convo.customer_id), Note, "body", n.id, n.body_sealed)
        for n in Note.select())


def test_a_keyword_rule_answers_before_the_menu_is_needed(office):
    rt, sales, billing = office
    set_menu(rt, sales, billing)
    rule_book.save_rule(rt, BOX_ADMIN, Rule(0, "Tagihan", (Trigger("keyword", ("tagihan",)),),
                                            (Action("route_division", target=billing),)))
    first = writes(rt, "wamid.K1", "tagihan saya dobel")
    assert auto_reply.respond(rt, [first]) == []  # routed, nothing to choose
    assert convo_of(first).division_id == billing
    assert not MenuState.select().exists()


def test_a_menu_for_a_division_that_does_not_exist_is_refused(office):
    rt, sales, _ = office
    with pytest.raises(RuleError, match="no such division"):
        set_menu(rt, sales, 999)


# -- business hours --------------------------------------------------------------------

def at_office_time(message_id: int, local: datetime) -> None:
    """Moves a message to a moment on the office's clock (WIB is UTC+7)."""
    Message.update(created_at=local - timedelta(hours=7)).where(Message.id == message_id) \
        .execute()


def away(rt) -> None:
    schedules.set_hours(rt, BOX_ADMIN, None,
                        periods=[(d, "08:00", "17:00") for d in range(5)],
                        away_message_id="Kantor kami buka Senin-Jumat 08.00-17.00 WIB.",
                        away_message_en="We are open Monday to Friday, 8am-5pm.")


@pytest.mark.parametrize("local", [datetime(2026, 12, 2, 18, 30),  # a Wednesday, 18:30
                                   datetime(2026, 12, 24, 10, 0)],  # cuti bersama Natal
                         ids=["after 17:00", "cuti bersama"])
def test_after_17_00_and_on_a_cuti_bersama_day_the_away_message_is_sent_once(office, local):
    rt, _, _ = office
    away(rt)
    first = writes(rt, "wamid.O1", "Halo, masih buka?")
    at_office_time(first, local)
    auto_reply.respond(rt, [first])
    second = writes(rt, "wamid.O2", "Halo?")
    at_office_time(second, local + timedelta(minutes=5))
    auto_reply.respond(rt, [second])
    convo = convo_of(first)
    assert sent_texts(rt, convo.id) == ["Kantor kami buka Senin-Jumat 08.00-17.00 WIB."]
    assert AutoReplyLog.get(AutoReplyLog.message == first).outcome == "away"


def test_inside_business_hours_no_away_message_goes(office):
    rt, _, _ = office
    away(rt)
    message = writes(rt, "wamid.I1", "Halo")
    at_office_time(message, datetime(2026, 12, 2, 10, 0))
    assert auto_reply.respond(rt, [message]) == []


# -- rules' other actions, opt words, waiting --------------------------------------------

def test_a_rules_label_status_and_note_are_done_as_auto_reply_and_audited(office):
    rt, _, _ = office
    rule_book.save_rule(rt, BOX_ADMIN, Rule(0, "Komplain", (Trigger("keyword", ("kecewa",)),),
                                            (Action("add_label", "komplain"),
                                             Action("set_status", "pending"),
                                             Action("note", "pelanggan kecewa"))))
    message = writes(rt, "wamid.A1", "saya kecewa sekali")
    auto_reply.respond(rt, [message])
    convo = convo_of(message)
    assert convo.status == "pending"
    from appliance.inbox.work import labels_of
    assert labels_of(convo.id) == ["komplain"]
    assert {e.actor for e in AuditEntry.select().where(AuditEntry.action.in_(
        ("conversation.pending", "conversation.noted", "automation.rule_fired")))} == \
        {"autoreply"}


def test_a_word_the_admin_adds_opts_the_customer_out_like_berhenti(office):
    rt, _, _ = office
    opt_words.save(rt, BOX_ADMIN, out=["Udahan"], in_=["Mau promo"])
    message = writes(rt, "wamid.U1", "udahan!")
    customer = convo_of(message).customer_id
    assert consent.state(customer, "marketing") == "withdrawn"
    [entry] = consent.history(customer)
    assert (entry.source, entry.proof) == ("keyword", "wamid.U1")
    auto_reply.respond(rt, [message])
    assert "tidak akan menerima pesan promosi" in sent_texts(rt, convo_of(message).id)[0]
    with pytest.raises(consent.ConsentError, match="cannot both"):
        opt_words.save(rt, BOX_ADMIN, out=["mulai"], in_=[])


def test_a_waiting_rule_fires_once_when_no_agent_answered_in_time(office):
    rt, _, _ = office
    rule_book.save_rule(rt, BOX_ADMIN, Rule(
        0, "Masih menunggu", (Trigger("waiting", minutes=15),),
        (Action("reply_text", "Mohon maaf menunggu, petugas kami segera membalas."),)))
    message = writes(rt, "wamid.Q1", "Halo, pesanan saya belum sampai")
    auto_reply.respond(rt, [message])
    assert auto_reply.sweep(rt) == []  # not yet
    Message.update(created_at=utcnow() - timedelta(minutes=16)).where(
        Message.id == message).execute()
    assert len(auto_reply.sweep(rt)) == 1
    assert auto_reply.sweep(rt) == []  # once per waiting stretch
    assert sent_texts(rt, convo_of(message).id) == [
        "Mohon maaf menunggu, petugas kami segera membalas."]


def test_today_is_a_date():  # keeps the parametrised dates honest about their weekdays
    assert date(2026, 12, 2).weekday() == 2 and date(2026, 12, 24).weekday() == 3


def test_the_supervisors_dashboard_counts_what_auto_reply_answered_and_routed(office):
    from appliance.inbox.reports import automated

    rt, sales, billing = office
    set_menu(rt, sales, billing)
    auto_reply.respond(rt, [writes(rt, "wamid.D1", "Halo")])
    auto_reply.respond(rt, [writes(rt, "wamid.D2", "1")])  # Tagihan
    auto_reply.respond(rt, [writes(rt, "wamid.D3", "Halo", wa_id=JOHN)])
    auto_reply.respond(rt, [writes(rt, "wamid.D4", "talk to a person please", wa_id=JOHN)])
    reads = frozenset({"report.read", "conversation.read"})
    ana = Principal(3, "supervisor", frozenset({sales, billing}), reads)
    day = timedelta(days=1)
    assert automated(ana, utcnow() - day, utcnow() + day).__dict__ == {
        "answered": 2, "routed": 1, "asked_for_person": 1}  # John's stays in Sales, the default
    only_billing = Principal(4, "supervisor", frozenset({billing}), reads)
    assert automated(only_billing, utcnow() - day, utcnow() + day).answered == 1


def test_a_tap_on_stop_promotions_is_confirmed_like_berhenti(office):
    from tests.whatsapp.conftest import button_tap
    from tests.whatsapp.test_consent_ledger import deliver

    rt, _, _ = office
    writes(rt, "wamid.S0", "Halo")  # she wrote today: the window is open
    deliver(rt, button_tap("wamid.S1", "Hentikan promosi", "STOP_PROMO"))
    tap = Message.get(Message.wamid == "wamid.S1")
    assert len(auto_reply.respond(rt, [tap.id])) == 1
    assert AutoReplyLog.get(AutoReplyLog.message == tap.id).outcome == "opted_out"
    assert "tidak akan menerima pesan promosi" in sent_texts(rt, tap.conversation_id)[-1]


def test_metas_stop_webhook_is_confirmed_to_the_customer_once(office):
    from tests.whatsapp.conftest import user_preferences
    from tests.whatsapp.test_consent_ledger import deliver

    rt, _, _ = office
    first = writes(rt, "wamid.M0", "Halo")
    outcome = deliver(rt, user_preferences("stop"))
    assert outcome.preferences == 1
    assert len(auto_reply.confirm_preferences(rt)) == 1
    assert auto_reply.confirm_preferences(rt) == []  # once
    assert auto_reply.sweep(rt) == []
    assert "tidak akan menerima pesan promosi" in sent_texts(rt, convo_of(first).id)[-1]


def test_a_rule_replies_with_the_price_list_as_a_pdf_whatsapp_fetches(office):
    rt, _, _ = office
    rule_book.save_rule(rt, BOX_ADMIN, Rule(
        0, "Katalog", (Trigger("keyword", ("katalog", "harga")),),
        (Action("reply_media", "https://toko.example.co.id/katalog-2026.pdf\nKatalog kami"),)))
    message = writes(rt, "wamid.C1", "minta katalog dong")
    assert len(auto_reply.respond(rt, [message])) == 1
    sent = Message.get(Message.direction == "out")
    payload = json.loads(open_text(customer_keys(rt.master, convo_of(message).customer_id),
                                   Message, "payload", sent.id, sent.payload_sealed))
    assert payload == {"type": "document", "document": {
        "link": "https://toko.example.co.id/katalog-2026.pdf", "caption": "Katalog kami",
        "filename": "katalog-2026.pdf"}}


@pytest.mark.parametrize(("value", "says"), [
    ("http://toko.example.co.id/katalog.pdf", "https://"),
    ("https://toko.example.co.id/katalog.docx", "must end in"),
    ("katalog.pdf", "https://"),
])
def test_a_file_whatsapp_could_not_fetch_is_refused_when_the_rule_is_saved(office, value, says):
    rt, _, _ = office
    with pytest.raises(RuleError, match=says):
        rule_book.save_rule(rt, BOX_ADMIN, Rule(0, "Katalog", (Trigger("keyword", ("x",)),),
                                                (Action("reply_media", value),)))
