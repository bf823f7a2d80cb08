"""Provides the tables of staff sign-in: sessions, devices, throttles, second factors, reveals."""

from __future__ import annotations

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from appliance.clock import utcnow
from appliance.store.models import BaseModel, Customer, User


class RecoveryCode(BaseModel):
    """A single-use second-factor code, stored as a hash (the codes are random, 50+ bits)."""

    id = AutoField()
    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    used_at = DateTimeField(null=True)


class UserSession(BaseModel):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    id = AutoField()
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    ip = CharField(max_length=64, default="")
    user_agent = CharField(max_length=200, default="")
    second_factor_done = BooleanField(default=False)
    revoked_at = DateTimeField(null=True)
    revoked_reason = CharField(max_length=32, default="")
    user_id: int


class KnownDevice(BaseModel):
    """A browser that signed in before (its device cookie, hashed): a new one earns an e-mail."""

    id = AutoField()
    user = ForeignKeyField(User, backref="devices", on_delete="CASCADE")
    device_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "device_hash"), True),)


class LoginThrottle(BaseModel):
    """Failed sign-ins per key (an account, an address, an account on one device)."""

    id = AutoField()
    key = CharField(max_length=80, unique=True)
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField(default=utcnow)
    blocked_until = DateTimeField(null=True)


class CustomerChange(BaseModel):
    """A change of a customer's number by staff: who, when, why (sealed under the customer's
    key, like the new number), and whether it is done or waits for a merge because another
    customer record has that number."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="changes", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="customer_changes", null=True, on_delete="SET NULL")
    field = CharField(max_length=16)  # phone (value: the new number), name (value: the old)
    state = CharField(max_length=16, index=True)  # done, merge_pending, merged, dropped
    at = DateTimeField(default=utcnow)
    reason_sealed = BlobField(null=True)
    value_sealed = BlobField(null=True)
    value_index = BlobField(null=True)
    settled_at = DateTimeField(null=True)
    customer_id: int
    user_id: int | None


class RateWindow(BaseModel):
    """How many times a key (a user's searches) acted in the current minute."""

    id = AutoField()
    key = CharField(max_length=80, unique=True)
    window_start = DateTimeField(default=utcnow)
    count = IntegerField(default=0)


class LoginEvent(BaseModel):
    """One sign-in attempt's outcome, for the new-device e-mail and the admin's review."""

    id = AutoField()
    user = ForeignKeyField(User, backref="logins", null=True, on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    ip = CharField(max_length=64, default="")
    user_agent = CharField(max_length=200, default="")
    outcome = CharField(max_length=24)
    new_device = BooleanField(default=False)
    user_id: int


class Reveal(BaseModel):
    """A deliberate look at masked data: who, what, when, and why (the reason sealed).

    The audit log links to it by id (the log itself holds no free text). The reason may
    name the customer, so it is sealed under the customer's own key and dies with it
    (rows from before that are sealed under the system key; erasure blanks them).
    """

    id = AutoField()
    user = ForeignKeyField(User, backref="reveals", on_delete="CASCADE")
    target = CharField(max_length=64)  # customer:42/phone, message:17
    at = DateTimeField(default=utcnow)
    reason_sealed = BlobField()
    customer_id = IntegerField(null=True, index=True)
