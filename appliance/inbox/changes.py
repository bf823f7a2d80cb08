"""Provides the change feed: a row per thing that happened to a conversation, ids only.

Live pages (the inbox's Server-Sent Events) follow it by id; services that change a
conversation write to it in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from appliance.clock import utcnow
from appliance.store.chatroom import ChangeEvent

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
    if rows:
        ChangeEvent.insert_many(rows).execute()
