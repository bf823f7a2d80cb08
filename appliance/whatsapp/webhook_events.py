"""Provides the inbox: raw webhook bodies, sealed and committed before Meta gets its 200.

This is the outbox/inbox pattern's durable half: once `store` returns, the event
survives a power cut (WAL, synchronous=FULL), and Redis, the worker or both can die
without losing it; the sweeper re-queues anything not processed.

A body lives only until its event is applied: the transaction that applies it drops
the body, because it names customers under the system key, which erasure cannot
destroy. An event that cannot be applied is kept `inbox.failed_days` for a look, then
purged; erasure rewrites or drops the waiting and failed ones that name the customer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from appliance.clock import utcnow
from appliance.crypto.aead import KeySet, place
from appliance.store.db import db
from appliance.store.models import InboxEvent

DONE_KEPT_HOURS = 24  # an applied event's digest refuses replays this long


class BodyGone(Exception):
    """The event was applied (or purged): its raw body is no longer kept."""


def new_uid() -> str:
    """32 hex characters, time first: new rows land at the end of the uid index.

    A purely random uid would put each insert on a different index page, and every
    page a commit touches is encrypted, written to the WAL and fsynced.
    """
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


@dataclass(frozen=True, repr=False)
class SealedEvent:
    uid: str  # the row's stable id, in the body's associated data
    digest: bytes | None  # keyed hash of the raw body: a replay is known by it
    body: bytes  # the raw body, sealed under the system key


def fingerprint_key(system_key: bytes) -> bytes:
    """The key of event digests, derived from the system key (never stored)."""
    return hmac.new(system_key, b"gembok-derive|inbox-replay", hashlib.sha256).digest()


def seal_event(keys: KeySet, raw: bytes, fingerprint: bytes | None = None) -> SealedEvent:
    """Seals a body under a fresh uid, before any database work (in the request's thread).

    With a fingerprint key, the event carries the digest that refuses a replay: a signed
    body captured once would otherwise be stored again at each replay, up to 4 MB a time.
    """
    uid = new_uid()
    digest = None if fingerprint is None else hmac.new(fingerprint, raw, hashlib.sha256).digest()
    return SealedEvent(uid, digest, keys.seal(raw, place("inbox_event", "body", uid)))


def open_event(keys: KeySet, event: InboxEvent) -> bytes:
    if event.body_sealed is None:
        raise BodyGone(f"event {event.id} was applied: its body is gone")
    return open_sealed(keys, event.uid, bytes(event.body_sealed))


def open_sealed(keys: KeySet, uid: str, sealed: bytes) -> bytes:
    return keys.open(sealed, place("inbox_event", "body", uid))


def store(keys: KeySet, raw: bytes) -> int:
    """One event, one transaction: the simple path (the writer process batches many)."""
    return store_sealed(seal_event(keys, raw))


def store_sealed(event: SealedEvent) -> int:
    """Commits one event; 0 when its digest is already stored (a replay: nothing written)."""
    with db.atomic():  # a writer from BEGIN on (store.db)
        query = (InboxEvent.insert(uid=event.uid, body_sealed=event.body, digest=event.digest,
                                   received_at=utcnow())
                 .on_conflict_ignore())
        row_id = query.execute()
        if event.digest is not None and not InboxEvent.select().where(
                InboxEvent.uid == event.uid).exists():
            return 0
        return int(row_id)


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


def purge(failed_days: int, batch: int = 2000) -> tuple[int, int]:
    """Drops failed events older than `failed_days` and applied ones past their replay day.

    In short transactions of `batch` rows, so that the webhook's writer never waits long
    for the write lock; returns how many (failed, applied) rows went.
    """
    now = utcnow()
    failed = _delete_all((InboxEvent.state == "failed")
                         & (InboxEvent.received_at < now - timedelta(days=failed_days)), batch)
    applied = _delete_all((InboxEvent.state == "done")
                          & (InboxEvent.processed_at < now - timedelta(hours=DONE_KEPT_HOURS)),
                          batch)
    return failed, applied


def _delete_all(condition: Any, batch: int) -> int:
    total = 0
    while True:
        with db.atomic():  # a writer from BEGIN on (store.db)
            ids = [row.id for row in InboxEvent.select(InboxEvent.id).where(condition)
                   .limit(batch)]
            if ids:
                InboxEvent.delete().where(InboxEvent.id.in_(ids)).execute()
        total += len(ids)
        if len(ids) < batch:
            return total


def with_bodies() -> list[InboxEvent]:
    """Events that still hold a body: waiting, or failed and not yet purged."""
    return list(InboxEvent.select().where(InboxEvent.body_sealed.is_null(False)))
