"""The web UI answers the office LAN only, even where the firewall lets a packet through."""

from __future__ import annotations

import pytest

from appliance.config import PRIVATE_NETWORKS, ConfigError
from appliance.doctor import redacted
from tests.conftest import settings_for
from webui.lan_only import LanOnly


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"page"]


def call(app, address):
    seen = {}
    body = app({"REMOTE_ADDR": address}, lambda status, headers: seen.update(status=status))
    return seen["status"], b"".join(body)


@pytest.mark.parametrize(("address", "status"), [
    ("192.168.1.20", "200 OK"),          # a staff PC in the named LAN
    ("127.0.0.1", "200 OK"),             # the box's own health check
    ("::1", "200 OK"),
    ("::ffff:192.168.1.20", "200 OK"),   # the same PC through a dual-stack socket
    ("203.0.113.9", "403 Forbidden"),    # the internet
    ("10.0.0.5", "403 Forbidden"),       # private, but not the office's range
    ("", "403 Forbidden"),
    ("not-an-address", "403 Forbidden"),
])
def test_it_answers_the_lan_and_refuses_everyone_else(address, status):
    app = LanOnly(hello, ["192.168.1.0/24"])
    assert call(app, address)[0] == status


def test_a_refused_request_never_reaches_the_app():
    reached = []
    app = LanOnly(lambda e, s: reached.append(e) or [], ["192.168.1.0/24"])
    status, body = call(app, "198.51.100.7")
    assert status == "403 Forbidden" and b"office network" in body and reached == []


def test_by_default_it_answers_the_private_ranges(tmp_path):
    settings = settings_for(tmp_path / "var")
    assert settings.web.allowed_networks == PRIVATE_NETWORKS


def test_the_networks_come_from_the_environment_comma_separated(tmp_path):
    settings = settings_for(tmp_path / "var",
                            GEMBOK_WEB_ALLOWED_NETWORKS="10.20.0.0/16, fd00::/8")
    assert settings.web.allowed_networks == ("10.20.0.0/16", "fd00::/8")


def test_it_refuses_a_network_that_is_not_one(tmp_path):
    with pytest.raises(ConfigError, match=r"web\.allowed_networks"):
        settings_for(tmp_path / "var", GEMBOK_WEB_ALLOWED_NETWORKS="192.168.1.0/24,office")


def test_the_doctor_never_prints_the_redis_password():
    shown = redacted("unix://gembok:s3cret-pw@/run/gembok-redis/redis.sock?db=0")
    assert "s3cret-pw" not in shown and shown.startswith("unix://gembok:***@/run/")
    assert redacted("unix:///srv/var/run/redis.sock") == "unix:///srv/var/run/redis.sock"
