"""Provides the simulator's identifiers: wamids, media ids and BSUIDs shaped like Meta's.

Meta's wamids are base64 of a record that embeds the phone number; these are random
bytes behind the same prefix, so a wamid in a log line never leaks a (fake) number.
"""

from __future__ import annotations

import base64
import secrets


def wamid() -> str:
    return "wamid." + base64.b64encode(b"\x1c\x18\x0c" + secrets.token_bytes(33)).decode()


def media_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def bsuid(country: str) -> str:
    """A business-scoped user id: ISO country code, a dot, digits (reference §2.4)."""
    return f"{country}.{10**19 + secrets.randbelow(9 * 10**19)}"


def url_token() -> str:
    return secrets.token_urlsafe(24)


def node_id(digits: int = 15) -> str:
    """A Graph node id (a phone number's, a WABA's): digits, never starting with 0."""
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
