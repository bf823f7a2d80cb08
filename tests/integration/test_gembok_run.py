"""`gembok run` as a newcomer meets it: up in seconds, on every port, and gone without a trace."""

from __future__ import annotations

import hashlib
import signal
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import psutil
import pytest

from appliance.bootstrap import initialise
from appliance.crypto.masterkey import create_master_key
from appliance.store.db import db
from tests.conftest import files_under, settings_for
from tests.running import GEMBOK, appliance_env

pytestmark = pytest.mark.slow
def get(url: str) -> tuple[int, bytes]:
    context = ssl._create_unverified_context()
    with urllib.request.urlopen(url, timeout=5, context=context) as resp:
        return resp.status, resp.read()


def one_line_error(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(GEMBOK + args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gembok: "), done.stderr
    return lines[0]


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    return {str(p): (p.stat().st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in files_under(root)}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_it_comes_up_answers_on_every_port_and_stops_with_no_child_left(tmp_path, start, sig):
    env = appliance_env(tmp_path / "var")
    run = start(env)
    text = "".join(run.out)
    assert "one-time password:" in text and "must be changed at the first sign-in" in text
    assert len(run.tree) >= 6  # supervisor, redis, web, webhook, simulator, worker (+ workers)
    assert get(f"https://127.0.0.1:{run.port('WEB')}/healthz") == (200, b"ok\n")
    assert get(f"https://127.0.0.1:{run.port('WEBHOOK')}/healthz") == (200, b"ok\n")
    assert get(f"http://127.0.0.1:{run.port('SIMULATOR')}/healthz") == (200, b"ok\n")
    assert (tmp_path / "var" / "run" / "redis.sock").exists()
    assert run.stop(sig) == 0
    assert run.survivors() == []
    assert not (tmp_path / "var" / "run" / "redis.sock").exists()


def test_a_second_start_reuses_the_data_and_never_replaces_a_key(tmp_path, start):
    env = appliance_env(tmp_path / "var")
    start(env).stop()
    keys = {name: (tmp_path / "var" / name).read_bytes() for name in ("master.key",
                                                                       "keyring.json")}
    again = start(env)
    assert "one-time password" not in "".join(again.out)
    assert again.stop() == 0
    for name, content in keys.items():
        assert (tmp_path / "var" / name).read_bytes() == content


def test_doctor_reports_every_check_and_the_footprint_while_running(tmp_path, start):
    env = appliance_env(tmp_path / "var")
    run = start(env)
    try:
        done = subprocess.run([*GEMBOK, "doctor"], env=env, capture_output=True, text=True,
                              timeout=60)
    finally:
        run.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("master key file", "keys and database", "audit chain", "redis",
                  f"port {run.port('WEB')}", "TLS certificate", "startup", "memory"):
        assert check in done.stdout
    assert "FAIL" not in done.stdout


def test_a_child_that_cannot_stay_up_stops_everything_with_a_clear_error(tmp_path, start):
    # Given the appliance up, and then its keyring damaged on disk
    run = start(appliance_env(tmp_path / "var"))
    (tmp_path / "var" / "keyring.json").write_text("{}\n")
    # When the web UI dies, and every restart dies while starting
    web = next(p for p in psutil.Process(run.proc.pid).children()
               if "web" in " ".join(p.cmdline()) and "webhook" not in " ".join(p.cmdline()))
    web.kill()
    # Then the supervisor tries a few times with a back-off, then stops everything
    assert run.wait(timeout=90) == 2
    assert "restarting it in" in run.stderr
    assert "web UI (staff, LAN) died 6 times" in run.stderr and "cannot stay up" in run.stderr
    assert run.survivors() == []


def test_a_port_in_use_names_the_port_and_the_setting_that_moves_it(tmp_path):
    env = appliance_env(tmp_path / "var")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["GEMBOK_WEBHOOK_PORT"])))
        taken.listen()
        line = one_line_error(["run"], env)
    assert f"port {env['GEMBOK_WEBHOOK_PORT']} on 127.0.0.1 (webhook listener) is already in use" \
        in line
    assert "webhook.port" in line and "GEMBOK_WEBHOOK_PORT" in line
    assert not (tmp_path / "var").exists()  # nothing was created


@pytest.fixture
def initialised(tmp_path) -> Path:
    data_dir = tmp_path / "var"
    initialise(settings_for(data_dir))
    db.close()
    return data_dir


def test_a_missing_master_key_stops_the_start(initialised):
    (initialised / "master.key").unlink()
    line = one_line_error(["run"], appliance_env(initialised))
    assert "master key file" in line and "is missing: restore it" in line
    assert not (initialised / "master.key").exists()  # never silently replaced


def test_a_world_readable_master_key_stops_the_start(initialised):
    (initialised / "master.key").chmod(0o644)
    line = one_line_error(["run"], appliance_env(initialised))
    assert "too open" in line and "chmod 600" in line


def test_a_bad_setting_stops_the_start(initialised):
    env = appliance_env(initialised, GEMBOK_WORKER_THREADS="many")
    line = one_line_error(["run"], env)
    assert "worker.threads = 'many' (from environment variable GEMBOK_WORKER_THREADS)" in line


def test_a_wrong_master_key_stops_the_start_and_writes_nothing(initialised, tmp_path):
    (initialised / "master.key").unlink()
    create_master_key(initialised / "master.key")
    before = snapshot(initialised)
    line = one_line_error(["run"], appliance_env(initialised))
    assert "is not the one that protects this data dir" in line
    assert snapshot(initialised) == before
