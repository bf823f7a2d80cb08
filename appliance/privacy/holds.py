"""Provides legal holds: a customer whose data the business must keep (a dispute, a court
order, a tax audit) is neither erased nor purged by retention until the DPO releases them.

The reason may name the customer ("Ibu Rina's complaint to the police"), so it is sealed
under the customer's key; setting and releasing are audited by ids only.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.auth.permissions import Denied, Principal, require
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Customer
from appliance.store.privacy import LegalHold
from appliance.store.sealed import open_text, seal_text

MIN_REASON = 5


class HoldError(GembokError):
    """A hold cannot be set or released as asked."""


@dataclass(frozen=True)
class Hold:
    id: int
    customer_id: int
    reason: str
    set_by: str
    set_at: str
    released_at: str
    released_by: str


def on_hold(customer_id: int) -> bool:
    return LegalHold.select().where(LegalHold.customer == customer_id,
                                    LegalHold.released_at.is_null()).exists()


def held_customers() -> set[int]:
    return {h.customer_id for h in LegalHold.select(LegalHold.customer)
            .where(LegalHold.released_at.is_null())}


def set_hold(rt: Runtime, principal: Principal, customer_id: int, reason: str) -> int:
    require(principal, "privacy.manage")
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise Denied()
    if customer.erased_at is not None:
        raise HoldError(f"customer {customer_id} was erased: nothing is left to hold")
    reason = " ".join(reason.split())[:500]
    if len(reason) < MIN_REASON:
        raise HoldError(f"give the hold's reason in at least {MIN_REASON} characters "
                        "(the case, the order, the audit)")
    if on_hold(customer_id):
        raise HoldError(f"customer {customer_id} is on hold already")
    keys = customer_keys(rt.master, customer_id)
    with db.atomic():
        row = LegalHold.create(customer=customer_id, set_by=principal.actor)
        row.reason_sealed = seal_text(keys, LegalHold, "reason", row.id, reason)
        row.save()
        rt.audit(actor=principal.actor, action="customer.hold_set",
                 target=f"customer:{customer_id}", detail={"hold": row.id})
    return int(row.id)


def release(rt: Runtime, principal: Principal, customer_id: int) -> None:
    require(principal, "privacy.manage")
    with db.atomic():
        changed = LegalHold.update(released_at=utcnow(), released_by=principal.actor).where(
            LegalHold.customer == customer_id, LegalHold.released_at.is_null()).execute()
        if not changed:
            raise HoldError(f"customer {customer_id} is not on hold")
        rt.audit(actor=principal.actor, action="customer.hold_released",
                 target=f"customer:{customer_id}")


def holds_of(rt: Runtime, principal: Principal, customer_id: int) -> list[Hold]:
    require(principal, "privacy.manage")
    rows = list(LegalHold.select().where(LegalHold.customer == customer_id)
                .order_by(LegalHold.id.desc()))
    if not rows:
        return []
    keys = customer_keys(rt.master, customer_id)
    return [Hold(r.id, r.customer_id,
                 open_text(keys, LegalHold, "reason", r.id, r.reason_sealed) or "",
                 r.set_by, str(r.set_at), str(r.released_at or ""), r.released_by)
            for r in rows]


def list_holds(principal: Principal) -> list[tuple[int, int, str, str]]:
    """(hold id, customer id, set by, since) of every hold in force; reasons stay sealed."""
    require(principal, "privacy.manage")
    return [(r.id, r.customer_id, r.set_by, str(r.set_at)) for r in
            LegalHold.select().where(LegalHold.released_at.is_null()).order_by(LegalHold.id)]
