"""Provides where the bearer token may go and what may go into a Graph path.

The token is sent only to an exact origin (scheme, host, port): the configured Graph
base URL, and, when that is Meta's own `https://graph.facebook.com`, Meta's media host
`https://lookaside.fbsbx.com` (port 443). A URL from a webhook or a Graph answer that
names another port (`:8443`), plain http on a https base, a look-alike host or a user
name is refused before any request; redirects are never followed (pywa sends the token
anywhere and follows them, reference §8). Plain http is possible only when the base
itself is http, which `connection.make_client` allows only on loopback (the quick
start's simulator).

Ids go into the Graph path as they are, so they are checked against the shape of Meta's
ids (ASCII digits) first: `../me`, `x?y` or `%2e%2e` would point the token at another
Graph node. The simulator's media ids are 16 digits like Meta's (`simulator/ids.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

META_GRAPH = ("https", "graph.facebook.com", 443)
META_MEDIA = ("https", "lookaside.fbsbx.com", 443)
DEFAULT_PORTS = {"https": 443, "http": 80}
# Meta's media ids are 16 digits today (reference §3.4; pywa's fixtures hold 8 to 19);
# [0-9], not \d, which also matches Arabic-Indic and full-width digits.
_MEDIA_ID = re.compile(r"[0-9]{6,32}")
_NODE_ID = re.compile(r"[0-9]{1,32}")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def origin_of(url: str) -> Origin | None:
    """The origin httpx itself would connect to (no second parser to disagree with), or
    None for a URL that is not plain http(s) or carries a user name."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    return Origin(parsed.scheme, parsed.host, parsed.port or DEFAULT_PORTS[parsed.scheme])


def token_origins(base_url: str) -> frozenset[Origin]:
    """Where the token may go for this base URL: the base's origin, plus Meta's media
    host when the base is Meta's Graph API."""
    base = origin_of(base_url)
    if base is None:
        raise ValueError("the Graph base URL must be an http(s) URL without a user name")
    if (base.scheme, base.host, base.port) == META_GRAPH:
        return frozenset({base, Origin(*META_MEDIA)})
    return frozenset({base})


def is_media_id(value: str) -> bool:
    return _MEDIA_ID.fullmatch(value) is not None


def is_node_id(value: str) -> bool:
    """A phone-number or WABA id: digits only, as Meta shows them."""
    return _NODE_ID.fullmatch(value) is not None
