"""Provides the tables of business hours: a schedule per division, its periods, special days.

A schedule with no division is the global default, used by every division that has none
of its own. Times are minutes after local midnight in the schedule's time zone; a period
whose `closes` is at or before its `opens` runs past midnight and belongs to the day it
opens on. A special day with no division is the admin's own, for every division.
`appliance.automation.hours` reads these rows into immutable schedules; nothing here
decides whether the office is open.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from appliance.clock import utcnow
from appliance.store.models import BaseModel, Division

DAY_KINDS = ("closed", "open")


class HoursSchedule(BaseModel):
    id = AutoField()
    division = ForeignKeyField(Division, null=True, unique=True, on_delete="CASCADE")
    time_zone = CharField(max_length=40, default="Asia/Jakarta")
    holidays_close = BooleanField(default=True)  # national holidays and cuti bersama
    away_message_id = TextField(default="")  # Indonesian
    away_message_en = TextField(default="")  # English
    updated_at = DateTimeField(default=utcnow)
    division_id: int | None


class HoursPeriod(BaseModel):
    id = AutoField()
    schedule = ForeignKeyField(HoursSchedule, backref="periods", on_delete="CASCADE")
    weekday = IntegerField()  # 0 Monday ... 6 Sunday
    opens = IntegerField()  # minutes after midnight
    closes = IntegerField()  # at or before `opens`: the next day
    schedule_id: int


class HoursDay(BaseModel):
    """A date the office is closed (with its label) or open on its own hours."""

    id = AutoField()
    division = ForeignKeyField(Division, null=True, on_delete="CASCADE",
                               index=False)  # null: every division; indexed below
    day = DateField()
    kind = CharField(max_length=8, choices=[(k, k) for k in DAY_KINDS])
    label = CharField(max_length=120, default="")
    opens = IntegerField(null=True)  # an open day's hours; null on a closed day
    closes = IntegerField(null=True)
    division_id: int | None

    class Meta:
        indexes = ((("division", "day"), True),)
