"""Who may drive the simulator's control API: a caller with its token, in JSON, on loopback.

Issue 11, item 16: any web page open on the box could make the simulator act with a
`text/plain` POST (a "simple request" browsers send cross-site without asking), and
`/_sim/webhooks/log` served webhook bodies to anyone. The phone page itself stays public;
it takes the token from its link's fragment.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from appliance.config import load_settings
from simulator import Simulator, create_simulator, write_config
from simulator.access import control_headers, control_token, phone_link
from simulator.config import SimulatorConfigError
from tests.simulator.conftest import CONTROL_TOKEN, Api, make_config

RIGHT = {"X-Sim-Token": CONTROL_TOKEN}
WRONG = {"X-Sim-Token": CONTROL_TOKEN[:-1] + "x"}


@pytest.fixture
def build(clock: Any) -> Iterator[Callable[..., Simulator]]:
    """Simulators told where they listen and which zone the office keeps."""
    made: list[Simulator] = []

    def make(listen_host: str = "127.0.0.1", office_zone: str = "Asia/Jakarta",
             **overrides: Any) -> Simulator:
        sim = create_simulator(make_config(**overrides), clock=clock, rng=random.Random(7),
                               background=False, listen_host=listen_host,
                               office_zone=office_zone)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


def customers(api: Api) -> list[dict[str, Any]]:
    return api.control("GET", "customers", expect=200)["customers"]  # type: ignore[no-any-return]


# -- the token ----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", None])
def test_a_web_page_cannot_make_the_simulator_act_with_a_text_plain_post(api, content_type):
    # Given a page that sends a cross-site "simple request": a JSON text, no custom header
    body = b'{"phone": "+6281234567890", "name": "Mallory"}'
    headers = {} if content_type is None else {"Content-Type": content_type}
    # When it posts to the control API
    response = api.client.post("/_sim/customers", data=body, headers=headers)
    # Then it is refused, and no customer was made
    assert response.status_code == 401
    assert customers(api) == []


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_even_with_the_token_only_a_json_post_acts(api, content_type):
    # Given a caller who holds the token but does not say JSON
    headers = {**RIGHT, **({} if content_type is None else {"Content-Type": content_type})}
    # When it posts a customer, or a reset with no body at all
    made = api.client.post("/_sim/customers", headers=headers,
                           data=b'{"phone": "+6281234567890", "name": "Mallory"}')
    api.customer(phone="+6281299990000")
    reset = api.client.post("/_sim/reset", headers=headers)
    # Then both are refused with 415 and nothing changed
    assert (made.status_code, reset.status_code) == (415, 415)
    assert "application/json" in made.json["error"]
    assert [c["wa_id"] for c in customers(api)] == ["6281299990000"]


def test_a_json_post_with_an_empty_body_is_fine(api):
    api.customer()
    response = api.client.post("/_sim/reset", headers={**RIGHT,
                                                       "Content-Type": "application/json"})
    assert response.status_code == 200 and customers(api) == []


@pytest.mark.parametrize("headers", [{}, WRONG, {"X-Sim-Token": ""},
                                     {"Authorization": f"Bearer {CONTROL_TOKEN}"}],
                         ids=["none", "wrong", "empty", "as-bearer"])
def test_every_control_route_refuses_a_caller_without_the_token(api, headers):
    # Given every route and method of the control API, read from the simulator's own list
    routes = [(path.replace("<key>", "6281234567890"), method)
              for path, methods, _ in api.sim.control.routes() for method in methods]
    assert len(routes) >= 25
    api.customer()
    for path, method in routes:
        # When it is called without the right token (in JSON, as a real client would)
        response = api.client.open(path, method=method, headers=headers,
                                   json=None if method == "GET" else {})
        # Then it is refused with one plain error, and no CORS grant
        assert response.status_code == 401, (method, path)
        assert "X-Sim-Token" in response.json["error"]
        assert "Access-Control-Allow-Origin" not in response.headers
    # And nothing was done: Siti is still there, the clock has not moved
    assert len(customers(api)) == 1


def test_a_browser_preflight_is_never_granted(api):
    response = api.client.open("/_sim/customers", method="OPTIONS", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-sim-token,content-type"})
    assert response.status_code >= 400
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


def test_the_webhook_log_needs_the_token(hooked, receiver):
    # Given a customer whose message went out as a webhook
    hooked.says(hooked.customer(), "Nomor rekening saya 1234567890")
    hooked.sim.flush()
    assert receiver.requests
    # When the log is asked for without the token, or with a wrong one
    for headers in ({}, WRONG):
        response = hooked.client.get("/_sim/webhooks/log", headers=headers)
        # Then it is refused and shows nothing of what was posted
        assert response.status_code == 401
        assert b"1234567890" not in response.get_data()
    # And with the token it is served
    log = hooked.control("GET", "webhooks/log", expect=200)
    assert "1234567890" in str(log["posts"])


def test_a_simulator_without_a_control_token_refuses_every_call(build):
    # Given a business file from before the token (control_token empty)
    api = Api(build(control_token=""))
    # When a caller sends no token, or an empty one, Then nothing answers
    for headers in ({}, {"X-Sim-Token": ""}):
        response = api.client.get("/_sim/customers", headers=headers)
        assert response.status_code == 401


# -- the host name (DNS rebinding) -------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8445", "127.0.0.1.nip.io",
                                  "localhost.evil.example", "10.0.0.7:8445", ""])
def test_a_rebound_host_name_is_refused(api, host):
    # Given a page whose name an attacker's DNS now points at 127.0.0.1 (and who has the
    # token, to show that the host check stands on its own)
    response = api.client.post("/_sim/customers", json={"name": "Mallory"},
                               headers={**RIGHT, "Host": host})
    # Then the simulator does not answer to that name, and nothing was made
    assert response.status_code == 421
    assert customers(api) == []
    assert api.client.get("/_sim/phone", headers={"Host": host}).status_code == 421


@pytest.mark.parametrize(("listen", "host", "allowed"), [
    ("127.0.0.1", "127.0.0.1:8445", True),
    ("127.0.0.1", "localhost:8445", True),
    ("127.0.0.1", "LocalHost.", True),
    ("127.0.0.1", "[::1]:8445", True),
    ("127.0.0.1", "127.0.0.2", True),
    ("127.0.0.1", "192.168.1.10:8445", False),
    ("192.168.1.10", "192.168.1.10:8445", True),
    ("192.168.1.10", "192.168.1.11:8445", False),
    ("0.0.0.0", "192.168.1.10:8445", True),  # noqa: S104 - listening everywhere: any address
    ("0.0.0.0", "kasir.lan:8445", False),  # noqa: S104 - ... but never a name
])
def test_loopback_and_the_listen_address_are_the_only_hosts(build, listen, host, allowed):
    api = Api(build(listen_host=listen))
    response = api.client.get("/_sim/business", headers={**RIGHT, "Host": host})
    assert response.status_code == (200 if allowed else 421)


def test_graph_calls_keep_meta_s_own_auth_and_need_no_control_token(api):
    response = api.graph("GET", f"/v25.0/{api.sim.config.phone_number_id}")
    assert response.status_code == 200
    assert api.client.get(f"/v25.0/{api.sim.config.phone_number_id}",
                          headers=RIGHT).status_code == 401


# -- the phone page ----------------------------------------------------------------------


def test_the_phone_page_and_its_files_need_no_token(api):
    for path in ("/_sim/phone", "/_sim/static/phone.js", "/_sim/static/phone.css"):
        assert api.client.get(path).status_code == 200, path


def test_the_phone_page_takes_its_token_from_the_link_fragment_and_says_where_it_is(api):
    script = api.client.get("/_sim/static/phone.js").get_data(as_text=True)
    html = api.client.get("/_sim/phone").get_data(as_text=True)
    assert "location.hash" in script and "sessionStorage" in script
    assert '"X-Sim-Token"' in script and '"Content-Type"] = "application/json"' in script
    assert 'id="no-token"' in html and "gembok run" in html and "#t=" in html


def test_the_phone_page_shows_times_in_the_office_time_zone(build, clock):
    # Given an office in Jakarta and one in Makassar; it is 20:26 UTC
    assert clock() == 1_780_000_000.0
    for zone, shown in (("Asia/Jakarta", "03:26 WIB"), ("Asia/Makassar", "04:26 WITA")):
        api = Api(build(office_zone=zone))
        # When a customer writes and the phone page reads the thread
        siti = api.customer()
        api.says(siti)
        thread = api.control("GET", f"customers/{siti['user_id']}/thread", expect=200)
        # Then the time is the office's, with its zone's name, not the browser's
        assert [m["time"] for m in thread["messages"]] == [shown]
        assert api.control("GET", "business")["timezone"] == zone


def test_the_phone_page_uses_no_glyph_debian_s_chromium_cannot_draw(api):
    # Debian's Chromium has DejaVu and Liberation: no emoji (they showed as empty boxes)
    for path in ("/_sim/phone", "/_sim/static/phone.js", "/_sim/static/phone.css"):
        text = api.client.get(path).get_data(as_text=True)
        assert not [ch for ch in text if ord(ch) >= 0x1F000
                    or (0x2600 <= ord(ch) < 0x2700 and ch != "⚠")], path
    html = api.client.get("/_sim/phone").get_data(as_text=True)
    attach = html.split('class="attach"', 1)[1].split("</label>", 1)[0]
    assert "<svg" in attach and "Lampiran" in attach


# -- the helpers callers use -------------------------------------------------------------


def test_callers_read_the_token_from_the_data_dir(tmp_path: Path):
    # Given the quick start's business file under the data dir
    data_dir = tmp_path / "var"
    config = make_config()
    write_config(data_dir / "simulator" / "config.json", config)
    settings = load_settings({"GEMBOK_DATA_DIR": str(data_dir),
                              "GEMBOK_SIMULATOR_PORT": "8445"})
    # Then one helper reads the token, and `gembok run`'s link carries it in the fragment
    assert control_token(data_dir) == CONTROL_TOKEN
    assert control_headers(data_dir) == RIGHT
    assert phone_link(settings) == f"http://127.0.0.1:8445/_sim/phone#t={CONTROL_TOKEN}"


def test_the_helper_says_plainly_when_there_is_no_token(tmp_path: Path):
    with pytest.raises(SimulatorConfigError, match="no such simulator config file"):
        control_token(tmp_path)
    write_config(tmp_path / "simulator" / "config.json", make_config(control_token=""))
    with pytest.raises(SimulatorConfigError, match="no control_token yet"):
        control_token(tmp_path)


def test_the_client_helper_is_what_a_werkzeug_client_needs(build, tmp_path: Path):
    write_config(tmp_path / "simulator" / "config.json", make_config())
    client = Client(build())
    response = client.get("/_sim/customers", headers=control_headers(tmp_path))
    assert response.status_code == 200
