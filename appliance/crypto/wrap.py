"""Provides key wrapping: a key encrypted under the master key, bound to its label.

The label (such as `database:v1` or `customer:42:v1`) is associated data, so a wrapped
key cannot be swapped for another one's in the keyring file or the database.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT = b"\x01"
_NONCE_BYTES = 12


class UnwrapError(Exception):
    """A wrapped key did not open under this master key (wrong master key, or damaged)."""


def wrap(master: bytes, key: bytes, label: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(master).encrypt(nonce, key, _aad(label))


def unwrap(master: bytes, wrapped: bytes, label: str) -> bytes:
    if wrapped[:1] != _FORMAT or len(wrapped) < 1 + _NONCE_BYTES + 16:
        raise UnwrapError(f"wrapped key {label} has an unknown format")
    nonce = wrapped[1:1 + _NONCE_BYTES]
    try:
        return AESGCM(master).decrypt(nonce, wrapped[1 + _NONCE_BYTES:], _aad(label))
    except InvalidTag:
        raise UnwrapError(f"wrapped key {label} does not open under this master key") from None


def _aad(label: str) -> bytes:
    return b"gembok-wrap|" + label.encode()
