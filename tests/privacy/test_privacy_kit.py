"""The DPO's kit (UU PDP) on one box: requests and their clocks, the export, corrections,
legal holds, retention and the breach report, through the services the pages call.

Erasure through the real processes, backups included, is tests/process/test_erasure.py.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
import pyzipper

from appliance.auth.permissions import BOX_ADMIN, Denied, principal_for
from appliance.auth.users import create_user
from appliance.automation import auto_reply, rule_book
from appliance.automation.rules import Action, Rule, Trigger
from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.crypto.aead import place
from appliance.inbox import conversations, work
from appliance.inbox.divisions import create_division
from appliance.keys.customer_keys import customer_keys
from appliance.privacy import breach, correction, export, holds, requests, retention, reveal
from appliance.privacy.erasure import ErasureError, erase_customer
from appliance.runtime import Runtime
from appliance.store import broadcast as bstore
from appliance.store import customer_data
from appliance.store.accounts import LoginEvent
from appliance.store.automation import AutoReplyLog
from appliance.store.models import AuditEntry, Conversation, Customer, Media, Message, Outbox
from appliance.store.privacy import PrivacyRequest
from tests.cast import hire
from tests.conftest import BOTH_ENGINES
from tests.factories import deliver_text

pytestmark = BOTH_ENGINES


@pytest.fixture
def office(wa_rt: Any) -> dict[str, Any]:
    """Sales (where new conversations land) and Billing; Dedi and Citra answer them, Budi
    supervises Sales, Dewi is the data protection officer."""
    divisions = {name: create_division(wa_rt, BOX_ADMIN, name) for name in ("Sales", "Billing")}
    people = {name: principal_for(hire(wa_rt, name, divisions))
              for name in ("dedi", "citra", "budi")}
    dewi, _ = create_user(wa_rt, username="dewi", display_name="Dewi", role="dpo",
                          actor="system", email="dpo@toko.example")
    return {"divisions": divisions, "dewi": principal_for(dewi), **people}


def writes(rt: Runtime, phone: str, name: str, *texts: str, division: int | None = None,
           user_id: str | None = None) -> int:
    """A customer writes; returns their id (their conversation moved to `division`)."""
    for i, text in enumerate(texts):
        message = deliver_text(rt, wamid=f"wamid.{phone}.{i}.{abs(hash(text)) % 10**6}",
                               body=text, wa_id=phone, name=name, user_id=user_id)
    convo = Conversation.get_by_id(Message.get_by_id(message).conversation_id)
    if division is not None:
        Conversation.update(division=division).where(Conversation.id == convo.id).execute()
    return int(convo.customer_id)


def opened(made: export.Export) -> dict[str, bytes]:
    with pyzipper.AESZipFile(io.BytesIO(made.data)) as archive:
        archive.setpassword(made.password.encode())
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_export_contains_every_message_of_the_customer_and_no_other_customers_data(
        wa_rt, office):
    # Given Siti, who wrote three times and whose conversation Dedi opened, and Rina
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "Pesan Siti satu", "Pesan Siti dua",
                  "Pesan Siti tiga")
    writes(wa_rt, "6281299990002", "Rina Kusuma", "Rahasia Rina 777")
    convo = Conversation.get(Conversation.customer == siti).id
    conversations.open_conversation(wa_rt, office["dedi"], convo)

    # When the DPO exports Siti's data
    made = export.build(wa_rt, office["dewi"], siti)

    # Then the encrypted ZIP holds her messages, in order, with who read them
    assert b"Pesan Siti" not in made.data  # encrypted, not merely zipped
    with pyzipper.AESZipFile(io.BytesIO(made.data)) as archive, pytest.raises(RuntimeError):
        archive.setpassword(b"wrong-password")
        archive.read("data.json")
    files = opened(made)
    data = json.loads(files["data.json"])
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert texts == ["Pesan Siti satu", "Pesan Siti dua", "Pesan Siti tiga"]
    assert data["customer"]["name"] == "Siti Rahayu"
    assert data["customer"]["phone"] == "+6281211110001"
    assert any(e["who"].startswith("Dedi") and e["action"] == "conversation.read"
               for e in data["processing_trail"])
    assert files["data.pdf"].startswith(b"%PDF")
    assert "Salinan data pribadi Anda" in files["data.html"].decode()
    # And nothing of Rina, in any file of it
    # (her words, not her "777" alone: three digits turned up in a time of Siti's own)
    for name, content in files.items():
        for canary in (b"Rina", b"Rahasia", b"6281299990002"):
            assert canary not in content, f"{canary!r} in {name}"
    # And the export is in the audit log, by ids only
    assert AuditEntry.get(AuditEntry.action == "customer.exported").target == f"customer:{siti}"


def test_an_export_of_a_customer_misses_no_sealed_column(wa_rt, office):
    """Driven by the registry: a sealed table added to it fails here until this customer
    has a row of it, and the export shows every column of that row."""
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "Halo, ini alamat saya",
                  user_id="ID.1234567890123456")
    convo = Conversation.get(Conversation.customer == siti)
    message = Message.get(Message.conversation == convo.id)
    keys = customer_keys(wa_rt.master, siti)
    work.add_note(wa_rt, office["budi"], convo.id, "Pelanggan minta ditelepon sore")
    photo = Message.create(conversation=convo.id, direction="in", kind="image", wamid="wamid.I")
    media = Media.create(message=photo, wa_media_id="9", mime_type="image/jpeg", state="stored")
    media.content_sealed = keys.seal(b"\xff\xd8FOTO-KTP", place("media", "content", media.id))
    media.save()
    reveal.reveal_phone(wa_rt, office["budi"], siti, "pelanggan minta ditelepon")
    reveal.reveal_message(wa_rt, office["budi"], message.id, "cek alamat pengiriman")
    correction.correct_name(wa_rt, office["dewi"], siti, "Siti Rahayu Putri", "KTP ditunjukkan")
    holds.set_hold(wa_rt, office["dewi"], siti, "sengketa pembayaran nomor 12")
    now = utcnow()
    template = bstore.WaTemplate.create(meta_id="1", name="promo", language="id",
                                        category="MARKETING", previous_category="",
                                        status="APPROVED", reason="", components="[]",
                                        parameter_format="POSITIONAL", synced_at=now,
                                        updated_at=now)
    campaign = bstore.Campaign.create(name="Promo", template=template, created_by="user:1")
    row = bstore.CampaignRecipient.create(campaign=campaign, customer=siti, next_at=now)
    row.values_sealed = keys.seal(b'["Siti"]', place("campaign_recipient", "values", row.id))
    row.save()

    data, _ = export.gather(wa_rt, siti)

    assert export.missing_columns(data) == []
    for entry in customer_data.CUSTOMER_SEALED:
        rows = data["sealed_tables"][entry.table]
        assert rows, f"give Siti a row of {entry.table} in this test"
        for purpose in entry.purposes():
            assert any(r.get(purpose) not in (None, "") for r in rows), \
                f"{entry.table}.{purpose} is not in the export"


def test_an_agent_records_a_request_for_a_customer_they_serve_and_not_for_another(
        wa_rt, office):
    sales = writes(wa_rt, "6281211110001", "Siti Rahayu", "Halo")
    billing = writes(wa_rt, "6281299990002", "Rina Kusuma", "Halo",
                     division=office["divisions"]["Billing"])
    rid = requests.record(wa_rt, office["dedi"], sales, "access")
    row = PrivacyRequest.get_by_id(rid)
    assert (row.channel, row.due_at - row.received_at) == ("agent", timedelta(hours=72))
    with pytest.raises(Denied):
        requests.record(wa_rt, office["dedi"], billing, "erasure")
    with pytest.raises(requests.RequestError, match="kind of request"):
        requests.record(wa_rt, office["dewi"], sales, "delete-everything")


def test_a_customer_who_writes_data_saya_starts_an_access_request_once(wa_rt, office):
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "Data saya!")
    writes(wa_rt, "6281211110001", "Siti Rahayu", "DATA SAYA")
    made = list(PrivacyRequest.select().where(PrivacyRequest.customer == siti))
    assert [(r.kind, r.channel, r.state) for r in made] == [("access", "whatsapp", "open")]


def test_a_requests_clock_shows_red_before_its_deadline_and_the_dpo_got_the_reminder(
        wa_rt, office, smtpd):
    # Given a request that arrived by letter 50 hours ago: 22 hours are left
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "Halo")
    rid = requests.record(wa_rt, office["dewi"], siti, "correction",
                          received_at=utcnow() - timedelta(hours=50))
    fresh = requests.record(wa_rt, office["dewi"], siti, "access")
    queue = requests.queue(office["dewi"])
    assert [r.id for r in queue] == [rid, fresh]  # the most urgent first
    assert queue[0].clock.colour == "red" and queue[0].clock.words.startswith("21 h")
    assert queue[1].clock.colour == "green"
    # When the reminder job runs, with e-mail configured
    settings = load_settings({"GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir),
                              "GEMBOK_SMTP_HOST": "127.0.0.1",
                              "GEMBOK_SMTP_PORT": str(smtpd.port),
                              "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file)})
    mailing = Runtime(settings, wa_rt.keyring, wa_rt.index)
    assert requests.remind(mailing) == 1
    # Then the DPO got one e-mail naming the request, and no customer's data
    [mail] = smtpd.handler.messages
    assert mail.rcpt_tos == ["dpo@toko.example"]
    body = mail.content.decode()
    assert f"request {rid}" in body and "Siti" not in body and "6281211110001" not in body
    assert requests.remind(mailing) == 0  # once per request


def test_an_erasure_request_is_confirmed_to_the_customer_before_the_data_goes(wa_rt, office):
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "HAPUS DATA SAYA")
    [rid] = [r.id for r in PrivacyRequest.select().where(PrivacyRequest.kind == "erasure")]
    # A legal hold stops it, in words
    holds.set_hold(wa_rt, office["dewi"], siti, "sengketa pembayaran nomor 12")
    with pytest.raises(requests.RequestError, match="legal hold"):
        requests.erase(wa_rt, office["dewi"], rid)
    with pytest.raises(ErasureError, match="legal hold"):
        erase_customer(wa_rt, BOX_ADMIN, siti)
    holds.release(wa_rt, office["dewi"], siti)
    # The confirmation is queued; the erasure waits for it to leave
    outbox = requests.erase(wa_rt, office["dewi"], rid)
    assert outbox is not None
    assert requests.finish_erasures(wa_rt) == 0
    assert Customer.get_by_id(siti).erased_at is None
    Outbox.update(state="sent").where(Outbox.id == outbox).execute()
    assert requests.finish_erasures(wa_rt) == 1
    assert Customer.get_by_id(siti).erased_at is not None
    done = PrivacyRequest.get_by_id(rid)
    assert (done.state, done.outcome, done.answer) == ("done", "erased", "sent")


def test_a_correction_keeps_the_previous_name_sealed_in_the_history(wa_rt, office):
    siti = writes(wa_rt, "6281211110001", "Siti Rahyu", "Halo")
    correction.correct_name(wa_rt, office["dewi"], siti, "Siti Rahayu", "salah ketik, KTP")
    [change] = correction.history(wa_rt, office["dewi"], siti)
    assert (change.field, change.before, change.reason) == ("name", "Siti Rahyu",
                                                            "salah ketik, KTP")
    assert conversations.search(wa_rt, office["dedi"], "Rahayu")  # the index follows
    with pytest.raises(correction.CorrectionError, match="already"):
        correction.correct_name(wa_rt, office["dewi"], siti, "Siti Rahayu", "sekali lagi")


def test_a_retention_purge_deletes_sales_old_conversations_not_billings_and_never_a_held_one(
        wa_rt, office):
    sales, billing = office["divisions"]["Sales"], office["divisions"]["Billing"]
    retention.set_days(wa_rt, office["dewi"], sales, 30)
    retention.set_days(wa_rt, office["dewi"], billing, 365)
    old, recent = utcnow() - timedelta(days=40), utcnow() - timedelta(days=5)

    def resolved(customer: int, at: Any) -> int:
        convo = Conversation.get(Conversation.customer == customer)
        Conversation.update(status="resolved", resolved_at=at).where(
            Conversation.id == convo.id).execute()
        return int(convo.id)

    sales_old = resolved(writes(wa_rt, "6281200000001", "Ani", "lama", division=sales), old)
    sales_new = resolved(writes(wa_rt, "6281200000002", "Bima", "baru", division=sales), recent)
    billing_old = resolved(writes(wa_rt, "6281200000003", "Cici", "tagihan lama",
                                  division=billing), old)
    held = writes(wa_rt, "6281200000004", "Dodi", "sengketa", division=sales)
    held_old = resolved(held, old)
    holds.set_hold(wa_rt, office["dewi"], held, "sengketa di pengadilan")

    # The preview counts what the next run deletes
    [b, s] = retention.preview(wa_rt, office["dewi"])
    assert (s.name, s.conversations, s.messages, s.held) == ("Sales", 1, 1, 1)
    assert (b.name, b.conversations) == ("Billing", 0)

    counts = retention.purge(wa_rt)

    assert counts["conversations"] == 1 and counts["held"] == 1
    left = {c.id for c in Conversation.select()}
    assert sales_old not in left
    assert {sales_new, billing_old, held_old} <= left
    assert not Message.select().where(Message.conversation == sales_old).exists()
    entry = AuditEntry.get(AuditEntry.action == "retention.purged")
    assert json.loads(entry.detail)["conversations"] == 1


def test_a_retention_below_the_sectors_minimum_is_warned_about_never_raised(wa_rt, office):
    settings = load_settings({"GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir),
                              "GEMBOK_PRIVACY_SECTOR_MINIMUM_DAYS": "1825"})
    strict = Runtime(settings, wa_rt.keyring, wa_rt.index)
    sales = office["divisions"]["Sales"]
    warning = retention.set_days(strict, office["dewi"], sales, 365)
    assert "below the sector's minimum of 1825 days" in warning
    [_, s] = retention.preview(strict, office["dewi"])
    assert s.days == 365 and "1825" in s.warning


def test_the_breach_report_for_a_compromised_agent_lists_exactly_the_customers_he_opened(
        wa_rt, office):
    names = ["Ani", "Bima", "Cici", "Dodi", "Euis"]
    ids = {n: writes(wa_rt, f"62812000000{i}", n, "Halo") for i, n in enumerate(names)}
    convo = {n: Conversation.get(Conversation.customer == c).id for n, c in ids.items()}
    dedi, budi = office["dedi"], office["budi"]
    conversations.open_conversation(wa_rt, dedi, convo["Dodi"])  # before the window
    start = utcnow()
    conversations.open_conversation(wa_rt, dedi, convo["Ani"])
    conversations.customer_panel(wa_rt, dedi, ids["Bima"])
    conversations.open_conversation(wa_rt, budi, convo["Cici"])  # someone else
    end = utcnow()
    conversations.open_conversation(wa_rt, dedi, convo["Euis"])  # after it
    LoginEvent.create(user=dedi.user_id, ip="203.0.113.9", outcome="ok", at=start)

    by_account = breach.record(wa_rt, office["dewi"], starts_at=start, ends_at=end,
                               accounts="dedi", addresses="", description="")
    by_address = breach.record(wa_rt, office["dewi"], starts_at=start, ends_at=end,
                               accounts="", addresses="203.0.113.9",
                               description="akun dinonaktifkan")

    for bid in (by_account, by_address):
        report = breach.report(wa_rt, office["dewi"], bid)
        assert [c.customer_id for c in report.customers] == sorted([ids["Ani"], ids["Bima"]])
        assert report.clock.colour == "green" and report.clock.seconds_left > 71 * 3600
        assert "Pasal 46" in report.to_customer and "Lembaga" in report.to_authority
        assert "2 pelanggan" in report.to_authority
    with pytest.raises(breach.BreachError, match="no account named"):
        breach.record(wa_rt, office["dewi"], starts_at=start, ends_at=end,
                      accounts="mallory", addresses="", description="")


def test_only_the_dpo_answers_requests(wa_rt, office):
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "Halo")
    rid = requests.record(wa_rt, office["dedi"], siti, "access")
    for who in ("dedi", "budi", "citra"):
        with pytest.raises(Denied):
            requests.complete(wa_rt, office[who], rid, "exported")
        with pytest.raises(Denied):
            export.build(wa_rt, office[who], siti)
    requests.complete(wa_rt, office["dewi"], rid, "exported")
    assert PrivacyRequest.get_by_id(rid).answer == "sent"


def test_a_customer_who_objected_to_automated_replies_is_left_to_a_person(wa_rt, office):
    # Given a rule that answers "tagihan", and Siti, who objected by writing TOLAK OTOMATIS
    rule_book.save_rule(wa_rt, BOX_ADMIN, Rule(
        0, "Tagihan", (Trigger("keyword", ("tagihan",)),),
        (Action("reply_text", "Tagihan Anda kami cek."),)))
    siti = writes(wa_rt, "6281211110001", "Siti Rahayu", "TOLAK OTOMATIS")
    [rid] = [r.id for r in PrivacyRequest.select().where(PrivacyRequest.kind == "objection")]
    requests.complete(wa_rt, office["dewi"], rid, "objected")
    # When she asks about her bill
    message = deliver_text(wa_rt, wamid="wamid.OBJ2", body="tagihan saya dobel",
                           wa_id="6281211110001", name="Siti Rahayu")
    # Then the bot keeps quiet: a person answers her
    assert auto_reply.respond(wa_rt, [message]) == []
    assert AutoReplyLog.get(AutoReplyLog.message == message).outcome == "objected"
    assert requests.objected([siti]) == {siti}
