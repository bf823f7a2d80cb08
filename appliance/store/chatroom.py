"""Provides the Chatroom's tables: labels, notes, quick replies, read markers, search tokens,
and the change feed that live pages follow."""

from __future__ import annotations

from peewee import (
    AutoField,
    BlobField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from appliance.clock import utcnow
from appliance.store.models import BaseModel, Conversation, Customer, Division, User


class Label(BaseModel):
    id = AutoField()
    division = ForeignKeyField(Division, backref="labels", on_delete="CASCADE")
    name = CharField(max_length=40)
    division_id: int

    class Meta:
        indexes = ((("division", "name"), True),)


class ConversationLabel(BaseModel):
    id = AutoField()
    conversation = ForeignKeyField(Conversation, backref="label_links", on_delete="CASCADE")
    label = ForeignKeyField(Label, backref="conversation_links", on_delete="CASCADE")
    label_id: int

    class Meta:
        indexes = ((("conversation", "label"), True),)


class Note(BaseModel):
    """A private note on a conversation: staff only, sealed under the customer's key."""

    id = AutoField()
    conversation = ForeignKeyField(Conversation, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User, backref="notes", null=True, on_delete="SET NULL")
    body_sealed = BlobField(null=True)
    created_at = DateTimeField(default=utcnow)
    author_id: int | None


class QuickReply(BaseModel):
    """A canned response of a division, found with `/shortcut` in the reply box."""

    id = AutoField()
    division = ForeignKeyField(Division, backref="quick_replies", on_delete="CASCADE")
    shortcut = CharField(max_length=32)
    body = TextField()
    division_id: int

    class Meta:
        indexes = ((("division", "shortcut"), True),)


class ConversationRead(BaseModel):
    """How far a user has read a conversation: unread = customer messages after it."""

    id = AutoField()
    user = ForeignKeyField(User, backref="reads", on_delete="CASCADE")
    conversation = ForeignKeyField(Conversation, backref="reads", on_delete="CASCADE")
    last_message_id = IntegerField(default=0)

    class Meta:
        indexes = ((("user", "conversation"), True),)


class CustomerToken(BaseModel):
    """A blind index of a search token: a word of the name, or a phone number's tail.

    HMAC under the index key, so a search finds a customer without any name or number
    stored in clear, and the table says nothing to someone without the key.
    """

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="tokens", on_delete="CASCADE")
    token = BlobField(index=True)
    customer_id: int


class ChangeEvent(BaseModel):
    """Something happened to a conversation (a message, a status, an assignment...).

    Live pages follow this feed by id; it holds ids and a kind, never content.
    """

    id = AutoField()
    conversation = ForeignKeyField(Conversation, backref="changes", on_delete="CASCADE")
    kind = CharField(max_length=16)
    at = DateTimeField(default=utcnow)
    conversation_id: int
