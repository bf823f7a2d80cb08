"""Provides the media store: uploads checked against Meta's types and sizes, short-lived URLs.

Media ids last 30 days (uploads) or 7 days (sent by customers); a download URL lasts
5 minutes (reference §3.4). The same store serves both directions, so Gembok downloads
a customer's photo exactly as it would from Meta.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from simulator import ids
from simulator.errors import GraphError

MB = 1024 * 1024
URL_SECONDS = 5 * 60
UPLOAD_SECONDS = 30 * 86400
INBOUND_SECONDS = 7 * 86400

# Supported MIME types and their size limits, reference §3.4.
KINDS: dict[str, tuple[tuple[str, ...], int]] = {
    "audio": (("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MB),
    "document": (("text/plain", "application/pdf", "application/vnd.ms-excel",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "application/msword",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.ms-powerpoint",
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
                 100 * MB),
    "image": (("image/jpeg", "image/png"), 5 * MB),
    "sticker": (("image/webp",), 500 * 1024),
    "video": (("video/mp4", "video/3gpp"), 16 * MB),
}
EXTENSIONS = {"audio/aac": "aac", "audio/amr": "amr", "audio/mpeg": "mp3", "audio/mp4": "m4a",
              "audio/ogg": "ogg", "text/plain": "txt", "application/pdf": "pdf",
              "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "video/mp4": "mp4", "video/3gpp": "3gp"}


def kind_of(mime_type: str) -> str | None:
    base = mime_type.split(";")[0].strip().lower()
    for kind, (types, _) in KINDS.items():
        if base in types:
            return kind
    return None


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    filename: str | None
    phone_number_id: str
    expires_at: float

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_b64(self) -> str:
        """Webhooks carry the digest in base64 (Meta's image example), GET /{id} in hex."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass
class MediaUrl:
    media_id: str
    expires_at: float


class MediaStore:
    def __init__(self) -> None:
        self._items: dict[str, Media] = {}
        self._urls: dict[str, MediaUrl] = {}
        self._sweep_at = 1000

    def add(self, data: bytes, mime_type: str, filename: str | None, phone_number_id: str,
            now: float, lifetime: float = UPLOAD_SECONDS) -> Media:
        media = Media(ids.media_id(), data, mime_type, filename, phone_number_id, now + lifetime)
        self._items[media.id] = media
        return media

    def get(self, media_id: str, now: float) -> Media | None:
        media = self._items.get(media_id)
        if media is not None and media.expires_at <= now:
            del self._items[media_id]
            return None
        return media

    def delete(self, media_id: str) -> bool:
        return self._items.pop(media_id, None) is not None

    def new_url(self, media: Media, now: float, lifetime: float = URL_SECONDS) -> str:
        """A fresh token for `/_media/<token>`; old tokens are swept as they expire."""
        if len(self._urls) > self._sweep_at:
            self._urls = {t: u for t, u in self._urls.items() if u.expires_at > now}
            self._sweep_at = max(1000, 2 * len(self._urls))
        token = ids.url_token()
        self._urls[token] = MediaUrl(media.id, now + lifetime)
        return token

    def by_token(self, token: str, now: float) -> Media | None:
        url = self._urls.get(token)
        if url is None or url.expires_at <= now:
            return None
        return self.get(url.media_id, now)


def check_upload(form_product: str | None, data: bytes | None, declared: str | None,
                 file_type: str | None) -> str:
    """The MIME type of an acceptable upload, or Meta's error (100, 131008, 131053)."""
    if form_product != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be "
                         "'whatsapp'.")
    if data is None:
        raise GraphError(131008, "The parameter file is required.")
    mime = (declared or file_type or "").strip()
    if not mime:
        raise GraphError(131008, "The parameter type is required.")
    kind = kind_of(mime)
    if kind is None:
        supported = ", ".join(t for types, _ in KINDS.values() for t in types)
        raise GraphError(100, f"Param file must be a file with one of the following types: "
                         f"{supported}. Received file of type '{mime}'.")
    if file_type and declared and kind_of(file_type) not in (None, kind):
        raise GraphError(131053, f"Uploaded file type '{file_type}' does not match the type "
                         f"parameter '{declared}'.")
    limit = KINDS[kind][1]
    if len(data) > limit:
        raise GraphError(131053, f"File size {len(data)} bytes exceeds the {kind} limit of "
                         f"{limit} bytes.")
    if not data:
        raise GraphError(131053, "The uploaded file is empty.")
    return mime


def describe(media: Media, url: str) -> dict[str, Any]:
    """The body of `GET /{media-id}`."""
    return {"messaging_product": "whatsapp", "url": url, "mime_type": media.mime_type,
            "sha256": media.sha256_hex, "file_size": len(media.data), "id": media.id}


def download_name(media: Media) -> str:
    ext = EXTENSIONS.get(media.mime_type.split(";")[0].strip().lower(), "bin")
    return media.filename or f"{media.id}.{ext}"
