"""Provides per-user rate limits: so many actions a minute, counted in the database.

Counted in the database rather than in memory because the web UI runs several forked
gunicorn workers: a limit kept per process would multiply by their number.
"""

from __future__ import annotations

from datetime import timedelta

from appliance.clock import utcnow
from appliance.store.accounts import RateWindow
from appliance.store.db import db

WINDOW = timedelta(minutes=1)


def take(key: str, per_minute: int) -> int:
    """Counts one action; returns 0 if it may go ahead, else the seconds to wait."""
    now = utcnow()
    with db.atomic():
        row = RateWindow.get_or_none(RateWindow.key == key)
        if row is None:
            RateWindow.create(key=key, window_start=now, count=1)
            return 0
        if now - row.window_start >= WINDOW:
            row.window_start, row.count = now, 0
        if row.count >= per_minute:
            return max(1, int((row.window_start + WINDOW - now).total_seconds() + 0.999))
        row.count += 1
        row.save()
        return 0
