"""Provides per-customer data keys (DEKs), wrapped by the master key and kept in the database.

Each customer's fields are sealed under that customer's own key, so erasing a customer
is destroying their key rows (crypto-shredding): every copy of their ciphertexts, in
backups too, becomes unreadable at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from appliance.clock import utcnow
from appliance.crypto.aead import KeySet, new_key
from appliance.crypto.masterkey import Masters
from appliance.crypto.wrap import unwrap, wrap
from appliance.errors import GembokError
from appliance.store import key_rows
from appliance.store.keystate import AppState
from appliance.store.models import CustomerKey


class CustomerKeysGone(GembokError):
    """The customer's keys were destroyed (erased): their data can no longer be read."""


def _label(customer_id: int, version: int) -> str:
    return f"customer:{customer_id}:v{version}"


def create_customer_keys(master: Masters, customer_id: int) -> KeySet:
    """A new customer's key, wrapped by the current master: the one every process agrees on
    in the database, which may have changed since this process started (a rotation)."""
    state = AppState.get_or_none(AppState.name == "master_id")
    if state is not None and state.value != master.key_id:
        master.use(state.value)
    key = new_key()
    CustomerKey.create(customer=customer_id, version=1, master_id=master.key_id,
                       wrapped=wrap(master.key, key, _label(customer_id, 1)))
    return KeySet({1: key})


def store_new_customer_keys(master: Masters, keys: Mapping[int, bytes]) -> None:
    """New customers' keys (id -> raw key) as `create_customer_keys` would store them, one
    statement for all: the batch path of webhook ingest, for first contacts in bulk."""
    state = AppState.get_or_none(AppState.name == "master_id")
    if state is not None and state.value != master.key_id:
        master.use(state.value)
    now = str(utcnow())
    key_rows.insert_first_keys([(cid, master.key_id, wrap(master.key, key, _label(cid, 1)), now)
                                for cid, key in keys.items()])


def customer_keys(master: Masters, customer_id: int) -> KeySet:
    rows = list(CustomerKey.select().where(CustomerKey.customer == customer_id))
    if not rows:
        raise CustomerKeysGone(f"customer {customer_id} was erased: their keys are destroyed")
    return KeySet({r.version: unwrap(master.key_for(r.master_id), bytes(r.wrapped),
                                     _label(customer_id, r.version)) for r in rows})


def shred_customer_keys(customer_id: int) -> int:
    """Deletes every version of the customer's key (secure_delete overwrites the pages)."""
    return int(CustomerKey.delete().where(CustomerKey.customer == customer_id).execute())


def customer_keysets(master: Masters, customer_ids: set[int]) -> dict[int, KeySet]:
    """The keys of many customers in one query, for batch work (webhook ingest)."""
    versions: dict[int, dict[int, bytes]] = {}
    ids = sorted(customer_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in CustomerKey.select().where(CustomerKey.customer.in_(chunk)):
            versions.setdefault(row.customer_id, {})[row.version] = unwrap(
                master.key_for(row.master_id), bytes(row.wrapped),
                _label(row.customer_id, row.version))
    return {cid: KeySet(v) for cid, v in versions.items()}
