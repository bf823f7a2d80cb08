"""Provides `read_conversation`: a conversation's messages, opened and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.models import Conversation, Message
from appliance.store.sealed import open_text


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
