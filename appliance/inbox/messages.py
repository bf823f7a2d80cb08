"""Provides messages: stored sealed under their customer's key, read back with an audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.clock import utcnow
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Conversation, Message
from appliance.store.sealed import open_text, seal_text


@dataclass(frozen=True, repr=False)
class MessageRecord:
    id: int
    direction: str
    kind: str
    body: str | None
    status: str
    created_at: datetime

    def __repr__(self) -> str:
        return f"MessageRecord(id={self.id}, kind={self.kind})"


def record_inbound_text(rt: Runtime, *, customer_id: int, body: str, wamid: str) -> int:
    """Adds a customer's text to their open conversation (opening one if needed)."""
    keys = customer_keys(rt.master, customer_id)
    with db.atomic():
        convo = (Conversation.select()
                 .where(Conversation.customer == customer_id, Conversation.status != "resolved")
                 .order_by(Conversation.id.desc()).first())
        if convo is None:
            convo = Conversation.create(customer=customer_id)
        msg = Message.create(conversation=convo, direction="in", wamid=wamid, kind="text")
        msg.body_sealed = seal_text(keys, Message, "body", msg.id, body)
        msg.save()
        convo.last_message_at = utcnow()
        convo.save()
    return int(msg.id)


def read_conversation(rt: Runtime, conversation_id: int, *, actor: str) -> list[MessageRecord]:
    convo = Conversation.get_by_id(conversation_id)
    keys = customer_keys(rt.master, convo.customer_id)
    records = [MessageRecord(m.id, m.direction, m.kind,
                             open_text(keys, Message, "body", m.id, m.body_sealed),
                             m.status, m.created_at)
               for m in Message.select().where(Message.conversation == convo.id)
               .order_by(Message.id)]
    rt.audit(actor=actor, action="conversation.read", target=f"conversation:{conversation_id}")
    return records
