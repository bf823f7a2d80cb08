"""Provides sealed fields: AES-256-GCM with a versioned, self-describing format.

Format (Fernet-like): version (1 byte) | key version (4 bytes) | nonce (12) | ciphertext+tag.
The header and the field's place (table, column, row id) are the associated data, so a
ciphertext cannot be moved to another row, column or table, nor relabelled with another
key version, without failing to open. Seal with the newest key, open with any listed,
as MultiFernet does, so data keys can rotate while rows are re-encrypted in the background.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
_HEADER = struct.Struct(">BI")
_NONCE_BYTES = 12
_TAG_BYTES = 16
KEY_BYTES = 32


class SealError(Exception):
    """A sealed value did not open: wrong key, wrong place, or damaged. One opaque kind.

    Which of these it was is deliberately not said: telling them apart helps an attacker
    more than an operator, and the value itself is never in the message.
    """

    def __init__(self, where: str = "") -> None:
        at = f" at {where}" if where else ""
        super().__init__(f"a sealed value{at} cannot be opened: it was damaged, moved from "
                         "another place, or sealed under another key")


def place(table: str, column: str, row_id: int | str) -> bytes:
    """The associated data that pins a value to one cell of one table."""
    for part in (table, column, str(row_id)):
        if "|" in part or not part:
            raise ValueError("table, column and row id must be non-empty and contain no '|'")
    return f"{table}|{column}|{row_id}".encode()


class KeySet:
    """The versions of one data key: seal with the newest, open with any of them."""

    def __init__(self, versions: Mapping[int, bytes]) -> None:
        if not versions:
            raise ValueError("a key set needs at least one key")
        for version, key in versions.items():
            if len(key) != KEY_BYTES or not 0 < version < 2**32:
                raise ValueError("keys are 32 bytes with a version from 1 to 2**32-1")
        self._ciphers = {v: AESGCM(k) for v, k in versions.items()}
        self.current = max(versions)

    @property
    def versions(self) -> list[int]:
        return sorted(self._ciphers)

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        header = _HEADER.pack(FORMAT_VERSION, self.current)
        nonce = os.urandom(_NONCE_BYTES)
        return header + nonce + self._ciphers[self.current].encrypt(nonce, plaintext,
                                                                     header + where)

    def open(self, token: bytes, where: bytes) -> bytes:
        if len(token) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES:
            raise SealError(where.decode(errors="replace"))
        fmt, version = _HEADER.unpack_from(token)
        cipher = self._ciphers.get(version)
        if fmt != FORMAT_VERSION or cipher is None:
            raise SealError(where.decode(errors="replace"))
        header = token[:_HEADER.size]
        nonce = token[_HEADER.size:_HEADER.size + _NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, token[_HEADER.size + _NONCE_BYTES:], header + where)
        except InvalidTag:
            raise SealError(where.decode(errors="replace")) from None


def key_version_of(token: bytes) -> int:
    """The key version a sealed value names, for rotation jobs that look for old rows."""
    return int(_HEADER.unpack_from(token)[1])


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)
