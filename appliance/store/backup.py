"""Provides backups: an online, consistent copy of the encrypted database, and its restore.

A backup is a folder: the database copied with SQLite's backup API on the encrypted
connection (so the copy is exactly as unreadable as the original), the keyring file,
and a manifest (sizes and SHA-256 of both, time, audit head, master key id): never the
master key. A restore (with the appliance stopped) first shows what it would bring back
and which erased customers it would erase again, keeps the current files aside, puts the
backup in place, re-applies the erasure ledger and re-anchors the audit checkpoint with
an audited entry, so `audit verify` knows the rollback was deliberate.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from appliance.atomicfile import write_atomic
from appliance.config import Settings
from appliance.errors import GembokError
from appliance.store.db import db
from appliance.units import UnitsUnknown, running_units

MANIFEST = "manifest.json"


class BackupError(GembokError):
    """A backup cannot be made, read or restored; the message says which and why."""


@dataclass(frozen=True)
class BackupInfo:
    folder: Path
    created: str
    reason: str
    size: int
    customers: int
    messages: int
    audit_seq: int
    master_id: str
    re_erase: list[int]  # customers erased since: a restore erases them again


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_file_store(settings: Settings, what: str) -> None:
    """Backups, restores and rekeys here are of the SQLCipher file; a PostgreSQL store is
    backed up by its operator (pg_dump or base backups) beside Gembok's keyring."""
    if settings.store.url:
        raise BackupError(f"{what} works on the SQLCipher file; this store is PostgreSQL: "
                          "back it up with pg_dump or base backups and keep a copy of the "
                          "keyring and master key apart (README, PostgreSQL)")


def backup_now(settings: Settings, key: bytes, reason: str) -> Path:
    require_file_store(settings, "`gembok backup`")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = settings.data_dir / "backups" / f"{stamp}-{reason}"
    folder.mkdir(parents=True, mode=0o700)
    target = sqlcipher.connect(str(folder / "gembok.db"))
    try:
        target.execute("PRAGMA cipher_log_level = NONE")
        target.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        db.connection().backup(target)
    finally:
        target.close()
    shutil.copy2(settings.keyring_file, folder / "keyring.json")
    head = db.execute_sql("SELECT COALESCE(MAX(seq), 0) FROM audit_entry").fetchone()[0]
    keyring = json.loads((folder / "keyring.json").read_text())
    manifest = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "reason": reason,
                "audit_seq": head, "master_id": keyring["keys"][0]["master_id"],
                "files": {name: {"size": (folder / name).stat().st_size,
                                 "sha256": _sha256(folder / name)}
                          for name in ("gembok.db", "keyring.json")}}
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2).encode(), mode=0o600)
    return folder


def list_backups(settings: Settings) -> list[Path]:
    root = settings.data_dir / "backups"
    if not root.exists():
        return []
    return sorted((p for p in root.iterdir() if (p / MANIFEST).exists()), reverse=True)


def _manifest(folder: Path) -> dict[str, object]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{folder} is not a Gembok backup (no readable {MANIFEST})") from None
    for name, facts in manifest["files"].items():
        path = folder / name
        if not path.exists() or path.stat().st_size != facts["size"] \
                or _sha256(path) != facts["sha256"]:
            raise BackupError(f"{path} does not match its manifest: the backup is damaged")
    return dict(manifest)


def inspect(settings: Settings, folder: Path, database_key: bytes,
            erased: set[int]) -> BackupInfo:
    """What a restore would bring back (the dry run): read from the copy, changing nothing."""
    manifest = _manifest(folder)
    conn = sqlcipher.connect(f"file:{folder / 'gembok.db'}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{database_key.hex()}'\"")
        customers = conn.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
        messages = conn.execute("SELECT COUNT(*) FROM message").fetchone()[0]
        present = {row[0] for row in conn.execute(
            "SELECT id FROM customer WHERE name_sealed IS NOT NULL OR phone_sealed IS NOT NULL"
            " OR wa_user_sealed IS NOT NULL")}
    except sqlcipher.DatabaseError:
        raise BackupError(f"{folder} does not open with this box's database key") from None
    finally:
        conn.close()
    return BackupInfo(folder, str(manifest["created"]), str(manifest["reason"]),
                      sum(p.stat().st_size for p in folder.iterdir()), customers, messages,
                      int(str(manifest["audit_seq"])), str(manifest["master_id"]),
                      sorted(present & erased))


def ensure_stopped(settings: Settings) -> None:
    """A restore or a rekey replaces the database under the appliance's feet: only when down.

    Down means no `gembok run` holds its lock and no Gembok systemd unit (Redis aside) is
    up on an installed box.
    """
    try:
        up = running_units()
    except UnitsUnknown as exc:
        raise BackupError(f"{exc}; a restore waits until it is sure the services are "
                          "stopped") from None
    if up:
        raise BackupError(f"the appliance's services are running ({', '.join(up)}): run "
                          "`systemctl stop gembok.target` first, and start it again after")
    lock_path = settings.run_dir / "supervisor.lock"
    if not lock_path.exists():
        return
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("the appliance is running: stop it (Ctrl-C, or systemctl stop "
                              "gembok.target) before restoring") from None


def put_in_place(settings: Settings, folder: Path) -> Path:
    """Moves the current files aside and copies the backup in; returns where they went."""
    require_file_store(settings, "a restore")
    _manifest(folder)
    aside = settings.data_dir / f"pre-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    aside.mkdir(mode=0o700)
    for name in ("gembok.db", "gembok.db-wal", "gembok.db-shm", "keyring.json"):
        current = settings.data_dir / name
        if current.exists():
            shutil.move(str(current), aside / name)
    shutil.copy2(folder / "gembok.db", settings.db_file)
    shutil.copy2(folder / "keyring.json", settings.keyring_file)
    return aside


def erase_in_backup(folder: Path, database_keys: list[bytes], customer_ids: list[int],
                    events: Callable[[str, bytes], bytes | bool | None]) -> bool:
    """Erases customers inside one backup, as erasure did on the live database; returns
    False when no key opens it (then the backup is left as it is).

    Without this a backup made before an erasure keeps the customer's wrapped data key,
    which the master key on the box still unwraps: a thief with the box would read
    everything the customer wrote from the backup. So the key rows go, the record's sealed
    fields and indexes, search tokens and consent rows go, older reveal reasons are blanked
    and waiting webhooks lose the customer (`events(uid, body)`: the new sealed body, None
    to delete the event, False to keep it). `secure_delete` zeroes the freed cells and a
    VACUUM rewrites the file; the manifest follows, so a restore still verifies it.
    """
    ids = [int(c) for c in customer_ids]
    marks = ",".join("?" * len(ids))
    conn = None
    for key in database_keys:
        candidate = sqlcipher.connect(str(folder / "gembok.db"), isolation_level=None)
        candidate.execute("PRAGMA cipher_log_level = NONE")
        candidate.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            candidate.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError:
            candidate.close()
            continue
        conn = candidate
        break
    if conn is None:
        return False
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"DELETE FROM customer_key WHERE customer_id IN ({marks})", ids)  # noqa: S608
        conn.execute("UPDATE customer SET name_sealed = NULL, phone_sealed = NULL,"  # noqa: S608
                     " wa_user_sealed = NULL, phone_index = NULL, wa_user_index = NULL,"
                     " erased_at = COALESCE(erased_at, ?)"
                     f" WHERE id IN ({marks})", [datetime.now(UTC).replace(tzinfo=None)
                                                 .isoformat(sep=" "), *ids])
        conn.execute(f"DELETE FROM customer_token WHERE customer_id IN ({marks})",  # noqa: S608
                     ids)
        conn.execute(f"DELETE FROM consent_event WHERE customer_id IN ({marks})",  # noqa: S608
                     ids)
        conn.execute("UPDATE reveal SET reason_sealed = x'' WHERE customer_id IN"  # noqa: S608
                     f" ({marks}) OR target IN (SELECT 'message:' || m.id FROM message m"
                     " JOIN conversation v ON v.id = m.conversation_id WHERE v.customer_id"
                     f" IN ({marks}))", [*ids, *ids])
        for event_id, uid, body in conn.execute(
                "SELECT id, uid, body_sealed FROM inbox_event WHERE body_sealed IS NOT NULL"
        ).fetchall():
            kept = events(str(uid), bytes(body))
            if kept is None:
                conn.execute("DELETE FROM inbox_event WHERE id = ?", (event_id,))
            elif kept is not False:
                conn.execute("UPDATE inbox_event SET body_sealed = ? WHERE id = ?",
                             (kept, event_id))
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["gembok.db"] = {"size": (folder / "gembok.db").stat().st_size,
                                      "sha256": _sha256(folder / "gembok.db")}
    manifest["erased_after"] = sorted(set(manifest.get("erased_after", [])) | set(ids))
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2).encode(), mode=0o600)
    return True
