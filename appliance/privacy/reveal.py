"""Provides reveal: a deliberate, reasoned, audited look at a masked phone or message.

The reason is free text (it may itself name the customer), so it is sealed in the
`reveal` table under the customer's own key, and dies with it at erasure; the audit
entry points at that row by id and holds no text. An auditor with the keys reads both:
who, what, when, and why.
"""

from __future__ import annotations

from appliance.auth.permissions import Principal, authorized, require
from appliance.crypto.aead import place
from appliance.errors import GembokError
from appliance.keys.customer_keys import CustomerKeysGone, customer_keys
from appliance.runtime import Runtime
from appliance.store.accounts import Reveal
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, Message
from appliance.store.sealed import open_text

MIN_REASON = 5
ERASED = "(erased with the customer)"


class ReasonRequired(GembokError):
    """A reveal needs a reason of a few words."""


def _record(rt: Runtime, principal: Principal, customer_id: int, target: str, reason: str,
            action: str, audit_target: str) -> None:
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise ReasonRequired(f"give a reason of at least {MIN_REASON} characters for revealing")
    keys = customer_keys(rt.master, customer_id)
    with db.atomic():
        row = Reveal.create(user=principal.user_id, target=target, customer_id=customer_id,
                            reason_sealed=b"\x00")
        row.reason_sealed = keys.seal(reason[:500].encode(), place("reveal", "reason", row.id))
        row.save()
        rt.audit(actor=principal.actor, action=action, target=audit_target,
                 detail={"reveal": row.id})


def _not_erased(customer: Customer) -> None:
    """Nothing of an erased customer is left to reveal: say so before recording a reveal
    (after the access check, so that someone who may not see them learns nothing)."""
    if customer.erased_at is not None:
        raise CustomerKeysGone(f"customer {customer.id} was erased: nothing is left to reveal")


def reason_of(rt: Runtime, principal: Principal, reveal_id: int) -> str:
    """The reason given for a reveal, for whoever audits it (it may name the customer)."""
    require(principal, "audit.read")
    row = Reveal.get_by_id(reveal_id)
    sealed, where = bytes(row.reason_sealed), place("reveal", "reason", row.id)
    if not sealed:
        return ERASED
    if row.customer_id is None:  # from before reasons were sealed under the customer's key
        return rt.keyring.system.open(sealed, where).decode()
    try:
        return customer_keys(rt.master, row.customer_id).open(sealed, where).decode()
    except CustomerKeysGone:
        return ERASED


def reveal_phone(rt: Runtime, principal: Principal, customer_id: int, reason: str) -> str:
    customer = authorized(principal, "customer.reveal_phone", Customer, customer_id)
    _not_erased(customer)
    _record(rt, principal, customer_id, f"customer:{customer_id}/phone", reason,
            "customer.phone_revealed", f"customer:{customer_id}")
    keys = customer_keys(rt.master, customer_id)
    return open_text(keys, Customer, "phone", customer_id, customer.phone_sealed) or ""


def reveal_message(rt: Runtime, principal: Principal, message_id: int, reason: str) -> str:
    message = authorized(principal, "message.reveal", Message, message_id)
    customer_id = Conversation.get_by_id(message.conversation_id).customer_id
    _not_erased(Customer.get_by_id(customer_id))
    _record(rt, principal, customer_id, f"message:{message_id}", reason, "message.revealed",
            f"message:{message_id}")
    keys = customer_keys(rt.master, customer_id)
    return open_text(keys, Message, "body", message_id, message.body_sealed) or ""
