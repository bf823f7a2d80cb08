"""Provides customers: created with their own data key, found by blind index, read with audit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from appliance.crypto.blind_index import InvalidPhoneNumber, normalise_phone
from appliance.inbox.search_tokens import reindex
from appliance.keys.customer_keys import create_customer_keys, customer_keys
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Customer
from appliance.store.sealed import open_text, seal_text
from appliance.whatsapp.webhook_parse import InboundMessage


@dataclass(frozen=True, repr=False)
class CustomerRecord:
    id: int
    name: str | None
    phone: str | None
    wa_user_id: str | None

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"CustomerRecord(id={self.id})"


def create_customer(rt: Runtime, *, name: str | None, phone: str | None = None,
                    wa_user_id: str | None = None, actor: str, strict_phone: bool = True) -> int:
    """A customer is known by phone, by business-scoped user id, or both (since 2026).

    `strict_phone=False` is for numbers WhatsApp itself vouches for: kept as sent even
    when the phone-number library does not know the range yet.
    """
    if phone is None and wa_user_id is None:
        raise ValueError("a customer needs a phone number or a WhatsApp user id")
    e164 = stored_phone(phone, rt.settings.region, strict_phone) if phone is not None else None
    with db.atomic():
        row = Customer.create()
        keys = create_customer_keys(rt.master, row.id)
        row.name_sealed = seal_text(keys, Customer, "name", row.id, name)
        row.phone_sealed = seal_text(keys, Customer, "phone", row.id, e164)
        row.phone_index = rt.index("phone", e164) if e164 else None
        row.wa_user_sealed = seal_text(keys, Customer, "wa_user", row.id, wa_user_id)
        row.wa_user_index = rt.index("wa_user", wa_user_id) if wa_user_id else None
        row.save()
        reindex(rt, row.id, name, e164)
        rt.audit(actor=actor, action="customer.created", target=f"customer:{row.id}")
    return int(row.id)


WHATSAPP_E164 = re.compile(r"\+[1-9][0-9]{5,14}")


def stored_phone(phone: str, region: str, strict: bool = False) -> str:
    """A number WhatsApp vouches for (`strict=False`) is E.164 already: `+` and the digits
    of Meta's `wa_id`, kept as sent (parsing it cost a first contact 15 % of its time)."""
    if not strict and WHATSAPP_E164.fullmatch(phone):
        return phone
    try:
        return normalise_phone(phone, region)
    except InvalidPhoneNumber:
        if strict:
            raise
        return phone


def find_by_phone(rt: Runtime, phone: str) -> int | None:
    index = rt.index.phone(phone, rt.settings.region)
    row = Customer.get_or_none(Customer.phone_index == index)
    return int(row.id) if row else None


def read_customer(rt: Runtime, customer_id: int, *, actor: str) -> CustomerRecord:
    """Opens a customer's fields and records who looked (the auditor's "who saw this?")."""
    record = customer_record(rt, Customer.get_by_id(customer_id))
    rt.audit(actor=actor, action="customer.read", target=f"customer:{customer_id}")
    return record


def customer_record(rt: Runtime, row: Customer) -> CustomerRecord:
    """A customer's fields opened for a service's own work (no person reads them here)."""
    keys = customer_keys(rt.master, row.id)
    return CustomerRecord(
        id=row.id,
        name=open_text(keys, Customer, "name", row.id, row.name_sealed),
        phone=open_text(keys, Customer, "phone", row.id, row.phone_sealed),
        wa_user_id=open_text(keys, Customer, "wa_user", row.id, row.wa_user_sealed))


def whatsapp_e164(wa_id: str) -> str:
    """Meta's `wa_id`/`from` are digits with the country code; E.164 adds the plus."""
    return "+" + "".join(ch for ch in wa_id if ch.isdigit())


def find_or_create_from_whatsapp(rt: Runtime, *, phone: str | None, user_id: str | None,
                                 name: str | None) -> int:
    """The customer behind an inbound message, known by BSUID, phone, or both.

    The BSUID wins when the two point at different customers (a number can be recycled;
    the business-scoped id cannot). A newly seen identity is added to the customer found.
    """
    e164 = whatsapp_e164(phone) if phone else None
    user_index = rt.index("wa_user", user_id) if user_id else None
    phone_index = rt.index("phone", e164) if e164 else None
    row = (Customer.get_or_none(Customer.wa_user_index == user_index) if user_index else None) \
        or (Customer.get_or_none(Customer.phone_index == phone_index) if phone_index else None)
    if row is None:
        return create_customer(rt, name=name, phone=e164, wa_user_id=user_id, actor="webhook",
                               strict_phone=False)
    keys = customer_keys(rt.master, row.id)
    changed = False
    if user_id and row.wa_user_index is None:
        row.wa_user_sealed = seal_text(keys, Customer, "wa_user", row.id, user_id)
        row.wa_user_index, changed = user_index, True
    if e164 and row.phone_index is None \
            and not Customer.select().where(Customer.phone_index == phone_index).exists():
        row.phone_sealed = seal_text(keys, Customer, "phone", row.id, e164)
        row.phone_index, changed = phone_index, True
    if name and row.name_sealed is None:
        row.name_sealed, changed = seal_text(keys, Customer, "name", row.id, name), True
    if changed:
        row.save()
        reindex(rt, row.id, open_text(keys, Customer, "name", row.id, row.name_sealed),
                open_text(keys, Customer, "phone", row.id, row.phone_sealed))
    return int(row.id)


NUMBER_CHANGED = "number_changed"  # the kind of the line that says so, with no number


def changed_number(m: InboundMessage) -> str | None:
    """The new WhatsApp id of a `system` / `user_changed_number` message, else None.

    Meta's body reads "User A changed from 6281... to 6285...": both whole numbers, which
    every agent of the division would have read. The line shown instead names neither.
    """
    if m.kind != "system":
        return None
    system = m.payload.get("system")
    if not isinstance(system, dict) or system.get("type") != "user_changed_number":
        return None
    wa_id = system.get("wa_id") or system.get("new_wa_id")
    if not isinstance(wa_id, str) or not wa_id.isascii() or not wa_id.isdigit():
        return None
    return wa_id


def move_number(rt: Runtime, customer_id: int, e164: str) -> bool:
    """Gives the customer a new number (WhatsApp told us they changed it); False when
    another customer already has that number (left as it is: a merge decides)."""
    index = rt.index("phone", e164)
    if Customer.select().where(Customer.phone_index == index,
                               Customer.id != customer_id).exists():
        rt.audit(actor="webhook", action="customer.number_change_held",
                 target=f"customer:{customer_id}")
        return False
    row = Customer.get_by_id(customer_id)
    keys = customer_keys(rt.master, customer_id)
    Customer.update(phone_sealed=seal_text(keys, Customer, "phone", customer_id, e164),
                    phone_index=index).where(Customer.id == customer_id).execute()
    reindex(rt, customer_id, open_text(keys, Customer, "name", customer_id, row.name_sealed),
            e164)
    rt.audit(actor="webhook", action="customer.number_changed", target=f"customer:{customer_id}")
    return True
