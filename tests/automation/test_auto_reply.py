"""Auto Reply answers what customers write, once, and knows when to keep quiet."""

from __future__ import annotations

import pytest

from appliance.auth.permissions import BOX_ADMIN, Denied, Principal
from appliance.automation import auto_reply, rule_book
from appliance.automation.rules import Action, Rule, Trigger
from appliance.inbox.divisions import create_division
from appliance.store.automation import AutoReplyLog
from appliance.store.chatroom import Note
from appliance.store.models import AuditEntry, Conversation, Message, Outbox
from tests.factories import deliver_text

SITI = "6281234567890"


def save(rt, *triggers: Trigger, actions: tuple[Action, ...], name: str = "Tagihan",
         division: int | None = None, stop: bool = True) -> int:
    return rule_book.save_rule(rt, BOX_ADMIN, Rule(0, name, triggers, actions, stop=stop,
                                                   division_id=division))


def writes(rt, wamid: str, text: str, wa_id: str = SITI) -> int:
    return deliver_text(rt, wamid=wamid, body=text, wa_id=wa_id)


def test_a_customers_keyword_gets_the_rules_answer_once_even_if_the_job_runs_twice(wa_rt):
    save(wa_rt, Trigger("keyword", ("tagihan",)),
         actions=(Action("reply_text", "Tagihan Anda kami cek, mohon tunggu."),))
    message = writes(wa_rt, "wamid.T1", "Kak, TAGIHANNN saya dobel")
    assert len(auto_reply.respond(wa_rt, [message])) == 1
    assert auto_reply.respond(wa_rt, [message]) == []  # a retried job, a second delivery
    [sent] = Message.select().where(Message.direction == "out")
    assert Outbox.select().count() == 1 and sent.conversation_id == \
        Message.get_by_id(message).conversation_id
    fired = AuditEntry.get(AuditEntry.action == "automation.rule_fired")
    assert fired.actor == "autoreply"


def test_the_same_message_delivered_twice_gets_one_answer(wa_rt):
    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    first = writes(wa_rt, "wamid.D1", "halo")
    writes(wa_rt, "wamid.D1", "halo")  # Meta delivers it again: the ingest keeps one
    assert Message.select().where(Message.direction == "in").count() == 1
    assert len(auto_reply.respond(wa_rt, [first, first])) == 1


def test_an_agent_who_takes_the_conversation_silences_the_bot(wa_rt):
    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    first = writes(wa_rt, "wamid.A1", "halo")
    convo = Message.get_by_id(first).conversation_id
    Conversation.update(assignee=1).where(Conversation.id == convo).execute()
    second = writes(wa_rt, "wamid.A2", "halo lagi")
    assert auto_reply.respond(wa_rt, [second]) == []
    assert AutoReplyLog.get(AutoReplyLog.message == second).outcome == "silenced"


def test_two_bots_talking_to_each_other_stop_after_five_replies_and_a_note_says_why(wa_rt):
    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    sent = []
    for n in range(8):  # the other side is a bot that greets every greeting
        sent += auto_reply.respond(wa_rt, [writes(wa_rt, f"wamid.B{n}", "Halo! Ada yang bisa "
                                                                        "dibantu?")])
    assert len(sent) == auto_reply.MAX_REPLIES_PER_HOUR
    assert Note.select().count() == 1  # said once, not at every message
    outcomes = [e.outcome for e in AutoReplyLog.select().order_by(AutoReplyLog.id)]
    assert outcomes == ["answered"] * 5 + ["loop_stopped"] * 3


def test_choosing_tagihan_puts_the_conversation_in_billings_inbox(wa_rt):
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    save(wa_rt, Trigger("keyword", ("tagihan", "bayar"), mode="whole_word"),
         actions=(Action("route_division", target=billing),
                  Action("reply_text", "Kami teruskan ke tim Tagihan.")))
    message = writes(wa_rt, "wamid.R1", "tagihan")
    auto_reply.respond(wa_rt, [message])
    assert Conversation.get_by_id(Message.get_by_id(message).conversation_id).division_id \
        == billing


def test_with_no_rules_auto_reply_writes_and_sends_nothing(wa_rt):
    message = writes(wa_rt, "wamid.N1", "halo")
    assert auto_reply.respond(wa_rt, [message]) == []
    assert AutoReplyLog.select().count() == 0


def test_a_supervisor_keeps_their_divisions_rules_but_not_the_global_ones(wa_rt):
    sales = create_division(wa_rt, BOX_ADMIN, "Sales")
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    budi = Principal(5, "supervisor", frozenset({sales}), frozenset({"automation.manage"}))
    mine = Rule(0, "Promo Sales", (Trigger("keyword", ("promo",)),),
                (Action("reply_text", "Promo bulan ini: ..."),), division_id=sales)
    assert rule_book.save_rule(wa_rt, budi, mine)
    for elsewhere in (None, billing):
        with pytest.raises(Denied):
            rule_book.save_rule(wa_rt, budi, Rule(0, "Bukan milik Budi", mine.triggers,
                                                  mine.actions, division_id=elsewhere))
    assert AuditEntry.get(AuditEntry.action == "automation.rule_saved").actor == "user:5"


def test_a_supervisor_tries_a_sample_text_before_saving(wa_rt):
    save(wa_rt, Trigger("keyword", ("bayar",)), name="Pembayaran", stop=False,
         actions=(Action("note", "pelanggan menanyakan pembayaran"),))
    changed = Rule(0, "Tagihan", (Trigger("keyword", ("tagihan",)),),
                   (Action("reply_text", "Kami cek."),))
    assert rule_book.try_text(BOX_ADMIN, "mau bayar tagihan", changed=changed) == \
        "would fire: rule 1 “Pembayaran”, then rule 0 “Tagihan”, then stop"
    broken = Rule(0, "Rusak", (Trigger("keyword", (r"(\w)\1",), mode="regex"),),
                  (Action("reply_text", "x"),))
    assert rule_book.try_text(BOX_ADMIN, "x", changed=broken).startswith("not saved: rule")


def test_a_message_whose_auto_reply_job_redis_lost_is_answered_by_the_sweeper(wa_rt):
    from appliance.scheduler import sweep_auto_reply

    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    message = writes(wa_rt, "wamid.L1", "halo")
    assert auto_reply.unanswered(settle_seconds=0) == [message]
    queued: list[list[int]] = []
    assert sweep_auto_reply(queued.append) == [] and queued == []  # still settling
    auto_reply.respond(wa_rt, auto_reply.unanswered(settle_seconds=0))
    assert auto_reply.unanswered(settle_seconds=0) == []


def test_after_17_00_on_a_weekday_the_away_message_is_sent(wa_rt, monkeypatch):
    from datetime import UTC, datetime

    from appliance.automation import schedules

    schedules.set_hours(wa_rt, BOX_ADMIN, None, periods=[(d, "08:00", "17:00") for d in
                                                          range(5)])
    save(wa_rt, Trigger("outside_hours"), name="Di luar jam kerja",
         actions=(Action("reply_text", "Kami buka lagi besok pukul 08.00 WIB."),))
    message = writes(wa_rt, "wamid.H1", "halo, masih buka?")
    evening = datetime(2026, 12, 3, 11, 30, tzinfo=UTC).replace(tzinfo=None)  # 18:30 WIB
    Message.update(created_at=evening).where(Message.id == message).execute()
    assert len(auto_reply.respond(wa_rt, [message])) == 1
    morning = writes(wa_rt, "wamid.H2", "halo lagi")
    Message.update(created_at=evening.replace(hour=3)).where(Message.id == morning).execute()
    assert auto_reply.respond(wa_rt, [morning]) == []  # 10:30 WIB on a Thursday: open


def test_berhenti_opts_the_customer_out_of_marketing_and_is_confirmed_even_with_no_rules(wa_rt):
    from appliance.privacy import consent

    message = writes(wa_rt, "wamid.O1", "BERHENTI!")
    customer = Conversation.get_by_id(Message.get_by_id(message).conversation_id).customer_id
    assert consent.state(customer, "marketing") == "withdrawn"
    [entry] = consent.history(customer)
    assert (entry.source, entry.proof) == ("keyword", "wamid.O1")
    assert len(auto_reply.respond(wa_rt, [message])) == 1  # "Baik, ... Balas MULAI ..."
    assert AutoReplyLog.get(AutoReplyLog.message == message).outcome == "opted_out"
    back = writes(wa_rt, "wamid.O2", "mulai")
    assert consent.state(customer, "marketing") == "granted"
    assert len(auto_reply.respond(wa_rt, [back])) == 1


def test_stop_inside_a_sentence_is_not_an_opt_out(wa_rt):
    from appliance.privacy import consent

    message = writes(wa_rt, "wamid.O3", "bus stop di mana ya?")
    customer = Conversation.get_by_id(Message.get_by_id(message).conversation_id).customer_id
    assert consent.state(customer, "marketing") == "unknown"
    assert auto_reply.respond(wa_rt, [message]) == []


def test_what_a_batch_hands_auto_reply_in_memory_never_shows_in_a_log_line(wa_rt):
    import json
    import time

    from appliance.inbox import ingest
    from appliance.whatsapp.webhook_events import store
    from tests.whatsapp.conftest import text_message

    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    raw = json.dumps(text_message("wamid.H1", body="Halo, NIK saya 3174091203870007",
                                  timestamp=str(int(time.time())))).encode()
    outcome = ingest.process_event(wa_rt, store(wa_rt.keyring.system, raw))
    [said] = outcome.handoff.values()
    assert said.text.startswith("Halo, NIK")  # held in memory for Auto Reply...
    for shown in (repr(outcome), str(outcome), repr(said)):
        assert "3174091203870007" not in shown and "Siti" not in shown  # ...never printed
    assert len(auto_reply.respond(wa_rt, outcome.inbound_ids, handoff=outcome.handoff,
                                  keys=outcome.keys)) == 1


def test_auto_reply_failing_inside_a_batch_loses_no_message_and_is_answered_apart(wa_rt):
    import json
    import time

    from appliance.inbox import ingest
    from appliance.whatsapp.webhook_events import store
    from tests.whatsapp.conftest import text_message

    save(wa_rt, Trigger("keyword", ("halo",)), actions=(Action("reply_text", "Halo juga!"),))
    raw = json.dumps(text_message("wamid.F1", body="Halo", timestamp=str(int(time.time()))))

    def broken(batch: ingest.Outcome) -> None:
        auto_reply.respond_within(wa_rt, batch.inbound_ids, *auto_reply.prepare(),
                                  handoff=batch.handoff, keys=batch.keys)
        raise RuntimeError("a bug in a rule's action")

    outcome = ingest.process_events(wa_rt, [store(wa_rt.keyring.system, raw.encode())],
                                    then=broken)
    assert outcome.unanswered == outcome.inbound_ids and Message.select().count() == 1
    assert Outbox.select().count() == 0 and AutoReplyLog.select().count() == 0  # undone
    assert len(auto_reply.respond(wa_rt, outcome.unanswered)) == 1  # its own job answers
