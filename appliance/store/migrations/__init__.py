"""Provides schema migrations: numbered modules `mNNNN_name.py`, applied once each, in order.

Each migration runs in one transaction together with the row that records it in
`schema_version`, so a crash mid-migration leaves the schema as it was. A process
refuses to serve on a schema older than its code (`gembok migrate` first, after a backup).

On PostgreSQL an empty store gets every migration at once: the tables as the models
declare them now (`store.baseline`), each migration recorded as "(baseline)". A store
made by an older Gembok is past its baseline, so each migration since then runs on it
like on SQLite: every migration from `FIRST_ON_BOTH` on is written for both engines,
with `store.db.execute`'s placeholders and, where their DDL differ, a branch on
`is_postgres()`; its seed rows, if any, are in the baseline too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType

from peewee import Database

from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.store import baseline
from appliance.store.db import execute, is_postgres

# the first migration written for both engines (PostgreSQL stores began at 16)
FIRST_ON_BOTH = 17


class SchemaError(GembokError):
    """The database schema is older or newer than this version of Gembok expects."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: ModuleType


def all_migrations() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if m := re.fullmatch(r"m(\d{4})_(\w+)", info.name):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(Migration(int(m.group(1)), m.group(2), module))
    found.sort(key=lambda mig: mig.version)
    if [mig.version for mig in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 1, 2, 3... without gaps")
    return found


def latest_version() -> int:
    return len(all_migrations())


def current_version(db: Database) -> int:
    if "schema_version" not in db.get_tables():
        return 0
    row = execute(db, "SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Database) -> list[int]:
    """Applies every pending migration; returns the versions applied."""
    timestamp = "TIMESTAMP" if is_postgres() else "DATETIME"
    execute(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, "
                f"applied_at {timestamp} NOT NULL)")
    applied = []
    if is_postgres():
        applied += _postgres_baseline(db)
    for mig in all_migrations():
        with db.atomic("IMMEDIATE"):
            if current_version(db) >= mig.version:
                continue
            mig.module.apply(db)
            execute(db, "INSERT INTO schema_version (version, name, applied_at) "
                           "VALUES (?, ?, ?)", (mig.version, mig.name, utcnow()))
        applied.append(mig.version)
    return applied


def _postgres_baseline(db: Database) -> list[int]:
    """An empty PostgreSQL store gets the tables of every migration at once."""
    with db.atomic("IMMEDIATE"):
        if current_version(db) > 0:
            return []
        baseline.create(db)
        done = all_migrations()
        for mig in done:
            execute(db, "INSERT INTO schema_version (version, name, applied_at) "
                        "VALUES (?, ?, ?)", (mig.version, f"{mig.name} (baseline)", utcnow()))
    return [mig.version for mig in done]


def require_current(db: Database) -> None:
    have, want = current_version(db), latest_version()
    if have < want:
        raise SchemaError(f"the database schema is at version {have}, this Gembok needs {want}: "
                          "run `gembok migrate` (it backs up the database first)")
    if have > want:
        raise SchemaError(f"the database schema is at version {have}, newer than this Gembok "
                          f"knows ({want}): upgrade Gembok, or restore a matching backup")
