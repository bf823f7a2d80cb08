"""Provides the Cloud API's sending limits: per-number throughput, pair rate, messaging limit.

Each limiter takes `now` from the caller (the simulator's clock), so a test can jump a
second, six seconds or a day ahead instead of sleeping.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

DAY = 86400.0
PAIR_BURST = 45  # reference §5.2: bursts of up to 45 "borrow" from later quota
PAIR_REFILL_SECONDS = 6.0  # one message every 6 s to the same user


class Throughput:
    """Messages per second for one business number (130429 when exceeded, reference §5.1)."""

    def __init__(self) -> None:
        self._second = -1
        self._count = 0

    def admit(self, now: float, limit: int) -> bool:
        second = int(now)
        if second != self._second:
            self._second, self._count = second, 0
        if self._count >= limit:
            return False
        self._count += 1
        return True


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PairRate:
    """A token bucket per recipient: 45 burst, one token back every 6 s (131056)."""

    def __init__(self, capacity: int = PAIR_BURST,
                 refill_seconds: float = PAIR_REFILL_SECONDS) -> None:
        self._capacity = capacity
        self._refill = refill_seconds
        self._buckets: dict[str, _Bucket] = {}
        self._sweep_at = 100_000

    def admit(self, recipient: str, now: float) -> bool:
        bucket = self._buckets.get(recipient)
        if bucket is None:
            bucket = self._buckets[recipient] = _Bucket(float(self._capacity), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self._capacity), bucket.tokens + elapsed / self._refill)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        if len(self._buckets) > self._sweep_at:  # forget recipients whose bucket is full again
            full = self._capacity * self._refill
            self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full}
            self._sweep_at = max(100_000, 2 * len(self._buckets))
        return True


class MessagingLimit:
    """Unique users reached outside the service window in a moving 24 h (reference §5.4)."""

    def __init__(self) -> None:
        self._last: OrderedDict[str, float] = OrderedDict()  # oldest first

    def admit(self, user: str, now: float, limit: int | None) -> bool:
        self._forget_before(now - DAY)
        if user in self._last or limit is None or len(self._last) < limit:
            self._last[user] = now
            self._last.move_to_end(user)
            return True
        return False

    def used(self, now: float) -> int:
        self._forget_before(now - DAY)
        return len(self._last)

    def _forget_before(self, cutoff: float) -> None:
        while self._last and next(iter(self._last.values())) <= cutoff:
            self._last.popitem(last=False)
