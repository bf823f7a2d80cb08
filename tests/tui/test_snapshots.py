"""Each screen as the admin sees it, at 80x24 (an SSH window) and 120x40.

The figures on screen come from fixed stand-ins for the box's readings (pids, ages, sizes
and times differ on every run); the layout around them is the real one.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.auth.users import create_user
from appliance.keys.data_rotation import Progress
from appliance.keys.key_status import KeyRow
from appliance.status import BoxStatus, Service
from tests.tui.conftest import LARGE, SMALL
from tui.app import GembokAdmin

STATUS = BoxStatus(
    services=[Service("supervisor + scheduler", True, "pid 4100"),
              Service("web", True, "pid 4102"), Service("webhook", True, "pid 4103"),
              Service("inbox-writer", True, "pid 4104"), Service("worker", False, "pid 4105"),
              Service("redis (queues)", True, "answers")],
    queues={"webhook": 0, "send": 3, "broadcast": 0, "maintenance": 1}, events_waiting=12,
    number="connected, quality GREEN, tier 1K", disk_used_mb=412.0, disk_free_gb=81.5,
    last_backup="20261125T020000Z", certificate="expires 2028-11-24 (729 days)",
    audit="audit chain intact: 48,211 entries, checkpoint at #48211", audit_ok=True)
KEYS = [KeyRow("master", "2d3e6b39d94bbb3d", "-", "wraps every other key"),
        KeyRow("audit", "v1", "210 days", "the audit chain's seals and checkpoint"),
        KeyRow("database", "v2", "30 days", "the whole database file (SQLCipher)"),
        KeyRow("index", "v1", "210 days", "blind indexes for search"),
        KeyRow("system", "v1", "210 days", "sealed settings, raw webhooks"),
        KeyRow("customer keys", "v2", "3 days", "12,408 customers")]
JOB = Progress(7, "running", "message", 412_000, 1_012_408, 11_250.0, 53.4)
AUDIT = [SimpleNamespace(seq=48211 - n, at=f"2026-11-25T0{9 - n // 4}:{59 - n:02d}:00+00:00",
                         actor=actor, action=action, target=target)
         for n, (actor, action, target) in enumerate(
             [("user:4", "customer.read", "customer:1207"),
              ("user:4", "message.sent", "conversation:881"),
              ("cli", "key.master_rotated", "key:master"),
              ("user:2", "customer.phone_revealed", "customer:1207"),
              ("system", "backup.created", "backup:local"),
              ("user:9", "user.signed_in", "user:9")] * 3)]


@pytest.fixture
def fixed_box(office, tmp_path, monkeypatch):
    rt = office["rt"]
    for name, role in [("budi", "supervisor"), ("dedi", "agent"), ("sari", "agent")]:
        create_user(rt, username=name, display_name=name.title(), role=role, actor="cli",
                    principal=BOX_ADMIN, divisions=[office["sales"]])
    backups = []
    for n, stamp in enumerate(["20261125T020000Z-daily", "20261124T020000Z-daily"]):
        folder = tmp_path / "backups" / stamp
        folder.mkdir(parents=True)
        (folder / "gembok.db").write_bytes(b"\0" * (3_000_000 + n * 100_000))
        backups.append(folder)
    monkeypatch.setattr("tui.screens.status.gather", lambda rt: STATUS)
    monkeypatch.setattr("tui.screens.keys.describe_keys", lambda rt: KEYS)
    monkeypatch.setattr("tui.screens.keys.data_rotation.progress", lambda job=None: JOB)
    monkeypatch.setattr("tui.screens.audit.listing", lambda principal, f: AUDIT)
    monkeypatch.setattr("tui.screens.backup.list_backups", lambda settings: backups)
    return GembokAdmin(rt.settings, rt)


def shown(key: str, *more: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press(key, *more)
        for _ in range(3):
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", ["1", "2", "3", "4", "5"],
                         ids=["status", "people", "keys", "audit", "backup"])
def test_each_screen_fits(fixed_box, snap_compare, screen, size):
    assert snap_compare(fixed_box, terminal_size=size, run_before=shown(screen))


def test_the_rekey_confirmation_fits_an_ssh_window(fixed_box, snap_compare):
    assert snap_compare(fixed_box, terminal_size=SMALL, run_before=shown("3", "k"))
