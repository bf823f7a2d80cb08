"""Provides the DPO's file on one customer: their name, holds, corrections and open
requests, opened once and audited as a read (the DPO saw the customer's data too: the
processing trail and a breach report must know it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.auth.permissions import Denied, Principal, require
from appliance.inbox.customers import customer_record
from appliance.privacy import correction, holds, requests
from appliance.runtime import Runtime
from appliance.store.models import Customer


@dataclass(frozen=True, repr=False)
class CustomerFile:
    customer: Customer
    name: str
    on_hold: bool
    holds: list[holds.Hold] = field(default_factory=list)
    changes: list[correction.Correction] = field(default_factory=list)
    asked: list[requests.RequestView] = field(default_factory=list)

    def __repr__(self) -> str:  # never the name, in a log or a traceback
        return f"CustomerFile(customer={self.customer.id})"


def open_file(rt: Runtime, principal: Principal, customer_id: int) -> CustomerFile:
    require(principal, "privacy.manage")
    row = Customer.get_or_none(Customer.id == customer_id)
    if row is None:
        raise Denied()
    asked = [r for r in requests.queue(principal) if r.customer_id == customer_id]
    if row.erased_at is not None:
        return CustomerFile(row, "", False, asked=asked)
    rt.audit(actor=principal.actor, action="customer.read", target=f"customer:{customer_id}")
    return CustomerFile(row, customer_record(rt, row).name or "", holds.on_hold(customer_id),
                        holds.holds_of(rt, principal, customer_id),
                        correction.history(rt, principal, customer_id), asked)
