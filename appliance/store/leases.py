"""Provides leases in the store: one holder at a time for a job that must run once.

The scheduler runs on one host only, even when the Ansible inventory puts it on several
for failover: each tick it takes or renews a short lease in the database every host
shares, and a host that finds another's lease still running stands by. The holder is the
host's name, so the same host restarting takes its own lease back at once; another host
takes over once the holder has not renewed for `seconds` (it died or lost the database).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from appliance.clock import utcnow
from appliance.store.db import db
from appliance.store.keystate import AppState

PREFIX = "lease."


def take(name: str, holder: str, seconds: float) -> bool:
    """Takes or renews the lease `name` for `holder`; False while another holds it."""
    now = utcnow()
    with db.atomic():  # a writer from BEGIN on (store.db): two hosts cannot both take it
        row = AppState.get_or_none(AppState.name == PREFIX + name)
        if row is not None:
            current = json.loads(row.value)
            if current["holder"] != holder and \
                    datetime.fromisoformat(current["until"]) > now:
                return False
        value = json.dumps({"holder": holder,
                            "until": (now + timedelta(seconds=seconds)).isoformat()})
        (AppState.insert(name=PREFIX + name, value=value, updated_at=now)
         .on_conflict(conflict_target=[AppState.name],
                      update={AppState.value: value, AppState.updated_at: now})
         .execute())
    return True


def holder_of(name: str) -> tuple[str, datetime] | None:
    """Who holds the lease and until when (None: nobody ever took it)."""
    row = AppState.get_or_none(AppState.name == PREFIX + name)
    if row is None:
        return None
    current = json.loads(row.value)
    return str(current["holder"]), datetime.fromisoformat(current["until"])


def release(name: str, holder: str) -> None:
    """Gives the lease up at a clean stop, so another host need not wait it out."""
    with db.atomic():
        row = AppState.get_or_none(AppState.name == PREFIX + name)
        if row is not None and json.loads(row.value)["holder"] == holder:
            AppState.delete().where(AppState.id == row.id).execute()
