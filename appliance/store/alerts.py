"""Provides the table of kept WhatsApp alerts: those the number could not carry when due.

A health alert goes by WhatsApp from the business number itself, so when that number is
disconnected Meta refuses it (133010) and only the e-mail arrives. The alert is kept here,
as the id of the health change it tells (its text is rebuilt from that row, so nothing
else is stored), and sent, marked late, once the number is back.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField

from appliance.clock import utcnow
from appliance.store.models import BaseModel, NumberHealth


class KeptAlert(BaseModel):
    id = AutoField()
    health = ForeignKeyField(NumberHealth, unique=True, on_delete="CASCADE")
    reason = CharField(max_length=32)  # the status or error code that held it back
    # waiting, sending (claimed by one worker), sent, failed, expired
    state = CharField(max_length=12, default="waiting", index=True)
    kept_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    health_id: int
