"""Provides `CloudApiClient`: the few Graph API calls Gembok makes, with Meta's errors typed.

One pooled httpx client per process. The access token goes only to the configured
Graph host and Meta's media host, never to a URL taken from a webhook (pywa sends it
anywhere, following redirects). Errors are keyed on Meta's `code`, not on HTTP status
(Meta's own tables disagree on statuses), and each kind says whether a retry can help.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines repeat every URL

META_MEDIA_HOSTS = frozenset({"lookaside.fbsbx.com"})
T = TypeVar("T")


class GraphError(Exception):
    """An error answer from the Graph API, or no answer at all."""

    retryable = False

    def __init__(self, code: int, title: str, details: str = "", http_status: int = 0,
                 fbtrace_id: str = "") -> None:
        self.code, self.title, self.details = code, title, details
        self.http_status, self.fbtrace_id = http_status, fbtrace_id
        super().__init__(f"WhatsApp error {code}: {title}" + (f" ({details})" if details else ""))


class TokenError(GraphError):
    """The access token is wrong or expired: nothing works until an admin replaces it."""


class RateLimited(GraphError):
    """Too many messages for the number (130429) or to one customer (131056): wait, retry."""

    retryable = True


class TemporaryError(GraphError):
    """Meta's side failed (5xx, 131000, maintenance) or the network did: retry later."""

    retryable = True


class WindowClosed(GraphError):
    """More than 24 hours since the customer last wrote: only a template may go (131047)."""


class TemplateError(GraphError):
    """The template is unknown, unapproved, or got the wrong parameters (132xxx)."""


class Undeliverable(GraphError):
    """Not a WhatsApp user, or one that cannot receive this (131026)."""


class MediaRefused(GraphError):
    """A media URL outside Meta's hosts, too large, or gone: never fetched blindly."""


_BY_CODE: dict[int, type[GraphError]] = {
    0: TokenError, 190: TokenError, 4: RateLimited, 80007: RateLimited, 130429: RateLimited,
    131056: RateLimited, 131000: TemporaryError, 131057: TemporaryError, 2: TemporaryError,
    131047: WindowClosed, 131026: Undeliverable, 131051: Undeliverable,
}


def error_from(code: int, title: str, details: str = "", http_status: int = 0,
               fbtrace_id: str = "") -> GraphError:
    cls = _BY_CODE.get(code)
    if cls is None:
        if 132000 <= code < 133000:
            cls = TemplateError
        elif http_status >= 500:
            cls = TemporaryError
        else:
            cls = GraphError
    return cls(code, title, details, http_status, fbtrace_id)


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mime_type: str
    size: int | None
    sha256: str


class CloudApiClient:
    def __init__(self, base_url: str, version: str, phone_number_id: str, token: str, *,
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None,
                 retries: int = 3, backoff: float = 0.5) -> None:
        self.base = base_url.rstrip("/")
        self.version, self.phone_number_id = version, phone_number_id
        self.retries, self.backoff = retries, backoff
        self._allowed_hosts = {urlsplit(self.base).hostname or ""}
        if (urlsplit(self.base).hostname or "").endswith("facebook.com"):
            self._allowed_hosts |= META_MEDIA_HOSTS
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- calls ------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> str:
        """POSTs one message object (text, template, interactive...); returns its wamid."""
        body = {"messaging_product": "whatsapp", **message}
        doc = self._retrying(lambda: self._json("POST", f"{self.phone_number_id}/messages",
                                                json=body))
        try:
            return str(doc["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise TemporaryError(131000, "send answered without a message id") from None

    def send_text(self, to: str, body: str, *, callback: str | None = None) -> str:
        message: dict[str, Any] = {"recipient_type": "individual", **_recipient(to),
                                   "type": "text", "text": {"body": body}}
        if callback:
            message["biz_opaque_callback_data"] = callback
        return self.send(message)

    def mark_read(self, wamid: str) -> None:
        self._retrying(lambda: self._json("POST", f"{self.phone_number_id}/messages", json={
            "messaging_product": "whatsapp", "status": "read", "message_id": wamid}))

    def media_info(self, media_id: str) -> MediaInfo:
        doc = self._retrying(lambda: self._json("GET", media_id))
        size = str(doc.get("file_size", ""))
        return MediaInfo(str(doc.get("url", "")), str(doc.get("mime_type", "")),
                         int(size) if size.isdigit() else None, str(doc.get("sha256", "")))

    def download(self, url: str, max_bytes: int) -> bytes:
        """Fetches media from Meta's media host only, refusing anything larger than allowed."""
        parts = urlsplit(url)
        if parts.hostname not in self._allowed_hosts or parts.scheme not in ("https", "http") \
                or (parts.scheme == "http" and not self.base.startswith("http://")):
            raise MediaRefused(131053, "media URL is not on Meta's media host: not fetched")

        def fetch() -> bytes:
            with self._http.stream("GET", url) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise self._error(resp)
                chunks, total = [], 0
                for chunk in resp.iter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise MediaRefused(131052, f"media larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)

        return self._retrying(fetch)

    def templates(self, waba_id: str) -> list[dict[str, Any]]:
        """The WhatsApp Business Account's templates (first page of up to 100)."""
        doc = self._retrying(lambda: self._json("GET", f"{waba_id}/message_templates",
                                                params={"limit": 100}))
        data = doc.get("data")
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    def upload_media(self, content: bytes, mime_type: str, filename: str) -> str:
        doc = self._retrying(lambda: self._json(
            "POST", f"{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)}))
        media_id = doc.get("id")
        if not isinstance(media_id, str):
            raise TemporaryError(131000, "upload answered without a media id")
        return media_id

    def phone_number(self) -> dict[str, Any]:
        fields = ("status,quality_rating,throughput,display_phone_number,verified_name,"
                  "whatsapp_business_manager_messaging_limit")
        return self._retrying(lambda: self._json("GET", self.phone_number_id,
                                                 params={"fields": fields}))

    # -- plumbing ---------------------------------------------------------------------
    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self._http.request(method, f"{self.base}/{self.version}/{path}", **kwargs)
        except httpx.TimeoutException:
            raise TemporaryError(-1, "no answer from the Cloud API in time") from None
        except httpx.TransportError as exc:
            raise TemporaryError(-2, f"cannot reach the Cloud API ({type(exc).__name__})") \
                from None
        if resp.status_code != 200:
            raise self._error(resp)
        try:
            doc = resp.json()
        except ValueError:
            raise TemporaryError(-3, "the Cloud API answered with something not JSON") from None
        return doc if isinstance(doc, dict) else {}

    @staticmethod
    def _error(resp: httpx.Response) -> GraphError:
        try:
            err = resp.json().get("error", {})
        except ValueError:
            err = {}
        code = err.get("code") if isinstance(err.get("code"), int) else resp.status_code
        data = err.get("error_data") if isinstance(err.get("error_data"), dict) else {}
        title = str(err.get("message") or f"HTTP {resp.status_code}")
        return error_from(code, title, str(data.get("details", "")), resp.status_code,
                          str(err.get("fbtrace_id", "")))

    def _retrying(self, call: Callable[[], T]) -> T:
        """Retries what can succeed later (rate limits, 5xx, timeouts) with jittered back-off."""
        attempt = 0
        while True:
            try:
                return call()
            except GraphError as exc:
                if not exc.retryable or attempt >= self.retries:
                    raise
                delay = self.backoff * (2 ** attempt) * (0.5 + random.random())  # noqa: S311
                log.warning("Cloud API error %s, retry %d in %.1f s", exc.code, attempt + 1,
                            delay)
                time.sleep(delay)
                attempt += 1


def _recipient(to: str) -> dict[str, str]:
    """A BSUID (`ID.123…`) goes in `recipient`, a phone number in `to` (since July 2026)."""
    if "." in to and not to.lstrip("+").replace(" ", "").isdigit():
        return {"recipient": to}
    return {"to": to}
