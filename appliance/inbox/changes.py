"""Provides the change feed: a row per thing that happened to a conversation, ids only.

Live pages (the inbox's Server-Sent Events) follow it by id; services that change a
conversation write to it in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import fn

from appliance.auth.permissions import Principal, visible
from appliance.clock import utcnow
from appliance.store import bulk
from appliance.store.chatroom import ChangeEvent
from appliance.store.db import tuples
from appliance.store.models import Conversation

KINDS = ("message", "status", "assigned", "transferred", "resolved", "reopened", "labels",
         "note", "read")


def record(conversation_id: int, kind: str) -> None:
    record_many([(conversation_id, kind)])


def record_many(changes: Iterable[tuple[int, str]]) -> None:
    now = utcnow()
    rows = [{"conversation": c, "kind": k, "at": now} for c, k in changes]
    for kind in {r["kind"] for r in rows}:
        if kind not in KINDS:
            raise ValueError(f"unknown change kind {kind!r}")
    if rows:  # one statement, no query builder: the ingest batch calls this per commit
        bulk.insert_change_events(
            [(r["conversation"], r["kind"], str(now)) for r in rows])


def resume_point(last_event_id: str) -> int:
    """Where a reader starts: after the id its browser last saw, else from now on.

    The id is the browser's to send: ASCII digits only ('²' passes `isdigit()`, then
    fails `int()`); anything else, or beyond the newest, starts from now.
    """
    newest = int(ChangeEvent.select(fn.MAX(ChangeEvent.id)).scalar() or 0)
    readable = last_event_id.isascii() and last_event_id.isdigit()
    seen = int(last_event_id) if readable else newest
    return seen if seen <= newest else newest


def since(principal: Principal, after_id: int, limit: int = 500) -> list[tuple[int, int, str]]:
    """(id, conversation, kind) of the changes after `after_id` in the reader's scope."""
    return [(int(i), int(c), str(k)) for i, c, k in tuples(
        ChangeEvent.select(ChangeEvent.id, ChangeEvent.conversation, ChangeEvent.kind)
        .join(Conversation).where(ChangeEvent.id > after_id, visible(principal))
        .order_by(ChangeEvent.id).limit(limit))]
