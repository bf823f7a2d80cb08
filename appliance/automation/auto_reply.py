"""Provides `respond`: Auto Reply's answer to new inbound messages, after they are safe.

The worker applies a webhook batch and commits it first (the customer's message is safe
and visible), then, in the same job, hands the batch's new inbound messages here, with
their texts and keys in memory; a job Redis lost is found by the sweeper. Each message
is handled once: its `AutoReplyLog` row is written in the same transaction as what Auto
Reply does, so a message Meta delivers twice, or a job that runs twice, is answered once.

One message's turn, in order: an opt-out or opt-in keyword is confirmed (always: the
customer must know); the privacy notice goes to a customer who has not seen its current
version; Auto Reply keeps quiet while an agent has the conversation, and after
`MAX_REPLIES_PER_HOUR` replies in one conversation (two bots answering each other, a note
says why); an answer to the menu routes the conversation; else the rules are tried, first
match; when none fires, the away message (outside business hours, once per closed
stretch) and, for a new conversation, the menu. Free-form messages go only inside the
24-hour window. The scheduler's `sweep` routes menus nobody answered to the default
division and fires the "waiting N minutes" rules.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from appliance.automation import batch, menu_book
from appliance.automation import menu as menus
from appliance.automation.actions import act, note, route
from appliance.automation.batch import Facts, Parts
from appliance.automation.hours import away_message, is_open
from appliance.automation.matcher import Incoming, RuleSet
from appliance.automation.rule_book import COMPILED
from appliance.automation.sender import Sender
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.inbox.said import Said, reply_id
from appliance.keys.customer_keys import customer_keysets
from appliance.notify.email import EmailError, send_email
from appliance.privacy import consent, notice
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.automation import AutoReplyLog, ConsentConfirmed, MenuState
from appliance.store.consent import ConsentEvent
from appliance.store.db import db
from appliance.store.models import Conversation, Message, Outbox, User, UserDivision
from appliance.store.sealed import open_text

log = logging.getLogger(__name__)
MAX_REPLIES_PER_HOUR = 5
OPTED_OUT = {"id": "Baik, Anda tidak akan menerima pesan promosi dari kami lagi. Balas MULAI "
                   "bila ingin menerimanya kembali.",
             "en": "Done: you will not get promotions from us any more. Reply START to get "
                   "them again."}
OPTED_IN = {"id": "Terima kasih, Anda akan menerima kabar promosi kami lagi. Balas BERHENTI "
                  "untuk berhenti kapan saja.",
            "en": "Thank you: you will get our promotions again. Reply STOP to stop them at "
                  "any time."}
CHOSEN = {"id": "Terima kasih. Percakapan Anda kami teruskan ke bagian {title}; petugas "
                "kami akan segera membalas.",
          "en": "Thank you. We have passed your conversation to {title}; someone will "
                "answer you shortly."}
PERSON = {"id": "Baik, petugas kami akan segera membalas Anda.",
          "en": "Of course: one of our team will answer you shortly."}
LogRow = tuple[int, int, int | None, str, int, datetime, int | None]


def active(rules: RuleSet, parts: Parts) -> bool:
    """Whether Auto Reply has anything to do besides opt-out words: rules, a menu, a
    notice or an away message."""
    return bool(rules.rules) or parts.menu.enabled or parts.notice is not None or parts.away


def prepare() -> tuple[RuleSet, Parts]:
    """The rules and parts as they stand now, compiled if the book changed."""
    return Parts.now()


def within_batch(rt: Runtime, batch_ids: list[int], *, handoff: Mapping[int, Said],
                 keys: Mapping[int, KeySet]) -> Answered | None:
    """`respond_within` for the worker's webhook batch, under its write lock, if the rule
    book this process compiled is current; None if it changed (compiling takes seconds:
    the caller hands the messages to `respond`'s own job, which compiles outside the lock)."""
    ready = Parts.ready()
    if ready is None:
        return None
    return respond_within(rt, batch_ids, *ready, handoff=handoff, keys=keys)


def respond(rt: Runtime, message_ids: list[int], *, handoff: Mapping[int, Said] | None = None,
            keys: Mapping[int, KeySet] | None = None) -> list[int]:
    """Handles each new inbound message once, in a transaction of its own; returns the
    outbox ids to send. A few queries per batch, not per message."""
    rules, parts = Parts.now()
    with db.atomic():
        answered = respond_within(rt, message_ids, rules, parts, handoff=handoff, keys=keys)
    notify(rt, answered)
    return answered.outbox


@dataclass
class Answered:
    """What a batch's turn queued: replies to send, supervisors to tell (after commit)."""

    outbox: list[int] = field(default_factory=list)
    notify: list[tuple[int, int | None, str]] = field(default_factory=list)


def respond_within(rt: Runtime, message_ids: list[int], rules: RuleSet, parts: Parts, *,
                   handoff: Mapping[int, Said] | None = None,
                   keys: Mapping[int, KeySet] | None = None) -> Answered:
    """`respond` inside the caller's transaction: the worker's webhook batch, so that
    answering it takes no second transaction, lock or fsync. `rules` and `parts` are read
    before the caller takes the write lock: a changed rule book compiles for seconds,
    never while the inbox writer waits."""
    ids = sorted(set(message_ids))
    if not ids:
        return Answered()
    done = store.handled(ids)
    said = _said(rt, [i for i in ids if i not in done], handoff or {}, keys or {})
    opted = {consent.as_proof(s.wamid): s.opted for s in said
             if s.wamid and s.opted is not None}
    asked = [s.wamid for s in said if s.wamid and s.id not in (handoff or {})]
    if asked:  # read from the store: what ingest recorded for them
        opted.update(consent.keyword_signals(asked))
    if not said or not (opted or active(rules, parts)):
        return Answered()  # nothing to say, nothing to log
    facts = batch.load(rt, {s.conversation_id for s in said}, parts, keys)
    facts.opted = opted
    sender = Sender(rt, facts)
    rows = [_turn(rt, rules, msg, facts, sender) for msg in said]
    store.insert_logs(rows)
    return Answered(sender.outbox, [(c, facts.convos[c].division_id, rule)
                                    for c, rule in facts.notify])


def _said(rt: Runtime, ids: list[int], handoff: Mapping[int, Said],
          keys: Mapping[int, KeySet]) -> list[Said]:
    """The messages as Auto Reply reads them: handed over, or read and opened here."""
    missing = [i for i in ids if i not in handoff]
    found = {i: handoff[i] for i in ids if i in handoff}
    if missing:
        rows = list(Message.select().where(Message.id.in_(missing), Message.direction == "in"))
        of_convo = {int(c.id): int(c.customer_id) for c in Conversation.select(
            Conversation.id, Conversation.customer).where(
            Conversation.id.in_({r.conversation_id for r in rows}))}
        owners = {r.id: of_convo[r.conversation_id] for r in rows}
        opened = dict(keys)
        opened.update(customer_keysets(rt.master, set(owners.values()) - set(keys)))
        for r in rows:
            found[r.id] = said_of(r, owners[r.id], opened.get(owners[r.id]))
    return [found[i] for i in sorted(found)]


def said_of(msg: Message, customer_id: int, keys: KeySet | None) -> Said:
    text = open_text(keys, Message, "body", msg.id, msg.body_sealed) or "" if keys else ""
    reply = None
    if keys is not None and msg.kind in ("interactive", "button") \
            and msg.payload_sealed is not None:
        reply = reply_id(json.loads(open_text(keys, Message, "payload", msg.id,
                                              msg.payload_sealed) or "{}"))
    return Said(msg.id, msg.conversation_id, customer_id, msg.wamid, msg.kind,
                msg.created_at, text, reply)


def _turn(rt: Runtime, rules: RuleSet, msg: Said, facts: Facts, sender: Sender) -> LogRow:
    """One message's turn; returns its log row (message, conversation, rule, outcome,
    replies, when, routed to)."""
    convo = facts.convos[msg.conversation_id]
    before = len(sender.outbox)

    def row(outcome: str, rule: int | None = None, routed: int | None = None) -> LogRow:
        return (msg.id, convo.id, rule, outcome, len(sender.outbox) - before, utcnow(), routed)

    granted = facts.opted.get(consent.as_proof(msg.wamid)) if msg.wamid else None
    if granted is not None:  # confirmed even when an agent has it: the customer must know
        sender.text(convo, (OPTED_IN if granted else OPTED_OUT)[sender.language(convo)],
                    "opt-in" if granted else "opt-out")
        return row("opted_in" if granted else "opted_out")
    shown = _privacy_notice(rt, convo, facts, sender)
    if convo.customer_id in facts.objected:  # UU PDP: they objected to automated replies
        return row("objected")
    if convo.assignee_id is not None and convo.status != "resolved":
        return row("notice" if shown else "silenced")  # an agent has it: keep quiet
    if facts.recent.get(convo.id, 0) >= MAX_REPLIES_PER_HOUR:
        if convo.id not in facts.loop_noted:  # say why, once an hour
            facts.loop_noted.add(convo.id)
            note(rt, facts.principal, convo,
                 f"Auto Reply stopped: {MAX_REPLIES_PER_HOUR} automatic replies in the last "
                 "hour (another bot may be answering). A person should take this "
                 "conversation.")
        return row("loop_stopped")
    incoming = _incoming(msg, convo, facts, rules)
    state = facts.menus.get(convo.id) if facts.menu.enabled else None
    waiting_menu = state is not None and state.closed_at is None and facts.menu.enabled
    if waiting_menu:
        picked = menus.answer(facts.menu, reply_id=incoming.reply_id, text=incoming.text)
        if picked is not None:
            assert state is not None
            routed = _menu_answer(rt, convo, state, picked, facts, sender)
            return row(f"menu_{picked.kind}", routed=routed)
    fired = rules.evaluate(incoming)
    if fired:
        routed = None
        for f in fired:
            routed = act(rt, convo, f.rule, facts, sender) or routed
        if waiting_menu and routed is not None:
            _close(state, "rule")
        return row("answered", fired[-1].rule.id, routed)
    outcome = "no_rule"
    if facts.parts.away and _outside_hours(facts, convo, msg.created_at) \
            and convo.id not in facts.away_sent:
        schedule = facts.schedules.get(convo.division_id) or facts.schedules[None]
        if sender.text(convo, away_message(schedule, sender.language(convo)), "away") \
                is not None:
            facts.away_sent.add(convo.id)
            outcome = "away"
    if facts.menu.enabled and facts.menu.choices:
        if state is None and facts.first_in_convo.get(convo.id) == msg.id:
            if _send_menu(convo, 1, facts, sender):
                facts.menus[convo.id] = MenuState.create(conversation=convo.id, sent_at=utcnow())
                outcome = "menu_sent"
        elif waiting_menu and state is not None and state.resent < 1 \
                and _send_menu(convo, state.page, facts, sender):  # once more, then timeout
            state.resent += 1
            state.save()
            outcome = "menu_again"
    return row(outcome)


def _privacy_notice(rt: Runtime, convo: Conversation, facts: Facts, sender: Sender) -> bool:
    """Sends the notice's current version to a customer who has not been shown it, and
    records that in the consent ledger with the message that carried it."""
    current = facts.notice
    if current is None or current.version in facts.shown.get(convo.customer_id, set()):
        return False
    text = notice.message_text(current, sender.language(convo), rt.settings.webhook.public_url)
    outbox_id = sender.text(convo, text, "privacy notice")
    if outbox_id is None:
        return False
    message_id = Outbox.get_by_id(outbox_id).message_id
    consent.record_notice(convo.customer_id, current.version, proof=f"message:{message_id}")
    facts.shown.setdefault(convo.customer_id, set()).add(current.version)
    return True


def _send_menu(convo: Conversation, page: int, facts: Facts, sender: Sender) -> bool:
    language = sender.language(convo)
    return sender.interactive(convo, menus.shown_text(facts.menu, page, language),
                              menus.interactive(facts.menu, page, language), "menu") is not None


def _menu_answer(rt: Runtime, convo: Conversation, state: MenuState, picked: menus.Answer,
                 facts: Facts, sender: Sender) -> int | None:
    language = sender.language(convo)
    if picked.kind == "page":
        _send_menu(convo, picked.page, facts, sender)
        state.page = picked.page
        state.save()
        return None
    if picked.kind == "choice" and picked.choice is not None:
        target: int | None = picked.choice.division_id
        said = f"Menu: the customer chose {picked.choice.title_id}"
        reply = CHOSEN[language].format(title=picked.choice.title(language))
    else:
        target = facts.menu.default_division_id
        said = "Menu: the customer asked to talk to a person"
        reply = PERSON[language]
    _close(state, picked.kind)
    moved = target is not None and target != convo.division_id \
        and route(rt, facts.principal, convo, target, said)
    if not moved:
        note(rt, facts.principal, convo, said)
    sender.text(convo, reply, "menu")
    return target if moved else None


def _close(state: MenuState | None, outcome: str) -> None:
    if state is not None and state.closed_at is None:
        state.closed_at, state.outcome = utcnow(), outcome
        state.save()


def _incoming(msg: Said, convo: Conversation, facts: Facts, rules: RuleSet, *,
              waiting: int = 0) -> Incoming:
    """What the rules see of a message; the facts no rule looks at are not read."""
    kinds = rules.kinds
    return Incoming(
        text=msg.text, kind=msg.kind, reply_id=msg.reply_id, division_id=convo.division_id,
        first_ever="first_ever" in kinds and facts.first_in.get(convo.customer_id) == msg.id,
        first_of_day="first_of_day" in kinds
        and facts.first_today.get(convo.customer_id) == msg.id,
        outside_hours="outside_hours" in kinds and _outside_hours(
            facts, convo, utcnow() if waiting else msg.created_at),
        waiting_minutes=waiting)


def _outside_hours(facts: Facts, convo: Conversation, at: datetime) -> bool:
    schedule = facts.schedules.get(convo.division_id) or facts.schedules[None]
    return not is_open(schedule, at)


def notify(rt: Runtime, answered: Answered) -> None:
    """E-mails the supervisors of a conversation's division that a rule asked for them:
    the rule's name and the conversation's number, nothing the customer wrote. After the
    commit, never while holding the write lock."""
    for convo_id, division, rule in answered.notify:
        to = [str(u.email) for u in User.select(User.email).join(
            UserDivision, on=UserDivision.user == User.id).where(
            UserDivision.division == division, User.role == "supervisor",
            User.is_active == True, User.email != "")]  # noqa: E712
        if not to or not rt.settings.smtp.host:
            continue
        try:
            send_email(rt.settings.smtp, to, f"Gembok: {rule}",
                       f"Auto Reply's rule “{rule}” asks for a person on conversation "
                       f"#{convo_id}. Open it in the Chatroom.", zone=rt.settings.timezone)
        except EmailError as exc:
            log.warning("auto reply notification not sent: %s", exc)


def confirm_preferences(rt: Runtime) -> list[int]:
    """Confirms to the customer Meta's stop and resume signals of the last day (they come
    with no message of the customer's to answer), once each and only the latest per
    customer, inside the 24-hour window; returns the outbox ids to send."""
    since = utcnow() - timedelta(days=1)
    done = ConsentConfirmed.select(ConsentConfirmed.event)
    signals = list(ConsentEvent.select().where(
        ConsentEvent.source == "meta_user_preferences", ConsentEvent.recorded_at > since,
        ConsentEvent.id.not_in(done)).order_by(ConsentEvent.at, ConsentEvent.id).limit(500))
    if not signals:
        return []
    latest = {e.customer_id: e for e in signals}  # the last word of each customer
    convos = store.latest_conversations(sorted(latest))
    with db.atomic():
        ConsentConfirmed.insert_many([{"event": e.id, "at": utcnow()} for e in signals]) \
            .on_conflict_ignore().execute()
        if not convos:
            return []
        facts = batch.load(rt, set(convos.values()), Parts.now()[1])
        sender = Sender(rt, facts)
        for customer, convo_id in convos.items():
            granted = latest[customer].event == consent.GRANTED
            convo = facts.convos[convo_id]
            sender.text(convo, (OPTED_IN if granted else OPTED_OUT)[sender.language(convo)],
                        "opt-in" if granted else "opt-out")
    return sender.outbox


def unanswered(*, within_minutes: int = 30, settle_seconds: int = 30) -> list[int]:
    """Inbound messages of the last half hour Auto Reply has not handled (their job was
    lost with Redis): the scheduler queues them again. None while it has nothing to do."""
    if not active(*Parts.now()):
        return []
    now = utcnow()
    handled = AutoReplyLog.select(AutoReplyLog.message)
    return [int(m.id) for m in Message.select(Message.id).where(
        Message.direction == "in",
        Message.created_at.between(now - timedelta(minutes=within_minutes),
                                   now - timedelta(seconds=settle_seconds)),
        Message.id.not_in(handled)).order_by(Message.id).limit(500)]


def sweep(rt: Runtime) -> list[int]:
    """The scheduler's turn: menus nobody answered go to the default division, and the
    "waiting N minutes" rules fire. Returns the outbox ids to send."""
    _menu_timeouts(rt)
    return _waiting(rt) + confirm_preferences(rt)


def _menu_timeouts(rt: Runtime) -> None:
    menu = menu_book.CURRENT.current()
    if not menu.enabled:
        return
    due = list(MenuState.select().where(
        MenuState.closed_at.is_null(),
        MenuState.sent_at < utcnow() - timedelta(minutes=menu.timeout_minutes)).limit(200))
    if not due:
        return
    with db.atomic():
        facts = batch.load(rt, {s.conversation_id for s in due}, Parts.now()[1])
        for state in due:
            convo = facts.convos[state.conversation_id]
            _close(state, "timeout")
            target = menu.default_division_id
            if target is not None and target != convo.division_id and convo.assignee_id is None:
                route(rt, facts.principal, convo, target, f"Menu: no choice in "
                      f"{menu.timeout_minutes} minutes, Auto Reply routed here")


def _waiting(rt: Runtime) -> list[int]:
    """Fires the rules with a "waiting N minutes" trigger on conversations whose customer
    has waited that long for an agent; each waiting stretch (from one inbound message)
    fires once."""
    rules = [r for r in COMPILED.current().rules if any(t.kind == "waiting" for t in r.triggers)]
    if not rules:
        return []
    shortest = min(t.minutes for r in rules for t in r.triggers if t.kind == "waiting")
    longest = max(t.minutes for r in rules for t in r.triggers if t.kind == "waiting")
    now = utcnow()
    found = store.waiting_since(now - timedelta(minutes=shortest), now - timedelta(days=7))
    if not found:
        return []
    waiting_rules = RuleSet(rules)
    with db.atomic():
        facts = batch.load(rt, {c for _, c in found}, Parts.now()[1])
        sender = Sender(rt, facts)
        messages = {m.id: m for m in Message.select().where(
            Message.id.in_([m for m, _ in found]))}
        for message_id, convo_id in found:
            convo, msg = facts.convos[convo_id], messages[message_id]
            if convo.status == "resolved" or facts.recent.get(convo.id, 0) >= \
                    MAX_REPLIES_PER_HOUR:
                continue
            minutes = int((now - msg.created_at).total_seconds() // 60)
            fired = waiting_rules.evaluate(_incoming(
                said_of(msg, convo.customer_id, facts.keys.get(convo.customer_id)), convo,
                facts, waiting_rules, waiting=minutes))
            for f in fired:
                act(rt, convo, f.rule, facts, sender)
            if fired or minutes >= longest:
                store.mark_waited(message_id, now)
    return sender.outbox
