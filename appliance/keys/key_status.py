"""Provides what the Keys screen and `gembok keys status` show: each key, its version and age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import fn

from appliance.crypto.keyring import read_entries
from appliance.crypto.masterkey import rotation_path
from appliance.runtime import Runtime
from appliance.store.models import CustomerKey

PROTECTS = {
    "database": "the whole database file (SQLCipher)",
    "index": "blind indexes for search (phones, name words)",
    "audit": "the audit chain's seals and checkpoint",
    "system": "sealed settings, raw webhooks, reveal reasons",
}


@dataclass(frozen=True)
class KeyRow:
    name: str
    version: str
    age: str
    protects: str


def _age(iso: str) -> str:
    try:
        days = (datetime.now(UTC) - datetime.fromisoformat(iso)).days
    except ValueError:
        return "?"
    return f"{days} days"


def describe_keys(rt: Runtime) -> list[KeyRow]:
    rows = [KeyRow("master", rt.master.key_id, "-",
                   "wraps every other key" + (" (rotation under way)" if rotation_path(
                       rt.settings.master_key_path).exists() else ""))]
    latest: dict[str, tuple[int, str]] = {}
    for entry in read_entries(rt.settings.keyring_file):
        if entry.version >= latest.get(entry.purpose, (0, ""))[0]:
            latest[entry.purpose] = (entry.version, entry.created)
    for purpose, (version, created) in sorted(latest.items()):
        rows.append(KeyRow(purpose, f"v{version}", _age(created), PROTECTS.get(purpose, "")))
    count = CustomerKey.select(fn.COUNT(fn.DISTINCT(CustomerKey.customer))).scalar() or 0
    newest = CustomerKey.select(fn.MAX(CustomerKey.version)).scalar() or 0
    rows.append(KeyRow("customer keys", f"v{newest}" if newest else "-", f"{count} customers",
                       "each customer's names, numbers, messages, notes, media"))
    return rows
