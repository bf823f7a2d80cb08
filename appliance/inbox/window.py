"""Provides WhatsApp's 24-hour customer service window, named once.

After a customer's last message, a business may answer freely for 24 hours; after that
only an approved template may open the conversation again (cloud-api.md, section 11).
The Chatroom shows what is left of it, the outbox refuses a free-form reply outside it,
and Auto Reply and Broadcast will ask the same question: one definition for all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.clock import utcnow

WINDOW = timedelta(hours=24)


def seconds_left(last_inbound_at: datetime | None, now: datetime | None = None) -> int:
    """What is left of the window (0: closed, or the customer never wrote)."""
    if last_inbound_at is None:
        return 0
    now = utcnow() if now is None else now
    return max(0, int((last_inbound_at + WINDOW - now).total_seconds()))


def is_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a free-form message may be sent now."""
    if last_inbound_at is None:
        return False
    return (utcnow() if now is None else now) - last_inbound_at < WINDOW
