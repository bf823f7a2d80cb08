"""Provides WhatsApp's 24-hour customer service window, named once.

After a customer's last message, a business may answer freely for 24 hours; after that
only an approved template may open the conversation again (cloud-api.md, section 11).
The Chatroom shows what is left of it, the outbox refuses a free-form reply outside it,
and Auto Reply and Broadcast will ask the same question: one definition for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from appliance.clock import utcnow
from appliance.store.db import tuples
from appliance.store.numbers import CustomerWindow

WINDOW = timedelta(hours=24)


def seconds_left(last_inbound_at: datetime | None, now: datetime | None = None) -> int:
    """What is left of the window (0: closed, or the customer never wrote)."""
    if last_inbound_at is None:
        return 0
    now = utcnow() if now is None else now
    return max(0, int((last_inbound_at + WINDOW - now).total_seconds()))


def last_inbound(customer_id: int, number_id: int) -> datetime | None:
    """When the customer last wrote to this business number: the window is the pair's
    (a customer who wrote to one brand's number opens no window on another's)."""
    row = (CustomerWindow.select(CustomerWindow.last_inbound_at)
           .where(CustomerWindow.customer == customer_id, CustomerWindow.number_id == number_id)
           .first())
    return None if row is None else row.last_inbound_at


def last_inbound_many(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], datetime]:
    """`last_inbound` for many (customer, number) pairs in one query per customer chunk."""
    wanted = set(pairs)
    customers = sorted({c for c, _ in wanted})
    found: dict[tuple[int, int], datetime] = {}
    for start in range(0, len(customers), 500):
        query = CustomerWindow.select(CustomerWindow.customer, CustomerWindow.number_id,
                                      CustomerWindow.last_inbound_at).where(
            CustomerWindow.customer.in_(customers[start:start + 500]))
        for customer_id, number_id, at in tuples(query):
            if (customer_id, number_id) in wanted:
                found[(customer_id, number_id)] = at
    return found


def is_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a free-form message may be sent now."""
    if last_inbound_at is None:
        return False
    return (utcnow() if now is None else now) - last_inbound_at < WINDOW
