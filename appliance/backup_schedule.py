"""Provides the nightly backup: made by the scheduler at `backup.daily_at`, office time.

The IT admin should not have to remember backups, nor write a cron job on a box where
systemd runs everything. A box that was off (or not yet installed) at that hour makes
the backup when it starts, so the newest copy is never more than a day old. Only the
`keep` newest nightly backups stay; manual and pre-migration ones are the admin's and
are never deleted here. A backup is as unreadable as the database (see `store.backup`):
copying the folders off the box is still the admin's job.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.clock import utcnow
from appliance.config import Settings
from appliance.runtime import Runtime
from appliance.store.backup import backup_now, list_backups

log = logging.getLogger(__name__)
REASON = "nightly"


def last_slot(settings: Settings, now: datetime) -> datetime | None:
    """The latest moment a nightly backup was due, as naive UTC; None when turned off."""
    if not settings.backup.daily_at:
        return None
    tz = ZoneInfo(settings.timezone)
    local = now.replace(tzinfo=UTC).astimezone(tz)
    hour, minute = (int(part) for part in settings.backup.daily_at.split(":"))
    slot = datetime.combine(local.date(), time(hour, minute), tzinfo=tz)
    if slot > local:
        slot -= timedelta(days=1)
    return slot.astimezone(UTC).replace(tzinfo=None)


def made_at(folder: Path) -> datetime:
    """When a backup was made, from its folder name (UTC, as `backup_now` names it)."""
    stamp = folder.name.split("-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ")


def nightly(settings: Settings) -> list[Path]:
    """The nightly backups, newest first."""
    return [p for p in list_backups(settings) if p.name.endswith(f"-{REASON}")]


def due(settings: Settings, now: datetime) -> bool:
    slot = last_slot(settings, now)
    if slot is None or settings.store.url:  # PostgreSQL: the operator's backups
        return False
    newest = nightly(settings)
    return not newest or made_at(newest[0]) < slot


def run_nightly(rt: Runtime, now: datetime | None = None) -> Path | None:
    """Makes the nightly backup if one is due, then prunes; returns the new folder."""
    if not due(rt.settings, utcnow() if now is None else now):
        return None
    folder = backup_now(rt.settings, rt.keyring.database_key, REASON)
    rt.audit(actor="scheduler", action="backup.created", target="backup:local",
             detail={"reason": REASON})
    gone = prune(rt.settings)
    log.info("scheduled backup (backup.daily_at) made in %s; %d older one(s) deleted", folder.name,
             len(gone))
    return folder


def prune(settings: Settings) -> list[Path]:
    """Deletes the nightly backups beyond `keep`, oldest first; returns what went."""
    gone = nightly(settings)[settings.backup.keep:]
    for folder in gone:
        shutil.rmtree(folder)
    return gone
