"""Provides the appliance's notion of now: naive UTC, one place to freeze in tests."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """UTC without tzinfo, as stored in the database; shown in Asia/Jakarta by the UIs."""
    return datetime.now(UTC).replace(tzinfo=None)
