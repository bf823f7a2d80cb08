"""Everything the keys on a box can open: what a thief with the box, its master key and
every file in its data dir would read. Erasure is judged against it.

Every blob column of every table is tried with every key the box holds (the keyring's
database, index, audit and system keys of every version, and every customer's data key
still in the database), with the associated data of its own cell (by row id, uid or
name); whatever opens is yielded, and so is the clear text of the whole database
(SQLCipher opened with the database key), so that a value kept in clear is found too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from appliance.crypto.aead import KeySet, SealError, key_version_of, place
from appliance.crypto.keyring import Keyring, load_keyring
from appliance.crypto.masterkey import load_masters
from appliance.crypto.wrap import unwrap
from appliance.store.db import db, open_database, open_server

_ROW_NAMES = ("id", "uid", "name")  # what a sealed cell's associated data calls its row


def _customer_keys(keyring: Keyring) -> list[bytes]:
    return [unwrap(keyring.master.key_for(master_id), bytes(wrapped),
                   f"customer:{customer_id}:v{version}")
            for customer_id, version, master_id, wrapped in db.execute_sql(
                "SELECT customer_id, version, master_id, wrapped FROM customer_key").fetchall()]


def _open_any(keys: list[bytes], token: bytes, places: list[bytes]) -> bytes | None:
    try:
        version = key_version_of(token)
    except Exception:
        return None
    if not 0 < version < 2**32:
        return None
    for key in keys:
        keyset = KeySet({version: key})
        for where in places:
            try:
                return keyset.open(token, where)
            except SealError:
                continue
    return None


def readable(data_dir: Path, master_key_file: Path, store_url: str = "") -> Iterator[bytes]:
    """Yields every plaintext any key on the box opens, then the database's clear dump
    (the SQLCipher file in the data dir, or the PostgreSQL store at `store_url`)."""
    keyring = load_keyring(data_dir / "keyring.json", load_masters(master_key_file))
    if store_url:
        open_server(store_url, None, None)
    else:
        open_database(data_dir / "gembok.db", keyring.current("database"))
    try:
        keys = [key for versions in keyring.keys.values() for key in versions.values()]
        keys += _customer_keys(keyring)
        for table in db.get_tables():
            columns = db.get_columns(table)
            names = [c.name for c in columns]
            blobs = [c.name for c in columns if c.data_type.upper() in ("BLOB", "BYTEA")]
            ids = [n for n in _ROW_NAMES if n in names]
            if not blobs or not ids:
                continue
            select = ", ".join(f'"{n}"' for n in ids + blobs)
            for row in db.execute_sql(f'SELECT {select} FROM "{table}"').fetchall():  # noqa: S608
                row_ids, values = row[:len(ids)], row[len(ids):]
                for column, value in zip(blobs, values, strict=True):
                    if not value:
                        continue
                    stem = {"totp_secret_sealed": "totp"}.get(column,
                                                              column.removesuffix("_sealed"))
                    places = [place(table, stem, rid) for rid in row_ids
                              if rid is not None and "|" not in str(rid)]
                    opened = _open_any(keys, bytes(value), places)
                    if opened is not None:
                        yield opened
        for table in db.get_tables():  # and every cell as it lies in the database
            for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():  # noqa: S608
                for cell in row:
                    if isinstance(cell, (bytes, memoryview)):
                        yield bytes(cell)
                    elif cell is not None:
                        yield str(cell).encode()
    finally:
        db.close()


def leaks(data_dir: Path, master_key_file: Path, canaries: list[bytes],
          store_url: str = "") -> list[str]:
    """Which canaries some key on the box still opens (empty: none)."""
    found = set()
    for plain in readable(data_dir, master_key_file, store_url):
        for canary in canaries:
            if canary in plain:
                found.add(canary.decode(errors="replace"))
    return sorted(found)
