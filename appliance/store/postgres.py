"""Provides the PostgreSQL engine of the store: how to reach the server, and the one
behaviour Gembok's code relies on that PostgreSQL does not have by itself.

SQLite lets one writer in at a time, and the ingest batch, the audit chain and the id
blocks of `store.bulk` were written for that: a transaction that reads "the last audit
hash" or "the highest id" and then writes is never interleaved with another. On
PostgreSQL every write transaction (`db.atomic()`, IMMEDIATE by default as on SQLite)
takes one transaction-scoped advisory lock first, so the same code keeps the same
guarantee on every host that shares the server, and lets go at COMMIT or ROLLBACK by
itself. Reads take no lock and run beside writers (MVCC).

Ids are 64-bit on both engines: SQLite's INTEGER is, PostgreSQL's SERIAL is not (a busy
inbox gives out 3,000 message ids a second, which would end a 32-bit sequence in days).
"""

from __future__ import annotations

import os
import threading
import urllib.parse
import weakref
from pathlib import Path
from typing import Any

from peewee import PostgresqlDatabase

from appliance.errors import GembokError
from appliance.this_host import is_this_host

# pg_advisory_xact_lock's key: any constant all of Gembok's processes agree on ("GEMBOK").
WRITE_LOCK_KEY = 0x47454D424F4B


class StoreConfigError(GembokError):
    """The PostgreSQL settings cannot make a safe connection."""


class GembokPostgres(PostgresqlDatabase):
    field_types = {**PostgresqlDatabase.field_types,  # noqa: RUF012 (peewee's own shape)
                   "AUTO": "BIGSERIAL", "INT": "BIGINT"}

    def atomic(self, lock_type: str | None = None) -> Any:
        """As on SQLite: a transaction is a writer unless told otherwise (DEFERRED)."""
        return super().atomic(lock_type or "IMMEDIATE")

    def _connect(self) -> Any:
        """A thread's connection is closed when the thread is gone: peewee keeps it in a
        thread-local, which a finished thread drops without closing (SQLite's file handle
        did not mind; a server connection would linger until garbage collection)."""
        conn = super()._connect()  # type: ignore[misc]
        thread = threading.current_thread()
        held = _held.get(thread)
        if held is None:  # one per thread, however often it connects anew
            held = _held[thread] = _ThreadConnection()
            weakref.finalize(thread, held.close)
        held.conn, held.pid = conn, os.getpid()
        return conn

    def begin(self, lock_type: str | None = None) -> None:
        super().begin()
        if lock_type in ("IMMEDIATE", "EXCLUSIVE"):
            cursor = self.cursor()  # type: ignore[no-untyped-call]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))


class _ThreadConnection:
    """The connection a thread opened last. Closed only by the process that opened it: a
    forked child closing an inherited one would end its parent's session on the server."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.pid = 0

    def close(self) -> None:
        if self.conn is not None and os.getpid() == self.pid:
            self.conn.close()


_held: weakref.WeakKeyDictionary[threading.Thread, _ThreadConnection] = (
    weakref.WeakKeyDictionary())


def connect_params(url: str, password_file: Path | None, ca_file: Path | None) -> dict[str, Any]:
    """psycopg's keyword arguments for `url`: the password read from its file, and TLS with
    the server's certificate and name checked for any host but this one.

    The URL's own query may ask for more TLS (it is passed on), never less than that.
    """
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    host = query.get("host", parts.hostname or "")
    params: dict[str, Any] = {"application_name": "gembok",
                              "options": "-c TimeZone=UTC", "connect_timeout": 10}
    if password_file is not None:
        try:
            params["password"] = password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StoreConfigError(f"store.password_file {password_file} cannot be read "
                                   f"({exc.strerror}): put the PostgreSQL password there, "
                                   "mode 0600") from None
    if not is_this_host(host):
        if ca_file is None:
            raise StoreConfigError(
                f"store.url names the remote host {host!r}: set store.ca_file to the CA that "
                "signed its certificate (customer data does not cross a network without TLS)")
        if query.get("sslmode", "verify-full") != "verify-full":
            raise StoreConfigError(
                f"store.url asks for sslmode={query['sslmode']} to the remote host {host!r}: "
                "Gembok needs verify-full (TLS, certificate and host name checked)")
        params.update(sslmode="verify-full", sslrootcert=str(ca_file))
    return params


def open_postgres(url: str, password_file: Path | None, ca_file: Path | None) -> GembokPostgres:
    """A database object for `url` (not connected yet: the first query connects)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    return GembokPostgres(url, **connect_params(url, password_file, ca_file))
