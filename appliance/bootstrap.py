"""Provides `initialise`: bring a data dir to a working state, safely, any number of times.

First start creates the master key (unless one was provisioned), the keyring, the
database, the first admin and a self-signed certificate. Later starts only check and
migrate. A crash at any point of a first start is finished by the next start; keys are
never replaced; and every check that can fail runs before the first write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.audit import checkpoint
from appliance.auth.permissions import box_admin
from appliance.auth.users import create_user
from appliance.config import Settings
from appliance.crypto.keyring import PURPOSES, create_keyring
from appliance.crypto.masterkey import create_master_key, load_master_key
from appliance.keys import master_rotation
from appliance.runtime import DataDirError, Runtime, open_runtime
from appliance.store import migrations
from appliance.store.backup import backup_now
from appliance.store.db import db
from appliance.store.keystate import AppState
from appliance.store.models import AuditEntry, User
from appliance.tls import ensure_certificate

FIRST_ADMIN = "admin"


@dataclass
class InitReport:
    created: list[str] = field(default_factory=list)
    migrated: list[int] = field(default_factory=list)
    admin_username: str | None = None
    admin_password: str | None = None  # shown once, never stored or logged
    resumed_rotation: bool = False


def initialise(settings: Settings) -> tuple[Runtime, InitReport]:
    report = InitReport()
    _make_private_dir(settings)
    if not settings.keyring_file.exists():
        _first_keys(settings, report)
    # A database is only ever made where none has existed: no checkpoint means no history.
    new_database = ((bool(settings.store.url) or not settings.db_file.exists())
                    and not settings.audit_head_file.exists())
    rt = open_runtime(settings, check_schema=False, create_database=new_database)
    if (0 < migrations.current_version(db) < migrations.latest_version()
            and not settings.store.url):  # PostgreSQL is backed up by its operator (README)
        folder = backup_now(settings, rt.keyring.database_key, "pre-migrate")
        report.created.append(f"backup {folder}")
    report.migrated = migrations.migrate(db)
    if report.migrated and report.migrated[0] == 1:
        report.created.append(f"database {settings.store.url or settings.db_file}")
    if not AuditEntry.select().exists():
        rt.audit(actor="system", action="appliance.initialised")
        for purpose in PURPOSES:
            rt.audit(actor="system", action="key.created", target=f"key:{purpose}.v1")
    elif report.migrated:
        rt.audit(actor="system", action="schema.migrated",
                 detail={"version": report.migrated[-1]})
    if not AppState.select().where(AppState.name == "master_id").exists():
        AppState.create(name="master_id", value=rt.master.key_id)
    if master_rotation.in_progress(rt):  # a rotation was cut short: finish it first
        report.resumed_rotation = True
        master_rotation.rotate_master(rt, principal=box_admin("system"))
    if not User.select().exists():
        user, password = create_user(rt, username=FIRST_ADMIN, display_name="Administrator",
                                     role="admin", actor="system")
        report.admin_username, report.admin_password = user.username, password
    checkpoint.write(settings.audit_head_file, rt.keyring.audit_key)
    if ensure_certificate(settings.tls_cert_path, settings.tls_key_path):
        report.created.append(f"self-signed TLS certificate {settings.tls_cert_path}")
    return rt, report


def _make_private_dir(settings: Settings) -> None:
    if not settings.data_dir.exists():
        settings.data_dir.mkdir(parents=True, mode=0o700)


def _first_keys(settings: Settings, report: InitReport) -> None:
    """No keyring: a new data dir, or a first start that crashed before its keyring existed."""
    if settings.db_file.exists() or settings.audit_head_file.exists():
        raise DataDirError(f"keyring {settings.keyring_file} is missing but the data it opens "
                           "is there: restore the keyring from your backup (a new one cannot "
                           "open existing data)")
    if settings.master_key_path.exists():
        master = load_master_key(settings.master_key_path)  # provisioned, e.g. by Ansible
    else:
        master = create_master_key(settings.master_key_path)
        report.created.append(f"master key {settings.master_key_path} (mode 0600)")
    create_keyring(settings.keyring_file, master)
    report.created.append(f"keyring {settings.keyring_file}")
