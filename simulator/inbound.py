"""Provides what a simulated customer sends: the `messages[]` item of each type, per §2.5.

The control API and the phone page give a loose description (a text, a photo as
base64, a tapped button); this module turns it into the exact webhook item Meta
sends, stores any media so Gembok can download it, and opens the 24 h window.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from simulator import ids, payloads
from simulator.errors import webhook_error
from simulator.media import INBOUND_SECONDS, kind_of
from simulator.numbers import region_of
from simulator.state import Customer, Inbound, State
from simulator.webhooks import WebhookSender

MEDIA_DEFAULTS = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg",
                  "document": "application/pdf", "sticker": "image/webp"}
PASS_THROUGH = ("location", "button", "reaction", "interactive")


class InboundError(ValueError):
    """The description of a customer's message is unusable; the control API answers 400."""


def receive(state: State, hooks: WebhookSender, customer: Customer,
            payload: dict[str, Any], number: str | None = None) -> Inbound:
    """Builds, records and queues one inbound message, written to business number `number`
    (a phone number id; the first number for None). Call with `state.lock` held."""
    cfg = state.config.as_number(number)
    mtype = payload.get("type")
    now = state.now()
    item: dict[str, Any] = {}
    context = payload.get("context")
    if isinstance(context, dict):
        item["context"] = dict(context)
        if "id" in context:
            item["context"].setdefault("from", cfg.display_phone_number)
    if customer.phone_visible:
        item["from"] = customer.wa_id
    item["from_user_id"] = customer.user_id
    item["id"] = ids.wamid()
    item["timestamp"] = str(int(now))
    item["type"] = mtype
    if mtype == "text":
        body = (payload.get("text") or {}).get("body")
        if not isinstance(body, str) or not body:
            raise InboundError("text.body is required")
        item["text"] = {"body": body}
    elif mtype in MEDIA_DEFAULTS:
        item[mtype] = _media(state, mtype, payload)
    elif mtype in PASS_THROUGH:
        content = payload.get(mtype)
        if not isinstance(content, dict):
            raise InboundError(f"{mtype} must be an object")
        item[mtype] = copy.deepcopy(content)
        _check_pass_through(state, mtype, item)
    elif mtype == "contacts":
        contacts = payload.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise InboundError("contacts must be a non-empty list")
        item["contacts"] = copy.deepcopy(contacts)
    elif mtype == "unsupported":
        item["errors"] = [webhook_error(131051, "Message type is currently not supported.")]
        item["unsupported"] = {"type": str((payload.get("unsupported") or {}).get("type",
                                                                                  "unknown"))}
    elif mtype == "system":
        return _changed_number(state, hooks, customer, payload, item)
    else:
        raise InboundError(f"unknown message type {mtype!r}")
    if "referral" in payload and isinstance(payload["referral"], dict):
        item["referral"] = copy.deepcopy(payload["referral"])
    message = Inbound(item["id"], customer.user_id, str(mtype), item, now,
                      to_number=cfg.phone_number_id)
    state.remember(message)
    customer.last_inbound_at = now  # every message from the user opens or refreshes the window
    customer.last_inbound_by[cfg.phone_number_id] = now  # ... on the number written to
    hooks.enqueue(payloads.MESSAGES, payloads.message_value(cfg, customer, item),
                  account=cfg.waba_id)
    return message


def _media(state: State, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    given = payload.get(kind) or {}
    if not isinstance(given, dict):
        raise InboundError(f"{kind} must be an object")
    mime = str(payload.get("mime_type") or given.get("mime_type") or MEDIA_DEFAULTS[kind])
    if kind_of(mime) not in (kind, "sticker" if kind == "image" else kind):
        raise InboundError(f"mime_type {mime!r} is not a {kind} type")
    try:
        data = base64.b64decode(str(payload.get("content_base64", "")), validate=True)
    except (binascii.Error, ValueError):
        raise InboundError("content_base64 is not valid base64") from None
    data = data or f"simulated {kind}".encode()
    if kind == "audio" and given.get("voice"):
        mime = "audio/ogg; codecs=opus"
    media = state.media.add(data, mime, given.get("filename"), state.config.phone_number_id,
                            state.now(), lifetime=INBOUND_SECONDS)
    token = state.media.new_url(media, state.now(), lifetime=INBOUND_SECONDS)
    out: dict[str, Any] = {}
    if kind in ("image", "video", "document") and given.get("caption"):
        out["caption"] = str(given["caption"])
    if kind == "document":
        out["filename"] = str(given.get("filename") or f"{media.id}.pdf")
    out.update({"mime_type": mime, "sha256": media.sha256_b64, "id": media.id,
                "url": f"{state.public_url}_media/{token}"})
    if kind == "audio":
        out["voice"] = bool(given.get("voice", False))
    if kind == "sticker":
        out["animated"] = bool(given.get("animated", False))
    return out


def _check_pass_through(state: State, mtype: str, item: dict[str, Any]) -> None:
    content = item[mtype]
    if mtype == "location" and not {"latitude", "longitude"} <= content.keys():
        raise InboundError("location needs latitude and longitude")
    if mtype == "reaction" and "message_id" not in content:
        raise InboundError("reaction.message_id is required")
    if mtype == "button" and not {"payload", "text"} <= content.keys():
        raise InboundError("button needs payload and text (a template quick reply)")
    if mtype == "interactive":
        itype = content.get("type")
        if itype not in ("button_reply", "list_reply", "nfm_reply"):
            raise InboundError("interactive.type must be button_reply, list_reply or nfm_reply")
        reply = content.get(itype)
        if not isinstance(reply, dict) or ("id" not in reply and itype != "nfm_reply"):
            raise InboundError(f"interactive.{itype}.id is required")
        if "title" not in reply and itype != "nfm_reply":
            reply["title"] = _title_of(state, item.get("context", {}).get("id"), reply["id"])


def _title_of(state: State, wamid: Any, reply_id: str) -> str:
    """The title of the button or row the customer tapped, from the business's message."""
    out = state.outbound.get(str(wamid)) if wamid else None
    action = (out.message.get("action") or {}) if out is not None else {}
    for button in action.get("buttons", []):
        if button.get("reply", {}).get("id") == reply_id:
            return str(button["reply"].get("title", ""))
    for section in action.get("sections", []):
        for row in section.get("rows", []):
            if row.get("id") == reply_id:
                return str(row.get("title", ""))
    return reply_id


def _changed_number(state: State, hooks: WebhookSender, customer: Customer,
                    payload: dict[str, Any], item: dict[str, Any]) -> Inbound:
    """`user_changed_number`: a new phone and a regenerated BSUID (reference §2.4)."""
    system = payload.get("system") or {}
    new_phone = "".join(ch for ch in str(system.get("new_phone", "")) if ch.isdigit())
    if system.get("type") != "user_changed_number" or not new_phone:
        raise InboundError("system needs type user_changed_number and new_phone")
    if not customer.phone_visible or new_phone in state.by_wa_id:
        raise InboundError("only a customer with a visible phone can change to a new number")
    old_id, old_phone = customer.user_id, str(customer.wa_id)
    del state.customers[old_id], state.by_wa_id[old_phone]
    customer.wa_id, customer.user_id = new_phone, ids.bsuid(region_of(new_phone))
    state.customers[customer.user_id] = customer
    state.by_wa_id[new_phone] = customer.user_id
    for out in state.outbound.values():
        if out.user_id == old_id:
            out.user_id = customer.user_id
    for received in state.inbound.values():
        if received.user_id == old_id:
            received.user_id = customer.user_id
    item["system"] = {"body": f"User {customer.name} changed from {old_phone} to {new_phone}",
                      "wa_id": new_phone, "user_id": customer.user_id,
                      "type": "user_changed_number"}
    message = Inbound(item["id"], customer.user_id, "system", item, state.now())
    state.remember(message)
    hooks.enqueue(payloads.MESSAGES, {"messaging_product": "whatsapp",
                                      "metadata": payloads.metadata(state.config),
                                      "messages": [item]})
    return message
