"""Provides sealing and opening of a model's `_sealed` columns, pinned to table, column and row.

Sealing lives here and not in a peewee Field so that the row id (part of the associated
data) is always known, and so that nothing seals or opens by accident on a bulk query.
"""

from __future__ import annotations

from peewee import Model

from appliance.crypto.aead import KeySet, place


def where(model: type[Model], column: str, row_id: int) -> bytes:
    return place(model._meta.table_name, column, row_id)


def seal_text(keys: KeySet, model: type[Model], column: str, row_id: int,
              value: str | None) -> bytes | None:
    if value is None:
        return None
    return keys.seal(value.encode("utf-8"), where(model, column, row_id))


def open_text(keys: KeySet, model: type[Model], column: str, row_id: int,
              token: bytes | None) -> str | None:
    if token is None:
        return None
    return keys.open(bytes(token), where(model, column, row_id)).decode("utf-8")
