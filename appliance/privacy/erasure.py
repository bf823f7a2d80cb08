"""Provides erasure (UU PDP Pasal 43): a customer's data destroyed, and kept destroyed.

Erasing destroys the customer's keys (every copy of their ciphertexts, in backups too,
becomes unreadable), clears their sealed fields, blind indexes and search tokens, and
appends their id to the erasure ledger: a file beside the database with ids and times
only, never data. A restore of an older backup re-applies the ledger, so an erased
customer stays erased.
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance.auth.permissions import Principal, require
from appliance.clock import utcnow
from appliance.config import Settings
from appliance.crypto.data_keys import shred_customer_keys
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.chatroom import CustomerToken
from appliance.store.db import db
from appliance.store.models import Customer


class ErasureError(GembokError):
    """The customer cannot be erased as asked."""


def ledger_path(settings: Settings) -> Path:
    return settings.data_dir / "erasure.ledger"


def ledger_ids(settings: Settings) -> set[int]:
    path = ledger_path(settings)
    if not path.exists():
        return set()
    return {int(line.split("\t")[0]) for line in path.read_text().splitlines()
            if line.strip() and line.split("\t")[0].isdigit()}


def _append(settings: Settings, customer_id: int) -> None:
    """One line, written and fsynced before the erasure is reported done."""
    fd = os.open(ledger_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{customer_id}\t{utcnow().isoformat(timespec='seconds')}Z\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def erase_customer(rt: Runtime, principal: Principal, customer_id: int) -> None:
    require(principal, "customer.erase")
    row = Customer.get_or_none(Customer.id == customer_id)
    if row is None:
        raise ErasureError(f"there is no customer {customer_id}")
    _append(rt.settings, customer_id)  # first: a crash after it re-erases, never forgets
    with db.atomic():
        _shred(customer_id)
        rt.audit(actor=principal.actor, action="customer.erased", target=f"customer:{customer_id}")


def _shred(customer_id: int) -> None:
    shred_customer_keys(customer_id)
    CustomerToken.delete().where(CustomerToken.customer == customer_id).execute()
    Customer.update(name_sealed=None, phone_sealed=None, phone_index=None, wa_user_sealed=None,
                    wa_user_index=None, erased_at=utcnow()).where(
        Customer.id == customer_id).execute()


def reapply(rt: Runtime) -> list[int]:
    """Erases again every ledger customer a restored database still holds; returns them."""
    again = []
    with db.atomic():
        for customer_id in sorted(ledger_ids(rt.settings)):
            row = Customer.get_or_none(Customer.id == customer_id)
            if row is not None and (row.erased_at is None or row.name_sealed is not None):
                _shred(customer_id)
                again.append(customer_id)
            elif row is not None:
                shred_customer_keys(customer_id)
        if again:
            rt.audit(actor="system", action="customer.re_erased", detail={"count": len(again)})
    return again
