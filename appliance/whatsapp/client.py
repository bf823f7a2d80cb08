"""Provides `CloudApiClient`: the few Graph API calls Gembok makes, with Meta's errors typed.

One pooled httpx client per process. The access token is attached per request, and only
after the URL's exact origin passed `origins.token_origins` (the configured Graph base,
and Meta's media host behind Meta's Graph): never to another port, scheme or host taken
from a webhook, and no redirect is followed (pywa sends it anywhere, following them). A
request hook checks again, so no future call can carry the token elsewhere. Errors are
keyed on Meta's `code`, not on HTTP status (Meta's own tables disagree on statuses), and
each kind says whether a retry can help.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from appliance.whatsapp.origins import is_media_id, is_node_id, origin_of, token_origins

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines repeat every URL

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
    """A media id not shaped like Meta's, a media too large, or gone: never fetched blindly."""


class UrlRefused(MediaRefused):
    """A URL outside the origins the token may go to: no request was made."""


class NumberUnavailable(GraphError):
    """The business number cannot send now: not registered or disconnected (133010),
    locked (131031), restricted for policy (368). Retrying is useless until it is back."""


_BY_CODE: dict[int, type[GraphError]] = {
    0: TokenError, 190: TokenError, 4: RateLimited, 80007: RateLimited, 130429: RateLimited,
    131056: RateLimited, 131000: TemporaryError, 131057: TemporaryError, 2: TemporaryError,
    131047: WindowClosed, 131026: Undeliverable, 131051: Undeliverable,
    133010: NumberUnavailable, 131031: NumberUnavailable, 368: NumberUnavailable,
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
        if not is_node_id(phone_number_id) or not re.fullmatch(r"v[0-9]+\.[0-9]+", version):
            raise ValueError("the phone number id must be digits and the version like v25.0")
        self.base = base_url.rstrip("/")
        self.version, self.phone_number_id = version, phone_number_id
        self.retries, self.backoff = retries, backoff
        self._origins = token_origins(self.base)
        self._bearer = f"Bearer {token}"
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                  event_hooks={"request": [self._last_check]})

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
        if not is_media_id(media_id):
            raise MediaRefused(100, "not shaped like a Meta media id: not asked")
        doc = self._retrying(lambda: self._json("GET", media_id))
        size = str(doc.get("file_size", ""))
        return MediaInfo(str(doc.get("url", "")), str(doc.get("mime_type", "")),
                         int(size) if size.isascii() and size.isdigit() else None,
                         str(doc.get("sha256", "")))

    def download(self, url: str, max_bytes: int) -> bytes:
        """Fetches media from Meta's media host only, refusing anything larger than allowed."""
        self._check(url)

        def fetch() -> bytes:
            with _network(), self._stream("GET", url) as resp:
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

    def templates(self, waba_id: str, *, max_pages: int = 60) -> list[dict[str, Any]]:
        """The WhatsApp Business Account's templates, every page (100 each; up to 6,000
        templates on a verified portfolio, cloud-api.md section 11), by the `after` cursor:
        never by the `next` URL an answer carries, which the token would have to follow."""
        if not is_node_id(waba_id):
            raise GraphError(100, "the WhatsApp Business Account id is not digits: not asked")
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        for _ in range(max_pages):
            doc = self._retrying(lambda: self._json("GET", f"{waba_id}/message_templates",
                                                    params=dict(params)))
            data = doc.get("data")
            out += [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []
            paging = doc.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not paging.get("next") or not isinstance(after, str):
                break
            params["after"] = after
        return out

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

    def local_storage(self) -> dict[str, str]:
        """The number's local storage setting: `status` (IN_COUNTRY_STORAGE_ENABLED or
        DEFAULT) and `data_localization_region` when enabled."""
        doc = self._retrying(lambda: self._json("GET", f"{self.phone_number_id}/settings"))
        found = doc.get("storage_configuration")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    # -- plumbing ---------------------------------------------------------------------
    def _check(self, url: str) -> None:
        if origin_of(url) not in self._origins:
            raise UrlRefused(131053, "URL outside the Cloud API's origins: not fetched")

    def _last_check(self, request: httpx.Request) -> None:
        """httpx's request hook: a token bound elsewhere stops here, whoever built it."""
        if "Authorization" in request.headers and origin_of(str(request.url)) \
                not in self._origins:
            raise UrlRefused(131053, "the token may not go to that URL")

    def _authorised(self, method: str, url: str, **kwargs: Any) -> httpx.Request:
        self._check(url)
        request = self._http.build_request(method, url, **kwargs)
        request.headers["Authorization"] = self._bearer
        return request

    @contextmanager
    def _stream(self, method: str, url: str) -> Iterator[httpx.Response]:
        resp = self._http.send(self._authorised(method, url), stream=True,
                               follow_redirects=False)
        try:
            yield resp
        finally:
            resp.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        with _network():
            resp = self._http.send(self._authorised(method, f"{self.base}/{self.version}/{path}",
                                                    **kwargs), follow_redirects=False)
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


@contextmanager
def _network() -> Iterator[None]:
    """No answer, or no connection, is Meta's side failing for now: retry later."""
    try:
        yield
    except httpx.TimeoutException:
        raise TemporaryError(-1, "no answer from the Cloud API in time") from None
    except httpx.TransportError as exc:
        raise TemporaryError(-2, f"cannot reach the Cloud API ({type(exc).__name__})") from None


def _recipient(to: str) -> dict[str, str]:
    """A BSUID (`ID.123…`) goes in `recipient`, a phone number in `to` (since July 2026)."""
    if "." in to and not to.lstrip("+").replace(" ", "").isdigit():
        return {"recipient": to}
    return {"to": to}
