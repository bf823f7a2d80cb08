"""Provides master key rotation: every wrapped key re-wrapped, safe to kill at any instant.

The steps, each safe to stop after (a start finishes what a crash left):
1. the new key is written beside the old one (`master.key.new`, 0600, atomic);
2. every customer key is re-wrapped under it, in one transaction;
3. the keyring file is re-wrapped and replaced atomically;
4. in one transaction holding the write lock: keys made meanwhile by other processes
   are re-wrapped too, every key is proven to open under the new master, and the new id
   becomes the current one for every process;
5. only then does the new key file replace the old one (rename, fsync the directory).
Until step 5 both files exist, and a key names the master that wrapped it, so every
row opens at every instant. O(number of keys): seconds for 100,000 customers.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from appliance.atomicfile import fsync_dir
from appliance.auth.permissions import Principal, require
from appliance.crypto.keyring import WrappedKey, read_entries, save_entries
from appliance.crypto.masterkey import (
    MasterKey,
    create_master_key,
    load_master_key,
    rotation_path,
)
from appliance.crypto.wrap import unwrap, wrap
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store import key_rows
from appliance.store.db import writing
from appliance.store.keystate import AppState
from appliance.store.models import CustomerKey

CRASH_ENV = "GEMBOKTEST_CRASH_AT"  # tests only: the step after which to die (SIGKILL)
STEPS = ("new_key_written", "customer_keys_rewrapped", "keyring_rewritten",
         "proven_before_commit", "committed", "key_file_swapped")
MASTER_ID = "master_id"


class RotationError(GembokError):
    """A key did not open under the new master: nothing was switched over."""


@dataclass(frozen=True)
class RotationReport:
    new_master_id: str
    customer_keys: int
    keyring_keys: int
    seconds: float
    resumed: bool


def crashpoint(name: str) -> None:
    """Dies here, as a power cut would, when a crash test asks for this step."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def in_progress(rt: Runtime) -> bool:
    return rotation_path(rt.settings.master_key_path).exists()


def rotate_master(rt: Runtime, *, principal: Principal) -> RotationReport:
    """Starts a rotation, or finishes the one a crash interrupted."""
    require(principal, "keys.rotate")
    started = time.perf_counter()
    path = rt.settings.master_key_path
    new_path = rotation_path(path)
    resumed = new_path.exists()
    if not resumed and not os.access(path.parent, os.W_OK):
        raise RotationError(
            f"the master key is handed over read-only ({path.parent}), as systemd does on an "
            "installed box: there, run `gembok keys rotate-master` as root, which seals the "
            "new key for systemd and restarts the services")
    new = load_master_key(new_path) if resumed else create_master_key(new_path)
    crashpoint("new_key_written")
    rt.master.key_for(new.key_id)  # learns it from the file
    with writing(rt.settings.db_file):
        count = _rewrap_customer_keys(rt, new)
    crashpoint("customer_keys_rewrapped")
    entries = read_entries(rt.settings.keyring_file)
    if any(e.master_id != new.key_id for e in entries):
        save_entries(rt.settings.keyring_file, [_rewrap_entry(rt, e, new) for e in entries])
    crashpoint("keyring_rewritten")
    with writing(rt.settings.db_file):
        count += _rewrap_customer_keys(rt, new)  # made by other processes meanwhile
        _prove(rt, new)
        (AppState.insert(name=MASTER_ID, value=new.key_id)
         .on_conflict(conflict_target=[AppState.name], update={AppState.value: new.key_id})
         .execute())
        crashpoint("proven_before_commit")
        rt.audit(actor=principal.actor, action="key.master_rotated", target="key:master",
                 detail={"customer_keys": count, "resumed": resumed})
    crashpoint("committed")
    if new_path.exists():
        os.replace(new_path, path)
        fsync_dir(path.parent)
    crashpoint("key_file_swapped")
    rt.master.use(new.key_id)
    return RotationReport(new.key_id, count, len(entries), time.perf_counter() - started,
                          resumed)


def _rewrap_customer_keys(rt: Runtime, new: MasterKey) -> int:
    rows = list(CustomerKey.select().where(CustomerKey.master_id != new.key_id))
    updates = []
    for row in rows:
        label = f"customer:{row.customer_id}:v{row.version}"
        key = unwrap(rt.master.key_for(row.master_id), bytes(row.wrapped), label)
        updates.append((wrap(new.key, key, label), new.key_id, row.id))
    key_rows.update_wrapped(updates)
    return len(updates)


def _rewrap_entry(rt: Runtime, entry: WrappedKey, new: MasterKey) -> WrappedKey:
    if entry.master_id == new.key_id:
        return entry
    key = unwrap(rt.master.key_for(entry.master_id), entry.wrapped, entry.label)
    return WrappedKey(entry.purpose, entry.version, new.key_id,
                      wrap(new.key, key, entry.label), entry.created)


def _prove(rt: Runtime, new: MasterKey) -> None:
    """Every key opens under the new master, or nothing is switched over."""
    try:
        for entry in read_entries(rt.settings.keyring_file):
            if entry.master_id != new.key_id:
                raise RotationError(f"keyring key {entry.label} is not under the new master")
            unwrap(new.key, entry.wrapped, entry.label)
        for row in CustomerKey.select().iterator():
            if row.master_id != new.key_id:
                raise RotationError(f"customer {row.customer_id}'s key is not under the new "
                                    "master")
            unwrap(new.key, bytes(row.wrapped), f"customer:{row.customer_id}:v{row.version}")
    except RotationError:
        raise
    except Exception as exc:
        raise RotationError(f"a key does not open under the new master ({type(exc).__name__})"
                            "; the old master stays in force") from None
