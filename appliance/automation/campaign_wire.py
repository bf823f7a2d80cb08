"""Provides the async HTTP clients a campaign sends through, one per kind, behind `Wire`.

At 1,000 messages/s with Meta's 100-300 ms per call, two to three hundred calls are in
flight at once: more than a thread pool wants, and where httpx's pool is known to
collapse (encode/httpx #3215, cloud-api.md §11). aiohttp is the default, chosen by
`bench/broadcast.py`, which runs the same campaign through each kind in one run. The
token goes only to the configured Graph origin, with no redirect followed, as
`CloudApiClient` does for the Chatroom.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from appliance.whatsapp.connection import Endpoint
from appliance.whatsapp.origins import origin_of, token_origins

KINDS = ("aiohttp", "httpx")


class Lost(Exception):
    """The call may have reached Meta but no answer came back (timeout, reset): the
    message may have been sent, so it is never sent again blindly."""


class NotSent(Exception):
    """The call never left (no connection): safe to try again."""


class Wire(Protocol):
    async def post(self, edge: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...

    async def close(self) -> None: ...


def _url(where: Endpoint, edge: str) -> str:
    url = f"{where.base}/{where.version}/{where.phone_number_id}/{edge}"
    if origin_of(url) not in token_origins(where.base):
        raise NotSent("the token may not go to that URL")
    return url


def _doc(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


class AiohttpWire:
    def __init__(self, where: Endpoint, in_flight: int, timeout: float) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self.where = where
        self._headers = {"Authorization": f"Bearer {where.token}",
                         "Content-Type": "application/json"}
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=in_flight, limit_per_host=in_flight,
                                           ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=timeout), raise_for_status=False)

    async def post(self, edge: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        aiohttp = self._aiohttp
        try:
            async with self._session.post(_url(self.where, edge), data=json.dumps(body),
                                          headers=self._headers,
                                          allow_redirects=False) as resp:
                return resp.status, _doc(await resp.read())
        except aiohttp.ClientConnectorError as exc:
            raise NotSent(type(exc).__name__) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Lost(type(exc).__name__) from None

    async def close(self) -> None:
        await self._session.close()


class HttpxWire:
    def __init__(self, where: Endpoint, in_flight: int, timeout: float) -> None:
        import httpx

        self._httpx = httpx
        self.where = where
        self._headers = {"Authorization": f"Bearer {where.token}",
                         "Content-Type": "application/json"}
        self._client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False,
            limits=httpx.Limits(max_connections=in_flight,
                                max_keepalive_connections=in_flight))

    async def post(self, edge: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        httpx = self._httpx
        try:
            resp = await self._client.post(_url(self.where, edge), content=json.dumps(body),
                                           headers=self._headers)
        except (httpx.ConnectError, httpx.PoolTimeout) as exc:
            raise NotSent(type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise Lost(type(exc).__name__) from None
        return resp.status_code, _doc(resp.content)

    async def close(self) -> None:
        await self._client.aclose()


def open_wire(kind: str, where: Endpoint, *, in_flight: int, timeout: float = 30.0) -> Wire:
    if kind == "httpx":
        return HttpxWire(where, in_flight, timeout)
    return AiohttpWire(where, in_flight, timeout)
