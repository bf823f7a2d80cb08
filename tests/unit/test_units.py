"""On an installed box, systemd runs Gembok: its units' states are read, and a restore or a
rekey waits until they are stopped."""

from __future__ import annotations

import subprocess

import pytest

from appliance import status, units
from appliance.store import backup
from tests.conftest import settings_for

SHOWN = """Id=gembok-web.service
LoadState=loaded
ActiveState=active
SubState=running

Id=gembok-worker.service
LoadState=loaded
ActiveState=failed
SubState=failed

Id=gembok-redis.service
LoadState=loaded
ActiveState=active
SubState=running

Id=gembok-scheduler.service
LoadState=not-found
ActiveState=inactive
SubState=dead
"""


@pytest.fixture
def systemd_says(monkeypatch):
    def answer(text):
        monkeypatch.setattr(units.shutil, "which", lambda name: "/usr/bin/systemctl")
        monkeypatch.setattr(units.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
            a, 0, stdout=text, stderr=""))
    return answer


def test_it_reads_the_units_systemd_knows_and_skips_the_others(systemd_says):
    systemd_says(SHOWN)
    assert [(u.name, u.active, u.detail) for u in units.unit_states()] == [
        ("gembok-web", True, "active (running)"),
        ("gembok-worker", False, "failed (failed)"),
        ("gembok-redis", True, "active (running)")]
    assert units.running_units() == ["gembok-web"]  # Redis alone is not "the appliance"


def test_a_restore_refuses_while_the_units_run(systemd_says, tmp_path):
    systemd_says(SHOWN)
    with pytest.raises(backup.BackupError, match=r"systemctl stop gembok\.target"):
        backup.ensure_stopped(settings_for(tmp_path / "var"))


def test_a_restore_goes_ahead_once_they_are_stopped(systemd_says, tmp_path):
    systemd_says(SHOWN.replace("ActiveState=active\nSubState=running\n\nId=gembok-worker",
                               "ActiveState=inactive\nSubState=dead\n\nId=gembok-worker"))
    backup.ensure_stopped(settings_for(tmp_path / "var"))  # no error


@pytest.fixture
def installed_box(monkeypatch, tmp_path):
    (tmp_path / "gembok.target").write_text("[Unit]\n")
    monkeypatch.setattr(units, "UNIT_DIR", tmp_path)


def test_a_restore_refuses_when_systemd_cannot_say_whether_the_units_run(
        monkeypatch, installed_box, tmp_path):
    # Gembok is installed, but the system bus is down: `systemctl show` fails
    monkeypatch.setattr(units.shutil, "which", lambda name: "/usr/bin/systemctl")
    monkeypatch.setattr(units.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a, 1, stdout="", stderr="Failed to connect to bus: No such file or directory"))
    with pytest.raises(backup.BackupError, match=r"dbus.*waits until it is sure"):
        backup.ensure_stopped(settings_for(tmp_path / "var"))
    assert status.unit_states()[0].detail.startswith("unknown")


def test_a_laptop_without_systemd_is_simply_not_an_installed_box(monkeypatch, tmp_path):
    monkeypatch.setattr(units, "UNIT_DIR", tmp_path)  # no gembok.target there
    monkeypatch.setattr(units.shutil, "which", lambda name: None)
    assert units.unit_states() == []
    backup.ensure_stopped(settings_for(tmp_path / "var"))  # no error
