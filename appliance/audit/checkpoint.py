"""Provides the audit checkpoint: the chain's head, kept outside the database.

A hash chain alone cannot show that its tail was cut off, or that the whole database
was swapped for an older copy. The checkpoint file (sequence number and hash of the
last entry, sealed with the audit key) is written beside the keyring at least every
minute and at every stop; `verify` then compares the database's chain with it. It only
ever moves forward along the same chain: a writer that finds the database disagreeing
with the checkpoint refuses to overwrite it, so a rollback stays visible.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.atomicfile import write_atomic
from appliance.audit import chain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    written_at: str


class CheckpointError(Exception):
    """The checkpoint file is missing, damaged or not sealed by this audit key."""


def _mac(key: bytes, seq: int, entry_hash: str, written_at: str) -> str:
    message = f"gembok-audit-head|{seq}|{entry_hash}|{written_at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def read(path: Path, key: bytes) -> Checkpoint:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        point = Checkpoint(int(doc["seq"]), str(doc["hash"]), str(doc["written_at"]))
        mac = str(doc["mac"])
    except FileNotFoundError:
        raise CheckpointError(f"audit checkpoint {path} is missing: truncation and rollback "
                              "of the audit log cannot be checked") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"audit checkpoint {path} is damaged") from None
    if not hmac.compare_digest(mac, _mac(key, point.seq, point.entry_hash, point.written_at)):
        raise CheckpointError(f"audit checkpoint {path} is not sealed by the audit key: "
                              "it was edited or replaced")
    return point


def write(path: Path, key: bytes) -> Checkpoint | None:
    """Records the database's current head; returns None when it refuses (see module doc)."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        head = chain.current_head()
        if path.exists():
            old = read(path, key)
            if old.seq > head.seq:
                log.error("audit checkpoint not written: the database's audit chain ends at "
                          "#%d, before the checkpoint's #%d; run `gembok audit verify`",
                          head.seq, old.seq)
                return None
            if old.seq == head.seq and old.entry_hash == head.entry_hash:
                return old
            at_old = chain.entry_at(old.seq) if old.seq else None
            old_hash = at_old.entry_hash if at_old else chain.GENESIS
            if old_hash != old.entry_hash:
                log.error("audit checkpoint not written: entry #%d in the database differs "
                          "from the checkpoint; run `gembok audit verify`", old.seq)
                return None
        written_at = datetime.now(UTC).isoformat(timespec="seconds")
        doc = {"seq": head.seq, "hash": head.entry_hash, "written_at": written_at,
               "mac": _mac(key, head.seq, head.entry_hash, written_at)}
        write_atomic(path, (json.dumps(doc) + "\n").encode(), mode=0o600)
        return Checkpoint(head.seq, head.entry_hash, written_at)


def reset(path: Path, key: bytes) -> Checkpoint:
    """Re-anchors the checkpoint on the database's head after a deliberate restore.

    Only `recovery.restore` calls this, right after it appended the audited
    `backup.restored` entry: the rollback is then on record, not hidden.
    """
    path.unlink(missing_ok=True)
    point = write(path, key)
    assert point is not None
    return point
