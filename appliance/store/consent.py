"""Provides the consent ledger's table: one row per grant, withdrawal or notice shown.

Ids only: the customer's id, the purpose, what happened, where it came from and the id
that proves it (a wamid, a webhook's row id, an import's reference, the acting user as
`user:<id>`). No name, number or text, so nothing in it is sealed. The migration that
makes it (m0010) also makes the database refuse an UPDATE, and a DELETE unless the
customer is erased (or gone): a bug cannot rewrite what a customer agreed to.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, TextField

from appliance.clock import utcnow
from appliance.store.models import BaseModel, Customer


class ConsentEvent(BaseModel):
    """`event` is `granted`, `withdrawn` or `notice_shown` (purpose empty, with a version);
    `at` is when it happened (Meta's time when Meta gives one), `recorded_at` when the box
    wrote it."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="consent_events", on_delete="CASCADE")
    purpose = CharField(max_length=16, default="")
    event = CharField(max_length=16)
    source = CharField(max_length=32)
    proof = CharField(max_length=160, default="")
    notice_version = CharField(max_length=32, default="")
    actor = CharField(max_length=64, default="")
    at = DateTimeField(default=utcnow)
    recorded_at = DateTimeField(default=utcnow)
    customer_id: int


class PrivacyNotice(BaseModel):
    """One published version of the business's privacy notice, never changed afterwards:
    what a customer was shown (the ledger names the version) stays provable. `summary_*`
    is what WhatsApp carries (at most 4,096 characters), `full_*` the page the webhook face
    serves."""

    id = AutoField()
    version = CharField(max_length=32, unique=True)
    summary_id = TextField()
    summary_en = TextField(default="")
    full_id = TextField()
    full_en = TextField(default="")
    published_at = DateTimeField(default=utcnow)
    published_by = CharField(max_length=64, default="")
