"""Provides `process_events`: stored webhooks turned into customers, messages and statuses.

Events are applied in one IMMEDIATE transaction together with marking them done, so a
worker killed halfway leaves them untouched for the sweeper, and two workers given the
same id (a duplicate enqueue) apply it once: the second sees it done. Messages are
idempotent on their wamid, so a webhook Meta redelivers adds nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from appliance.clock import utcnow
from appliance.crypto.data_keys import customer_keys
from appliance.inbox.customers import find_or_create_from_whatsapp
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, InboxEvent, Media, Message
from appliance.store.sealed import seal_text
from appliance.whatsapp import health
from appliance.whatsapp.inbox import open_event
from appliance.whatsapp.statuses import apply_status
from appliance.whatsapp.webhook_parse import InboundMessage, parse

log = logging.getLogger(__name__)
FATAL_PROBLEMS = {"not_json", "not_whatsapp", "too_deep"}


@dataclass
class Outcome:
    """What one event did: counts and ids only (it is logged)."""

    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    pending_statuses: int = 0
    account_updates: int = 0
    media_ids: list[int] = field(default_factory=list)
    health_rows: list[int] = field(default_factory=list)  # changes to alert staff about
    skipped: bool = False


def process_event(rt: Runtime, event_id: int) -> Outcome:
    return process_events(rt, [event_id])


def process_events(rt: Runtime, event_ids: list[int]) -> Outcome:
    """Applies several events in one transaction: one fsync for the lot (group commit).

    If the batch fails, each event is retried alone, so one event that cannot be applied
    (a bug, a poison payload) cannot hold the others back; after `MAX_ATTEMPTS` it is
    marked failed and left for an operator, never retried in a loop.
    """
    out = Outcome()
    try:
        with db.atomic("IMMEDIATE"):
            for event_id in event_ids:
                _apply_one(rt, event_id, out)
    except Exception:
        if len(event_ids) == 1:
            _count_failure(event_ids[0])
            raise
        log.warning("batch of %d events failed; applying them one by one", len(event_ids))
        out = Outcome()
        for event_id in event_ids:
            try:
                with db.atomic("IMMEDIATE"):
                    _apply_one(rt, event_id, out)
            except Exception:
                log.exception("event %d could not be applied", event_id)
                _count_failure(event_id)
    log.info("events %s: %d messages (%d duplicates), %d statuses (%d pending), %d account",
             _span(event_ids), out.messages, out.duplicates, out.statuses, out.pending_statuses,
             out.account_updates)
    return out


MAX_ATTEMPTS = 5


def _count_failure(event_id: int) -> None:
    with db.atomic():
        event = InboxEvent.get_or_none(InboxEvent.id == event_id)
        if event is None or event.state != "new":
            return
        event.attempts += 1
        if event.attempts >= MAX_ATTEMPTS:
            event.state, event.error = "failed", "could_not_apply"
        event.save()


def _span(ids: list[int]) -> str:
    return f"#{ids[0]}" if len(ids) == 1 else f"#{min(ids)}..#{max(ids)} ({len(ids)})"


def _apply_one(rt: Runtime, event_id: int, out: Outcome) -> None:
    event = InboxEvent.get_or_none(InboxEvent.id == event_id)
    if event is None or event.state != "new":
        out.skipped = True
        return
    parsed = parse(open_event(rt.keyring.system, event))
    for message in parsed.messages:
        _record_inbound(rt, message, out)
    for status in parsed.statuses:
        out.statuses += 1
        if not apply_status(status):
            out.pending_statuses += 1
    for update in parsed.account:
        out.account_updates += 1
        seen = health.from_account_update(update.field, update.value)
        if seen is not None:
            row_id = health.record(seen[0], source="webhook", event=seen[1])
            if row_id is not None:
                out.health_rows.append(row_id)
    fatal = bool(FATAL_PROBLEMS & set(parsed.problems))
    event.state = "failed" if fatal else "done"
    event.error = ",".join(sorted(set(parsed.problems)))[:64]
    event.attempts += 1
    event.processed_at = utcnow()
    event.save()


def _record_inbound(rt: Runtime, m: InboundMessage, out: Outcome) -> None:
    if Message.select().where(Message.wamid == m.wamid).exists():
        out.duplicates += 1
        return
    customer_id = find_or_create_from_whatsapp(rt, phone=m.phone, user_id=m.user_id,
                                               name=m.name)
    at = m.timestamp or utcnow()
    (Customer.update(last_inbound_at=at)
     .where((Customer.id == customer_id)
            & (Customer.last_inbound_at.is_null() | (Customer.last_inbound_at < at)))
     .execute())
    convo = (Conversation.select()
             .where(Conversation.customer == customer_id, Conversation.status != "resolved")
             .order_by(Conversation.id.desc()).first())
    if convo is None:
        convo = Conversation.create(customer=customer_id, last_message_at=at)
    elif convo.last_message_at < at:
        convo.last_message_at = at
        convo.save()
    keys = customer_keys(rt.master, customer_id)
    row = Message.create(conversation=convo, direction="in", wamid=m.wamid, kind=m.kind[:24],
                         sent_at=m.timestamp, status="received")
    row.body_sealed = seal_text(keys, Message, "body", row.id, m.text)
    row.payload_sealed = seal_text(keys, Message, "payload", row.id,
                                   json.dumps(m.payload, ensure_ascii=False))
    row.save()
    out.messages += 1
    if m.media_id:
        media = Media.create(message=row, wa_media_id=m.media_id[:64],
                             mime_type=(m.media_mime or "")[:100])
        out.media_ids.append(int(media.id))
