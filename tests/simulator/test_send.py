"""Sending: every type's answer, Meta's shape errors, phone formats, BSUIDs, read receipts."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import error_of, statuses

PHONE = "6281234567890"
BUTTONS = {"type": "button", "body": {"text": "Jadwal Anda besok jam 9. Ubah?"},
           "action": {"buttons": [{"type": "reply", "reply": {"id": "ubah", "title": "Ubah"}},
                                  {"type": "reply", "reply": {"id": "batal", "title": "Batal"}}]}}
LIST = {"type": "list", "body": {"text": "Pilih pengiriman"},
        "action": {"button": "Pilihan", "sections": [{"title": "Cepat", "rows": [
            {"id": "express", "title": "Express", "description": "1-2 hari"}]}]}}

SENDS = {
    "text": {"type": "text", "text": {"body": "Halo!", "preview_url": False}},
    "image-link": {"type": "image", "image": {"link": "https://example.com/a.jpg",
                                              "caption": "Struk"}},
    "document-link": {"type": "document", "document": {"link": "https://example.com/a.pdf",
                                                       "filename": "invoice.pdf"}},
    "audio-voice": {"type": "audio", "audio": {"link": "https://example.com/a.ogg",
                                               "voice": True}},
    "video-link": {"type": "video", "video": {"link": "https://example.com/a.mp4"}},
    "sticker-link": {"type": "sticker", "sticker": {"link": "https://example.com/a.webp"}},
    "buttons": {"type": "interactive", "interactive": BUTTONS},
    "list": {"type": "interactive", "interactive": LIST},
    "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
    "location": {"type": "location", "location": {"latitude": -6.2, "longitude": 106.8,
                                                  "name": "Toko"}},
    "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Budi"},
                                                   "phones": [{"phone": "+62 811"}]}]},
    "template": {"type": "template", "template": {"name": "hello_world",
                                                  "language": {"code": "en_US"}}},
    "reply-with-context": {"type": "text", "text": {"body": "Ya"},
                           "context": {"message_id": "wamid.Y"}},
}


@pytest.mark.parametrize("body", SENDS.values(), ids=SENDS.keys())
def test_each_message_type_is_accepted_with_meta_s_response(api, siti, body):
    # When the business sends this type to a customer inside the window
    response = api.send(body, to=PHONE, recipient_type="individual")
    # Then the answer is exactly reference §3.3
    assert response.status_code == 200, response.json
    assert response.json["messaging_product"] == "whatsapp"
    assert response.json["contacts"] == [{"input": PHONE, "wa_id": PHONE,
                                          "user_id": siti["user_id"]}]
    [message] = response.json["messages"]
    assert set(message) == {"id"} and message["id"].startswith("wamid.")


def test_the_customer_sees_what_was_sent_then_sent_and_delivered(api, siti, clock):
    # Given a text sent to Siti
    wamid = api.text(PHONE).json["messages"][0]["id"]
    # When time passes and webhooks go out
    clock.advance(1)
    posts = api.sim.flush()
    # Then her inbox holds it, delivered, and Gembok got sent then delivered
    [row] = api.control("GET", f"customers/{PHONE}/inbox")["messages"]
    assert (row["wamid"], row["type"], row["status"]) == (wamid, "text", "delivered")
    assert row["message"]["body"] == "Halo, pesanan Anda sudah dikirim."
    assert [s["status"] for s in statuses(posts) if s["id"] == wamid] == ["sent", "delivered"]


@pytest.mark.parametrize("to", ["+62 812-3456-7890", "(0812) 3456 7890", "081234567890",
                                "6281234567890", "+6281234567890"])
def test_to_accepts_meta_s_phone_formats(api, siti, to):
    response = api.text(to)
    assert response.status_code == 200
    assert response.json["contacts"][0] == {"input": to, "wa_id": PHONE,
                                            "user_id": siti["user_id"]}


def test_a_number_without_plus_gets_the_business_country_code(api):
    # A national number, written without +: the business number's +62 is put in front (§3.1)
    response = api.text("812 9999 0000")
    assert response.json["contacts"][0]["wa_id"] == "6281299990000"


def test_a_message_can_be_sent_to_a_bsuid_recipient(api, siti):
    response = api.send(recipient=siti["user_id"], type="text", text={"body": "Hai"})
    assert response.status_code == 200
    assert response.json["contacts"] == [{"input": siti["user_id"], "wa_id": PHONE,
                                          "user_id": siti["user_id"]}]


def test_an_unknown_recipient_is_accepted_then_fails_with_131026(api):
    # When the business writes to a number that is not on (simulated) WhatsApp
    response = api.template("+62 899 0000 1111")
    # Then the send is accepted, and a failed status follows
    assert response.status_code == 200
    wamid = response.json["messages"][0]["id"]
    [failed] = statuses(api.sim.flush())
    assert (failed["id"], failed["status"]) == (wamid, "failed")
    assert failed["errors"][0]["code"] == 131026
    assert failed["recipient_id"] == "6289900001111"


@pytest.mark.parametrize(("body", "code"), [
    ({"messaging_product": "sms"}, 100),
    ({"type": "text", "text": {"body": "x"}}, 100),  # neither to nor recipient
    ({"to": PHONE, "recipient": "ID.1", "type": "text", "text": {"body": "x"}}, 100),
    ({"to": "not a number", "type": "text", "text": {"body": "x"}}, 100),
    ({"recipient": "siti", "type": "text", "text": {"body": "x"}}, 100),
    ({"to": PHONE, "type": "text", "text": {"body": "x" * 4097}}, 100),
    ({"to": PHONE, "type": "text", "text": {}}, 131008),
    ({"to": PHONE, "type": "text"}, 100),
    ({"to": PHONE, "type": "hologram", "hologram": {}}, 131051),
    ({"to": PHONE, "type": "image", "image": {"caption": "x"}}, 131008),
    ({"to": PHONE, "type": "image", "image": {"id": "404404404"}}, 131009),
    ({"to": PHONE, "type": "image", "image": {"link": "https://e.x/a.jpg",
                                               "caption": "x" * 1025}}, 100),
    ({"to": PHONE, "type": "interactive", "interactive": {
        **BUTTONS, "action": {"buttons": [{"type": "reply", "reply": {"id": str(i),
                                                                      "title": "B"}}
                                          for i in range(4)]}}}, 131009),
    ({"to": PHONE, "type": "interactive", "interactive": {
        **BUTTONS, "action": {"buttons": [{"type": "reply", "reply": {
            "id": "a", "title": "A title longer than twenty"}}]}}}, 131009),
    ({"to": PHONE, "type": "interactive", "interactive": {
        **LIST, "action": {"button": "Pilih", "sections": [{"title": "S", "rows": [
            {"id": str(i), "title": "R"} for i in range(11)]}]}}}, 131009),
    ({"to": PHONE, "type": "interactive", "interactive": {
        **LIST, "action": {"button": "Pilih", "sections": [{"title": "S", "rows": [
            {"id": "a", "title": "A row title over 24 chars!"}]}]}}}, 131009),
    ({"to": PHONE, "type": "interactive", "interactive": {"type": "button",
                                                          "action": BUTTONS["action"]}},
     131008),
    ({"to": PHONE, "type": "reaction", "reaction": {"emoji": "👍"}}, 131008),
    ({"to": PHONE, "type": "location", "location": {"latitude": 100, "longitude": 0}}, 131009),
    ({"to": PHONE, "type": "contacts", "contacts": [{"phones": []}]}, 131008),
    ({"to": PHONE, "type": "template", "template": {"name": "hello_world"}}, 131008),
    ({"to": "6281100000000", "type": "text", "text": {"body": "x"}}, 131021),
])
def test_a_malformed_send_fails_with_meta_s_code(api, siti, body, code):
    payload = {"messaging_product": "whatsapp", **body}
    response = api.client.post("/v25.0/106540352242922/messages", json=payload,
                               headers=api.auth)
    assert response.status_code == 400, response.json
    assert error_of(response)["code"] == code
    assert error_of(response)["message"].startswith(f"(#{code}) ")


def test_a_body_that_is_not_json_fails_with_100(api):
    response = api.client.post("/v25.0/106540352242922/messages", data=b"to=62812",
                               headers=api.auth)
    assert error_of(response)["code"] == 100


def test_marking_a_received_message_read_answers_success(api, siti):
    # Given a message Siti sent
    wamid = api.says(siti, "Ada yang bisa dibantu?")["wamid"]
    # When the business marks it read, with a typing indicator
    response = api.send(status="read", message_id=wamid, typing_indicator={"type": "text"})
    # Then Graph answers success and her phone shows read ticks and typing
    assert (response.status_code, response.json) == (200, {"success": True})
    thread = api.control("GET", f"customers/{PHONE}/thread")
    assert all(m["status"] == "read" for m in thread["messages"] if m["direction"] == "in")
    assert thread["typing"] is True


def test_marking_an_unknown_message_read_fails_with_100(api):
    response = api.send(status="read", message_id="wamid.nope")
    assert error_of(response)["code"] == 100


def test_biz_opaque_callback_data_is_echoed_on_every_status(api, siti, clock):
    wamid = api.text(PHONE, biz_opaque_callback_data="outbox:42").json["messages"][0]["id"]
    clock.advance(1)
    api.control("POST", f"customers/{PHONE}/read", {"wamid": wamid}, expect=200)
    mine = [s for s in statuses(api.sim.flush()) if s["id"] == wamid]
    assert [s["status"] for s in mine] == ["sent", "delivered", "read"]
    assert {s["biz_opaque_callback_data"] for s in mine} == {"outbox:42"}


def test_sent_carries_pmp_pricing_and_no_conversation_on_v24_and_later(api, siti):
    api.text(PHONE)
    sent = next(s for s in statuses(api.sim.flush()) if s["status"] == "sent")
    assert sent["pricing"] == {"billable": False, "pricing_model": "PMP",
                               "type": "free_customer_service", "category": "service"}
    assert "conversation" not in sent


def test_older_webhook_versions_carry_a_conversation(make_sim):
    from tests.simulator.conftest import Api

    api = Api(make_sim(api_version="v23.0"))
    customer = api.customer()
    api.says(customer)
    api.text(PHONE)
    sent = next(s for s in statuses(api.sim.flush()) if s["status"] == "sent")
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert sent["conversation"]["expiration_timestamp"].isdigit()


@pytest.mark.parametrize(("status", "code", "http"), [
    ("DISCONNECTED", 133010, 400), ("BANNED", 131031, 403)])
def test_a_number_that_cannot_send_refuses_every_message(api, siti, status, code, http):
    api.control("POST", "number", {"status": status}, expect=200)
    response = api.text(PHONE)
    assert response.status_code == http
    assert error_of(response)["code"] == code


def test_a_restricted_number_cannot_start_conversations_but_can_answer(api, siti):
    api.control("POST", "number", {"status": "RESTRICTED"}, expect=200)
    assert error_of(api.template(PHONE))["code"] == 368
    assert api.text(PHONE).status_code == 200
