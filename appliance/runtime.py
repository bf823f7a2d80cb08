"""Provides `Runtime`: one process's open appliance (settings, unwrapped keys, open database).

Every process (web, webhook, worker, scheduler, CLI) opens the appliance the same way,
and every check (key file mode, master key, database key, schema) happens here, before
anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.audit import chain
from appliance.config import Settings
from appliance.crypto.blind_index import BlindIndex
from appliance.crypto.keyring import Keyring, load_keyring
from appliance.crypto.masterkey import Masters, load_masters
from appliance.errors import GembokError
from appliance.store import migrations
from appliance.store.db import WrongKeyError, db, open_database, open_server
from appliance.store.models import AuditEntry


class DataDirError(GembokError):
    """The data dir is incomplete: a file Gembok needs is gone."""


@dataclass(repr=False)
class Runtime:
    settings: Settings
    keyring: Keyring
    index: BlindIndex
    # Where read audits go: appended at once (None), or handed to a background writer so
    # that "who read what" costs a page nothing (the web app sets one up).
    read_audit: Callable[[dict[str, Any]], None] | None = None

    @property
    def master(self) -> Masters:
        return self.keyring.master

    def audit(self, *, actor: str, action: str, target: str = "",
              detail: Mapping[str, chain.DetailValue] | None = None) -> AuditEntry:
        return chain.append(self.keyring.audit_key, actor=actor, action=action, target=target,
                            detail=detail)

    def audit_read(self, *, actor: str, action: str, target: str) -> None:
        if self.read_audit is not None:
            self.read_audit({"actor": actor, "action": action, "target": target})
        else:
            self.audit(actor=actor, action=action, target=target)

    def __repr__(self) -> str:
        return f"Runtime(data_dir={self.settings.data_dir})"


def _open_with_a_database_key(settings: Settings, keyring: Keyring) -> None:
    """Newest database key first; an older one only while a rekey is unfinished."""
    versions = sorted(keyring.keys["database"], reverse=True)
    for version in versions:
        try:
            open_database(settings.db_file, keyring.keys["database"][version])
        except WrongKeyError:
            if version == versions[-1]:
                raise
            continue
        keyring.database_version = version
        return


def open_runtime(settings: Settings, *, check_schema: bool = True,
                 create_database: bool = False) -> Runtime:
    path = settings.master_key_path
    keyring = load_keyring(settings.keyring_file, load_masters(path),
                           reload=lambda: load_masters(path))
    if settings.store.url:
        open_server(settings.store.url, settings.store.password_file, settings.store.ca_file)
        if not create_database and migrations.current_version(db) == 0:
            raise DataDirError(f"the PostgreSQL store at {settings.store.url} is empty but its "
                               "keyring is there: restore the store from your backup "
                               "(pg_restore), then run `gembok customer reapply-erasures`")
    else:
        if not settings.db_file.exists() and not create_database:
            raise DataDirError(f"database {settings.db_file} is missing but its keyring is "
                               "there: restore the database from your backup")
        _open_with_a_database_key(settings, keyring)
    if check_schema:
        migrations.require_current(db)
    return Runtime(settings, keyring, BlindIndex(keyring.index_key))
