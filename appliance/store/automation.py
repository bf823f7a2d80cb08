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
from appliance.store.consent import ConsentEvent
from appliance.store.db import db, execute, execute_many
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
    updated_at = DateTimeField(default=utcnow, index=True)
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
    routed_to = IntegerField(null=True)  # the division Auto Reply sent the conversation to
    waited_at = DateTimeField(null=True)  # when "waiting N minutes" rules fired after it
    message_id: int
    conversation_id: int


class AutoSent(BaseModel):
    """What Auto Reply sent, and why: the thread shows "Auto Reply · <label>" on it."""

    message = ForeignKeyField(Message, primary_key=True, on_delete="CASCADE")
    rule_id = IntegerField(null=True)
    label = CharField(max_length=80)  # the rule's name, or welcome, menu, away, opt-out
    message_id: int


class MenuState(BaseModel):
    """A conversation's menu: sent, then answered, or routed to the default on timeout."""

    conversation = ForeignKeyField(Conversation, primary_key=True, on_delete="CASCADE")
    sent_at = DateTimeField(default=utcnow, index=True)
    page = IntegerField(default=1)
    resent = IntegerField(default=0)  # times sent again after an answer that matched nothing
    closed_at = DateTimeField(null=True)
    outcome = CharField(max_length=16, default="")  # chosen, person, timeout
    conversation_id: int


class ConsentConfirmed(BaseModel):
    """A consent signal with no message of the customer's to answer (Meta's stop or resume
    webhook) that Auto Reply has confirmed to the customer: once each."""

    event = ForeignKeyField(ConsentEvent, primary_key=True, on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    event_id: int


class AutomationSetting(BaseModel):
    """Auto Reply's business-wide settings by name (the menu, the extra opt words) as
    JSON: the business's own words, never a customer's."""

    name = CharField(max_length=32, primary_key=True)
    value = TextField()
    updated_at = DateTimeField(default=utcnow)
    updated_by = IntegerField(null=True)


# Auto Reply runs once per webhook batch of up to 500 messages: these read and write a
# batch in one statement each (peewee building a 500-row INSERT cost 58 ms a batch).
_LOG = ("INSERT INTO auto_reply_log (message_id, conversation_id, rule_id, outcome, replies,"
        " at, routed_to) VALUES (?, ?, ?, ?, ?, ?, ?)")


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def insert_logs(rows: Iterable[tuple[int, int, int | None, str, int, datetime, int | None]]
                ) -> None:
    execute_many(_LOG, [(*r[:5], str(r[5]), r[6]) for r in rows])


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
    rows = execute(db, "SELECT conversation_id, SUM(replies),"  # noqa: S608
                       " MAX(CASE WHEN outcome = 'loop_stopped' THEN 1 ELSE 0 END)"
                       " FROM auto_reply_log WHERE conversation_id IN"
                       f" ({_marks(conversation_ids)}) AND at > ? GROUP BY conversation_id",
                   (*conversation_ids, str(since)))
    replies, noted = {}, set()
    for convo, count, stopped in rows:
        replies[int(convo)] = int(count or 0)
        if stopped:
            noted.add(int(convo))
    return replies, noted


def setting(name: str) -> tuple[str, Any] | None:
    """A setting's JSON text and the time it changed (a cheap stamp for caches), or None."""
    row = AutomationSetting.get_or_none(AutomationSetting.name == name)
    return None if row is None else (str(row.value), row.updated_at)


def put_setting(name: str, value: str, user_id: int | None) -> None:
    now = utcnow()
    AutomationSetting.insert(name=name, value=value, updated_at=now, updated_by=user_id
                             ).on_conflict(conflict_target=[AutomationSetting.name],
                                           update={AutomationSetting.value: value,
                                                   AutomationSetting.updated_at: now,
                                                   AutomationSetting.updated_by: user_id}
                                           ).execute()


def setting_stamp(name: str) -> Any:
    return AutomationSetting.select(AutomationSetting.updated_at).where(
        AutomationSetting.name == name).scalar()


def first_inbound_of_conversations(conversation_ids: Sequence[int]) -> dict[int, int]:
    """Each conversation's first inbound message id: the one that opened it."""
    rows = execute(db, "SELECT conversation_id, MIN(id) FROM message WHERE direction = 'in'"  # noqa: S608
                       f" AND conversation_id IN ({_marks(conversation_ids)})"
                       " GROUP BY conversation_id", tuple(conversation_ids))
    return {int(c): int(m) for c, m in rows}


def recently_sent(conversation_ids: Sequence[int], label: str, since: datetime) -> set[int]:
    """The conversations Auto Reply sent a message labelled `label` since `since`."""
    rows = execute(db, "SELECT DISTINCT m.conversation_id FROM auto_sent s JOIN message m"  # noqa: S608
                       " ON m.id = s.message_id WHERE s.label = ? AND m.created_at > ?"
                       f" AND m.conversation_id IN ({_marks(conversation_ids)})",
                   (label, str(since), *conversation_ids))
    return {int(r[0]) for r in rows}


def mark_sent(outbox_id: int, rule_id: int | None, label: str) -> None:
    """Labels the message an outbox row carries as Auto Reply's (the thread shows it)."""
    execute(db, "INSERT INTO auto_sent (message_id, rule_id, label) SELECT message_id, ?, ?"
                " FROM outbox WHERE id = ?", (rule_id, label[:80], outbox_id))


def sent_labels(message_ids: Sequence[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    rows = execute(db, "SELECT message_id, label FROM auto_sent WHERE message_id IN"  # noqa: S608
                       f" ({_marks(message_ids)})", tuple(message_ids))
    return {int(m): str(label) for m, label in rows}


def waiting_since(before: datetime, after: datetime, limit: int = 200) -> list[tuple[int, int]]:
    """(message, conversation) of inbound messages between `after` and `before` that are
    the last word in an unresolved conversation (no inbound after them, no agent's
    reply) and whose waiting rules have not fired yet."""
    rows = execute(db, "SELECT l.message_id, l.conversation_id FROM auto_reply_log l"
                       " JOIN message m ON m.id = l.message_id"
                       " JOIN conversation c ON c.id = l.conversation_id"
                       " WHERE l.waited_at IS NULL AND m.created_at < ? AND m.created_at > ?"
                       " AND c.status != 'resolved' AND NOT EXISTS (SELECT 1 FROM message r"
                       " WHERE r.conversation_id = l.conversation_id AND r.id > l.message_id"
                       " AND (r.direction = 'in' OR r.author_id IS NOT NULL))"
                       " ORDER BY l.message_id LIMIT ?", (str(before), str(after), limit))
    return [(int(m), int(c)) for m, c in rows]


def mark_waited(message_id: int, at: datetime) -> None:
    AutoReplyLog.update(waited_at=at).where(AutoReplyLog.message == message_id).execute()


def latest_conversations(customer_ids: Sequence[int]) -> dict[int, int]:
    """Each customer's newest conversation id."""
    if not customer_ids:
        return {}
    rows = execute(db, "SELECT customer_id, MAX(id) FROM conversation WHERE customer_id IN"  # noqa: S608
                       f" ({_marks(customer_ids)}) GROUP BY customer_id", tuple(customer_ids))
    return {int(c): int(v) for c, v in rows}


# One read tells a worker whether anything of Auto Reply's changed since its last batch:
# the rule book, the menu, the notice, the away messages (four reads cost a batch of
# sixteen first contacts more than their rules did).
_STAMPS = ("SELECT (SELECT COUNT(id) || '/' || COALESCE(MAX(id), 0) || '/' ||"
           " COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM auto_rule),"
           " (SELECT updated_at FROM automation_setting WHERE name = 'menu'),"
           " (SELECT id || '/' || version || '/' || published_at FROM privacy_notice"
           " ORDER BY id DESC LIMIT 1),"
           " EXISTS(SELECT 1 FROM hours_schedule WHERE away_message_id != ''"
           " OR away_message_en != '')")


def stamps() -> tuple[str, str | None, str | None, bool]:
    """(rule book, menu, notice, away): what changes when each of them changes."""
    rules, menu, notice, away = execute(db, _STAMPS).fetchone()
    return str(rules), None if menu is None else str(menu), \
        None if notice is None else str(notice), bool(away)


def conversations(ids: Sequence[int]) -> dict[int, Conversation]:
    """The conversations' routing fields (id, customer, division, assignee, status), in one
    plain read: what Auto Reply decides with; the services it calls read the rest."""
    if not ids:
        return {}
    rows = execute(db, "SELECT id, customer_id, division_id, assignee_id, status FROM"  # noqa: S608
                       f" conversation WHERE id IN ({_marks(ids)})", tuple(ids))
    return {int(i): Conversation(id=i, customer=c, division=d, assignee=a, status=s)
            for i, c, d, a, s in rows}
