"""Provides the appliance's notion of now: naive UTC, one place to freeze in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """UTC without tzinfo, as stored in the database; shown in Asia/Jakarta by the UIs."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_of_office_time(local: datetime, zone: str) -> datetime:
    """A wall-clock time in the office's zone (a form's datetime-local) as stored: UTC."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
