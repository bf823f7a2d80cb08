"""The box backs itself up every night at backup.daily_at (office time), keeps the last
`backup.keep` nightly copies, and never touches a backup the admin made."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta

import pytest

from appliance import backup_schedule
from appliance.audit.chain import AuditEntry
from appliance.config import BackupSettings, ConfigError
from appliance.doctor import backups_check
from appliance.store.backup import backup_now, list_backups
from tests.conftest import settings_for


def at(rt, daily_at: str = "02:00", keep: int = 7):
    settings = dataclasses.replace(rt.settings, backup=BackupSettings(daily_at=daily_at,
                                                                      keep=keep))
    return dataclasses.replace(rt, settings=settings)


def test_the_nights_slot_is_two_in_the_morning_in_jakarta(tmp_path):
    settings = settings_for(tmp_path / "var")  # timezone Asia/Jakarta, daily_at 02:00
    # 01:00 WIB on the 25th (18:00 UTC on the 24th): the last slot was 02:00 WIB on the 24th
    assert backup_schedule.last_slot(settings, datetime(2026, 11, 24, 18, 0)) == \
        datetime(2026, 11, 23, 19, 0)
    # 03:00 WIB on the 25th (20:00 UTC on the 24th): 02:00 WIB on the 25th, 19:00 UTC
    assert backup_schedule.last_slot(settings, datetime(2026, 11, 24, 20, 0)) == \
        datetime(2026, 11, 24, 19, 0)
    off = dataclasses.replace(settings, backup=BackupSettings(daily_at=""))
    assert backup_schedule.last_slot(off, datetime(2026, 11, 24, 20, 0)) is None


def test_a_box_without_a_nightly_backup_makes_one_at_once_and_then_waits_for_the_night(rt):
    nightly_rt = at(rt)
    first = backup_schedule.run_nightly(nightly_rt)
    assert first is not None and first.name.endswith("-nightly")
    assert backup_schedule.run_nightly(nightly_rt) is None  # not again before the next slot
    entry = AuditEntry.select().order_by(AuditEntry.seq.desc()).first()
    assert (entry.actor, entry.action) == ("scheduler", "backup.created")


def test_only_the_newest_nightly_backups_stay_and_the_admins_own_are_kept(rt):
    manual = backup_now(rt.settings, rt.keyring.database_key, "manual")
    for _ in range(4):
        backup_now(rt.settings, rt.keyring.database_key, "nightly")
    gone = backup_schedule.prune(at(rt, keep=2).settings)
    assert len(gone) == 2
    left = list_backups(rt.settings)
    assert manual in left and len(backup_schedule.nightly(rt.settings)) == 2
    assert all(a.name > b.name for a, b in itertools.pairwise(left))  # newest first


def test_turned_off_it_makes_none(rt):
    assert backup_schedule.run_nightly(at(rt, daily_at="")) is None
    assert list_backups(rt.settings) == []


def test_a_time_that_is_not_a_time_stops_the_start_with_what_to_write(tmp_path):
    with pytest.raises(ConfigError) as raised:
        settings_for(tmp_path / "var", GEMBOK_BACKUP_DAILY_AT="25:00")
    assert "backup.daily_at" in str(raised.value) and '"02:00"' in str(raised.value)


def test_the_doctor_notices_when_the_nightly_backup_stopped(rt):
    assert backups_check(rt.settings).status == "warn"  # none yet
    folder = backup_now(rt.settings, rt.keyring.database_key, "nightly")
    assert backups_check(rt.settings).status == "ok"
    # Thirty hours later nothing newer came: the admin hears it from `gembok doctor`
    late = backups_check(rt.settings, now=backup_schedule.made_at(folder) + timedelta(hours=30))
    assert late.status == "warn" and "the nightly backup has not run" in late.detail
