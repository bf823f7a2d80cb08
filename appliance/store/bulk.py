"""Provides the multi-row writes of the webhook ingest batch: one statement per table.

The batch (`inbox.ingest`, `inbox.first_contacts`) makes customers, conversations and
messages, moves statuses and marks its events done for hundreds of webhooks at once, up
to 3,000 events/s: each write here is one `executemany` of rows the caller has prepared,
with no query builder and no per-row work of its own. The caller gives rows their ids
up front (a message names its conversation before either is written) from `Ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appliance.store.db import db, execute, execute_many, is_postgres

Rows = Sequence[Sequence[Any]]
_ID_TABLES = frozenset({"customer", "conversation", "message"})


class Ids:
    """New ids of one table for one batch, in increasing order.

    On SQLite they count up from MAX(id) + 1, read inside the batch's IMMEDIATE
    transaction where no other writer can insert. On PostgreSQL a row may be inserted by
    any host at any time with the table's sequence, so the batch takes its ids from that
    sequence too, `BLOCK` per round trip; the ones a batch does not use are left as gaps.
    """

    BLOCK = 64

    def __init__(self, table: str) -> None:
        if table not in _ID_TABLES:
            raise ValueError(f"ids are handed out in bulk only for {sorted(_ID_TABLES)}")
        self.table = table
        self._free: list[int] = []
        self._next: int | None = None

    def take(self) -> int:
        if is_postgres():
            if not self._free:
                self._free = [int(n) for (n,) in execute(
                    db, "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM "
                        "generate_series(1, ?)", (self.table, self.BLOCK)).fetchall()]
                self._free.reverse()
            return self._free.pop()
        if self._next is None:
            self._next = int(execute(
                db, f"SELECT COALESCE(MAX(id), 0) FROM {self.table}").fetchone()[0]) + 1  # noqa: S608
        taken, self._next = self._next, self._next + 1
        return taken


def _many(statement: str, rows: Rows) -> None:
    execute_many(statement, rows)


def insert_customers(rows: Rows) -> None:
    """(id, name, phone, phone index, WhatsApp user, user index, created at): sealed as given."""
    _many("INSERT INTO customer (id, name_sealed, phone_sealed, phone_index, wa_user_sealed, "
          "wa_user_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def insert_customer_tokens(rows: Rows) -> None:
    """(customer id, search token)."""
    _many("INSERT INTO customer_token (customer_id, token) VALUES (?, ?)", rows)


def insert_audit_entries(rows: Rows) -> None:
    """Links of the audit chain, already hashed and MACed in order by the caller."""
    _many("INSERT INTO audit_entry (seq, at, actor, action, target, detail, prev_hash, "
          "entry_hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def insert_change_events(rows: Rows) -> None:
    """(conversation id, kind, at): the change feed."""
    _many("INSERT INTO change_event (conversation_id, kind, at) VALUES (?, ?, ?)", rows)


def insert_conversations(rows: Rows) -> None:
    """Open conversations: (id, customer id, division id, created at, last message at,
    number id)."""
    _many("INSERT INTO conversation (id, customer_id, division_id, status, created_at, "
          "last_message_at, number_id) VALUES (?, ?, ?, 'open', ?, ?, ?)", rows)


def insert_inbound_messages(rows: Rows) -> None:
    """Received messages: (id, conversation id, wamid, kind, body, payload, sent at, created at)."""
    _many("INSERT INTO message (id, conversation_id, direction, wamid, kind, body_sealed, "
          "payload_sealed, status, sent_at, created_at) "
          "VALUES (?, ?, 'in', ?, ?, ?, ?, 'received', ?, ?)", rows)


def advance_conversations(rows: Rows) -> None:
    """(last message at, conversation id, last message at): never moves a time backwards."""
    _many("UPDATE conversation SET last_message_at = ? WHERE id = ? AND "
          "last_message_at < ?", rows)


def advance_last_inbound(rows: Rows) -> None:
    """(last inbound at, customer id, last inbound at): never moves a time backwards."""
    _many("UPDATE customer SET last_inbound_at = ? WHERE id = ? AND "
          "(last_inbound_at IS NULL OR last_inbound_at < ?)", rows)


def advance_windows(rows: Rows) -> None:
    """(customer id, number id, last inbound at): each pair's 24-hour window, never back."""
    _many("INSERT INTO customer_window (customer_id, number_id, last_inbound_at) "
          "VALUES (?, ?, ?) ON CONFLICT (customer_id, number_id) DO UPDATE SET "
          "last_inbound_at = excluded.last_inbound_at "
          "WHERE excluded.last_inbound_at > customer_window.last_inbound_at", rows)


def update_message_statuses(rows: Rows) -> None:
    """(status, status at, error code, message id)."""
    _many("UPDATE message SET status = ?, status_at = ?, error_code = ? WHERE id = ?", rows)


def finish_events(rows: Rows) -> None:
    """(state, error, processed at, keep body, event id): the body goes unless kept."""
    _many("UPDATE inbox_event SET state = ?, error = ?, attempts = attempts + 1, "
          "processed_at = ?, body_sealed = CASE WHEN ? THEN body_sealed END WHERE id = ?", rows)


def insert_inbox_events(conn: Any, received_at: str,
                        rows: Sequence[tuple[Any, str, bytes | None, bytes]]) -> dict[str, int]:
    """The inbox writer's batch on its own connection: one INSERT, one commit, one fsync.

    Rows of (the caller's tag, not stored; uid, digest, sealed body). Returns uid -> id of
    the rows inserted: a body whose digest is already stored (a replay, or Meta's own
    duplicate) is skipped by the statement itself and is not in it.
    """
    values = ",".join(["(?, ?, ?, ?, 'new', 0, '')"] * len(rows))  # placeholders only
    head = "INSERT INTO inbox_event (uid, received_at, body_sealed, digest, state, attempts, error)"
    statement = f"{head} VALUES {values} ON CONFLICT (digest) DO NOTHING RETURNING id, uid"
    params: list[object] = []
    for _, uid, digest, blob in rows:
        params += [uid, received_at, blob, digest]
    return {uid: row_id for row_id, uid in conn.execute(statement, params).fetchall()}


def count_failed_attempt(event_id: int, max_attempts: int) -> None:
    """One more failed attempt at a waiting event; failed for good at `max_attempts`."""
    with db.atomic():
        execute(db, "UPDATE inbox_event SET attempts = attempts + 1 WHERE id = ? "
                    "AND state = 'new'", (event_id,))
        execute(db, "UPDATE inbox_event SET state = 'failed', error = 'could_not_apply' "
                    "WHERE id = ? AND state = 'new' AND attempts >= ?", (event_id, max_attempts))
