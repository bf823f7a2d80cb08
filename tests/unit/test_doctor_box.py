"""`gembok doctor` on an installed box: it finds what an admin (or a bad restore) left open."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from appliance.doctor_box import _credential, _data_dir, _filesystem_of, _unit, without_credentials
from appliance.units import UnitState
from tests.conftest import settings_for


def test_it_passes_a_data_dir_only_its_user_can_read(tmp_path):
    settings = settings_for(tmp_path / "var")
    settings.data_dir.mkdir(mode=0o700)
    (settings.data_dir / "gembok.db").write_bytes(b"x")
    (settings.data_dir / "gembok.db").chmod(0o600)
    (settings.data_dir / "tls").mkdir(mode=0o700)
    settings.tls_cert_path.write_text("cert")
    settings.tls_cert_path.chmod(0o644)  # a certificate is public: every browser sees it
    assert _data_dir(settings).status == "ok"


def test_it_fails_a_file_others_can_read(tmp_path):
    settings = settings_for(tmp_path / "var")
    settings.data_dir.mkdir(mode=0o700)
    (settings.data_dir / "keyring.json").write_text("{}")
    (settings.data_dir / "keyring.json").chmod(0o644)
    result = _data_dir(settings)
    assert result.status == "FAIL" and "keyring.json" in result.detail


def test_it_fails_a_master_key_that_does_not_come_from_systemd(tmp_path):
    settings = settings_for(tmp_path / "var")
    result = _credential(settings)
    assert result.status == "FAIL" and "not from systemd" in result.detail


def test_it_fails_a_clear_master_key_left_in_the_data_dir(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "master.key").write_text("0" * 64)
    settings = settings_for(tmp_path / "var")
    settings = dataclasses.replace(settings, credentials_dir=creds)  # as under systemd
    settings.data_dir.mkdir()
    (settings.data_dir / "master.key").write_text("0" * 64)
    result = _credential(settings)
    assert result.status == "FAIL" and "clear master key" in result.detail


def test_it_names_the_file_system_a_path_lives_on():
    assert _filesystem_of(Path("/proc/self")) == "proc"


def test_a_unit_down_says_where_to_look():
    result = _unit(UnitState("gembok-worker", False, "failed (failed)"))
    assert result.status == "FAIL" and "journalctl -u gembok-worker" in result.detail


def test_the_redis_password_check_knocks_without_the_password_on_the_same_socket():
    url = "unix://gembok:s3cret-pass@/run/gembok-redis/redis.sock"
    assert without_credentials(url) == "unix:///run/gembok-redis/redis.sock"
    assert without_credentials("redis://gembok:pw@10.0.0.5:6379/0") == "redis://10.0.0.5:6379/0"
    assert without_credentials("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"

