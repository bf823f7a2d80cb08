"""Provides Auto Reply's tables: the ordered rules, and what was done for each message.

A rule's triggers and actions are kept as JSON text: they are the business's own words
(keywords, reply texts), never a customer's. `AutoReplyLog` holds one row per inbound
message Auto Reply has handled, keyed by the message: a message that arrives twice, or a
job that runs twice, finds its row and answers nothing more; it also counts the replies
of the last hour for the loop guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from appliance.clock import utcnow
from appliance.store.db import db, execute
from appliance.store.models import BaseModel, Conversation, Division, Message


class AutoRule(BaseModel):
    id = AutoField()
    position = IntegerField(index=True)  # tried in ascending order
    name = CharField(max_length=80)
    division = ForeignKeyField(Division, null=True, on_delete="CASCADE")  # None: global
    stop = BooleanField(default=True)
    enabled = BooleanField(default=True)
    triggers = TextField()  # JSON list of {kind, words, mode, minutes}
    actions = TextField()  # JSON list of {kind, value, target}
    updated_at = DateTimeField(default=utcnow)
    updated_by = IntegerField(null=True)  # a user id; None: the box's administrator
    division_id: int | None


class AutoReplyLog(BaseModel):
    id = AutoField()
    message = ForeignKeyField(Message, unique=True, on_delete="CASCADE")
    conversation = ForeignKeyField(Conversation, index=True, on_delete="CASCADE")
    rule_id = IntegerField(null=True)  # the rule that answered, if one did
    # answered, no_rule, silenced (an agent has it), loop_stopped, window_closed
    outcome = CharField(max_length=16)
    replies = IntegerField(default=0)  # messages sent for it
    at = DateTimeField(default=utcnow, index=True)
    message_id: int
    conversation_id: int


# Auto Reply runs once per webhook batch of up to 500 messages: these read and write a
# batch in one statement each (peewee building a 500-row INSERT cost 58 ms a batch).
_LOG = ("INSERT INTO auto_reply_log (message_id, conversation_id, rule_id, outcome, replies,"
        " at) VALUES (?, ?, ?, ?, ?, ?)")


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def insert_logs(rows: Iterable[tuple[int, int, int | None, str, int, datetime]]) -> None:
    db.cursor().executemany(_LOG, [(*r[:5], str(r[5])) for r in rows])


def handled(message_ids: Sequence[int]) -> set[int]:
    found = execute(db, f"SELECT message_id FROM auto_reply_log WHERE message_id IN "  # noqa: S608
                        f"({_marks(message_ids)})", tuple(message_ids))
    return {int(r[0]) for r in found}


def first_inbound(customer_ids: Sequence[int], since: datetime | None = None
                  ) -> dict[int, int]:
    """Each customer's first inbound message id (since `since`, when given)."""
    after = " AND m.created_at >= ?" if since is not None else ""
    params = (*customer_ids, *((str(since),) if since is not None else ()))
    rows = execute(db, "SELECT v.customer_id, MIN(m.id) FROM message m JOIN conversation v"  # noqa: S608
                       " ON v.id = m.conversation_id WHERE v.customer_id IN"
                       f" ({_marks(customer_ids)}) AND m.direction = 'in'{after}"
                       " GROUP BY v.customer_id", params)
    return {int(c): int(m) for c, m in rows}


def recent_replies(conversation_ids: Sequence[int], since: datetime
                   ) -> tuple[dict[int, int], set[int]]:
    """Automatic replies per conversation since `since`, and the conversations whose loop
    guard already spoke in that time."""
    rows = execute(db, "SELECT conversation_id, SUM(replies), MAX(outcome = 'loop_stopped')"  # noqa: S608
                       " FROM auto_reply_log WHERE conversation_id IN"
                       f" ({_marks(conversation_ids)}) AND at > ? GROUP BY conversation_id",
                   (*conversation_ids, str(since)))
    replies, noted = {}, set()
    for convo, count, stopped in rows:
        replies[int(convo)] = int(count or 0)
        if stopped:
            noted.add(int(convo))
    return replies, noted
