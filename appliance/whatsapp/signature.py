"""Provides the two checks Meta's webhook calls for: the handshake and the body signature.

Both compare in constant time. The signature is checked over the raw bytes exactly as
received, before anything parses them: a forged POST costs one HMAC and is never read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(app_secret, body).encode(), header.strip().lower().encode())


def handshake_challenge(args: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo when Meta's GET is genuine, else None (answer 403)."""
    mode, token = args.get("hub.mode", ""), args.get("hub.verify_token", "")
    challenge = args.get("hub.challenge", "")
    if not verify_token or mode != "subscribe" or not challenge:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge
