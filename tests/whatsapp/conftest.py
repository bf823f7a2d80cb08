"""Fixtures for the WhatsApp pipeline: an appliance with Cloud API credentials, a signer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.bootstrap import initialise
from appliance.store.db import db
from appliance.whatsapp import credentials
from appliance.whatsapp.signature import sign
from tests.conftest import settings_for

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pywa-updates"

WHATSAPP_ENV = {
    "GEMBOK_WHATSAPP_APP_SECRET": APP_SECRET,
    "GEMBOK_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
    "GEMBOK_WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
    "GEMBOK_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
}


@pytest.fixture
def wa_settings(tmp_path):
    return settings_for(tmp_path / "var", **WHATSAPP_ENV)


@pytest.fixture
def wa_rt(wa_settings):
    credentials._cache.clear()
    runtime, _ = initialise(wa_settings)
    yield runtime
    db.close()
    credentials._cache.clear()


def signed(body: bytes | dict, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"X-Hub-Signature-256": sign(secret, raw), "Content-Type": "application/json"}


def fixture_cases(name: str) -> dict[str, dict]:
    return json.loads((FIXTURES / name).read_text())


def text_message(wamid: str, body: str = "Halo, pesanan saya belum sampai",
                 wa_id: str | None = "6281234567890", user_id: str | None = "ID.1001",
                 name: str = "Siti Rahayu", timestamp: str = "1764000000") -> dict:
    contact: dict = {"profile": {"name": name}}
    message: dict = {"id": wamid, "timestamp": timestamp, "type": "text", "text": {"body": body}}
    if wa_id:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [message]})


def status(wamid: str, state: str, timestamp: str = "1764000100", code: int | None = None,
           callback: str | None = None) -> dict:
    item: dict = {"id": wamid, "status": state, "timestamp": timestamp,
                  "recipient_id": "6281234567890"}
    if code is not None:
        item["errors"] = [{"code": code, "title": "t", "message": "t"}]
    if callback:
        item["biz_opaque_callback_data"] = callback
    return envelope({"statuses": [item]})


def envelope(value: dict, field: str = "messages") -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": field, "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
            **value}}]}]}


def batch(*bodies: dict) -> dict:
    """Several webhook bodies as one POST, the way Meta batches up to 1,000 updates."""
    return {"object": "whatsapp_business_account",
            "entry": [entry for body in bodies for entry in body["entry"]]}


def button_tap(wamid: str, text: str, payload: str, wa_id: str = "6281234567890",
               user_id: str | None = "ID.1001", name: str = "Siti Rahayu",
               timestamp: str = "1764000200") -> dict:
    """A tap on a template's quick-reply button, as Meta posts it: a `button` message
    whose text is the label in the customer's language (cloud-api.md 2.5, section 11)."""
    contact: dict = {"profile": {"name": name}, "wa_id": wa_id}
    message: dict = {"id": wamid, "from": wa_id, "timestamp": timestamp, "type": "button",
                     "button": {"payload": payload, "text": text},
                     "context": {"from": "6281100000000", "id": "wamid.TEMPLATE1"}}
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [message]})


def user_preferences(value: str, wa_id: str | None = "6281234567890",
                     user_id: str | None = None, timestamp: int = 1764000300) -> dict:
    """Meta's `user_preferences` webhook: marketing stopped or resumed in WhatsApp's own
    settings (shape of pywa's `user_marketing_preferences.json`)."""
    item: dict = {"detail": f"User requested to {value} marketing messages",
                  "category": "marketing_messages", "value": value, "timestamp": timestamp}
    contact: dict = {}
    if wa_id:
        item["wa_id"] = contact["wa_id"] = wa_id
    if user_id:
        item["user_id"] = contact["user_id"] = user_id
    return envelope({"contacts": [contact], "user_preferences": [item]},
                    field="user_preferences")
