"""Provides `FirstContacts`: customers never seen before, made in bulk in a batch's transaction.

Through the model path (`customers.create_customer`) each first contact cost about
thirty statements (a row, its key, a save, its search tokens, an audit entry with its
own savepoint and chain-head query, then a conversation): the whole box processed 429
first contacts/s (issue 11). Here the new customers of a batch of webhooks get their ids
up front and are written with one statement per table, in the caller's transaction: the
same rows as `create_customer` makes (name, phone and WhatsApp user id sealed under the
customer's own key, their blind indexes, search tokens of the name's words and the
phone's last four digits only, the key wrapped under the current master, one
"customer.created" audit entry each, chained in order).

Ids are MAX(id) + 1 read inside the caller's IMMEDIATE transaction, where no other
writer can insert; so `flush` must run before anything else in that transaction makes a
customer the model way (which would take the same ids), and before anything looks one
up in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.audit import chain
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet, new_key
from appliance.inbox.customers import stored_phone, whatsapp_e164
from appliance.inbox.search_tokens import tokens_for
from appliance.keys.customer_keys import store_new_customer_keys
from appliance.runtime import Runtime
from appliance.store import bulk
from appliance.store.models import Customer
from appliance.store.sealed import seal_text

ACTOR, ACTION = "webhook", "customer.created"  # as find_or_create_from_whatsapp audits it


@dataclass(frozen=True, repr=False)
class NewCustomer:
    id: int
    name: str | None
    phone: str | None  # E.164 as stored (as create_customer normalises it)
    user_id: str | None
    phone_index: bytes | None
    user_index: bytes | None
    key: bytes
    keys: KeySet

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"NewCustomer(id={self.id})"


class FirstContacts:
    """The new customers of one batch, written together by `flush`."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pending: list[NewCustomer] = []
        self._ids = bulk.Ids("customer")

    def add(self, *, phone: str | None, user_id: str | None, name: str | None) -> NewCustomer:
        """A customer for a message from someone never seen: `phone` as WhatsApp sends it
        (`from`, digits), `user_id` the business-scoped id; one of them at least."""
        e164 = _stored_phone(phone, self.rt.settings.region) if phone else None
        if e164 is None and user_id is None:
            raise ValueError("a customer needs a phone number or a WhatsApp user id")
        key = new_key()
        customer = NewCustomer(
            id=self._ids.take(), name=name, phone=e164, user_id=user_id,
            phone_index=self.rt.index("phone", e164) if e164 else None,
            user_index=self.rt.index("wa_user", user_id) if user_id else None,
            key=key, keys=KeySet({1: key}))
        self.pending.append(customer)
        return customer

    def flush(self) -> list[int]:
        """Writes the pending customers (in the caller's transaction); their ids."""
        made, self.pending, self._ids = self.pending, [], bulk.Ids("customer")
        if not made:
            return []
        now = str(utcnow())
        bulk.insert_customers(
            [(c.id, seal_text(c.keys, Customer, "name", c.id, c.name),
              seal_text(c.keys, Customer, "phone", c.id, c.phone), c.phone_index,
              seal_text(c.keys, Customer, "wa_user", c.id, c.user_id), c.user_index, now)
             for c in made])
        store_new_customer_keys(self.rt.master, {c.id: c.key for c in made})
        bulk.insert_customer_tokens(
            [(c.id, t) for c in made for t in tokens_for(self.rt, c.name, c.phone)])
        audit_created(self.rt.keyring.audit_key, [c.id for c in made])
        return [c.id for c in made]


def _stored_phone(wa_id: str, region: str) -> str:
    """What create_customer stores for a number WhatsApp vouches for (strict_phone=False)."""
    return stored_phone(whatsapp_e164(wa_id), region)


def audit_created(key: bytes, customer_ids: list[int]) -> None:
    """One "customer.created" entry per customer, appended to the chain in one statement.

    The same entries as `chain.append` makes one by one (each holds the hash of the one
    before it and an HMAC under the audit key), with the head read once: the caller's
    IMMEDIATE transaction keeps every other writer out meanwhile.
    """
    head = chain.current_head()
    seq, prev = head.seq, head.entry_hash
    detail = json.dumps({}, sort_keys=True, separators=(",", ":"))
    rows = []
    for cid in customer_ids:
        seq += 1
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        target = f"customer:{cid}"
        digest = chain.entry_hash(seq, at, ACTOR, ACTION, target, detail, prev)
        rows.append((seq, at, ACTOR, ACTION, target, detail, prev, digest,
                     chain.seal(key, digest)))
        prev = digest
    bulk.insert_audit_entries(rows)
