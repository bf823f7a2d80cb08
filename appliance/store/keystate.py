"""Provides the tables of key management: named state, and resumable key jobs."""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, IntegerField, TextField

from appliance.clock import utcnow
from appliance.store.models import BaseModel


class AppState(BaseModel):
    """Small named facts every process must agree on (the current master key's id)."""

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    value = TextField()
    updated_at = DateTimeField(default=utcnow)


class KeyJob(BaseModel):
    """A data-key rotation: which rows are done (a cursor per table), so it can resume."""

    id = AutoField()
    kind = CharField(max_length=32)
    state = CharField(max_length=16, default="running")  # running, paused, done
    step = CharField(max_length=32, default="")  # the table being re-sealed
    cursor = IntegerField(default=0)  # the last row id re-sealed in `step`
    rows_done = IntegerField(default=0)
    rows_total = IntegerField(default=0)
    started_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
