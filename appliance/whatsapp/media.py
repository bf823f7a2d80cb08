"""Provides media download: asked of Meta by media id, checked, sealed under the customer's key.

Only the media id from the webhook is used, and only if it is shaped like Meta's (digits):
it goes into the Graph path as it is, so `../me` or `x?y` would aim the token at another
node. Its URL is asked of the Graph API, which the client fetches only from Meta's media
origin, with a size cap and a type list, so a crafted webhook cannot make Gembok fetch an
arbitrary URL or fill the disk. A refused id or URL fails the row with a short code and a
log line that names the row, never the id (it came from outside and could carry anything).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import timedelta

from appliance.clock import utcnow
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Conversation, Media, Message
from appliance.whatsapp.client import CloudApiClient, GraphError, UrlRefused
from appliance.whatsapp.origins import is_media_id

log = logging.getLogger(__name__)
ALLOWED_TYPES = frozenset({
    "image/jpeg", "image/png", "image/webp",
    "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg",
    "video/mp4", "video/3gpp",
    "application/pdf", "text/plain",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
KEPT_BY_META = timedelta(days=7)  # a webhook's media id is downloadable for 7 days (§3.4)


def where(media_id: int) -> bytes:
    return f"media|content|{media_id}".encode()


def fetch_media(rt: Runtime, media_row_id: int, client: CloudApiClient) -> str:
    """Downloads and stores one attachment; returns its state. Temporary errors propagate."""
    row = Media.get_or_none(Media.id == media_row_id)
    if row is None or row.state != "pending":
        return "gone" if row is None else str(row.state)
    if not is_media_id(row.wa_media_id):
        return _fail(row, "bad_media_id")
    try:
        info = client.media_info(row.wa_media_id)
        mime = (info.mime_type or row.mime_type).split(";")[0].strip().lower()
        if mime not in ALLOWED_TYPES:
            return _fail(row, "type_not_allowed")
        content = client.download(info.url, rt.settings.whatsapp.media_max_bytes)
    except UrlRefused:
        return _fail(row, "url_refused")
    except GraphError as exc:
        if exc.retryable:
            raise
        return _fail(row, f"graph_{exc.code}")
    if info.sha256 and not _digest_matches(content, info.sha256):
        return _fail(row, "checksum_mismatch")
    customer_id = (Conversation.select(Conversation.customer)
                   .join(Message).where(Message.id == row.message_id).scalar())
    sealed = customer_keys(rt.master, customer_id).seal(content, where(row.id))
    with db.atomic():
        (Media.update(content_sealed=sealed, size=len(content), state="stored",
                      sha256=hashlib.sha256(content).hexdigest(), mime_type=mime)
         .where(Media.id == row.id, Media.state == "pending").execute())
    return "stored"


def still_wanted(media_row_id: int) -> bool:
    """Whether a download that cannot run now is worth trying later: the row still waits
    and Meta still keeps the file. Past Meta's seven days the row fails as `expired`."""
    row = Media.get_or_none(Media.id == media_row_id)
    if row is None or row.state != "pending":
        return False
    received = Message.select(Message.created_at).where(Message.id == row.message_id).scalar()
    if received is not None and utcnow() - received > KEPT_BY_META:
        _fail(row, "expired")
        return False
    return True


def open_media(rt: Runtime, media_row_id: int, customer_id: int) -> bytes:
    row = Media.get_by_id(media_row_id)
    if row.content_sealed is None:
        raise LookupError(f"media {media_row_id} is not stored ({row.state})")
    return customer_keys(rt.master, customer_id).open(bytes(row.content_sealed), where(row.id))


def _digest_matches(content: bytes, expected: str) -> bool:
    digest = hashlib.sha256(content).digest()
    return expected in (digest.hex(), base64.b64encode(digest).decode())


def _fail(row: Media, reason: str) -> str:
    log.warning("media %d not stored: %s", row.id, reason)
    Media.update(state="failed", error=reason[:64]).where(Media.id == row.id).execute()
    return "failed"
