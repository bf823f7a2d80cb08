"""`gembok doctor` on an installed box: it finds what an admin (or a bad restore) left open."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from appliance.doctor_box import (
    _credential,
    _data_dir,
    _filesystem_of,
    _front_unit,
    _unit,
    front_serves,
    without_credentials,
)
from appliance.tls import ensure_certificate
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



@pytest.fixture
def serving(tmp_path):
    """A TLS server on a loopback port that names itself and answers /healthz as told."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ensure_certificate(cert, key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers = []

    def serve(name: str, status: int) -> int:
        class Handler(BaseHTTPRequestHandler):
            def version_string(self):
                return name

            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


SOCKET = Path("/run/gembok/web.sock")


def test_the_front_passes_when_nginx_answers_for_the_app(serving):
    port = serving("nginx", 200)
    result = front_serves("web UI", "gembok-web", "127.0.0.1", port, SOCKET)
    assert result.status == "ok" and f"unix:{SOCKET}" in result.detail


def test_the_front_fails_when_the_port_is_the_apps_own(serving):
    # gunicorn still on the port (a face started without behind_proxy): no front in between
    port = serving("gunicorn", 200)
    result = front_serves("webhook", "gembok-webhook", "127.0.0.1", port, SOCKET)
    assert result.status == "FAIL" and "not nginx" in result.detail


def test_the_front_fails_when_nginx_cannot_reach_the_app(serving):
    port = serving("nginx", 502)
    result = front_serves("web UI", "gembok-web", "127.0.0.1", port, SOCKET)
    assert result.status == "FAIL" and "journalctl -u gembok-web" in result.detail


def test_the_front_fails_when_nothing_answers_on_the_port():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = front_serves("webhook", "gembok-webhook", "127.0.0.1", port, None)
    assert result.status == "FAIL" and "systemctl status nginx" in result.detail


def test_nginx_down_says_where_to_look():
    assert _front_unit("active (running)").status == "ok"
    result = _front_unit("failed (failed)")
    assert result.status == "FAIL" and "systemctl status nginx" in result.detail
