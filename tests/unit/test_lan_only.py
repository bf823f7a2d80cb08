"""The web UI answers the office LAN only, even where the firewall lets a packet through."""

from __future__ import annotations

import pytest

from appliance.config import PRIVATE_NETWORKS, ConfigError
from appliance.doctor import redacted
from tests.conftest import settings_for
from webui.lan_only import LanOnly, lan_only


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


def through(app, peer, forwarded_for=None, proto=None):
    """A request as gunicorn hands it over: from `peer` (nginx's unix socket: ""), with the
    headers the front (or a client) set."""
    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http"}
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto is not None:
        environ["HTTP_X_FORWARDED_PROTO"] = proto
    seen = {}
    app(environ, lambda status, headers: seen.update(status=status))
    return seen["status"]


@pytest.mark.parametrize(("forwarded_for", "status"), [
    ("192.168.1.20", "200 OK"),                 # a staff PC, as nginx saw it
    ("203.0.113.9", "403 Forbidden"),           # the internet, as nginx saw it
    ("192.168.1.5, 203.0.113.9", "403 Forbidden"),  # a client's own header before nginx's
    (None, "403 Forbidden"),                    # no word from the front: the socket is no one
])
def test_behind_the_front_it_checks_the_address_the_front_saw(forwarded_for, status):
    app = lan_only(hello, ["192.168.1.0/24"], behind_proxy=True)
    assert through(app, "", forwarded_for) == status


def test_behind_the_front_the_app_sees_the_real_client_and_scheme():
    seen = {}

    def page(environ, start_response):
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        return hello(environ, start_response)

    app = lan_only(page, ["192.168.1.0/24"], behind_proxy=True)
    assert through(app, "", "192.168.1.20", "https") == "200 OK"
    assert seen == {"addr": "192.168.1.20", "scheme": "https"}


@pytest.mark.parametrize(("peer", "forwarded_for", "status"), [
    ("203.0.113.9", "192.168.1.5", "403 Forbidden"),  # the internet, claiming the LAN
    ("192.168.1.20", "203.0.113.9", "200 OK"),        # the header is nobody's word here
])
def test_without_a_front_a_forwarded_header_is_never_believed(peer, forwarded_for, status):
    app = lan_only(hello, ["192.168.1.0/24"], behind_proxy=False)
    assert through(app, peer, forwarded_for) == status


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
