"""Provides the database tables as peewee declarations, and nothing else.

Columns ending in `_sealed` hold AES-GCM ciphertexts made by `store.sealed` with the
row's own id in the associated data; columns ending in `_index` hold blind indexes.
Whole-file SQLCipher encryption protects the rest (ids, times, states).
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from appliance.clock import utcnow
from appliance.store.db import db

ROLES = ("admin", "supervisor", "agent")
CONVERSATION_STATES = ("open", "pending", "resolved")
DIRECTIONS = ("in", "out")


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Division(BaseModel):
    id = AutoField()
    name = CharField(max_length=80, unique=True)
    retention_days = IntegerField(null=True)
    created_at = DateTimeField(default=utcnow)


class User(BaseModel):
    """Staff: their own account data is not sealed per field (whole-file encryption covers it)."""

    id = AutoField()
    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=120)
    email = CharField(max_length=254, null=True)
    role = CharField(max_length=16, choices=[(r, r) for r in ROLES])
    password_hash = TextField()
    must_change_password = BooleanField(default=True)
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    password_changed_at = DateTimeField(null=True)


class UserDivision(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="division_links", on_delete="CASCADE")
    division = ForeignKeyField(Division, backref="user_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "division"), True),)


class Customer(BaseModel):
    """A WhatsApp customer: known by phone and/or business-scoped user id (phone may be absent).

    Erasure destroys the customer's keys (crypto-shredding) and keeps only this row's id
    and `erased_at`, so that a restored backup can be re-erased from the ledger.
    """

    id = AutoField()
    name_sealed = BlobField(null=True)
    phone_sealed = BlobField(null=True)
    phone_index = BlobField(null=True, unique=True)
    wa_user_sealed = BlobField(null=True)
    wa_user_index = BlobField(null=True, unique=True)
    created_at = DateTimeField(default=utcnow)
    erased_at = DateTimeField(null=True)


class CustomerKey(BaseModel):
    id = AutoField()
    """One version of a customer's data key, wrapped by the master key."""

    customer = ForeignKeyField(Customer, backref="keys", on_delete="CASCADE")
    version = IntegerField()
    master_id = CharField(max_length=16)
    wrapped = BlobField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "version"), True),)


class Conversation(BaseModel):
    id = AutoField()
    customer = ForeignKeyField(Customer, backref="conversations", on_delete="CASCADE")
    division = ForeignKeyField(Division, backref="conversations", null=True,
                               on_delete="SET NULL")
    assignee = ForeignKeyField(User, backref="assigned", null=True, on_delete="SET NULL")
    customer_id: int
    status = CharField(max_length=16, default="open",
                       choices=[(s, s) for s in CONVERSATION_STATES])
    created_at = DateTimeField(default=utcnow)
    last_message_at = DateTimeField(default=utcnow, index=True)


class Message(BaseModel):
    id = AutoField()
    conversation = ForeignKeyField(Conversation, backref="messages", on_delete="CASCADE")
    direction = CharField(max_length=3, choices=[(d, d) for d in DIRECTIONS])
    wamid = CharField(max_length=128, null=True, unique=True)
    kind = CharField(max_length=24, default="text")
    body_sealed = BlobField(null=True)
    status = CharField(max_length=16, default="received")
    created_at = DateTimeField(default=utcnow, index=True)


class AuditEntry(BaseModel):
    """One link of the hash chain; ids only, never personal data (see privacy.audit)."""

    seq = IntegerField(primary_key=True)
    at = CharField(max_length=32)
    actor = CharField(max_length=64)
    action = CharField(max_length=64, index=True)
    target = CharField(max_length=64, default="", index=True)
    detail = TextField(default="{}")
    prev_hash = CharField(max_length=64)
    entry_hash = CharField(max_length=64)
    mac = CharField(max_length=64)


ALL_MODELS: list[type[BaseModel]] = [Division, User, UserDivision, Customer, CustomerKey,
                                     Conversation, Message, AuditEntry]
