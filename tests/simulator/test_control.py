"""The control API and the phone page: customers, what they send and see, clock, reset."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import updates

PHONE = "6281234567890"


def test_customers_are_created_and_listed(api):
    # When two customers are created
    siti = api.customer(username="siti")
    rina = api.customer(phone=None, name="Rina")
    # Then each has a BSUID, and the list shows both
    assert siti["user_id"].startswith("ID.") and siti["username"] == "@siti"
    assert siti["wa_id"] == PHONE and not siti["username_only"]
    assert rina["wa_id"] is None and rina["username_only"] and rina["username"] == "@rina"
    listed = api.control("GET", "customers")["customers"]
    assert [c["user_id"] for c in listed] == [siti["user_id"], rina["user_id"]]
    assert api.control("GET", f"customers/{siti['user_id']}")["wa_id"] == PHONE


def test_a_second_customer_with_the_same_phone_is_refused(api):
    api.customer()
    assert "exists" in api.control("POST", "customers", {"phone": "+6281234567890",
                                                         "name": "X"}, expect=409)["error"]


def test_an_unknown_customer_or_route_is_404(api):
    assert api.control("GET", "customers/628999/inbox", expect=404)["error"]
    assert api.control("GET", "no/such/route", expect=404)["error"]


def test_a_customer_message_opens_the_window(api):
    customer = api.customer()
    assert customer["window_open"] is False
    api.says(customer)
    assert api.control("GET", f"customers/{PHONE}")["window_open"] is True


def test_the_clock_moves_forward_only(api, clock):
    before = api.control("GET", "clock")["now"]
    after = api.control("POST", "clock", {"advance_seconds": 86400}, expect=200)["now"]
    assert after - before == 86400
    api.control("POST", "clock", {"advance_seconds": -1}, expect=400)


def test_reset_forgets_customers_and_faults(api, siti):
    api.control("POST", "faults", {"kind": "http_500"}, expect=200)
    api.control("POST", "reset", expect=200)
    assert api.control("GET", "customers")["customers"] == []
    assert api.control("GET", "faults")["faults"] == []


def test_tapping_a_reply_button_answers_with_its_context(api, siti):
    # Given the business sent reply buttons
    buttons = {"type": "button", "body": {"text": "Ubah jadwal?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "ubah", "title": "Ubah"}}]}}
    wamid = api.send(to=PHONE, type="interactive", interactive=buttons).json["messages"][0]["id"]
    api.sim.flush()
    # When Siti taps it (the phone page sends only the id)
    api.says(siti, type="interactive", interactive={"type": "button_reply",
                                                    "button_reply": {"id": "ubah"}},
             context={"id": wamid})
    [value] = updates(api.sim.flush())
    # Then the webhook quotes the business message and carries the button's title
    message = value["messages"][0]
    assert message["context"] == {"id": wamid, "from": "6281100000000"}
    assert message["interactive"] == {"type": "button_reply",
                                      "button_reply": {"id": "ubah", "title": "Ubah"}}


def test_the_thread_shows_both_sides_and_a_rendered_template(api, siti):
    api.template(PHONE, params=["Siti", "INV-9"])
    thread = api.control("GET", f"customers/{PHONE}/thread")
    assert [m["direction"] for m in thread["messages"]] == ["in", "out"]
    rendered = thread["messages"][1]["rendered"]
    assert rendered["body"] == "Halo Siti, pesanan Anda INV-9 sedang dikirim."
    assert rendered["buttons"] == [{"text": "Terima kasih", "payload": "Terima kasih"}]


def test_a_customer_changing_number_sends_a_system_message(api, siti):
    api.says(siti, type="system", system={"type": "user_changed_number",
                                          "new_phone": "+62 813 9999 8888"})
    [value] = updates(api.sim.flush())
    message = value["messages"][0]
    assert "contacts" not in value
    assert (message["from"], message["system"]["wa_id"]) == (PHONE, "6281399998888")
    moved = api.control("GET", "customers/6281399998888")
    assert moved["user_id"] == message["system"]["user_id"] != siti["user_id"]


@pytest.mark.parametrize("body", [
    {"type": "text", "text": {}},
    {"type": "hologram"},
    {"type": "image", "content_base64": "***"},
    {"type": "location", "location": {"latitude": 1}},
    {"type": "interactive", "interactive": {"type": "poll"}},
])
def test_an_unusable_customer_message_is_refused(api, body):
    api.customer()
    assert api.control("POST", f"customers/{PHONE}/messages", body, expect=400)["error"]


@pytest.mark.parametrize("body", [{"batch": 0}, {"duplicate": 2}])
def test_a_bad_webhook_mode_is_refused(api, body):
    api.control("POST", "webhooks/mode", body, expect=400)


def test_the_phone_page_works_under_a_strict_content_security_policy(api):
    # When the page and its two files are fetched
    page = api.client.get("/_sim/phone")
    script = api.client.get("/_sim/static/phone.js")
    style = api.client.get("/_sim/static/phone.css")
    # Then each is served by the simulator itself with default-src 'self'
    for response in (page, script, style):
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    html = page.get_data(as_text=True)
    assert 'src="/_sim/static/phone.js"' in html and 'href="/_sim/static/phone.css"' in html
    assert "<script>" not in html and "style=" not in html
    assert script.mimetype == "text/javascript" and style.mimetype == "text/css"
    assert api.client.get("/_sim/static/../app.py").status_code == 404
