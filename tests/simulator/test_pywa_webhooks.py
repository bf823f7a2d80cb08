"""pywa as an outside oracle (b): its webhook types parse every update the simulator sends.

Each body goes through pywa's own signature check and its own dispatch (the handler
type its server would pick), then that type's `from_update`. pywa reads only the first
item of a POST, so these tests keep Meta's default of one update per POST.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pywa import WhatsApp, errors
from pywa.types import (
    AccountUpdate,
    CallbackButton,
    CallbackSelection,
    Message,
    MessageStatus,
    PhoneNumberChange,
    RawUpdate,
    UserMarketingPreferences,
)
from pywa.types.templates import TemplateStatusUpdate

from tests.simulator.conftest import PHONE_ID, SECRET, TOKEN, WABA_ID, Api, Received, Receiver

PHONE = "6281234567890"
JPEG = b"\xff\xd8\xff\xe0 a photo of a receipt"


@pytest.fixture
def wa(hooked: Api) -> Iterator[WhatsApp]:
    session = httpx.Client(transport=httpx.WSGITransport(app=hooked.sim))
    yield WhatsApp(phone_id=PHONE_ID, token=TOKEN, waba_id=WABA_ID, app_secret=SECRET,
                   verify_token="verify-me", session=session)
    session.close()


def parse(wa: WhatsApp, request: Received) -> Any:
    """What pywa's webhook server would build from this POST (signature checked first)."""
    assert wa.webhook_update_validator(request.body,
                                       request.headers["X-Hub-Signature-256"]) is None
    raw = RawUpdate(request.body, hmac_header=None, update_hash="oracle")
    handler = wa._get_handler_type(raw)  # pywa's own dispatch, filters on WABA and phone id
    assert handler is not None, raw.value
    return wa._handlers_to_updates[handler].from_update(client=wa, update=raw)


def delivered(api: Api, receiver: Receiver) -> list[Received]:
    receiver.requests.clear()
    api.sim.flush()
    return list(receiver.requests)


@pytest.fixture
def siti(hooked: Api) -> dict:
    return hooked.customer(username="@siti")


def test_pywa_parses_a_text_message(wa, hooked, receiver, siti):
    hooked.says(siti, "Apakah masih ada stok?")
    [request] = delivered(hooked, receiver)
    message = parse(wa, request)
    assert isinstance(message, Message)
    assert message.text == "Apakah masih ada stok?"
    assert (message.from_user.wa_id, message.from_user.bsuid) == (PHONE, siti["user_id"])
    assert (message.from_user.name, message.from_user.username) == ("Siti", "@siti")
    assert message.waba_id == WABA_ID and message.metadata.phone_number_id == PHONE_ID


def test_pywa_parses_a_username_only_sender_without_a_phone(wa, hooked, receiver):
    rina = hooked.customer(phone=None, name="Rina", username="@rina")
    hooked.says(rina, "Halo")
    message = parse(wa, delivered(hooked, receiver)[0])
    assert message.from_user.wa_id is None
    assert message.from_user.bsuid == rina["user_id"] and message.from_user.username == "@rina"


def test_pywa_parses_a_photo_and_downloads_it_through_the_webhook_url(wa, hooked, receiver,
                                                                      siti):
    hooked.says(siti, type="image", image={"caption": "Bukti transfer"},
                content_base64=base64.b64encode(JPEG).decode(), mime_type="image/jpeg")
    message = parse(wa, delivered(hooked, receiver)[0])
    assert message.image.caption == "Bukti transfer"
    assert message.image.mime_type == "image/jpeg"
    assert message.get_media_bytes() == JPEG


@pytest.mark.parametrize(("payload", "check"), [
    ({"type": "audio", "audio": {"voice": True}},
     lambda m: m.audio.voice and m.audio.mime_type.startswith("audio/ogg")),
    ({"type": "document", "document": {"filename": "invoice.pdf", "caption": "Invoice"}},
     lambda m: m.document.filename == "invoice.pdf"),
    ({"type": "video", "video": {}}, lambda m: m.video.mime_type == "video/mp4"),
    ({"type": "sticker", "sticker": {"animated": False}}, lambda m: m.sticker.animated is False),
    ({"type": "location", "location": {"latitude": -6.2, "longitude": 106.8, "name": "Toko"}},
     lambda m: (m.location.latitude, m.location.name) == (-6.2, "Toko")),
    ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Budi"},
                                        "phones": [{"phone": "+62 811", "type": "CELL"}]}]},
     lambda m: m.contacts[0].name.formatted_name == "Budi"),
    ({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
     lambda m: (m.reaction.emoji, m.reaction.message_id) == ("👍", "wamid.X")),
    ({"type": "unsupported", "unsupported": {"type": "poll"}},
     lambda m: m.error.code == 131051),
    ({"type": "text", "text": {"body": "dari iklan"},
      "referral": {"source_url": "https://fb.me/x", "source_id": "1", "source_type": "ad",
                   "body": "Promo", "headline": "Diskon", "media_type": "image",
                   "image_url": "https://example.com/a.jpg", "ctwa_clid": "abc"}},
     lambda m: m.referral.ctwa_clid == "abc"),
])
def test_pywa_parses_every_inbound_message_type(wa, hooked, receiver, siti, payload, check):
    hooked.control("POST", f"customers/{PHONE}/messages", payload, expect=201)
    message = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(message, Message)
    assert check(message)


def test_pywa_parses_a_tapped_reply_button(wa, hooked, receiver, siti):
    hooked.says(siti)
    wamid = hooked.send(to=PHONE, type="interactive", interactive={
        "type": "button", "body": {"text": "Ubah?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "ubah", "title": "Ubah"}}]},
    }).json["messages"][0]["id"]
    delivered(hooked, receiver)
    hooked.says(siti, type="interactive", interactive={"type": "button_reply",
                                                       "button_reply": {"id": "ubah"}},
                context={"id": wamid})
    button = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(button, CallbackButton)
    assert (button.data, button.title, button.reply_to_message.id) == (
        "ubah", "Ubah", wamid)


def test_pywa_parses_a_chosen_list_row(wa, hooked, receiver, siti):
    hooked.says(siti, type="interactive", interactive={
        "type": "list_reply", "list_reply": {"id": "express", "title": "Express",
                                             "description": "1-2 hari"}},
        context={"id": "wamid.LIST"})
    selection = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(selection, CallbackSelection)
    assert (selection.data, selection.title, selection.description) == (
        "express", "Express", "1-2 hari")


def test_pywa_parses_a_template_quick_reply(wa, hooked, receiver, siti):
    hooked.says(siti, type="button", button={"payload": "STOP_PROMO", "text": "Berhenti"},
                context={"id": "wamid.TPL"})
    button = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(button, CallbackButton) and button.data == "STOP_PROMO"


def test_pywa_parses_a_number_change(wa, hooked, receiver, siti):
    hooked.says(siti, type="system", system={"type": "user_changed_number",
                                             "new_phone": "+62 813 9999 8888"})
    change = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(change, PhoneNumberChange)
    assert (change.old_wa_id, change.new_wa_id) == (PHONE, "6281399998888")


def test_pywa_parses_sent_delivered_and_read_statuses(wa, hooked, receiver, siti, clock):
    hooked.says(siti)
    delivered(hooked, receiver)
    wamid = hooked.text(PHONE, biz_opaque_callback_data="outbox:7").json["messages"][0]["id"]
    clock.advance(1)
    hooked.control("POST", f"customers/{PHONE}/read", {"wamid": wamid}, expect=200)
    parsed = [parse(wa, r) for r in delivered(hooked, receiver)]
    assert all(isinstance(s, MessageStatus) for s in parsed)
    assert [(s.id, s.status) for s in parsed] == [(wamid, "sent"), (wamid, "delivered"),
                                                  (wamid, "read")]
    assert {s.tracker for s in parsed} == {"outbox:7"}
    assert (parsed[0].pricing.model, parsed[0].pricing.type) == ("PMP", "free_customer_service")
    assert parsed[0].conversation is None
    assert parsed[2].from_user.bsuid == siti["user_id"]


def test_a_failed_status_has_no_contacts_which_pywa_cannot_parse(wa, hooked, receiver):
    # The reference (§2.4, Meta's BSUID page) overrides pywa here: a failed status omits
    # the contacts block, while pywa's MessageStatus.from_update requires contacts[0].
    hooked.customer()
    hooked.text(PHONE)
    [request] = delivered(hooked, receiver)
    with pytest.raises(KeyError, match="contacts"):
        parse(wa, request)
    # pywa's error mapping still agrees on what the failure means.
    status = request.json["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert isinstance(errors.WhatsAppError.from_dict(status["errors"][0]),
                      errors.ReEngagementMessage)


@pytest.mark.parametrize(("change", "event"), [
    ({"status": "DISCONNECTED"}, "ACCOUNT_OFFBOARDED"),
    ({"status": "DISCONNECTED", "disconnection_reason": "PRIMARY_INACTIVITY"},
     "PARTNER_REMOVED"),
    ({"status": "RESTRICTED"}, "ACCOUNT_RESTRICTION"),
    ({"status": "BANNED"}, "DISABLED_UPDATE"),
])
def test_pywa_parses_account_updates(wa, hooked, receiver, change, event):
    hooked.control("POST", "number", change, expect=200)
    update = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(update, AccountUpdate) and update.event == event
    if event == "PARTNER_REMOVED":
        assert update.disconnection_info.reason == "PRIMARY_INACTIVITY"
    if event == "ACCOUNT_RESTRICTION":
        assert update.restriction_info[0].type == "RESTRICTED_BIZ_INITIATED_MESSAGING"
    if event == "DISABLED_UPDATE":
        assert update.ban_info.state == "DISABLE"


def test_pywa_parses_a_template_status_update(wa, hooked, receiver):
    hooked.control("POST", "templates", {"name": "order_update", "language": "id",
                                         "status": "PAUSED"}, expect=200)
    update = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(update, TemplateStatusUpdate)
    assert (update.template_name, update.new_status) == ("order_update", "PAUSED")


def test_pywa_parses_a_marketing_opt_out(wa, hooked, receiver, siti):
    hooked.control("POST", f"customers/{PHONE}/opt_out", expect=200)
    update = parse(wa, delivered(hooked, receiver)[0])
    assert isinstance(update, UserMarketingPreferences)
    assert update.value == "stop" and update.from_user.bsuid == siti["user_id"]
