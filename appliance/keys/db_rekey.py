"""Provides the database key's rotation: SQLCipher re-encrypts every page under a new key.

A maintenance step, with the appliance stopped (no writer may hold the file). The new key
joins the keyring first, beside the old one; the database is rekeyed in one transaction;
only then does the old key leave the keyring. The database opens with whichever of the
two keys fits, so a crash at any point leaves it openable, and running the step again
finishes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.auth.permissions import Principal, require
from appliance.config import Settings
from appliance.crypto.aead import new_key
from appliance.crypto.keyring import WrappedKey, read_entries, save_entries
from appliance.crypto.wrap import wrap
from appliance.keys.master_rotation import crashpoint
from appliance.runtime import open_runtime
from appliance.store import backup
from appliance.store.db import close_connection, rekey


def rekey_database(settings: Settings, *, principal: Principal) -> int:
    """Returns the database key version now in force."""
    require(principal, "keys.rotate")
    backup.require_file_store(settings, "`gembok keys rekey-database`")
    backup.ensure_stopped(settings)
    rt = open_runtime(settings)
    entries = read_entries(settings.keyring_file)
    versions = sorted(e.version for e in entries if e.purpose == "database")
    newest = versions[-1]
    if len(versions) > 1 and rt.keyring.database_version == newest:
        pass  # an earlier run rekeyed the file and died before dropping the old key
    elif newest == rt.keyring.database_version:  # a fresh start: the next key joins in
        newest += 1
        key = new_key()
        label = f"database:v{newest}"
        entries.append(WrappedKey("database", newest, rt.master.key_id,
                                  wrap(rt.master.key, key, label),
                                  datetime.now(UTC).isoformat(timespec="seconds")))
        save_entries(settings.keyring_file, entries)
        crashpoint("database_key_added")
        rekey(key)
    else:  # an earlier run added it, then died before the rekey: finish with that one
        key = rt.keyring.keys["database"][newest]
        rekey(key)
    crashpoint("database_rekeyed")
    save_entries(settings.keyring_file,
                 [e for e in entries if e.purpose != "database" or e.version == newest])
    rt.audit(actor=principal.actor, action="key.database_rekeyed", target=f"key:database.v{newest}")
    close_connection()
    return newest
