"""Provides the tables of the business's WhatsApp numbers and each customer's window on each.

A number is a record: its Cloud API ids, a staff-facing label, the division its new
conversations land in, and its own secrets sealed under the system key (AAD names the
row), so two brands on two Meta apps never share a token. Number 1 is the box's first
number: an empty id or secret there means "as the WhatsApp settings say" (the config
file, `GEMBOK_WHATSAPP_*`, `gembok whatsapp configure`), which is how every data dir made
before several numbers keeps working unchanged.

Numbers are retired, never deleted: a conversation keeps the number it was held on, so
`conversation.number_id` is a plain column without a foreign key (SQLite cannot add a
REFERENCES column with a default to a table that has rows).
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
)

from appliance.clock import utcnow
from appliance.store.models import (
    BaseModel,
    Conversation,
    Customer,
    Division,
    Media,
    Message,
    Outbox,
)

FIRST_NUMBER = 1


class WaNumber(BaseModel):
    id = AutoField()
    phone_number_id = CharField(max_length=32, unique=True)  # '' on number 1: the settings'
    waba_id = CharField(max_length=32, default="")
    # the business portfolio whose messaging limit it shares ('': number 1's)
    portfolio = CharField(max_length=32, default="")
    label = CharField(max_length=80)
    display_phone_number = CharField(max_length=32, default="")  # the business's, not personal
    division = ForeignKeyField(Division, null=True, on_delete="SET NULL")
    access_token_sealed = BlobField(null=True)
    app_secret_sealed = BlobField(null=True)
    verify_token_sealed = BlobField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    division_id: int | None

    class Meta:
        table_name = "wa_number"


class CustomerWindow(BaseModel):
    """WhatsApp's 24-hour window is a customer and a business number's: writing to one
    number opens no window on another."""

    id = AutoField()
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    number_id = IntegerField()
    last_inbound_at = DateTimeField()
    customer_id: int

    class Meta:
        table_name = "customer_window"
        indexes = ((("customer", "number_id"), True),)


def number_of_outbox(outbox_id: int) -> int:
    """The number a queued message leaves from: its conversation's."""
    found = (Conversation.select(Conversation.number_id)
             .join(Message, on=Message.conversation == Conversation.id)
             .join(Outbox, on=Outbox.message == Message.id)
             .where(Outbox.id == outbox_id).scalar())
    return int(found) if found is not None else FIRST_NUMBER


def number_of_media(media_id: int) -> int:
    """The number an attachment was sent to: its token downloads it."""
    found = (Conversation.select(Conversation.number_id)
             .join(Message, on=Message.conversation == Conversation.id)
             .join(Media, on=Media.message == Message.id)
             .where(Media.id == media_id).scalar())
    return int(found) if found is not None else FIRST_NUMBER
