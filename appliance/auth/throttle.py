"""Provides sign-in throttling: exponential back-off after five failures, per key.

Keys are the source address, the account (by a hash of the name typed, so an unknown
name behaves exactly like a known one), and the account on one known device. A browser
that signed in to the account before is judged by its own failures, not the account's:
an attacker hammering a name from many addresses slows every new device down, but the
owner's own browser still gets in. Delays are capped, so no account is ever locked for
good by someone else.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from appliance.clock import utcnow
from appliance.store.accounts import LoginThrottle

FREE_FAILURES = 5
MAX_DELAY_SECONDS = 15 * 60


def account_key(username: str) -> str:
    return "acct:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


def address_key(ip: str) -> str:
    return "ip:" + ip[:64]


def device_key(user_id: int, device_hash: str) -> str:
    return f"dev:{user_id}:{device_hash[:32]}"


def wait_seconds(keys: list[str]) -> int:
    """How long until these keys may try again (0: now)."""
    now = utcnow()
    longest = 0.0
    for row in LoginThrottle.select().where(LoginThrottle.key.in_(keys)):
        if row.blocked_until and row.blocked_until > now:
            longest = max(longest, (row.blocked_until - now).total_seconds())
    return int(longest + 0.999)


def fail(keys: list[str]) -> None:
    now = utcnow()
    for key in keys:
        row = LoginThrottle.get_or_none(LoginThrottle.key == key) \
            or LoginThrottle.create(key=key, failures=0, last_failure_at=now)
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= FREE_FAILURES:
            delay = min(2 ** (row.failures - FREE_FAILURES), MAX_DELAY_SECONDS)
            row.blocked_until = now + timedelta(seconds=delay)
        row.save()


def succeed(keys: list[str]) -> None:
    LoginThrottle.delete().where(LoginThrottle.key.in_(keys)).execute()
