"""Provides the keyring file: the appliance's own keys, each wrapped by the master key.

It holds the database key (SQLCipher), the blind-index key, the audit key and the
system data key, with versions and the id of the master key that wrapped them. It lives
beside the database, never inside it (the database key cannot be stored in the database
it opens, and the audit key must stay out of reach of whoever can edit the database).
Backups are the encrypted database plus this file; never the master key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.atomicfile import create_exclusive, write_atomic
from appliance.crypto.aead import KeySet, new_key
from appliance.crypto.masterkey import MasterKey, Masters
from appliance.crypto.wrap import UnwrapError, unwrap, wrap
from appliance.errors import GembokError

FILE_FORMAT = 1
PURPOSES = ("database", "index", "audit", "system")


class KeyringError(GembokError):
    """The keyring file is missing or damaged."""


class WrongMasterKeyError(GembokError):
    """The master key given is not the one that wrapped this data dir's keys."""


@dataclass(frozen=True)
class WrappedKey:
    purpose: str
    version: int
    master_id: str
    wrapped: bytes
    created: str

    @property
    def label(self) -> str:
        return f"{self.purpose}:v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "version": self.version, "master_id": self.master_id,
                "wrapped": base64.b64encode(self.wrapped).decode(), "created": self.created}


@dataclass(repr=False)
class Keyring:
    """The unwrapped keys of one process. Never printed, logged or pickled."""

    master: Masters
    entries: list[WrappedKey]
    keys: dict[str, dict[int, bytes]] = field(default_factory=dict)

    def current(self, purpose: str) -> bytes:
        versions = self.keys[purpose]
        return versions[max(versions)]

    @property
    def database_key(self) -> bytes:
        """The key that opened the file; for a keyring no file was opened with (a backup's),
        the newest, which is the one in force unless a rekey was left unfinished."""
        versions = self.keys["database"]
        return versions[self.database_version] if self.database_version in versions \
            else self.current("database")

    # Which database key version opened the file (set by `runtime.open_runtime`); during a
    # rekey the keyring holds two and the file fits exactly one of them.
    database_version: int = 0

    @property
    def index_key(self) -> bytes:
        return self.current("index")

    @property
    def audit_key(self) -> bytes:
        return self.current("audit")

    @property
    def system(self) -> KeySet:
        return KeySet(self.keys["system"])

    def __repr__(self) -> str:
        return f"Keyring(master={self.master.key_id}, keys={len(self.entries)})"

    def __reduce__(self) -> Any:
        raise TypeError("a keyring is never pickled")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def create_keyring(path: Path, master: MasterKey) -> Keyring:
    """Makes version 1 of every purpose's key; refuses to replace an existing keyring."""
    plain = {purpose: new_key() for purpose in PURPOSES}
    created = _now()
    entries = [WrappedKey(purpose, 1, master.key_id, wrap(master.key, key, f"{purpose}:v1"),
                          created) for purpose, key in plain.items()]
    try:
        create_exclusive(path, _dump(entries), mode=0o600)
    except FileExistsError:
        raise KeyringError(f"keyring {path} already exists; Gembok never overwrites keys") from None
    return Keyring(Masters(master, []), entries, {p: {1: k} for p, k in plain.items()})


def load_keyring(path: Path, masters: MasterKey | list[MasterKey],
                 reload: Callable[[], list[MasterKey]] | None = None) -> Keyring:
    """Opens the keyring with whichever known master key wrapped it."""
    known = masters if isinstance(masters, list) else [masters]
    entries = read_entries(path)
    by_id = {m.key_id: m for m in known}
    wrapped_under = sorted({e.master_id for e in entries})
    usable = [by_id[i] for i in wrapped_under if i in by_id]
    if len(usable) != len(wrapped_under) or not usable:
        ids = ", ".join(sorted(by_id))
        raise WrongMasterKeyError(
            f"the master key (id {ids}) is not the one that protects this data dir: "
            f"{path} was wrapped under master key id {', '.join(wrapped_under)}; use that key "
            "file (nothing was changed)")
    master = usable[0]  # the file is replaced whole: one master wrapped all of it
    keys: dict[str, dict[int, bytes]] = {}
    for entry in entries:
        try:
            keys.setdefault(entry.purpose, {})[entry.version] = unwrap(
                by_id[entry.master_id].key, entry.wrapped, entry.label)
        except UnwrapError:
            raise WrongMasterKeyError(
                f"key {entry.label} in {path} does not open under master key id "
                f"{entry.master_id}: the keyring was altered or belongs to another master key "
                "(nothing was changed)") from None
    missing = [p for p in PURPOSES if p not in keys]
    if missing:
        raise KeyringError(f"keyring {path} lacks keys for {', '.join(missing)}; "
                           "restore it from your backup")
    return Keyring(Masters(master, known, reload), entries, keys)


def read_entries(path: Path) -> list[WrappedKey]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyringError(f"keyring {path} is missing: restore it from your backup "
                           "(the database cannot be opened without it)") from None
    except (OSError, ValueError) as exc:
        raise KeyringError(f"keyring {path} cannot be read: {exc}") from None
    try:
        if doc["format"] != FILE_FORMAT:
            raise KeyringError(f"keyring {path} has format {doc['format']!r}; this Gembok "
                               f"reads format {FILE_FORMAT}")
        return [WrappedKey(k["purpose"], int(k["version"]), k["master_id"],
                           base64.b64decode(k["wrapped"], validate=True), k["created"])
                for k in doc["keys"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyringError(f"keyring {path} is damaged ({exc!r}); restore it from your backup") \
            from None


def save_entries(path: Path, entries: list[WrappedKey]) -> None:
    """Replaces the keyring atomically (write, fsync, rename, fsync dir): for rotations."""
    write_atomic(path, _dump(entries), mode=0o600)


def _dump(entries: list[WrappedKey]) -> bytes:
    doc = {"format": FILE_FORMAT,
           "note": "Gembok keyring: keys wrapped by the master key. Back it up with the database.",
           "keys": [e.to_json() for e in entries]}
    return (json.dumps(doc, indent=2) + "\n").encode()
