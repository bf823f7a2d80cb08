"""The simulator's config file: written safely, read strictly, refused when others can read it."""

from __future__ import annotations

import json
import os
import stat

import pytest

from simulator import SimulatorConfigError, load_config, new_config, write_config
from simulator.config import config_from_dict, config_to_dict, ensure_config


def test_a_new_config_has_random_digit_ids_and_random_secrets():
    # Given two fresh configs
    a, b = new_config("https://127.0.0.1:8444/webhooks/whatsapp"), new_config()
    # Then ids are digits, secrets differ, and defaults are Meta's
    assert a.phone_number_id.isdigit() and a.waba_id.isdigit()
    assert a.access_token != b.access_token and a.app_secret != b.app_secret
    assert a.verify_token != b.verify_token
    assert (a.api_version, a.throughput_mps, a.messaging_limit, a.window_failure) == (
        "v25.0", 80, 250, "async")
    assert {t["name"] for t in a.templates} >= {"hello_world", "order_update",
                                                "pengingat_pembayaran"}


def test_it_writes_the_config_0600_and_reads_back_the_same(tmp_path):
    # Given a config written to a new directory
    path = tmp_path / "simulator" / "config.json"
    config = new_config("https://127.0.0.1:8444/webhooks/whatsapp", tmp_path / "cert.pem")
    write_config(path, config)
    # Then only the owner can read it, and it loads back equal
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path) == config
    assert not list(path.parent.glob(".*.tmp"))


def test_it_refuses_a_config_file_readable_by_others(tmp_path):
    # Given a config file that the group can read
    path = tmp_path / "config.json"
    write_config(path, new_config())
    os.chmod(path, 0o640)
    # When it is loaded, Then one line says why and what to do
    with pytest.raises(SimulatorConfigError, match=r"too open.*chmod 600"):
        load_config(path)


def test_an_unknown_key_is_an_error_naming_the_key(tmp_path):
    # Given a config with a typo in a key
    raw = config_to_dict(new_config())
    raw["webhok_url"] = "http://x"
    # Then loading names the key
    with pytest.raises(SimulatorConfigError, match="webhok_url"):
        config_from_dict(raw)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("phone_number_id", "12ab", "phone_number_id must be a string of digits"),
    ("messaging_limit", 1000, "messaging_limit must be one of"),
    ("window_failure", "never", "window_failure must be one of async, sync"),
    ("throughput_mps", 5000, "throughput_mps must be a whole number from 1 to 1000"),
    ("api_version", "25", "api_version must look like v25.0"),
    ("templates", [{"name": "Bad Name", "language": "id", "category": "UTILITY",
                    "components": []}], "templates\\[0\\].name"),
])
def test_a_bad_value_is_refused_with_what_is_allowed(key, value, message):
    raw = config_to_dict(new_config())
    raw[key] = value
    with pytest.raises(SimulatorConfigError, match=message):
        config_from_dict(raw)


def test_a_missing_or_broken_file_is_one_clear_error(tmp_path):
    with pytest.raises(SimulatorConfigError, match="no such simulator config file"):
        load_config(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    broken.chmod(0o600)
    with pytest.raises(SimulatorConfigError, match="not valid JSON"):
        load_config(broken)


def test_unlimited_messaging_is_written_as_null(tmp_path):
    path = tmp_path / "config.json"
    write_config(path, new_config(messaging_limit=None))
    assert json.loads(path.read_text())["messaging_limit"] is None
    assert load_config(path).messaging_limit is None


def test_a_new_config_has_its_own_control_token_kept_out_of_its_repr():
    a, b = new_config(), new_config()
    assert len(a.control_token) >= 32 and a.control_token != b.control_token
    assert a.control_token not in repr(a)


def test_a_config_from_before_the_control_token_gets_one_once(tmp_path):
    # Given a business file written before the control API needed a token
    path = tmp_path / "simulator" / "config.json"
    raw = config_to_dict(new_config("https://127.0.0.1:8444/webhooks/whatsapp"))
    del raw["control_token"]
    write_config(path, config_from_dict(raw))
    assert load_config(path).control_token == ""
    # When the simulator (or the quick start) loads it
    first = ensure_config(path, "ignored", None)
    # Then it has a token, kept on the next start, and nothing else changed
    assert len(first.control_token) >= 32
    assert ensure_config(path, "ignored", None) == first == load_config(path)
    assert config_to_dict(first) == {**raw, "control_token": first.control_token}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_older_file_that_others_can_read_is_still_refused_not_re_moded(tmp_path):
    path = tmp_path / "config.json"
    write_config(path, new_config(control_token=""))
    os.chmod(path, 0o644)
    with pytest.raises(SimulatorConfigError, match="too open"):
        ensure_config(path, "ignored", None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_short_control_token_is_refused():
    raw = config_to_dict(new_config())
    raw["control_token"] = "guessable"
    with pytest.raises(SimulatorConfigError, match="control_token must be a string of 16"):
        config_from_dict(raw)
