"""Provides the one SQLCipher database handle and how to open it with a raw key.

A raw 256-bit key (`x'…'`) skips SQLCipher's passphrase KDF at every connect. WAL with
`synchronous=FULL` means an acknowledged write survives a power cut; `secure_delete`
overwrites deleted rows so that a shredded customer key leaves no copy in free pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peewee import DatabaseError
from playhouse.sqlcipher_ext import SqlCipherDatabase
from sqlcipher3 import dbapi2 as sqlcipher

from appliance.errors import GembokError
from appliance.store.write_lock import write_lock

PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "secure_delete": 1,
    "cache_size": -64000,
    "busy_timeout": 10000,
    "temp_store": "memory",  # sorts and temp tables never spill to an unencrypted temp file
}


class WrongKeyError(GembokError):
    """The database key does not open the database file."""


class _QuietSqlCipherDatabase(SqlCipherDatabase):  # type: ignore[misc]
    """Silences SQLCipher's own stderr log: a wrong key becomes our one clear error instead."""

    def _connect(self) -> Any:
        params = dict(self.connect_params)
        key = params.pop("passphrase", "")
        conn = sqlcipher.connect(self.database, isolation_level=None, **params)
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"{key}\"")
            self._add_conn_hooks(conn)
        except BaseException:
            conn.close()
            raise
        return conn


    def atomic(self, lock_type: str | None = None) -> Any:
        """Transactions take the write lock at BEGIN (IMMEDIATE) unless told otherwise.

        Every transaction here writes, and most read first. A deferred one starts as a
        reader on a WAL snapshot; if another process commits before it writes, SQLite
        cannot upgrade that stale snapshot and fails at once with "database is locked",
        without waiting in busy_timeout (an agent's note was lost that way while the
        worker stored the delivery ticks of the reply just sent). IMMEDIATE waits its turn
        instead. Nested calls are savepoints, where the lock type does not apply.
        """
        return super().atomic(lock_type=lock_type or "IMMEDIATE")


db = _QuietSqlCipherDatabase(None)


def open_database(path: Path, key: bytes) -> SqlCipherDatabase:
    """Points `db` at `path` and proves the key opens it, before anything is written."""
    if len(key) != 32:
        raise ValueError("the database key is 32 bytes")
    if not db.is_closed():
        db.close()
    db.init(str(path), passphrase=f"x'{key.hex()}'", pragmas=PRAGMAS)
    try:
        db.get_tables()
    except DatabaseError as exc:
        db.close()
        if "not a database" in str(exc):
            raise WrongKeyError(f"database {path} does not open with the key from the keyring: "
                                "the keyring belongs to another database, or the file is "
                                "damaged (nothing was changed)") from None
        raise
    return db


@contextmanager
def writing(db_file: Path) -> Iterator[None]:
    """A write transaction for the hot and long writers: the write lock, then IMMEDIATE.

    The lock makes writers of several processes queue in the kernel rather than in
    SQLite's busy handler (`store.write_lock`); it is taken before BEGIN and let go after
    the commit, so a waiter starts the moment the holder is done.
    """
    with write_lock(db_file), db.atomic("IMMEDIATE"):
        yield


def close_connection() -> None:
    """Lets go of this thread's connection, if it has one; the next query opens a new one.

    Faces and long-lived loops call it so as not to hold a connection (and its WAL
    snapshot) between requests or ticks, nor carry one across a fork.
    """
    if not db.deferred and not db.is_closed():
        db.close()


def rekey(key: bytes) -> None:
    """SQLCipher re-encrypts every page of the open database under `key` (32 raw bytes)."""
    if len(key) != 32:
        raise ValueError("the database key is 32 bytes")
    db.execute_sql(f"PRAGMA rekey = \"x'{key.hex()}'\"")


def execute(database: SqlCipherDatabase, statement: str, params: tuple[Any, ...] = ()) -> Any:
    """Raw SQL for migrations and schema checks (peewee's stubs leave execute_sql untyped)."""
    return database.execute_sql(statement, params)


def connect_raw(path: Path, key: bytes) -> Any:
    """A plain DB-API connection with the same key and pragmas, for the inbox writer.

    The writer's hot loop issues one statement per batch and needs nothing of peewee.
    """
    conn = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for name, value in PRAGMAS.items():
        conn.execute(f"PRAGMA {name} = {value}")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def tuples(query: Any) -> list[tuple[Any, ...]]:
    """A peewee query's rows as plain tuples (its stubs type `.tuples()` as models)."""
    return [tuple(row) for row in query.tuples()]
