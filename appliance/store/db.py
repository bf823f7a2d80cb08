"""Provides the one database handle (`db`), how to open it, and the raw SQL every store
module runs through it: on the SQLCipher file (the embedded default) or on PostgreSQL.

Store modules write raw SQL with `?` placeholders; `execute` and `execute_many` hand it
to PostgreSQL with `%s` instead, so a statement is written once for both engines.

A raw 256-bit key (`x'…'`) skips SQLCipher's passphrase KDF at every connect. WAL with
`synchronous=FULL` means an acknowledged write survives a power cut; `secure_delete`
overwrites deleted rows so that a shredded customer key leaves no copy in free pages.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peewee import DatabaseError, DatabaseProxy, PostgresqlDatabase
from playhouse.sqlcipher_ext import SqlCipherDatabase
from sqlcipher3 import dbapi2 as sqlcipher

from appliance.errors import GembokError
from appliance.store import postgres
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


class _Handle(DatabaseProxy):
    """The one handle models and store modules use, pointed at either engine when a
    process opens its runtime. Transactions are the engine's own `atomic` (IMMEDIATE by
    default on both): peewee's proxy would otherwise begin a plain deferred one."""

    def atomic(self, *args: Any, **kwargs: Any) -> Any:
        return self.obj.atomic(*args, **kwargs)


db: Any = _Handle()
db.initialize(_QuietSqlCipherDatabase(None))


_inherited: list[Any] = []  # connections a forked child found open: kept, never used


def _forget_after_fork() -> None:
    """A forked child never speaks on its parent's connection: it opens its own on first
    use. It does not close the inherited one either: that would end the parent's session
    on a PostgreSQL server, and on SQLite may checkpoint and delete the parent's WAL."""
    state = getattr(db.obj, "_state", None)
    if state is not None and state.conn is not None:
        _inherited.append(state.conn)
        state.reset()


os.register_at_fork(after_in_child=_forget_after_fork)


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def _use(database: Any) -> None:
    if not db.is_closed():
        db.close()
    db.initialize(database)


def open_database(path: Path, key: bytes) -> SqlCipherDatabase:
    """Points `db` at `path` and proves the key opens it, before anything is written."""
    if len(key) != 32:
        raise ValueError("the database key is 32 bytes")
    _use(_QuietSqlCipherDatabase(str(path), passphrase=f"x'{key.hex()}'", pragmas=PRAGMAS))
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


def open_server(url: str, password_file: Path | None, ca_file: Path | None) -> Any:
    """Points `db` at a PostgreSQL server and proves it answers, before anything is written."""
    _use(postgres.open_postgres(url, password_file, ca_file))
    try:
        db.get_tables()
    except DatabaseError as exc:
        db.close()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise postgres.StoreConfigError(f"the PostgreSQL store at {url} does not answer: "
                                        f"{first_line}") from None
    return db


@contextmanager
def writing(db_file: Path) -> Iterator[None]:
    """A write transaction for the hot and long writers: the write lock, then IMMEDIATE.

    On SQLite the lock makes writers of several processes queue in the kernel rather than
    in SQLite's busy handler (`store.write_lock`); it is taken before BEGIN and let go
    after the commit, so a waiter starts the moment the holder is done. On PostgreSQL the
    transaction's advisory lock does the same for every host (`store.postgres`).
    """
    with writer_lock(db_file), db.atomic("IMMEDIATE"):
        yield


def writer_lock(db_file: Path) -> Any:
    """The file lock beside the SQLite database; nothing on PostgreSQL, which needs none."""
    return contextlib.nullcontext() if is_postgres() else write_lock(db_file)


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


@functools.lru_cache(maxsize=1024)
def _for_postgres(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


def sql(statement: str) -> str:
    """`statement`, written with `?` placeholders, as the open engine takes it."""
    return _for_postgres(statement) if is_postgres() else statement


def execute(database: Any, statement: str, params: Sequence[Any] = ()) -> Any:
    """Raw SQL, with `?` placeholders on either engine (peewee's stubs leave it untyped)."""
    return database.execute_sql(sql(statement), tuple(params))


def execute_many(statement: str, rows: Sequence[Sequence[Any]]) -> Any:
    """One statement for many rows (SQLite's executemany, psycopg's pipelined one)."""
    cursor = db.cursor()
    cursor.executemany(sql(statement), rows)
    return cursor


class _RawServer:
    """The inbox writer's PostgreSQL connection, taking the same `?` statements."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_for_postgres(statement), params)

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


def connect_raw(path: Path, key: bytes) -> Any:
    """A plain DB-API connection with the same key and pragmas, for the inbox writer.

    The writer's hot loop issues one statement per batch and needs nothing of peewee.
    On PostgreSQL it is a connection to the same server, in autocommit.
    """
    if is_postgres():
        server = db.obj
        conn = server._adapter.connect(server, **server.connect_params)
        conn.autocommit = True
        return _RawServer(conn)
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
