"""The consent ledger: every opt-out signal lands in it at once, and it proves what happened.

Siti Rahayu writes to Toko Makmur's Sales. Later she stops promotions in four ways (Meta's
WhatsApp setting, the template's "Stop promotions" button in Indonesian, a marketing send
Meta refuses with 131050, or by asking Dedi in the chat), and staff see her real state
with its history in the customer panel. The ledger is append-only, in the database too;
only erasure takes her rows away.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from peewee import IntegrityError

from appliance.auth.permissions import BOX_ADMIN, Denied, principal_for
from appliance.inbox import ingest, statuses
from appliance.inbox.conversations import customer_panel
from appliance.inbox.customers import find_by_phone
from appliance.inbox.divisions import create_division
from appliance.inbox.number_change import change_phone, merge, pending_merges
from appliance.privacy import consent
from appliance.privacy.erasure import erase_customer
from appliance.store.consent import ConsentEvent
from appliance.store.models import AuditEntry, Conversation, Message
from appliance.whatsapp.webhook_events import store
from appliance.whatsapp.webhook_parse import parse
from tests.cast import hire
from tests.conftest import BOTH_ENGINES
from tests.whatsapp.conftest import (
    button_tap,
    fixture_cases,
    status,
    text_message,
    user_preferences,
)

pytestmark = BOTH_ENGINES

SITI_PHONE = "+62 812-3456-7890"


def deliver(rt: Any, body: dict) -> ingest.Outcome:
    return ingest.process_event(rt, store(rt.keyring.system, json.dumps(body).encode()))


@pytest.fixture
def office(wa_rt: Any) -> dict[str, Any]:
    """Sales (the default division) and Billing; Dedi answers Sales, Citra Billing, Budi
    supervises Sales, Ayu runs the box."""
    divisions = {name: create_division(wa_rt, BOX_ADMIN, name) for name in ("Sales", "Billing")}
    people = {name: principal_for(hire(wa_rt, name, divisions))
              for name in ("dedi", "citra", "budi", "ayu")}
    return {"divisions": divisions, **people}


@pytest.fixture
def siti(wa_rt: Any, office: dict[str, Any]) -> int:
    """Siti has written to Sales once: the box knows her, with no consent recorded."""
    deliver(wa_rt, text_message("wamid.SITI1", body="Halo, ada promo bulan ini?"))
    customer_id = find_by_phone(wa_rt, SITI_PHONE)
    assert customer_id is not None
    return customer_id


def sources(customer_id: int) -> list[tuple[str, str, str]]:
    return [(r.purpose, r.event, r.source) for r in consent.history(customer_id)]


def test_meta_stop_webhook_opts_the_customer_out_of_marketing_and_the_ledger_shows_it(
        wa_rt, office, siti):
    # Given Siti, whose marketing consent is not recorded
    assert consent.state(siti, "marketing") == "unknown"
    # When she stops marketing in WhatsApp's own settings and Meta tells us
    outcome = deliver(wa_rt, user_preferences("stop"))
    # Then the ledger holds a withdrawal from Meta's webhook, at Meta's time
    assert outcome.consent_events == 1
    assert consent.state(siti, "marketing") == "withdrawn"
    assert consent.state(siti, "service") == "unknown"
    [entry] = consent.history(siti)
    assert (entry.purpose, entry.event, entry.source) == ("marketing", "withdrawn",
                                                          "meta_user_preferences")
    assert entry.proof.startswith("webhook:") and entry.at == "2025-11-24 16:05:00"
    # And Budi sees it in her customer panel, with its history
    panel = customer_panel(wa_rt, office["budi"], siti)
    assert panel.consent == {"service": "unknown", "marketing": "withdrawn"}
    assert [(r.purpose, r.event, r.source) for r in panel.consent_history] == [
        ("marketing", "withdrawn", "meta_user_preferences")]


def test_meta_names_the_person_by_user_id_alone_and_resume_opts_back_in(wa_rt, office):
    # Given a customer known only by her business-scoped user id
    deliver(wa_rt, text_message("wamid.U1", wa_id=None, user_id="US.1349"))
    customer_id = Conversation.get().customer_id
    # When Meta reports a stop, then a resume, naming her by user id only
    deliver(wa_rt, user_preferences("stop", wa_id=None, user_id="US.1349", timestamp=1764000300))
    deliver(wa_rt, user_preferences("resume", wa_id=None, user_id="US.1349",
                                    timestamp=1764000900))
    # Then the later resume wins, and both stay in the ledger
    assert consent.state(customer_id, "marketing") == "granted"
    assert sources(customer_id) == [("marketing", "withdrawn", "meta_user_preferences"),
                                    ("marketing", "granted", "meta_user_preferences")]


def test_a_stop_from_someone_the_box_never_met_records_nothing(wa_rt, office, siti):
    outcome = deliver(wa_rt, user_preferences("stop", wa_id="6289999999999"))
    assert outcome.consent_events == 0 and ConsentEvent.select().count() == 0


def test_the_parser_reads_metas_fixture_as_a_preference_not_an_account_update():
    raw = json.dumps(fixture_cases("user_marketing_preferences.json")["resume"]).encode()
    parsed = parse(raw)
    [pref] = parsed.preferences
    assert (pref.wa_id, pref.category, pref.value) == ("16505551234", "marketing_messages",
                                                      "resume")
    assert parsed.account == [] and parsed.problems == []


def test_the_stop_promotions_button_in_indonesian_opts_out(wa_rt, office, siti):
    # When Siti taps the template's button, whose label arrives in Indonesian
    outcome = deliver(wa_rt, button_tap("wamid.TAP1", "Hentikan promosi", "Hentikan promosi"))
    # Then she is out of marketing, proved by the wamid of her tap
    assert outcome.consent_events == 1
    assert consent.state(siti, "marketing") == "withdrawn"
    [entry] = consent.history(siti)
    assert (entry.source, entry.proof) == ("stop_button", "wamid.TAP1")
    # And the tap is still a message in her conversation, like any other
    assert Message.get(Message.wamid == "wamid.TAP1").kind == "button"


def test_our_own_stop_payload_opts_out_whatever_the_label_says(wa_rt, office, siti):
    deliver(wa_rt, button_tap("wamid.TAP2", "Ne plus recevoir", "STOP_PROMO"))
    assert consent.state(siti, "marketing") == "withdrawn"


def test_another_button_and_a_redelivered_tap_record_nothing_more(wa_rt, office, siti):
    # Given an ordinary quick reply ("Yes, order") and a stop tap that Meta sends twice
    assert deliver(wa_rt, button_tap("wamid.TAP3", "Ya, pesan", "ORDER_YES")).consent_events == 0
    tap = button_tap("wamid.TAP4", "Stop promotions", "x")
    assert deliver(wa_rt, tap).consent_events == 1
    tap["entry"][0]["id"] = "again"  # the same message in a new POST (a new digest)
    # Then the second delivery is a duplicate, and the ledger has one withdrawal
    assert deliver(wa_rt, tap).consent_events == 0
    assert sources(siti) == [("marketing", "withdrawn", "stop_button")]


def test_error_131050_on_a_marketing_send_records_a_withdrawal(wa_rt, office, siti):
    # Given a marketing template we sent Siti, and a utility one
    convo = Conversation.get(Conversation.customer == siti)
    for wamid in ("wamid.PROMO1", "wamid.OTHER1"):
        Message.create(conversation=convo, direction="out", wamid=wamid, status="sent",
                       kind="template")
    # When Meta refuses the first with 131050 and the second with a per-user cap (131049)
    outcome = deliver(wa_rt, status("wamid.PROMO1", "failed", code=131050))
    deliver(wa_rt, status("wamid.OTHER1", "failed", code=131049))
    # Then only 131050 is a withdrawal, proved by the wamid of our send
    assert outcome.consent_events == 1
    [entry] = consent.history(siti)
    assert (entry.purpose, entry.event, entry.source, entry.proof) == (
        "marketing", "withdrawn", "error_131050", "wamid.PROMO1")
    # And Meta repeating the failure adds nothing
    assert deliver(wa_rt, status("wamid.PROMO1", "failed", code=131050)).consent_events == 0


def test_an_agent_records_consent_on_the_customers_request_and_it_is_audited(
        wa_rt, office, siti):
    # When Siti asks Dedi in the chat for promotions, and Dedi records it with her message
    entry_id = consent.record_on_request(wa_rt, office["dedi"], siti, "marketing", True,
                                         note_reference="wamid.SITI1")
    # Then she is in, with Dedi named as the one who acted, and the audit log says so
    assert consent.state(siti, "marketing") == "granted"
    [entry] = consent.history(siti)
    assert (entry.id, entry.source, entry.actor, entry.proof) == (
        entry_id, "agent", office["dedi"].actor, "wamid.SITI1")
    audit = AuditEntry.get(AuditEntry.action == "consent.granted")
    assert (audit.actor, audit.target) == (office["dedi"].actor, f"customer:{siti}")
    assert json.loads(audit.detail) == {"purpose": "marketing", "entry": entry_id}
    # And when she later asks to stop, the withdrawal is audited too
    consent.record_on_request(wa_rt, office["budi"], siti, "marketing", False)
    assert consent.state(siti, "marketing") == "withdrawn"
    assert AuditEntry.get(AuditEntry.action == "consent.withdrawn").target == f"customer:{siti}"


def test_a_131050_that_comes_before_our_sends_wamid_is_recorded_when_it_applies(
        wa_rt, office, siti):
    # Given two marketing sends whose answers (with their wamids) are not in yet
    convo = Conversation.get(Conversation.customer == siti)
    late, lost = (Message.create(conversation=convo, direction="out", status="sent",
                                 kind="template") for _ in range(2))
    # When Meta refuses the first before its wamid is known (the status waits), and the
    # second names its message only through our callback (the send's answer was lost)
    deliver(wa_rt, status("wamid.LATE", "failed", code=131050))
    assert consent.history(siti) == []
    deliver(wa_rt, status("wamid.LOST", "failed", code=131050,
                          callback=statuses.callback_for(lost.id)))
    late.wamid = "wamid.LATE"
    late.save()
    statuses.apply_pending(late)
    # Then both are withdrawals, each proved by its send's wamid
    assert [(r.source, r.proof) for r in consent.history(siti)] == [
        ("error_131050", "wamid.LOST"), ("error_131050", "wamid.LATE")]


@pytest.mark.parametrize("who", ["citra", "ayu"])
def test_staff_outside_the_customers_division_cannot_record_her_consent(
        wa_rt, office, siti, who):
    # Citra answers Billing only; Ayu runs the box and reads no customer
    with pytest.raises(Denied):
        consent.record_on_request(wa_rt, office[who], siti, "marketing", True)
    assert ConsentEvent.select().count() == 0


def test_a_reference_is_an_id_never_words(wa_rt, office, siti):
    with pytest.raises(consent.ConsentError):
        consent.record_on_request(wa_rt, office["dedi"], siti, "marketing", True,
                                  note_reference="Siti bilang boleh, 0812 3456 7890")
    with pytest.raises(consent.ConsentError):
        consent.record(siti, "newsletter", True, source="keyword")
    assert ConsentEvent.select().count() == 0


def test_the_ledger_is_append_only(wa_rt, office, siti):
    # Given a withdrawal by keyword, then a grant when she wrote MULAI
    consent.record(siti, "marketing", False, source="keyword", proof="wamid.K1")
    consent.record(siti, "marketing", True, source="keyword", proof="wamid.K2")
    consent.record_notice(siti, "2026-12", proof="wamid.N1")
    # Then the later grant wins, the notice changes no state, and history keeps it all
    assert consent.state(siti, "marketing") == "granted"
    assert consent.states(siti) == {"service": "unknown", "marketing": "granted"}
    assert [(r.event, r.notice_version) for r in consent.history(siti)] == [
        ("withdrawn", ""), ("granted", ""), ("notice_shown", "2026-12")]
    # And the database refuses to edit or delete any of it
    with pytest.raises(IntegrityError, match="append-only"):
        ConsentEvent.update(event="granted").execute()
    with pytest.raises(IntegrityError, match="append-only"):
        ConsentEvent.delete().where(ConsentEvent.customer == siti).execute()
    assert ConsentEvent.select().count() == 3


def test_marketing_states_of_an_audience_come_in_one_read(wa_rt, office, siti):
    deliver(wa_rt, text_message("wamid.OTHER", wa_id="6281111111111", user_id="ID.2"))
    other = find_by_phone(wa_rt, "+62 811-1111-1111")
    consent.record(siti, "marketing", True, source="import", proof="import:2026-12/1")
    assert consent.marketing_states([siti, other]) == {siti: "granted", other: "unknown"}


def test_erasure_leaves_no_ledger_row_linking_to_the_customer(wa_rt, office, siti):
    # Given Siti's tap, an agent's entry and a notice in the ledger, and another customer's
    deliver(wa_rt, button_tap("wamid.TAP9", "Stop promotions", "STOP_PROMO"))
    consent.record_on_request(wa_rt, office["dedi"], siti, "service", True,
                              note_reference="wamid.SITI1")
    consent.record_notice(siti, "2026-12", proof="wamid.N9")
    deliver(wa_rt, text_message("wamid.OTHER", wa_id="6281111111111", user_id="ID.2"))
    other = find_by_phone(wa_rt, "+62 811-1111-1111")
    consent.record(other, "marketing", True, source="import", proof="import:2026-12/1")
    # When the DPO erases her
    erase_customer(wa_rt, BOX_ADMIN, siti)
    # Then no ledger row names her, nor carries a wamid of hers; the other's stays
    assert ConsentEvent.select().where(ConsentEvent.customer == siti).count() == 0
    left = [r.proof for r in ConsentEvent.select()]
    assert left == ["import:2026-12/1"]
    assert consent.states(siti) == {"service": "unknown", "marketing": "unknown"}


def test_a_merge_of_two_records_of_one_person_keeps_her_opt_out(wa_rt, office, siti):
    # Given Siti's second record (her other number), which stopped promotions
    deliver(wa_rt, text_message("wamid.SECOND", wa_id="6281333333333", user_id="ID.3"))
    second = find_by_phone(wa_rt, "+62 813-3333-3333")
    assert second is not None
    deliver(wa_rt, button_tap("wamid.TAP5", "Stop promotions", "STOP_PROMO",
                              wa_id="6281333333333", user_id="ID.3"))
    # When Budi gives Siti that number and the administrator merges the two records
    change_phone(wa_rt, office["budi"], siti, "0813-3333-3333", "satu orang, dua nomor")
    [waiting] = pending_merges(BOX_ADMIN)
    assert merge(wa_rt, BOX_ADMIN, waiting.change_id) == second
    # Then the opt-out is Siti's now, with its source and proof, and the old record has none
    assert consent.state(siti, "marketing") == "withdrawn"
    assert [(r.source, r.proof) for r in consent.history(siti)] == [("stop_button",
                                                                     "wamid.TAP5")]
    assert consent.history(second) == []
