"""Webhook delivery to a real HTTP receiver: signatures, retries, batches, duplicates, shapes."""

from __future__ import annotations

import hashlib
import hmac
import random
import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from appliance.tls import ensure_certificate
from simulator import create_simulator
from tests.simulator.conftest import (
    SECRET,
    WABA_ID,
    Api,
    Receiver,
    _Handler,
    _Server,
    make_config,
    statuses,
    updates,
)

PHONE = "6281234567890"


def bodies(receiver: Receiver) -> list[dict]:
    return [r.json for r in receiver.requests]


def test_each_post_is_signed_over_the_exact_bytes_sent(hooked, receiver):
    # When a customer writes (with non-ASCII text, which Meta escapes)
    customer = hooked.customer()
    hooked.says(customer, "Halo 👋, harga berapa?")
    hooked.sim.flush()
    # Then the receiver got one JSON POST whose signature is the HMAC of the raw bytes
    [request] = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == expected
    assert request.headers["Content-Type"] == "application/json"
    assert b"\\ud83d\\udc4b" in request.body  # \u-escaped, so re-serialising would not match


def test_the_envelope_names_the_waba_and_uses_string_timestamps(hooked, receiver):
    customer = hooked.customer()
    hooked.says(customer)
    hooked.text(PHONE)
    hooked.sim.flush()
    for body in bodies(receiver):
        assert body["object"] == "whatsapp_business_account"
        [entry] = body["entry"]
        assert entry["id"] == WABA_ID and "time" not in entry
        value = entry["changes"][0]["value"]
        assert entry["changes"][0]["field"] == "messages"
        assert value["metadata"] == {"display_phone_number": "6281100000000",
                                     "phone_number_id": "106540352242922"}
        for item in value.get("messages", []) + value.get("statuses", []):
            assert isinstance(item["timestamp"], str) and item["timestamp"].isdigit()


def test_a_post_answered_500_is_retried_until_200(hooked, receiver, clock):
    # Given a receiver that fails twice
    receiver.answer(500, 503)
    hooked.says(hooked.customer())
    # When delivery runs, then again after each back-off
    [first] = hooked.sim.flush()
    assert (first["state"], first["attempts"], first["status"]) == ("retrying", 1, 500)
    clock.advance(1.5)
    assert hooked.sim.flush()[0]["state"] == "retrying"
    clock.advance(3)
    [last] = hooked.sim.flush()
    # Then the third attempt delivers the very same bytes
    assert (last["state"], last["attempts"], last["status"]) == ("delivered", 3, 200)
    assert len({r.body for r in receiver.requests}) == 1 and len(receiver.requests) == 3


def test_a_retry_waits_for_its_back_off(hooked, receiver, clock):
    receiver.answer(500)
    hooked.says(hooked.customer())
    hooked.sim.flush()
    assert hooked.sim.flush() == []  # not due yet: retry_base_seconds * 2**0 with jitter
    clock.advance(1.3)
    assert hooked.sim.flush()[0]["state"] == "delivered"


def test_a_post_is_dropped_after_the_last_attempt(hooked, receiver):
    # Given a receiver that always fails and 3 attempts allowed
    receiver.default = 500
    hooked.says(hooked.customer())
    hooked.sim.flush()
    hooked.control("POST", "webhooks/retry_now", expect=200)
    [post] = hooked.control("POST", "webhooks/retry_now", expect=200)["posts"]
    # Then it is dropped, and the log says so
    assert (post["state"], post["attempts"]) == ("dropped", 3)
    assert hooked.control("POST", "webhooks/retry_now", expect=200)["posts"] == []
    log = hooked.control("GET", "webhooks/log")
    assert [p["state"] for p in log["posts"]] == ["dropped"] and log["pending"] == 0


def test_an_unreachable_receiver_counts_as_a_failed_attempt(make_sim):
    api = Api(make_sim(webhook_url="http://127.0.0.1:9/webhooks"))
    api.says(api.customer())
    [post] = api.sim.flush()
    assert (post["state"], post["status"], post["error"]) == ("retrying", None, "ConnectError")


def test_batch_mode_puts_several_updates_in_one_post(hooked, receiver, clock):
    # Given batches of up to 10
    hooked.control("POST", "webhooks/mode", {"batch": 10}, expect=200)
    siti = hooked.customer()
    budi = hooked.customer(phone="+62 813 0000 0001", name="Budi")
    # When two customers write and the business answers one of them
    hooked.says(siti, "satu")
    hooked.says(budi, "dua")
    hooked.says(siti, "tiga")
    hooked.text(PHONE)
    clock.advance(1)
    hooked.control("POST", "number", {"status": "FLAGGED"}, expect=200)
    posts = hooked.sim.flush()
    # Then one POST carries all six updates, in two entries (messages, account-level)
    assert len(posts) == 1 and posts[0]["updates"] == 6
    [body] = bodies(receiver)
    messages_entry, account_entry = body["entry"]
    inbound = messages_entry["changes"][0]["value"]
    assert [m["text"]["body"] for m in inbound["messages"]] == ["satu", "dua", "tiga"]
    assert [c["profile"]["name"] for c in inbound["contacts"]] == ["Siti", "Budi"]
    status_list = messages_entry["changes"][1]["value"]["statuses"]
    assert [s["status"] for s in status_list] == ["sent", "delivered"]
    assert isinstance(account_entry["time"], int)
    assert account_entry["changes"][0]["field"] == "phone_number_quality_update"


def test_duplicate_mode_delivers_each_post_twice(hooked, receiver):
    hooked.control("POST", "webhooks/mode", {"duplicate": 1.0}, expect=200)
    hooked.says(hooked.customer())
    posts = hooked.sim.flush()
    assert [p["duplicate_of"] for p in posts] == [None, posts[0]["id"]]
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_reorder_mode_can_deliver_read_before_delivered(hooked, receiver, clock):
    # Given a customer who read five messages after they were delivered
    hooked.control("POST", "webhooks/mode", {"reorder": True}, expect=200)
    customer = hooked.customer()
    hooked.says(customer)
    hooked.sim.flush()
    receiver.requests.clear()
    for _ in range(5):
        hooked.text(PHONE)
    clock.advance(1)
    hooked.control("POST", f"customers/{PHONE}/read", {}, expect=200)
    # When webhooks go out shuffled
    hooked.sim.flush()
    order = [(s["id"], s["status"]) for b in bodies(receiver)
             for s in b["entry"][0]["changes"][0]["value"]["statuses"]]
    # Then some message's read arrives before its delivered
    assert any(order.index((wamid, "read")) < order.index((wamid, "delivered"))
               for wamid, status in order if status == "sent")


def test_reading_before_delivery_skips_delivered(hooked, receiver):
    customer = hooked.customer()
    hooked.says(customer)
    wamid = hooked.text(PHONE).json["messages"][0]["id"]
    hooked.control("POST", f"customers/{PHONE}/read", {"wamid": wamid}, expect=200)
    mine = [s["status"] for s in statuses(hooked.sim.flush()) if s["id"] == wamid]
    assert mine == ["sent", "read"]  # "delivered ... is not sent because it's implied"


def test_a_username_only_customer_never_shows_a_phone(hooked, receiver, clock):
    # Given a customer who hides her phone behind a username
    customer = hooked.customer(phone="+62 812 3456 7890", username="@siti", username_only=True)
    # When she writes and the business answers to her BSUID
    hooked.says(customer)
    hooked.send(recipient=customer["user_id"], type="text", text={"body": "Hai"})
    clock.advance(1)
    posts = hooked.sim.flush()
    # Then no wa_id, from or recipient_id appears anywhere; BSUID fields do
    [inbound, sent, delivered] = updates(posts)
    assert inbound["contacts"] == [{"profile": {"name": "Siti", "username": "@siti"},
                                    "user_id": customer["user_id"]}]
    assert "from" not in inbound["messages"][0]
    assert inbound["messages"][0]["from_user_id"] == customer["user_id"]
    for value in (sent, delivered):
        [status] = value["statuses"]
        assert "recipient_id" not in status
        assert status["recipient_user_id"] == customer["user_id"]
        assert "wa_id" not in value["contacts"][0]
    assert "username" not in sent["contacts"][0]["profile"]  # only on delivered and read
    assert delivered["contacts"][0]["profile"]["username"] == "@siti"


def test_a_customer_without_a_phone_is_username_only(hooked):
    customer = hooked.customer(phone=None, name="Rina", username="rina")
    assert (customer["wa_id"], customer["username"], customer["username_only"]) == (
        None, "@rina", True)
    assert customer["user_id"].startswith("ID.")


def test_the_window_error_arrives_as_a_failed_status_without_contacts(hooked, receiver):
    # Given a customer who never wrote
    hooked.customer()
    # When the business sends free-form text
    response = hooked.text(PHONE)
    hooked.sim.flush()
    # Then the send said 200, and the webhook is a failed status without contacts
    assert response.status_code == 200
    [body] = bodies(receiver)
    value = body["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value
    [status] = value["statuses"]
    assert status["status"] == "failed" and status["recipient_id"] == PHONE
    assert "recipient_user_id" not in status  # sent to a phone number (reference §2.4)
    assert status["errors"][0]["code"] == 131047
    assert status["errors"][0]["title"] == status["errors"][0]["message"]


@pytest.mark.parametrize(("change", "field", "value"), [
    ({"status": "DISCONNECTED"}, "account_update", {"event": "ACCOUNT_OFFBOARDED"}),
    ({"status": "DISCONNECTED", "disconnection_reason": "PRIMARY_INACTIVITY"},
     "account_update", {"event": "PARTNER_REMOVED", "waba_info": {
         "waba_id": WABA_ID, "owner_business_id": str(10**15 + int(WABA_ID))},
                        "disconnection_info": {"reason": "PRIMARY_INACTIVITY",
                                               "initiated_by": "SYSTEM"}}),
    ({"status": "FLAGGED"}, "phone_number_quality_update",
     {"display_phone_number": "6281100000000", "event": "FLAGGED", "current_limit": "TIER_250"}),
    ({"messaging_limit": 2000}, "business_capability_update",
     {"max_daily_conversations_per_business": 2000}),
    ({"messaging_limit": None}, "business_capability_update",
     {"max_daily_conversations_per_business": -1}),
    ({"throughput": "HIGH"}, "phone_number_quality_update",
     {"display_phone_number": "6281100000000", "event": "THROUGHPUT_UPGRADE",
      "current_limit": "TIER_UNLIMITED"}),
])
def test_a_number_change_emits_the_account_webhook(hooked, receiver, change, field, value):
    hooked.control("POST", "number", change, expect=200)
    hooked.sim.flush()
    [body] = bodies(receiver)
    [entry] = body["entry"]
    assert entry["id"] == WABA_ID and isinstance(entry["time"], int)
    assert entry["changes"] == [{"value": value, "field": field}]


def test_a_reconnected_number_emits_account_reconnected(hooked, receiver):
    hooked.control("POST", "number", {"status": "DISCONNECTED"}, expect=200)
    hooked.control("POST", "number", {"status": "CONNECTED"}, expect=200)
    hooked.sim.flush()
    events = [b["entry"][0]["changes"][0]["value"]["event"] for b in bodies(receiver)]
    assert events == ["ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED"]


def test_any_account_event_can_be_injected(hooked, receiver):
    alert = {"entity_type": "BUSINESS", "entity_id": "506914307656634",
             "alert_info": {"alert_severity": "WARNING", "alert_status": "ACTIVE",
                            "alert_type": "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED",
                            "alert_description": "Limits cannot be increased."}}
    hooked.control("POST", "events", {"field": "account_alerts", "value": alert}, expect=202)
    hooked.sim.flush()
    assert bodies(receiver)[0]["entry"][0]["changes"] == [{"value": alert,
                                                           "field": "account_alerts"}]


def test_a_template_review_emits_a_status_update_with_an_integer_id(hooked, receiver):
    hooked.control("POST", "templates", {"name": "order_update", "language": "id",
                                         "status": "PAUSED"}, expect=200)
    hooked.sim.flush()
    value = bodies(receiver)[0]["entry"][0]["changes"][0]["value"]
    assert value["event"] == "PAUSED" and value["message_template_id"] == 1000000000000002
    assert value["message_template_category"] == "UTILITY"


def test_an_opt_out_emits_user_preferences(hooked, receiver):
    customer = hooked.customer()
    hooked.control("POST", f"customers/{PHONE}/opt_out", expect=200)
    hooked.sim.flush()
    change = bodies(receiver)[0]["entry"][0]["changes"][0]
    assert change["field"] == "user_preferences"
    [pref] = change["value"]["user_preferences"]
    assert (pref["value"], pref["category"], pref["user_id"]) == (
        "stop", "marketing_messages", customer["user_id"])
    assert isinstance(pref["timestamp"], int)


def test_without_a_webhook_url_nothing_is_delivered(api):
    api.says(api.customer())
    assert [p["state"] for p in api.sim.flush()] == ["skipped"]


def test_the_sender_thread_delivers_without_a_flush(receiver, clock):
    # Given a simulator with its background sender (as under gunicorn)
    sim = create_simulator(make_config(webhook_url=receiver.url), clock=clock,
                           rng=random.Random(1))
    try:
        # When a customer writes
        Api(sim).says(Api(sim).customer())
        # Then the webhook arrives on its own
        assert receiver.arrived.wait(timeout=5)
    finally:
        sim.close()
    assert bodies(receiver)[0]["entry"][0]["changes"][0]["value"]["messages"]


@pytest.fixture
def tls_receiver(tmp_path) -> Iterator[tuple[Receiver, str]]:
    """The receiver behind Gembok's kind of self-signed certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ensure_certificate(cert, key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.receiver = Receiver(url=f"https://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=ThreadingHTTPServer.serve_forever, args=(server, 0.01),
                              daemon=True)
    thread.start()
    yield server.receiver, str(cert)
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_https_receiver_with_a_self_signed_certificate_is_trusted_via_the_ca_file(
        make_sim, tls_receiver):
    receiver, cert = tls_receiver
    api = Api(make_sim(webhook_url=receiver.url, webhook_ca_file=cert))
    api.says(api.customer())
    assert api.sim.flush()[0]["state"] == "delivered"
    untrusted = Api(make_sim(webhook_url=receiver.url))
    untrusted.says(untrusted.customer(phone="+62 813 1111 2222"))
    assert untrusted.sim.flush()[0]["error"] == "ConnectError"
