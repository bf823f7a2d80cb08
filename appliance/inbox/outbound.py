"""Provides replies to customers: an outbox row first, the Cloud API call after.

Writing the message and its outbox row in one commit means a reply typed by an agent
is never lost, whatever dies next; the worker claims the row (queued → sending) before
calling Meta, so two workers never send it twice. A crash between Meta's answer and our
commit leaves the row in `sending`: the sweeper learns the wamid from Meta's status
(our callback data) or re-sends it once, never more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from appliance.auth.permissions import Principal, authorized
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.inbox import changes, window
from appliance.inbox.statuses import apply_pending, callback_for
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, Media, Message, Outbox
from appliance.store.sealed import open_text, seal_text
from appliance.whatsapp import templates
from appliance.whatsapp.client import CloudApiClient, GraphError, TokenError
from appliance.whatsapp.media import where as media_where

log = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=2)
MAX_BODY = 4096


class WindowClosedError(GembokError):
    """WhatsApp's 24-hour customer service window is closed: only a template may be sent."""


def window_open(convo: Conversation) -> bool:
    """The window of the conversation's customer on the number it is held on."""
    return window.is_open(window.last_inbound(convo.customer_id, convo.number_id))


def reply(rt: Runtime, principal: Principal, conversation_id: int, text: str) -> int:
    """An agent's text reply: checked, then queued like any other."""
    convo = authorized(principal, "conversation.reply", Conversation, conversation_id)
    return queue_text(rt, convo.id, text, actor=principal.actor, author=principal.user_id)


def queue_text(rt: Runtime, conversation_id: int, body: str, *, actor: str,
               author: int | None = None) -> int:
    """Stores a text reply and its outbox row; returns the outbox id to hand to a worker."""
    body = body.strip()
    if not body or len(body) > MAX_BODY:
        raise ValueError(f"a reply is 1 to {MAX_BODY} characters")
    convo = Conversation.get_by_id(conversation_id)
    if not window_open(convo):
        raise WindowClosedError("the customer last wrote more than 24 hours ago: WhatsApp only "
                                "allows a template message now")
    return _queue(rt, convo, "text", body, {"type": "text", "text": {"body": body}},
                  actor=actor, author=author)


def queue_interactive(rt: Runtime, conversation_id: int, shown: str,
                      interactive: Mapping[str, Any], *, actor: str) -> int:
    """Buttons or a list (Auto Reply's menu), inside the 24-hour window like a text;
    `shown` is what the conversation shows of it."""
    convo = Conversation.get_by_id(conversation_id)
    if not window_open(convo):
        raise WindowClosedError("the customer last wrote more than 24 hours ago: WhatsApp only "
                                "allows a template message now")
    return _queue(rt, convo, "interactive", shown[:MAX_BODY],
                  {"type": "interactive", "interactive": dict(interactive)},
                  actor=actor, author=None)


def queue_linked_media(rt: Runtime, conversation_id: int, kind: str, link: str, caption: str,
                       *, actor: str) -> int:
    """A file WhatsApp fetches from a public address (Auto Reply's price list), inside the
    24-hour window; the business's file, not a customer's: nothing is kept here."""
    convo = Conversation.get_by_id(conversation_id)
    if not window_open(convo):
        raise WindowClosedError("the customer last wrote more than 24 hours ago: WhatsApp only "
                                "allows a template message now")
    body: dict[str, Any] = {"link": link}
    if caption and kind != "audio":
        body["caption"] = caption[:1024]
    if kind == "document":
        body["filename"] = link.rsplit("/", 1)[-1].split("?", 1)[0][:200] or "file.pdf"
    return _queue(rt, convo, kind, caption or link.rsplit("/", 1)[-1][:200],
                  {"type": kind, kind: body}, actor=actor, author=None)


def queue_template(rt: Runtime, principal: Principal, conversation_id: int, name: str,
                   language: str, parameters: list[str]) -> int:
    """A template message: the only kind WhatsApp accepts outside the 24-hour window."""
    convo = authorized(principal, "conversation.reply", Conversation, conversation_id)
    template = templates.find(rt, name, language, int(convo.number_id))
    if template is None:
        raise ValueError(f"there is no approved template {name!r} in {language!r}: pick one "
                         "from the list (it is read from WhatsApp; try again in a minute if "
                         "the list is empty)")
    if template.category.upper() == "MARKETING" and not principal.can("template.marketing"):
        raise ValueError("a marketing template goes out only from a supervisor: ask one, or "
                         "pick a utility template")
    templates.check_values(template, parameters)
    components = [{"type": "body", "parameters": [{"type": "text", "text": p}
                                                  for p in parameters]}] if parameters else []
    payload = {"type": "template", "template": {"name": name, "language": {"code": language},
                                                "components": components}}
    shown = f"[{name}] " + " | ".join(parameters)
    return _queue(rt, convo, "template", shown, payload, actor=principal.actor,
                  author=principal.user_id)


OUT_TYPES = {"image/jpeg": "image", "image/png": "image", "application/pdf": "document",
             "audio/mpeg": "audio", "audio/ogg": "audio", "video/mp4": "video"}
MAX_ATTACHMENT = 16 * 2**20


def queue_media(rt: Runtime, principal: Principal, conversation_id: int, *, filename: str,
                mime_type: str, content: bytes, caption: str = "") -> int:
    """An attachment from an agent: kept sealed here, uploaded to Meta by the worker."""
    convo = authorized(principal, "conversation.reply", Conversation, conversation_id)
    kind = OUT_TYPES.get(mime_type)
    if kind is None:
        raise ValueError("attach a JPEG or PNG picture, a PDF, an MP3/OGG sound or an MP4 video")
    if not content or len(content) > MAX_ATTACHMENT:
        raise ValueError("an attachment is at most 16 MB")
    if not window_open(convo):
        raise WindowClosedError("the customer last wrote more than 24 hours ago: WhatsApp only "
                                "allows a template message now")
    body: dict[str, Any] = {"caption": caption[:1024]} if caption and kind != "audio" else {}
    if kind == "document":
        body["filename"] = filename[:200]
    with db.atomic():
        outbox_id = _queue(rt, convo, kind, caption or filename, {"type": kind, kind: body},
                           actor=principal.actor, author=principal.user_id)
        message_id = Outbox.get_by_id(outbox_id).message_id
        media = Media.create(message=message_id, wa_media_id="", mime_type=mime_type,
                             size=len(content), state="stored")
        media.content_sealed = customer_keys(rt.master, convo.customer_id).seal(
            content, media_where(media.id))
        media.save()
    return outbox_id


def _queue(rt: Runtime, convo: Conversation, kind: str, shown: str, payload: Mapping[str, Any],
           *, actor: str, author: int | None) -> int:
    keys = customer_keys(rt.master, convo.customer_id)
    now = utcnow()
    with db.atomic():
        msg = Message.create(conversation=convo, direction="out", kind=kind, status="queued",
                             author=author)
        msg.body_sealed = seal_text(keys, Message, "body", msg.id, shown)
        msg.payload_sealed = seal_text(keys, Message, "payload", msg.id, json.dumps(payload))
        msg.save()
        outbox = Outbox.create(message=msg)
        convo.last_message_at = now
        if author is not None and convo.first_response_at is None:
            convo.first_response_at = now
        convo.save()
        changes.record(convo.id, "message")
        rt.audit(actor=actor, action="message.queued", target=f"message:{msg.id}")
    return int(outbox.id)


def by_conversation(outbox_ids: list[int]) -> list[list[int]]:
    """Outbox ids grouped by conversation, each group in the order given (one query)."""
    if not outbox_ids:
        return []
    rows: Any = (Outbox.select(Outbox.id, Message.conversation)
                 .join(Message, on=Outbox.message == Message.id)
                 .where(Outbox.id.in_(outbox_ids)).tuples())
    owner = {int(row[0]): int(row[1]) for row in rows}
    groups: dict[int, list[int]] = {}
    for outbox_id in outbox_ids:
        groups.setdefault(owner.get(outbox_id, -outbox_id), []).append(outbox_id)
    return list(groups.values())


def send_outbox(rt: Runtime, outbox_id: int, client: CloudApiClient) -> str:
    """Sends one queued message; returns the outbox state. Retryable errors propagate."""
    claimed = (Outbox.update(state="sending", attempts=Outbox.attempts + 1, updated_at=utcnow())
               .where(Outbox.id == outbox_id, Outbox.state == "queued").execute())
    if claimed != 1:
        return "not_queued"
    outbox = Outbox.get_by_id(outbox_id)
    msg = Message.get_by_id(outbox.message_id)
    customer = Customer.get_by_id(Conversation.get_by_id(msg.conversation_id).customer_id)
    keys = customer_keys(rt.master, customer.id)
    payload = json.loads(open_text(keys, Message, "payload", msg.id, msg.payload_sealed) or "{}")
    to = open_text(keys, Customer, "phone", customer.id, customer.phone_sealed) \
        or open_text(keys, Customer, "wa_user", customer.id, customer.wa_user_sealed)
    try:
        if not to:
            raise GraphError(131026, "the customer has neither a phone number nor a user id")
        kind = str(payload.get("type", ""))
        attachment = Media.get_or_none(Media.message == msg.id)
        if attachment is not None and attachment.content_sealed is not None \
                and kind in payload and "id" not in payload[kind]:
            content = keys.open(bytes(attachment.content_sealed), media_where(attachment.id))
            payload[kind]["id"] = client.upload_media(content, attachment.mime_type,
                                                      payload[kind].get("filename", "file"))
        message = {"recipient_type": "individual", "to": to, **payload,
                   "biz_opaque_callback_data": callback_for(msg.id)}
        if "." in to and not to.lstrip("+").isdigit():
            message.pop("to")
            message["recipient"] = to
        wamid = client.send(message)
    except GraphError as exc:
        if exc.retryable:
            Outbox.update(state="queued", updated_at=utcnow()).where(Outbox.id == outbox_id) \
                .execute()
            raise
        with db.atomic():
            Outbox.update(state="failed", error_code=exc.code, updated_at=utcnow()) \
                .where(Outbox.id == outbox_id).execute()
            Message.update(status="failed", error_code=exc.code, status_at=utcnow()) \
                .where(Message.id == msg.id).execute()
        log.warning("message %d not sent: WhatsApp error %s", msg.id, exc.code)
        if isinstance(exc, TokenError):
            raise  # the caller alerts the admins: nothing will send until it is replaced
        return "failed"
    with db.atomic():
        msg = Message.get_by_id(msg.id)
        if msg.wamid is None:
            msg.wamid = wamid
        if msg.status == "queued":
            msg.status = "accepted"
        msg.save()
        apply_pending(msg)
        Outbox.update(state="sent", updated_at=utcnow()).where(Outbox.id == outbox_id).execute()
    return "sent"


def sweep_outbox() -> list[int]:
    """Finds replies stuck in `sending` (a worker died mid-send); returns ids to send again.

    A message whose wamid arrived meanwhile (through a status) was sent: it is closed.
    Otherwise it is re-queued once; a second time it is marked failed, so a customer
    gets a message at most twice, never in a loop.
    """
    cutoff = utcnow() - STUCK_AFTER
    again: list[int] = []
    for outbox in Outbox.select().where(Outbox.state == "sending", Outbox.updated_at < cutoff):
        msg = Message.get_by_id(outbox.message_id)
        if msg.wamid:
            outbox.state = "sent"
        elif outbox.attempts < 2:
            outbox.state = "queued"
            again.append(outbox.id)
        else:
            outbox.state, outbox.error_code = "failed", -1
            Message.update(status="failed", error_code=-1).where(Message.id == msg.id).execute()
        outbox.updated_at = utcnow()
        outbox.save()
    queued_late = Outbox.select(Outbox.id).where(Outbox.state == "queued",
                                                 Outbox.updated_at < cutoff)
    again.extend(row.id for row in queued_late if row.id not in again)
    return again
