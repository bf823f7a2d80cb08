"""Provides the registry of the sealed columns a customer owns, and the queries over them.

Every `*_sealed` column is sealed either under the owning customer's data key (listed
here, with the way from a row to its customer) or under the system key (listed in
`SYSTEM_SEALED`). Data-key rotation, merging two customer records, erasure and the
data-subject export all read this one list, so a new sealed column cannot be left out of
one of them: tests/unit/test_customer_data_registry.py fails on a column that is in
neither list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import IntegrityError

from appliance.store.db import db, execute, execute_many, is_postgres
from appliance.store.models import Customer


@dataclass(frozen=True)
class Owned:
    """A table with columns sealed under a customer's key, and how a row reaches them.

    The row is `t`; `joins` adds the tables on the way, and `link` is the table.column
    (with its alias) that holds the customer's id. `only` narrows the rows that are
    sealed under the customer's key (older reveals were sealed under the system key).
    """

    table: str
    columns: tuple[str, ...]
    link: tuple[str, str, str]  # alias, table, column that holds the customer's id
    joins: str = ""
    only: str = ""

    @property
    def owner(self) -> str:
        return f"{self.link[0]}.{self.link[2]}"

    def purposes(self) -> tuple[str, ...]:
        """The column names as sealed (`place(table, "body", id)` for `body_sealed`)."""
        return tuple(c.removesuffix("_sealed") for c in self.columns)


_VIA_CONVERSATION = " JOIN conversation v ON v.id = t.conversation_id"
_CONVERSATION = ("v", "conversation", "customer_id")

# The customer's own record first; then, in the order data-key rotation walks them (its
# job's step names are these table names, kept in the database: append, never reorder).
CUSTOMER_RECORD = Owned("customer", ("name_sealed", "phone_sealed", "wa_user_sealed"),
                        ("t", "customer", "id"))
CUSTOMER_INDEXES = ("phone_index", "wa_user_index")  # blind indexes of the record
OWNED = (
    Owned("message", ("body_sealed", "payload_sealed"), _CONVERSATION, _VIA_CONVERSATION),
    Owned("note", ("body_sealed",), _CONVERSATION, _VIA_CONVERSATION),
    Owned("media", ("content_sealed",), _CONVERSATION,
          " JOIN message m ON m.id = t.message_id JOIN conversation v"
          " ON v.id = m.conversation_id"),
    Owned("reveal", ("reason_sealed",), ("t", "reveal", "customer_id"),
          only="t.customer_id IS NOT NULL AND length(t.reason_sealed) > 0"),
    Owned("customer_change", ("reason_sealed", "value_sealed"),
          ("t", "customer_change", "customer_id")),
    # a broadcast's values for this person (their name, their order number)
    Owned("campaign_recipient", ("values_sealed",), ("t", "campaign_recipient", "customer_id")),
    # why the DPO keeps this customer's data from erasure and retention (it may name them)
    Owned("legal_hold", ("reason_sealed",), ("t", "legal_hold", "customer_id")),
)
CUSTOMER_SEALED = (CUSTOMER_RECORD, *OWNED)

# Sealed under the system key, which erasure cannot destroy: no customer's data may stay
# in them (an inbox event's body is dropped once applied, and erasure edits held ones).
SYSTEM_SEALED = {
    ("inbox_event", "body_sealed"): "a webhook as Meta sent it, kept until it is applied",
    ("secret_setting", "value_sealed"): "the admin's WhatsApp access token and app secret",
    ("wa_number", "access_token_sealed"): "a business number's Cloud API access token",
    ("wa_number", "app_secret_sealed"): "the app secret that signs a number's webhooks",
    ("wa_number", "verify_token_sealed"): "a number's webhook verification token",
    ("user", "totp_secret_sealed"): "a staff member's TOTP secret",
    ("breach", "description_sealed"): "the DPO's account of an incident (accounts and "
                                      "times; the customers it touched are listed by id)",
    ("reveal", "reason_sealed"): "reasons given before reasons were sealed per customer "
                                 "(customer_id empty); erasure blanks them by target",
}


def _select(entry: Owned, where: str) -> str:
    columns = "".join(f", t.{c}" for c in entry.columns)
    only = f" AND {entry.only}" if entry.only else ""
    return (f"SELECT t.id, {entry.owner}{columns} FROM {entry.table} t{entry.joins}"  # noqa: S608
            f" WHERE {where}{only} ORDER BY t.id")


def count_rows() -> int:
    """How many rows the registry's tables hold together (a rotation's total)."""
    return sum(int(execute(db, f"SELECT COUNT(*) FROM {entry.table}").fetchone()[0])  # noqa: S608
               for entry in CUSTOMER_SEALED)


def rows_after(entry: Owned, after: int, limit: int) -> list[tuple[Any, ...]]:
    """The next rows after id `after`: (id, customer id, *sealed values)."""
    statement = _select(entry, "t.id > ?") + " LIMIT ?"
    return list(execute(db, statement, (after, limit)).fetchall())


def rows_of_customer(entry: Owned, customer_id: int) -> list[tuple[Any, ...]]:
    """Every row the customer owns in the table: (id, customer id, *sealed values)."""
    statement = _select(entry, f"{entry.owner} = ?")
    return list(execute(db, statement, (customer_id,)).fetchall())


def plain_fields(entry: Owned, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The rows' other columns as they are (states, times: for an export), never a sealed
    or an index column; by id."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        part = list(ids[start:start + 500])
        marks = ",".join("?" * len(part))
        cursor = execute(db, f"SELECT * FROM {entry.table} WHERE id IN ({marks})",  # noqa: S608
                         tuple(part))
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            fields = {n: (str(v) if isinstance(v, datetime) else v)
                      for n, v in zip(names, row, strict=True)
                      if not n.endswith(("_sealed", "_index")) and not isinstance(v, bytes)}
            found[int(fields["id"])] = fields
    return found


def update_sealed(entry: Owned, updates: Sequence[tuple[Any, ...]]) -> None:
    """Writes new sealed values, one statement for all: rows of (*values, id)."""
    if updates:
        assignments = ", ".join(f"{c} = ?" for c in entry.columns)
        execute_many(
            f"UPDATE {entry.table} SET {assignments} WHERE id = ?", updates)  # noqa: S608


def reseal_owned(customer_id: int,
                 again: Callable[[Owned, str, int, bytes], bytes]) -> None:
    """Re-seals every value the customer owns outside their own record.

    `again(entry, purpose, row_id, token)` returns the new ciphertext; empty values stay.
    """
    for entry in OWNED:
        updates = []
        for row_id, _, *values in rows_of_customer(entry, customer_id):
            updates.append((*(value if value is None or not bytes(value)
                              else again(entry, purpose, row_id, bytes(value))
                              for purpose, value in zip(entry.purposes(), values, strict=True)),
                            row_id))
        update_sealed(entry, updates)


def move_owned(from_id: int, to_id: int) -> None:
    """Every row that names `from_id` as its customer names `to_id` instead; one the
    database refuses (both were sent the same broadcast: one message per person) stays
    with `from_id` and goes with it."""
    links = dict.fromkeys((e.link[1], e.link[2]) for e in OWNED)
    for table, column in links:
        if not is_postgres():
            execute(db, f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {column} = ?",  # noqa: S608
                    (to_id, from_id))
            continue
        # PostgreSQL has no OR IGNORE: each row moves in a savepoint of its own.
        for (row_id,) in execute(db, f"SELECT id FROM {table} WHERE {column} = ?",  # noqa: S608
                                 (from_id,)).fetchall():
            with contextlib.suppress(IntegrityError), db.atomic():
                execute(db, f"UPDATE {table} SET {column} = ? WHERE id = ?",  # noqa: S608
                        (to_id, row_id))


# What erasure deletes or rewrites that a key still on the box would open: customers'
# keys (the master key unwraps them) and rows sealed under the system key.
ERASURE_REWRITES = ("customer_key", "inbox_event", "reveal")


def reclaim_erased() -> bool:
    """The old versions of what erasure deleted or rewrote, out of the tables' files.

    SQLite overwrites a deleted or updated row where it lay (`secure_delete`): nothing
    to do. PostgreSQL keeps the old version as a dead tuple, which plain VACUUM only
    marks reusable; VACUUM FULL writes each table anew (1-2 s for 100,000 customers'
    keys, the tables locked meanwhile). It cannot run in a transaction: a caller inside
    one calls again after it. Returns whether it ran.
    """
    if not is_postgres() or db.in_transaction():
        return False
    for table in ERASURE_REWRITES:
        execute(db, f"VACUUM (FULL) {table}")
    return True


def forget_record(customer_id: int, at: datetime) -> None:
    """The customer's record keeps its id and when it was erased, nothing sealed or indexed."""
    cleared: dict[str, Any] = dict.fromkeys((*CUSTOMER_RECORD.columns, *CUSTOMER_INDEXES))
    Customer.update(**cleared, erased_at=at).where(Customer.id == customer_id).execute()
