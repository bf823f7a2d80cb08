"""Meta's webhook is verified before it is read, stored before it is acknowledged."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from appliance.store.models import InboxEvent
from appliance.whatsapp.webhook_events import open_event
from tests.whatsapp.conftest import VERIFY_TOKEN, signed, text_message
from webui.webhook_app import create_webhook_app


@pytest.fixture
def app(wa_rt, wa_settings):
    return create_webhook_app(wa_settings, enqueue=False)


@pytest.fixture
def client(app):
    return Client(app)


def handshake(client, **overrides):
    args = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444", **overrides}
    return client.get("/webhooks/whatsapp", query_string=args)


def test_metas_verification_handshake_gets_its_challenge_back(client):
    resp = handshake(client)
    assert resp.status_code == 200 and resp.data == b"1158201444"


@pytest.mark.parametrize("overrides", [{"hub.verify_token": "wrong"}, {"hub.mode": "unsubscribe"},
                                       {"hub.challenge": ""}])
def test_a_handshake_with_a_wrong_token_or_mode_is_refused(client, overrides):
    assert handshake(client, **overrides).status_code == 403


def test_a_signed_webhook_is_stored_sealed_and_acknowledged(client, wa_rt):
    raw, headers = signed(text_message("wamid.A1"))
    resp = client.post("/webhooks/whatsapp", data=raw, headers=headers)
    assert resp.status_code == 200
    [event] = InboxEvent.select()
    assert event.state == "new"
    assert b"Halo" not in bytes(event.body_sealed)
    assert open_event(wa_rt.keyring.system, event) == raw


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc",
                                    "md5=whatever"])
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(app, client, header):
    raw, headers = signed(text_message("wamid.F1"))
    headers.pop("X-Hub-Signature-256")
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    assert client.post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 401
    assert InboxEvent.select().count() == 0
    assert app.rejected["signature"] == 1


def test_a_body_signed_with_another_secret_is_refused(client):
    raw, headers = signed(text_message("wamid.F2"), secret="someone-elses-secret")
    assert client.post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 401
    assert InboxEvent.select().count() == 0


def test_a_body_changed_after_signing_is_refused(client):
    raw, headers = signed(text_message("wamid.F3"))
    tampered = raw.replace(b"Halo", b"HALO")
    assert client.post("/webhooks/whatsapp", data=tampered, headers=headers).status_code == 401


def test_a_ten_megabyte_body_is_refused_before_it_is_read(client):
    raw = b"{" + b" " * (10 * 2**20) + b"}"
    _, headers = signed(raw)
    assert client.post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 413
    assert InboxEvent.select().count() == 0


def test_malformed_json_with_a_valid_signature_is_kept_and_acknowledged(client):
    # Only Meta can sign: an unreadable body is kept for inspection, not bounced for 7 days.
    raw, headers = signed(b'{"object": "whatsapp_business_account", "entry": [')
    assert client.post("/webhooks/whatsapp", data=raw, headers=headers).status_code == 200
    assert InboxEvent.select().count() == 1


def test_the_staff_ui_is_not_served_on_the_webhook_listener(client):
    for path in ("/", "/login", "/admin", "/static/app.js"):
        assert client.get(path).status_code == 404


def test_other_methods_on_the_webhook_are_refused(client):
    assert client.put("/webhooks/whatsapp", data=b"{}").status_code == 405


def test_a_customer_opens_the_privacy_notice_from_the_link_on_the_webhook_face(client, wa_rt):
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.privacy import notice

    assert "Belum ada pemberitahuan" in client.get("/privacy").get_data(as_text=True)
    notice.publish(wa_rt, BOX_ADMIN, "2026-12", summary_id="Ringkas.", full_id="Lengkap <b>.",
                   summary_en="Short.", full_en="In full.")
    notice.publish(wa_rt, BOX_ADMIN, "2027-01", summary_id="Ringkas 2.", full_id="Versi baru.")
    resp = client.get("/privacy", query_string={"v": "2026-12"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Lengkap &lt;b&gt;." in page  # the old version, escaped
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "In full." in client.get("/privacy?v=2026-12&lang=en").get_data(as_text=True)
    assert "Versi baru." in client.get("/privacy").get_data(as_text=True)
    assert client.get("/privacy?v=nope").status_code == 404
    assert client.post("/privacy").status_code == 404
