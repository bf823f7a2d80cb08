"""Provides changing a customer's number by staff, and merging two records of one person.

Replies go to the customer's number: whoever changes it decides who receives the next
message. So it takes a permission (supervisors), a reason (sealed under the customer's
key, like a reveal's), and an audit entry. A number that another customer record holds
is not refused with a message that would say so to someone who may not see that
customer: the change waits for a merge instead, which an administrator carries out on
the box (`gembok customer merge`), and the answer says nothing about the other record.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.auth.permissions import Denied, Principal, authorized, require
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet, place
from appliance.crypto.blind_index import normalise_phone
from appliance.errors import GembokError
from appliance.inbox.search_tokens import reindex
from appliance.keys.customer_keys import customer_keys, shred_customer_keys
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import bulk, customer_data
from appliance.store.accounts import CustomerChange
from appliance.store.chatroom import CustomerToken
from appliance.store.customer_data import Owned
from appliance.store.db import db
from appliance.store.models import Customer
from appliance.store.numbers import CustomerWindow
from appliance.store.sealed import open_text, seal_text

MIN_REASON = 5


class NumberChangeError(GembokError):
    """The number cannot be changed as asked; the message says why, and names nobody."""


@dataclass(frozen=True)
class ChangeOutcome:
    change_id: int
    state: str  # done, merge_pending
    message: str


def change_phone(rt: Runtime, principal: Principal, customer_id: int, phone: str,
                 reason: str) -> ChangeOutcome:
    row = authorized(principal, "customer.change_phone", Customer, customer_id)
    if row.erased_at is not None:
        raise Denied()
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise NumberChangeError(f"give a reason of at least {MIN_REASON} characters for "
                                "changing the number (replies will go to the new one)")
    e164 = normalise_phone(phone, rt.settings.region)
    index = rt.index("phone", e164)
    keys = customer_keys(rt.master, row.id)
    taken = Customer.select().where(Customer.phone_index == index,
                                    Customer.id != row.id).exists()
    with db.atomic():
        change = CustomerChange.create(customer=row.id, user=principal.user_id or None,
                                       field="phone",
                                       state="merge_pending" if taken else "done",
                                       value_index=index)
        where = place("customer_change", "reason", change.id)
        CustomerChange.update(
            reason_sealed=keys.seal(reason[:500].encode(), where),
            value_sealed=keys.seal(e164.encode(), place("customer_change", "value", change.id)),
            settled_at=None if taken else utcnow()).where(
            CustomerChange.id == change.id).execute()
        if not taken:
            _set_phone(rt, row, keys, e164, index)
        rt.audit(actor=principal.actor, action="customer.phone_change_held" if taken
                 else "customer.phone_changed", target=f"customer:{row.id}",
                 detail={"change": change.id})
    if taken:
        return ChangeOutcome(change.id, "merge_pending",
                             "this number is already on another customer record: the change "
                             "waits for an administrator to merge the two records")
    return ChangeOutcome(change.id, "done", "number changed")


def _set_phone(rt: Runtime, row: Customer, keys: KeySet, e164: str, index: bytes) -> None:
    Customer.update(phone_sealed=seal_text(keys, Customer, "phone", row.id, e164),
                    phone_index=index).where(Customer.id == row.id).execute()
    reindex(rt, row.id, open_text(keys, Customer, "name", row.id, row.name_sealed), e164)


@dataclass(frozen=True)
class PendingMerge:
    change_id: int
    customer_id: int
    other_id: int | None  # None: the other record is gone; merging just sets the number
    asked_by: int | None
    at: str


def pending_merges(principal: Principal) -> list[PendingMerge]:
    """Changes waiting for a merge, ids only (for the box admin)."""
    require(principal, "customer.merge")
    out = []
    for change in CustomerChange.select().where(CustomerChange.state == "merge_pending"):
        other = Customer.get_or_none(Customer.phone_index == change.value_index)
        out.append(PendingMerge(change.id, change.customer_id, other.id if other else None,
                                change.user_id, str(change.at)))
    return out


def merge(rt: Runtime, principal: Principal, change_id: int) -> int | None:
    """Carries out a change that waited: the other record's conversations, notes, media
    and reveals move to this customer, re-sealed under this customer's key; then the
    other record's key is destroyed and the number is this customer's. Returns the id of
    the record merged away (None when it was already gone)."""
    require(principal, "customer.merge")
    change = CustomerChange.get_or_none(CustomerChange.id == change_id,
                                        CustomerChange.state == "merge_pending")
    if change is None:
        raise NumberChangeError(f"there is no change {change_id} waiting for a merge")
    keep = Customer.get_by_id(change.customer_id)
    keys = customer_keys(rt.master, keep.id)
    e164 = keys.open(bytes(change.value_sealed or b""),
                     place("customer_change", "value", change.id)).decode()
    other = Customer.get_or_none(Customer.phone_index == change.value_index,
                                 Customer.id != keep.id)
    with db.atomic():
        if other is not None:
            _move_everything(rt, other, keep, keys)
        _set_phone(rt, keep, keys, e164, bytes(change.value_index or b""))
        CustomerChange.update(state="merged", settled_at=utcnow()).where(
            CustomerChange.id == change.id).execute()
        rt.audit(actor=principal.actor, action="customer.merged", target=f"customer:{keep.id}",
                 detail={"change": change.id, "from": other.id if other else 0})
    return None if other is None else int(other.id)


def _move_everything(rt: Runtime, other: Customer, keep: Customer, keys: KeySet) -> None:
    old = customer_keys(rt.master, other.id)

    def again(entry: Owned, purpose: str, row_id: int, token: bytes) -> bytes:
        where = place(entry.table, purpose, row_id)
        return keys.seal(old.open(token, where), where)

    customer_data.reseal_owned(other.id, again)  # while the rows are still the other's
    customer_data.move_owned(other.id, keep.id)
    if other.last_inbound_at and (keep.last_inbound_at is None
                                  or other.last_inbound_at > keep.last_inbound_at):
        Customer.update(last_inbound_at=other.last_inbound_at).where(
            Customer.id == keep.id).execute()
    bulk.advance_windows([(keep.id, w.number_id, str(w.last_inbound_at)) for w in
                          CustomerWindow.select().where(CustomerWindow.customer == other.id)])
    if keep.wa_user_index is None and other.wa_user_index is not None:
        user_id = open_text(old, Customer, "wa_user", other.id, other.wa_user_sealed)
        Customer.update(wa_user_index=None).where(Customer.id == other.id).execute()
        Customer.update(wa_user_sealed=seal_text(keys, Customer, "wa_user", keep.id, user_id),
                        wa_user_index=other.wa_user_index).where(
            Customer.id == keep.id).execute()
    CustomerToken.delete().where(CustomerToken.customer == other.id).execute()
    shred_customer_keys(other.id)
    customer_data.forget_record(other.id, utcnow())
    consent.carry_over(other.id, keep.id)  # after forget_record: the ledger allows it then
