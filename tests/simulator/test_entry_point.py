"""`python -m simulator`: serves, stops cleanly, fails in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator import load_config, new_config, write_config
from simulator.webhooks import sign
from tests.conftest import free_port
from tests.simulator.conftest import Receiver


def environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    return {**env, "GEMBOK_DATA_DIR": str(data_dir), "GEMBOK_SIMULATOR_PORT": str(port),
            **extra}


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the simulator exited early"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the simulator did not become healthy")


@pytest.fixture
def started(tmp_path: Path,
            receiver: Receiver) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """The simulator as `gembok run` starts it, with a config file written beforehand."""
    config_file = tmp_path / "sim.json"
    write_config(config_file, new_config(receiver.url))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator"],
        env=environment(tmp_path / "var", port, GEMBOK_SIMULATOR_CONFIG=str(config_file)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process, f"http://127.0.0.1:{port}", config_file
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_it_serves_graph_calls_and_stops_cleanly_on_sigterm(started, receiver):
    # Given the simulator started from its module with a written config
    process, base, config_file = started
    config = load_config(config_file)
    # When it is healthy, an authenticated Graph call answers
    wait_healthy(base, process)
    response = httpx.get(f"{base}/v25.0/{config.phone_number_id}", timeout=5,
                         headers={"Authorization": f"Bearer {config.access_token}"})
    assert response.status_code == 200
    assert response.json()["display_phone_number"] == config.display_phone_number
    # And the control API answers only with the control token from the config file
    control = {"X-Sim-Token": config.control_token}
    assert httpx.get(f"{base}/_sim/customers", timeout=5).status_code == 401
    # And the webhook sender, started lazily in the forked worker, delivers signed POSTs
    customer = httpx.post(f"{base}/_sim/customers", json={"phone": "+6281234567890",
                                                         "name": "Siti"}, headers=control,
                          timeout=5).json()
    httpx.post(f"{base}/_sim/customers/{customer['user_id']}/messages", timeout=5,
               json={"type": "text", "text": {"body": "Halo"}}, headers=control)
    assert receiver.arrived.wait(timeout=10)
    [request] = receiver.requests
    assert request.headers["X-Hub-Signature-256"] == sign(config.app_secret, request.body)
    # Then SIGTERM stops it cleanly
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_a_bad_config_stops_the_start_with_one_line_and_exit_2(tmp_path):
    config_file = tmp_path / "sim.json"
    config_file.write_text("{}")
    config_file.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "simulator"], capture_output=True,
        env=environment(tmp_path / "var", free_port(), GEMBOK_SIMULATOR_CONFIG=str(config_file)),
        timeout=30, check=False)
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gembok: ") and "chmod 600" in lines[0]


def test_without_a_config_file_one_is_created_0600_under_the_data_dir(tmp_path):
    # Given a fresh data dir and no GEMBOK_SIMULATOR_CONFIG
    from simulator.app import load_default_config

    env = {"GEMBOK_DATA_DIR": str(tmp_path / "var"), "GEMBOK_WEBHOOK_PORT": "9444"}
    # When the entry point loads its config
    config = load_default_config(env)
    # Then it made one aimed at Gembok's webhook listener, readable by the owner only
    path = tmp_path / "var" / "simulator" / "config.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert config.webhook_url == "https://127.0.0.1:9444/webhooks/whatsapp"
    assert config.webhook_ca_file == str(tmp_path / "var" / "tls" / "cert.pem")
    assert load_default_config(env) == config
