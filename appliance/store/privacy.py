"""Provides the DPO's tables: data-subject requests with their clocks, legal holds, breaches.

A request row holds ids, kinds and times only (what the customer wrote stays in their
conversation, sealed under their key); a hold's reason may name the customer, so it is
sealed under their key and listed in the customer-data registry; a breach's description
is the DPO's account of an incident and is sealed under the system key.
"""

from __future__ import annotations

from peewee import AutoField, BlobField, CharField, DateTimeField, ForeignKeyField, TextField

from appliance.clock import utcnow
from appliance.store.models import BaseModel, Customer

REQUEST_KINDS = ("access", "correction", "erasure", "withdrawal", "objection")
REQUEST_STATES = ("open", "erasing", "done", "refused")


class PrivacyRequest(BaseModel):
    """A data-subject request: `due_at` is the law's deadline from `received_at`.

    `state`: open; erasing (the confirmation is on its way, the erasure follows it);
    done; refused. `answer`: how the customer was told (sent, window_closed: WhatsApp
    allows no free text after 24 hours, so the DPO tells them another way)."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="privacy_requests", on_delete="CASCADE")
    kind = CharField(max_length=16)
    channel = CharField(max_length=12)  # whatsapp, agent, dpo
    received_at = DateTimeField(default=utcnow)
    due_at = DateTimeField(index=True)
    state = CharField(max_length=10, default="open", index=True)
    recorded_by = CharField(max_length=64)
    reminded_at = DateTimeField(null=True)
    done_at = DateTimeField(null=True)
    done_by = CharField(max_length=64, default="")
    outcome = CharField(max_length=32, default="")
    answer = CharField(max_length=16, default="")
    answer_outbox = CharField(max_length=16, default="")  # the confirmation's outbox id
    customer_id: int


class LegalHold(BaseModel):
    """A customer whose data must be kept (a dispute, a court order): erasure and
    retention stop for them until the hold is released."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="holds", on_delete="CASCADE")
    reason_sealed = BlobField(null=True)
    set_by = CharField(max_length=64)
    set_at = DateTimeField(default=utcnow)
    released_at = DateTimeField(null=True, index=True)
    released_by = CharField(max_length=64, default="")
    customer_id: int


class Breach(BaseModel):
    """An incident the DPO recorded: the window, the accounts or addresses used, and the
    law's 3 x 24 hours from `recorded_at` to notify (`due_at`)."""

    id = AutoField()
    recorded_at = DateTimeField(default=utcnow)
    recorded_by = CharField(max_length=64)
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    accounts = TextField(default="")  # user ids, comma-separated
    addresses = TextField(default="")  # IP addresses, comma-separated
    description_sealed = BlobField(null=True)
    due_at = DateTimeField()
    state = CharField(max_length=10, default="open")  # open, notified
    notified_at = DateTimeField(null=True)
