"""Provides `respond`: Auto Reply's answer to new inbound messages, off ingest's hot path.

The worker applies a webhook batch first (the customer's message is safe and visible),
then hands the batch's new inbound message ids here. Each message is handled once: its
`AutoReplyLog` row is written in the same transaction as what the rules do, so a message
Meta delivers twice, or a job that runs twice, is answered once. Auto Reply keeps quiet
while an agent has the conversation, stops after `MAX_REPLIES_PER_HOUR` replies in one
conversation (two bots answering each other), and sends a free-form text only inside the
24-hour window. What it sends shows in the conversation like any reply, with the rule's
name in the audit entry and the log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appliance.automation.hours import Schedule, is_open
from appliance.automation.matcher import Fired, Incoming
from appliance.automation.rule_book import COMPILED
from appliance.automation.schedules import load_schedules
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.inbox import changes, window
from appliance.inbox.outbound import queue_text
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.automation import AutoReplyLog
from appliance.store.chatroom import Note
from appliance.store.db import db
from appliance.store.models import CONVERSATION_STATES, Conversation, Customer, Division, Message
from appliance.store.sealed import open_text, seal_text

log = logging.getLogger(__name__)
ACTOR = "autoreply"
MAX_REPLIES_PER_HOUR = 5
OPTED_OUT = ("Baik, Anda tidak akan menerima pesan promosi dari kami lagi. Balas MULAI bila "
             "ingin menerimanya kembali.")
OPTED_IN = ("Terima kasih, Anda akan menerima kabar promosi kami lagi. Balas BERHENTI untuk "
            "berhenti kapan saja.")


def respond(rt: Runtime, message_ids: list[int]) -> list[int]:
    """Runs the rules for each new inbound message of a batch; returns the outbox ids to
    send. One transaction and a few queries per batch, not per message: with 1,000 rules
    a commit per message held the worker to 160 messages/s (bench/apply.py)."""
    rules = COMPILED.current()
    ids = sorted(set(message_ids))
    if not ids:
        return []
    outbox: list[int] = []
    with db.atomic():
        done = store.handled(ids)
        messages = [m for m in Message.select().where(Message.id.in_(ids),
                                                      Message.direction == "in")
                    .order_by(Message.id) if m.id not in done]
        opted = consent.keyword_signals(m.wamid for m in messages if m.wamid)
        if not messages or not (rules.rules or opted):
            return []  # no rule book and no opt-out: nothing to log, nothing to send
        facts = _facts(rt, messages)
        facts.opted = opted
        store.insert_logs([_respond_one(rt, rules.evaluate, msg, facts, outbox)
                           for msg in messages])
    return outbox


def unanswered(*, within_minutes: int = 30, settle_seconds: int = 30) -> list[int]:
    """Inbound messages of the last half hour Auto Reply has not handled (their job was
    lost with Redis): the scheduler queues them again. None while there are no rules."""
    if not COMPILED.current().rules:
        return []
    now = utcnow()
    handled = AutoReplyLog.select(AutoReplyLog.message)
    return [int(m.id) for m in Message.select(Message.id).where(
        Message.direction == "in",
        Message.created_at.between(now - timedelta(minutes=within_minutes),
                                   now - timedelta(seconds=settle_seconds)),
        Message.id.not_in(handled)).order_by(Message.id).limit(500)]


@dataclass
class _Facts:
    """What the rules need to know about a batch's messages, read in a few queries."""

    convos: dict[int, Conversation]
    keys: dict[int, KeySet]
    first_in: dict[int, int]  # customer: their first inbound message's id
    first_today: dict[int, int]  # customer: their first inbound message's id today
    recent: dict[int, int]  # conversation: automatic replies in the last hour
    last_inbound: dict[int, datetime | None]  # customer: the window's start
    schedules: dict[int | None, Schedule]
    hour_ago: datetime
    loop_noted: set[int] = field(default_factory=set)
    opted: dict[str, bool] = field(default_factory=dict)  # wamid: opt-in (True) or out


def _facts(rt: Runtime, messages: list[Message]) -> _Facts:
    convos = {c.id: c for c in Conversation.select().where(
        Conversation.id.in_({m.conversation_id for m in messages}))}
    customers = {c.customer_id for c in convos.values()}
    hour_ago, today = utcnow() - timedelta(hours=1), _office_midnight(rt.settings.timezone)

    recent, noted = store.recent_replies(list(convos), hour_ago)
    divisions = sorted({c.division_id for c in convos.values() if c.division_id} | {0})
    return _Facts(
        convos=convos, keys=customer_keysets(rt.master, customers),
        first_in=store.first_inbound(sorted(customers)),
        first_today=store.first_inbound(sorted(customers), today),
        recent=recent,
        last_inbound={c.id: c.last_inbound_at for c in Customer.select(
            Customer.id, Customer.last_inbound_at).where(Customer.id.in_(customers))},
        schedules=load_schedules([None if d == 0 else d for d in divisions]),
        hour_ago=hour_ago, loop_noted=noted)


def _respond_one(rt: Runtime, evaluate: Any, msg: Message, facts: _Facts,
                 outbox: list[int]) -> tuple[int, int, int | None, str, int, datetime]:
    """One message's turn; returns its log row (message, conversation, rule, outcome,
    replies, when)."""
    convo = facts.convos[msg.conversation_id]
    now = utcnow()
    granted = facts.opted.get(consent.as_proof(msg.wamid)) if msg.wamid else None
    if granted is not None:  # confirmed even when an agent has it: the customer must know
        sent = 0
        if window.is_open(facts.last_inbound.get(convo.customer_id)):
            outbox.append(queue_text(rt, convo.id, OPTED_IN if granted else OPTED_OUT,
                                     actor=ACTOR))
            sent = 1
        return msg.id, convo.id, None, "opted_in" if granted else "opted_out", sent, now
    if convo.assignee_id is not None and convo.status != "resolved":
        return msg.id, convo.id, None, "silenced", 0, now  # an agent has it: keep quiet
    if facts.recent.get(convo.id, 0) >= MAX_REPLIES_PER_HOUR:
        if convo.id not in facts.loop_noted:  # say why, once an hour
            facts.loop_noted.add(convo.id)
            _note(rt, convo, facts.keys[convo.customer_id],
                  f"Auto Reply stopped: {MAX_REPLIES_PER_HOUR} automatic replies in the last "
                  "hour (another bot may be answering). A person should take this "
                  "conversation.")
        return msg.id, convo.id, None, "loop_stopped", 0, now
    fired = evaluate(_incoming(msg, convo, facts))
    if not fired:
        return msg.id, convo.id, None, "no_rule", 0, now
    before = len(outbox)
    for f in fired:
        _act(rt, convo, f, facts, outbox)
    replies = len(outbox) - before
    facts.recent[convo.id] = facts.recent.get(convo.id, 0) + replies
    return msg.id, convo.id, fired[-1].rule.id, "answered", replies, now


def _incoming(msg: Message, convo: Conversation, facts: _Facts) -> Incoming:
    keys = facts.keys[convo.customer_id]
    text = open_text(keys, Message, "body", msg.id, msg.body_sealed) or ""
    reply_id = None
    if msg.kind in ("interactive", "button") and msg.payload_sealed is not None:
        payload = json.loads(open_text(keys, Message, "payload", msg.id, msg.payload_sealed)
                             or "{}")
        reply = payload.get("interactive", {})
        reply = reply.get("button_reply") or reply.get("list_reply") or {}
        reply_id = reply.get("id") or payload.get("button", {}).get("payload")
    schedule = facts.schedules.get(convo.division_id) or facts.schedules[None]
    return Incoming(text=text, kind=msg.kind, reply_id=reply_id, division_id=convo.division_id,
                    first_ever=facts.first_in.get(convo.customer_id) == msg.id,
                    first_of_day=facts.first_today.get(convo.customer_id) == msg.id,
                    outside_hours=not is_open(schedule, msg.created_at))


def _office_midnight(timezone: str) -> datetime:
    """The start of today in the office's time zone, as the database keeps times."""
    now = utcnow()
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).replace(tzinfo=now.tzinfo)


def _act(rt: Runtime, convo: Conversation, fired: Fired, facts: _Facts,
         outbox: list[int]) -> None:
    """Does a fired rule's actions, adding its replies' outbox ids to `outbox`."""
    rule = fired.rule
    for action in rule.actions:
        if action.kind == "reply_text":
            if not window.is_open(facts.last_inbound.get(convo.customer_id)):
                continue  # outside the window only a template may go; this rule has none
            outbox.append(queue_text(rt, convo.id, action.value, actor=ACTOR))
        elif action.kind == "route_division":
            if Division.get_or_none(Division.id == action.target) is not None:
                Conversation.update(division=action.target, assignee=None).where(
                    Conversation.id == convo.id).execute()
                convo.division_id = action.target
                changes.record(convo.id, "transferred")
        elif action.kind == "set_status" and action.value in CONVERSATION_STATES:
            Conversation.update(status=action.value).where(Conversation.id == convo.id).execute()
            changes.record(convo.id, "status")
        elif action.kind == "note":
            _note(rt, convo, facts.keys[convo.customer_id], f"{rule.name}: {action.value}")
        else:  # labels, agents, templates, menus and notices come with their own services
            log.info("auto reply rule %d: action %s not done here yet", rule.id, action.kind)
    rt.audit(actor=ACTOR, action="automation.rule_fired", target=f"conversation:{convo.id}",
             detail={"rule": rule.id})


def _note(rt: Runtime, convo: Conversation, keys: KeySet, text: str) -> None:
    note = Note.create(conversation=convo.id, author=None)
    Note.update(body_sealed=seal_text(keys, Note, "body", note.id, text)).where(
        Note.id == note.id).execute()
    changes.record(convo.id, "note")
