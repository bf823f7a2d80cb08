"""Provides backup and restore as the admin runs them (TUI, CLI): audited, checked, safe.

See `store.backup` for what a backup holds. A restore needs the appliance stopped, and
the master key that wrapped the backup's keyring: after a master key rotation, make a new
backup (older ones need the old master key, which the rotation destroys on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.audit import checkpoint
from appliance.auth.permissions import Principal, require
from appliance.config import Settings
from appliance.crypto.keyring import load_keyring
from appliance.crypto.masterkey import load_masters
from appliance.privacy import erasure
from appliance.runtime import Runtime, open_runtime
from appliance.store import backup
from appliance.store.db import close_connection


@dataclass(frozen=True)
class RestoreReport:
    info: backup.BackupInfo
    set_aside: Path
    re_erased: list[int]


def create(rt: Runtime, principal: Principal, reason: str = "manual") -> Path:
    require(principal, "backup.manage")
    folder = backup.backup_now(rt.settings, rt.keyring.database_key, reason)
    rt.audit(actor=principal.actor, action="backup.created", target="backup:local")
    return folder


def dry_run(settings: Settings, folder: Path) -> backup.BackupInfo:
    """What restoring `folder` would bring back, and whom it would erase again."""
    keyring = load_keyring(folder / "keyring.json", load_masters(settings.master_key_path))
    return backup.inspect(settings, folder, keyring.database_key,
                          erasure.ledger_ids(settings))


def restore(settings: Settings, folder: Path, *, principal: Principal) -> RestoreReport:
    require(principal, "backup.restore")
    backup.ensure_stopped(settings)
    info = dry_run(settings, folder)
    close_connection()  # if the CLI opened it (closing one never opened raised, once)
    aside = backup.put_in_place(settings, folder)
    rt = open_runtime(settings)
    again = erasure.reapply(rt)
    rt.audit(actor=principal.actor, action="backup.restored", target="backup:local",
             detail={"audit_seq": info.audit_seq, "re_erased": len(again)})
    checkpoint.reset(settings.audit_head_file, rt.keyring.audit_key)
    return RestoreReport(info, aside, again)
