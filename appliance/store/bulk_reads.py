"""Provides the set lookups of the webhook ingest batch: many keys, a few queries.

A batch reads what it needs up front (its events, the wamids it already has, the
customers its blind indexes name, their open conversations) with `IN (...)` queries of
at most `CHUNK` values each, far under SQLite's parameter limit, and plain tuples back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from appliance.store.db import db, execute

CHUNK = 500  # values per IN (...)
Row = tuple[Any, ...]


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def waiting_events(event_ids: Iterable[int]) -> list[Row]:
    """(id, uid, sealed body) of the events among `event_ids` still waiting, by id."""
    found: list[Row] = []
    for chunk in _chunks(event_ids):
        found += execute(db, f"SELECT id, uid, body_sealed FROM inbox_event WHERE state = "  # noqa: S608
                             f"'new' AND id IN ({_marks(len(chunk))}) ORDER BY id",
                         tuple(chunk)).fetchall()
    return found


def known_wamids(wamids: Iterable[str]) -> set[str]:
    """Those of `wamids` that a stored message already has."""
    known: set[str] = set()
    for chunk in _chunks(wamids):
        known |= {w for (w,) in execute(
            db, f"SELECT wamid FROM message WHERE wamid IN ({_marks(len(chunk))})",  # noqa: S608
            tuple(chunk)).fetchall()}
    return known


def customers_by_index(indexes: Iterable[bytes]) -> list[Row]:
    """(id, user index, phone index, has no name) of customers either index names."""
    found: list[Row] = []
    for chunk in _chunks(indexes):
        marks = _marks(len(chunk))
        found += execute(
            db, f"SELECT id, wa_user_index, phone_index, name_sealed IS NULL FROM "  # noqa: S608
                f"customer WHERE wa_user_index IN ({marks}) OR phone_index IN ({marks})",
            tuple(chunk) * 2).fetchall()
    return found


def customer_by_id(customer_id: int) -> list[Row]:
    """The same row as `customers_by_index` gives, for one customer by id."""
    return list(execute(db, "SELECT id, wa_user_index, phone_index, name_sealed IS "
                            "NULL FROM customer WHERE id = ?", (customer_id,)).fetchall())


def open_conversations(customer_ids: Iterable[int]) -> list[Row]:
    """(customer id, conversation id, last message at, number id) of unresolved ones,
    oldest id first within each chunk of customers."""
    found: list[Row] = []
    for chunk in _chunks(customer_ids):
        found += execute(
            db, f"SELECT customer_id, id, last_message_at, number_id FROM conversation WHERE "  # noqa: S608
                f"status != 'resolved' AND customer_id IN ({_marks(len(chunk))}) "
                "ORDER BY id", tuple(chunk)).fetchall()
    return found


def messages_by_wamid(wamids: Iterable[str]) -> list[Row]:
    """(id, wamid, status, direction, conversation id) of the stored messages named."""
    found: list[Row] = []
    for chunk in _chunks(wamids):
        found += execute(
            db, f"SELECT id, wamid, status, direction, conversation_id FROM message "  # noqa: S608
                f"WHERE wamid IN ({_marks(len(chunk))})", tuple(chunk)).fetchall()
    return found
