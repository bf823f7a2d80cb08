"""Provides the master key file: created once, refused when others can read it.

The master key wraps every other key and never enters the database. Like ssh with a
private key, Gembok refuses a key file that group or others can read: a leaked master
key plus a copied database is every customer's data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.atomicfile import create_exclusive
from appliance.crypto.aead import KEY_BYTES, new_key
from appliance.errors import GembokError


class MasterKeyError(GembokError):
    """The master key file is missing, too open, or damaged."""


@dataclass(frozen=True, repr=False)
class MasterKey:
    key: bytes

    @property
    def key_id(self) -> str:
        """A fingerprint that names this key in the keyring without revealing it."""
        return hmac.new(self.key, b"gembok master key id", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id})"


class Masters:
    """The master keys this process knows: `current` wraps new keys, any of them unwraps.

    Normally there is one. During a master rotation (and after a crash in one) both the
    old and the new key are on disk, and a row names the one that wrapped it; a process
    meeting an id it does not know re-reads the key files before giving up.
    """

    def __init__(self, current: MasterKey, known: list[MasterKey],
                 reload: Callable[[], list[MasterKey]] | None = None) -> None:
        self.current = current
        self._known = {m.key_id: m for m in [current, *known]}
        self._reload = reload

    @property
    def key(self) -> bytes:
        return self.current.key

    @property
    def key_id(self) -> str:
        return self.current.key_id

    def key_for(self, key_id: str) -> bytes:
        if key_id not in self._known and self._reload is not None:
            self._known.update({m.key_id: m for m in self._reload()})
        found = self._known.get(key_id)
        if found is None:
            raise MasterKeyError(f"a key here was wrapped under master key id {key_id}, which "
                                 "this box does not have: restore that master key file")
        return found.key

    def use(self, key_id: str) -> None:
        """Makes `key_id` the current master (after a rotation finished in another process)."""
        self.key_for(key_id)
        self.current = MasterKey(self._known[key_id].key)

    def __repr__(self) -> str:
        return f"Masters(current={self.current.key_id}, known={sorted(self._known)})"


def rotation_path(path: Path) -> Path:
    """Where the next master key waits while a rotation is under way."""
    return path.with_name(path.name + ".new")


def load_masters(path: Path) -> list[MasterKey]:
    """The master key, and the next one when a rotation is under way (or was cut short)."""
    found = [load_master_key(path)]
    if rotation_path(path).exists():
        found.append(load_master_key(rotation_path(path)))
    return found


def load_master_key(path: Path) -> MasterKey:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise MasterKeyError(
            f"master key file {path} is missing: restore it from your key backup "
            f"(a new key cannot open existing data), or set master_key_file") from None
    except OSError as exc:
        raise MasterKeyError(f"cannot open master key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MasterKeyError(f"master key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise MasterKeyError(
                f"master key file {path} has permissions {stat.S_IMODE(info.st_mode):04o}, "
                f"too open: it must be readable by its owner only; run: chmod 600 {path}")
        if info.st_uid not in (os.getuid(), 0):
            raise MasterKeyError(f"master key file {path} belongs to uid {info.st_uid}, "
                                 f"neither this user ({os.getuid()}) nor root")
        text = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"master key file {path} is damaged: expected "
                             f"{KEY_BYTES * 2} hexadecimal characters")
    return MasterKey(key)


def create_master_key(path: Path) -> MasterKey:
    """Writes a new random master key; never replaces an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = new_key()
    try:
        create_exclusive(path, key.hex().encode() + b"\n", mode=0o600)
    except FileExistsError:
        raise MasterKeyError(f"master key file {path} already exists; "
                             "Gembok never overwrites a key") from None
    return MasterKey(key)
