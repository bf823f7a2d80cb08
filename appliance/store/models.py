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

ROLES = ("admin", "supervisor", "agent", "dpo")
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
    extra_permissions = CharField(max_length=200, default="")  # e.g. "content" for an admin
    totp_secret_sealed = BlobField(null=True)
    totp_enabled = BooleanField(default=False)
    totp_last_step = IntegerField(default=0)  # a code is never accepted twice
    language = CharField(max_length=8, default="id")


class UserDivision(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="division_links", on_delete="CASCADE")
    division = ForeignKeyField(Division, backref="user_links", on_delete="CASCADE")
    user_id: int
    division_id: int

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
    last_inbound_at = DateTimeField(null=True)  # opens WhatsApp's 24-hour service window


class CustomerKey(BaseModel):
    """One version of a customer's data key, wrapped by the master key."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="keys", on_delete="CASCADE")
    version = IntegerField()
    master_id = CharField(max_length=16)
    wrapped = BlobField()
    created_at = DateTimeField(default=utcnow)
    customer_id: int

    class Meta:
        indexes = ((("customer", "version"), True),)


class Conversation(BaseModel):
    id = AutoField()
    customer = ForeignKeyField(Customer, backref="conversations", on_delete="CASCADE")
    division = ForeignKeyField(Division, backref="conversations", null=True,
                               on_delete="SET NULL")
    assignee = ForeignKeyField(User, backref="assigned", null=True, on_delete="SET NULL")
    status = CharField(max_length=16, default="open",
                       choices=[(s, s) for s in CONVERSATION_STATES])
    created_at = DateTimeField(default=utcnow)
    last_message_at = DateTimeField(default=utcnow, index=True)
    first_response_at = DateTimeField(null=True)  # the first reply after the customer wrote
    resolved_at = DateTimeField(null=True)
    number_id = IntegerField(default=1, index=True)  # store.numbers: the number it is held on
    customer_id: int
    division_id: int | None
    assignee_id: int | None


class Message(BaseModel):
    """One WhatsApp message. `body_sealed` is what a person reads (text or caption);
    `payload_sealed` is the whole message object as WhatsApp sent or received it."""

    id = AutoField()
    conversation = ForeignKeyField(Conversation, backref="messages", on_delete="CASCADE")
    direction = CharField(max_length=3, choices=[(d, d) for d in DIRECTIONS])
    wamid = CharField(max_length=128, null=True, unique=True)
    kind = CharField(max_length=24, default="text")
    body_sealed = BlobField(null=True)
    payload_sealed = BlobField(null=True)
    status = CharField(max_length=16, default="received")
    status_at = DateTimeField(null=True)
    error_code = IntegerField(null=True)
    sent_at = DateTimeField(null=True)  # WhatsApp's own timestamp of the message
    created_at = DateTimeField(default=utcnow, index=True)
    author = ForeignKeyField(User, backref="sent", null=True, on_delete="SET NULL")
    conversation_id: int
    author_id: int | None


class Media(BaseModel):
    """A message's attachment, downloaded from Meta and sealed under the customer's key."""

    id = AutoField()
    message = ForeignKeyField(Message, backref="media", unique=True, on_delete="CASCADE")
    wa_media_id = CharField(max_length=64)
    mime_type = CharField(max_length=100, default="")
    size = IntegerField(null=True)
    sha256 = CharField(max_length=64, default="")
    content_sealed = BlobField(null=True)
    state = CharField(max_length=12, default="pending")  # pending, stored, failed
    error = CharField(max_length=64, default="")
    message_id: int


class InboxEvent(BaseModel):
    """A webhook POST exactly as Meta sent it, sealed, committed before the 200 (the inbox).

    `uid` is the stable id in the sealed body's associated data: it is chosen by the
    request before the row exists, so that sealing stays out of the single writer.
    The body lives only until the event is applied (it names customers under the system
    key, which erasure cannot destroy); `digest`, a keyed hash of the body, stays a day
    longer so that a replayed body is acknowledged without being stored again.
    """

    id = AutoField()
    uid = CharField(max_length=32, unique=True)
    received_at = DateTimeField(default=utcnow)
    body_sealed = BlobField(null=True)
    digest = BlobField(null=True, unique=True)
    state = CharField(max_length=12, default="new", index=True)  # new, done, failed
    attempts = IntegerField(default=0)
    processed_at = DateTimeField(null=True)
    error = CharField(max_length=64, default="")


class PendingStatus(BaseModel):
    """A status that arrived before its message was known: applied when the wamid appears."""

    id = AutoField()
    wamid = CharField(max_length=128, index=True)
    status = CharField(max_length=16)
    status_at = DateTimeField(null=True)
    error_code = IntegerField(null=True)
    received_at = DateTimeField(default=utcnow)


class Outbox(BaseModel):
    """An outbound message waiting to be sent: written with the message, sent by a worker."""

    id = AutoField()
    message = ForeignKeyField(Message, backref="outbox", unique=True, on_delete="CASCADE")
    state = CharField(max_length=12, default="queued", index=True)  # queued, sending, sent, failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    error_code = IntegerField(null=True)
    message_id: int


class NumberHealth(BaseModel):
    """One observed state of the business number (polled or from an account webhook)."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    source = CharField(max_length=16)  # poll, webhook
    status = CharField(max_length=32, default="")
    quality = CharField(max_length=16, default="")
    messaging_limit = CharField(max_length=32, default="")
    event = CharField(max_length=64, default="")
    number_id = IntegerField(default=1, index=True)  # store.numbers: whose health


class SecretSetting(BaseModel):
    """Secrets entered once by the admin (access token, app secret), sealed with the system key."""

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    value_sealed = BlobField()
    updated_at = DateTimeField(default=utcnow)


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
