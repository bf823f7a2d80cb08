"""Provides the conversations an agent may see: lists, one thread, search, counts, export.

Every path goes through the same scope: lists, searches and counts filter with
`permissions.visible`, single objects go through `authorize`, and anything else answers
as if the object did not exist. What leaves here is already masked (phones always,
sensitive patterns in bodies) unless a reveal was asked for; reads are audited by id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from appliance.auth.permissions import (
    Denied,
    Principal,
    authorize,
    principal_for,
    require,
    visible,
)
from appliance.crypto.blind_index import InvalidPhoneNumber
from appliance.crypto.data_keys import customer_keys
from appliance.inbox import outbound
from appliance.privacy.masking import mask_phone, mask_text
from appliance.runtime import Runtime
from appliance.store.models import Conversation, Customer, Media, Message, User
from appliance.store.sealed import open_text
from appliance.whatsapp.error_text import plain_words
from appliance.whatsapp.media import open_media

PAGE = 50


@dataclass(frozen=True)
class Summary:
    id: int
    customer_id: int
    customer_name: str
    phone: str  # masked
    division_id: int | None
    assignee_id: int | None
    status: str
    last_message_at: str


@dataclass(frozen=True)
class Line:
    id: int
    direction: str
    kind: str
    text: str  # masked
    status: str
    failure: str  # Meta's refusal in plain words, if any
    at: str
    media_id: int | None


def _get(principal: Principal, permission: str, conversation_id: int) -> Conversation:
    require(principal, permission)
    convo = Conversation.get_or_none(Conversation.id == conversation_id)
    if convo is None:
        raise Denied()
    authorize(principal, permission, convo)
    return convo


def _summary(rt: Runtime, convo: Conversation) -> Summary:
    customer = Customer.get_by_id(convo.customer_id)
    keys = customer_keys(rt.master, customer.id)
    name = open_text(keys, Customer, "name", customer.id, customer.name_sealed) or ""
    phone = open_text(keys, Customer, "phone", customer.id, customer.phone_sealed)
    return Summary(convo.id, customer.id, name, mask_phone(phone), convo.division_id,
                   convo.assignee_id, convo.status, str(convo.last_message_at))


def list_conversations(rt: Runtime, principal: Principal, *, mine: bool = False,
                       status: str | None = None, before: str | None = None) -> list[Summary]:
    """Newest activity first, a page at a time (cursor: the last `last_message_at` seen)."""
    require(principal, "conversation.read")
    query = Conversation.select().where(visible(principal))
    if mine:
        query = query.where(Conversation.assignee == principal.user_id)
    if status:
        query = query.where(Conversation.status == status)
    if before:
        query = query.where(Conversation.last_message_at < _cursor(before))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    return [_summary(rt, c) for c in query.limit(PAGE)]


def open_conversation(rt: Runtime, principal: Principal, conversation_id: int,
                      ) -> tuple[Summary, list[Line]]:
    convo = _get(principal, "conversation.read", conversation_id)
    keys = customer_keys(rt.master, convo.customer_id)
    media = {m.message_id: m.id for m in Media.select().join(Message).where(
        Message.conversation == convo.id)}
    lines = [Line(m.id, m.direction, m.kind,
                  mask_text(open_text(keys, Message, "body", m.id, m.body_sealed)),
                  m.status, plain_words(m.error_code) if m.status == "failed" else "",
                  str(m.created_at), media.get(m.id))
             for m in Message.select().where(Message.conversation == convo.id)
             .order_by(Message.id)]
    rt.audit(actor=principal.actor, action="conversation.read",
             target=f"conversation:{convo.id}")
    return _summary(rt, convo), lines


def search(rt: Runtime, principal: Principal, query: str) -> list[Summary]:
    """By whole phone number, among what the user may see only."""
    require(principal, "conversation.read")
    try:
        index = rt.index.phone(query, rt.settings.region)
    except InvalidPhoneNumber:
        return []
    rows = (Conversation.select().join(Customer)
            .where(visible(principal), Customer.phone_index == index)
            .order_by(Conversation.last_message_at.desc()).limit(PAGE))
    return [_summary(rt, c) for c in rows]


def counts(principal: Principal) -> dict[str, int]:
    require(principal, "conversation.read")
    scope = Conversation.select().where(visible(principal))
    return {
        "open": scope.where(Conversation.status == "open").count(),
        "unassigned": scope.where(Conversation.assignee.is_null(),
                                  Conversation.status != "resolved").count(),
        "mine": scope.where(Conversation.assignee == principal.user_id).count(),
    }


def export(rt: Runtime, principal: Principal, conversation_id: int) -> str:
    """The thread as JSON, masked like the screen; an export is audited as such."""
    convo = _get(principal, "conversation.export", conversation_id)
    summary, lines = open_conversation(rt, principal, convo.id)
    rt.audit(actor=principal.actor, action="conversation.exported",
             target=f"conversation:{convo.id}")
    return json.dumps({"conversation": asdict(summary), "messages": [asdict(x) for x in lines]},
                      ensure_ascii=False, indent=2)


def media_content(rt: Runtime, principal: Principal, media_id: int) -> tuple[str, bytes]:
    require(principal, "conversation.read")
    media = Media.get_or_none(Media.id == media_id)
    if media is None or media.state != "stored":
        raise Denied()
    authorize(principal, "conversation.read", media)
    customer_id = Conversation.get_by_id(Message.get_by_id(media.message_id).conversation_id
                                         ).customer_id
    rt.audit(actor=principal.actor, action="media.read", target=f"media:{media.id}")
    return str(media.mime_type), open_media(rt, media.id, customer_id)


def reply(rt: Runtime, principal: Principal, conversation_id: int, text: str) -> int:
    convo = _get(principal, "conversation.reply", conversation_id)
    return outbound.queue_text(rt, convo.id, text, actor=principal.actor)


def assign(rt: Runtime, principal: Principal, conversation_id: int,
           assignee_id: int | None) -> None:
    """Agents take a conversation for themselves; supervisors give it to anyone of the division."""
    convo = _get(principal, "conversation.assign", conversation_id)
    if principal.role == "agent" and assignee_id not in (principal.user_id, None):
        raise Denied()
    if assignee_id is not None:
        target = User.get_or_none(User.id == assignee_id, User.is_active == True)  # noqa: E712
        if target is None or convo.division_id not in principal_for(target).divisions:
            raise Denied()
    Conversation.update(assignee=assignee_id).where(Conversation.id == convo.id).execute()
    rt.audit(actor=principal.actor, action="conversation.assigned",
             target=f"conversation:{convo.id}")


def customer_panel(rt: Runtime, principal: Principal, customer_id: int) -> Summary:
    require(principal, "customer.read")
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise Denied()
    authorize(principal, "customer.read", customer)
    convo = (Conversation.select().where(Conversation.customer == customer.id, visible(principal))
             .order_by(Conversation.last_message_at.desc()).first())
    if convo is None:
        raise Denied()
    rt.audit(actor=principal.actor, action="customer.read", target=f"customer:{customer.id}")
    return _summary(rt, convo)


def report(principal: Principal) -> list[dict[str, int | None]]:
    """Open and unassigned conversations per division of the user."""
    require(principal, "report.read")
    rows = []
    scope = visible(principal)
    divisions = sorted({c.division_id for c in Conversation.select(Conversation.division)
                        .where(scope)}, key=lambda d: d or 0)
    for division in divisions:
        base = Conversation.select().where(scope, Conversation.division == division)
        rows.append({"division_id": division,
                     "open": base.where(Conversation.status == "open").count(),
                     "unassigned": base.where(Conversation.assignee.is_null()).count()})
    return rows


def _cursor(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Denied() from None
