"""Provides the inbox: raw webhook bodies, sealed and committed before Meta gets its 200.

This is the outbox/inbox pattern's durable half: once `store` returns, the event
survives a power cut (WAL, synchronous=FULL), and Redis, the worker or both can die
without losing it; the sweeper re-queues anything not processed.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from appliance.clock import utcnow
from appliance.crypto.aead import KeySet, place
from appliance.store.db import db
from appliance.store.models import InboxEvent


def new_uid() -> str:
    """32 hex characters, time first: new rows land at the end of the uid index.

    A purely random uid would put each insert on a different index page, and every
    page a commit touches is encrypted, written to the WAL and fsynced.
    """
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def seal_event(keys: KeySet, raw: bytes) -> tuple[str, bytes]:
    """Seals a body under a fresh uid (the row's stable id), before any database work."""
    uid = new_uid()
    return uid, keys.seal(raw, place("inbox_event", "body", uid))


def open_event(keys: KeySet, event: InboxEvent) -> bytes:
    return open_sealed(keys, event.uid, bytes(event.body_sealed))


def open_sealed(keys: KeySet, uid: str, sealed: bytes) -> bytes:
    return keys.open(sealed, place("inbox_event", "body", uid))


def store(keys: KeySet, raw: bytes) -> int:
    """One event, one transaction: the simple path (the writer process batches many)."""
    return store_sealed(*seal_event(keys, raw))


def store_sealed(uid: str, sealed: bytes) -> int:
    with db.atomic("IMMEDIATE"):
        return int(InboxEvent.insert(uid=uid, body_sealed=sealed, received_at=utcnow()).execute())


def stale_ids(older_than_seconds: int, limit: int = 1000) -> list[int]:
    """Events committed but not processed in time: Redis lost them, or a worker died."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    query = (InboxEvent.select(InboxEvent.id)
             .where(InboxEvent.state == "new", InboxEvent.received_at < cutoff)
             .order_by(InboxEvent.id).limit(limit))
    return [row.id for row in query]


def backlog() -> int:
    return int(InboxEvent.select().where(InboxEvent.state == "new").count())


def oldest_waiting_seconds() -> float | None:
    """How long the oldest unprocessed event has waited; None when none waits."""
    oldest = (InboxEvent.select(InboxEvent.received_at).where(InboxEvent.state == "new")
              .order_by(InboxEvent.received_at).first())
    return None if oldest is None else (utcnow() - oldest.received_at).total_seconds()
