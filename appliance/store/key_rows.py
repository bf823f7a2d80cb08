"""Provides the multi-row writes over wrapped customer keys (`customer_key`).

New customers' first keys in bulk (webhook ingest), the next version of many customers'
keys and the retirement of the old ones (data-key rotation), and the re-wrapping of every
key under a new master (master rotation): one statement each, for thousands of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appliance.store.db import db, execute, execute_many


def insert_first_keys(rows: Sequence[tuple[int, str, bytes, str]]) -> None:
    """Version 1 of new customers' keys: rows of (customer id, master id, wrapped, created at)."""
    execute_many(
        "INSERT INTO customer_key (customer_id, version, master_id, wrapped, created_at) "
        "VALUES (?, 1, ?, ?, ?)", rows)


def key_versions_after(after: int, limit: int) -> list[tuple[int, int, int]]:
    """The next customers after id `after` that have keys: (customer id, newest, oldest)."""
    return [(int(cid), int(top), int(low)) for cid, top, low in execute(
        db, "SELECT customer_id, MAX(version), MIN(version) FROM customer_key"
            " WHERE customer_id > ? GROUP BY customer_id ORDER BY customer_id"
            " LIMIT ?", (after, limit)).fetchall()]


def insert_key_versions(rows: Sequence[tuple[int, int, str, bytes, str]]) -> None:
    """New key versions: rows of (customer id, version, master id, wrapped, created at)."""
    execute_many(
        "INSERT INTO customer_key (customer_id, version, master_id, wrapped, created_at)"
        " VALUES (?, ?, ?, ?, ?)", rows)


def delete_superseded_keys() -> None:
    """Deletes every version of a customer's key older than their newest one."""
    execute(db, "DELETE FROM customer_key WHERE version < (SELECT MAX(version) FROM"
                        " customer_key AS newer WHERE newer.customer_id ="
                        " customer_key.customer_id)")


def update_wrapped(rows: Sequence[tuple[Any, ...]]) -> None:
    """Keys wrapped anew: rows of (wrapped, master id, customer_key id)."""
    if rows:
        execute_many(
            "UPDATE customer_key SET wrapped = ?, master_id = ? WHERE id = ?", rows)
