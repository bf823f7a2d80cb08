"""Provides an online, consistent copy of the encrypted database (SQLite's backup API).

The copy is keyed with the same database key, so it is exactly as unreadable as the
original; the keyring is copied beside it, the master key never.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from appliance.config import Settings
from appliance.store.db import db


def backup_now(settings: Settings, key: bytes, reason: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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
    return folder
