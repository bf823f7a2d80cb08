"""Provides correction (UU PDP Pasal 30): the DPO fixes a customer's name, and the value it
replaces is kept, sealed under the customer's key, in the record's change history.

The history is the same table as staff's number changes (`customer_change`, field
`name`): its `value_sealed` holds the name as it was before the correction, so a
correction made in error can be seen and undone, and erasure takes it with the rest.
The search index follows the new name at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.auth.permissions import Denied, Principal, require
from appliance.errors import GembokError
from appliance.inbox.customers import customer_record
from appliance.inbox.search_tokens import reindex
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.accounts import CustomerChange
from appliance.store.db import db
from appliance.store.models import Customer
from appliance.store.sealed import open_text, seal_text

MAX_NAME = 120
MIN_REASON = 5


class CorrectionError(GembokError):
    """The correction cannot be made as typed; the message says what to type instead."""


@dataclass(frozen=True, repr=False)
class Correction:
    id: int
    field: str
    before: str
    reason: str
    by: str
    at: str

    def __repr__(self) -> str:
        return f"Correction(id={self.id})"


def correct_name(rt: Runtime, principal: Principal, customer_id: int, name: str,
                 reason: str) -> int:
    require(principal, "privacy.manage")
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise Denied()
    if customer.erased_at is not None:
        raise CorrectionError(f"customer {customer_id} was erased: nothing is left to correct")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise CorrectionError(f"the corrected name is 1 to {MAX_NAME} characters")
    reason = " ".join(reason.split())[:500]
    if len(reason) < MIN_REASON:
        raise CorrectionError(f"say why in at least {MIN_REASON} characters (the request, "
                              "the document the customer showed)")
    record = customer_record(rt, customer)
    if record.name == name:
        raise CorrectionError("the name is already so: nothing to correct")
    keys = customer_keys(rt.master, customer_id)
    with db.atomic():
        change = CustomerChange.create(customer=customer_id, user=principal.user_id or None,
                                       field="name", state="done")
        change.value_sealed = seal_text(keys, CustomerChange, "value", change.id,
                                        record.name or "")
        change.reason_sealed = seal_text(keys, CustomerChange, "reason", change.id, reason)
        change.save()
        customer.name_sealed = seal_text(keys, Customer, "name", customer_id, name)
        customer.save()
        reindex(rt, customer_id, name, record.phone)
        rt.audit(actor=principal.actor, action="customer.corrected",
                 target=f"customer:{customer_id}", detail={"field": "name",
                                                           "change": change.id})
    return int(change.id)


def history(rt: Runtime, principal: Principal, customer_id: int) -> list[Correction]:
    """Every change of the customer's record, newest first, with the values as sealed."""
    require(principal, "privacy.manage")
    rows = list(CustomerChange.select().where(CustomerChange.customer == customer_id)
                .order_by(CustomerChange.id.desc()))
    if not rows:
        return []
    keys = customer_keys(rt.master, customer_id)
    return [Correction(r.id, r.field,
                       open_text(keys, CustomerChange, "value", r.id, r.value_sealed) or "",
                       open_text(keys, CustomerChange, "reason", r.id, r.reason_sealed) or "",
                       f"user:{r.user_id}" if r.user_id else "cli", str(r.at)) for r in rows]
