"""Provides `SendLog`: when each accepted send arrived, by which API, and with which callback.

What a test or a benchmark asks of Meta's side of a campaign: was the number's limit ever
exceeded in any one second (sliding, not per calendar second), how many went through the
Marketing Messages API, and did any recipient's callback arrive twice. Arrivals are real
time (`time.monotonic`), not the simulator's clock, and kept as an array of doubles:
100,000 sends cost 800 KB.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from typing import Any

CAMPAIGN_PREFIX = "gembok:bc:"  # only Broadcast's callbacks are counted one by one


class SendLog:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.arrivals = array("d")
        self.by_api: Counter[str] = Counter()
        self.callbacks: Counter[str] = Counter()
        self.refused_throughput = 0

    def accepted(self, api: str, callback: str | None) -> None:
        self.arrivals.append(time.monotonic())
        self.by_api[api] += 1
        if callback and callback.startswith(CAMPAIGN_PREFIX):
            self.callbacks[callback] += 1

    def refused(self) -> None:
        self.refused_throughput += 1

    def max_in_any_second(self) -> int:
        """The most arrivals in any window of 1.0 s (two pointers over sorted times)."""
        times = sorted(self.arrivals)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def summary(self) -> dict[str, Any]:
        times = sorted(self.arrivals)
        first = times[0] if times else 0.0
        per_second = [0] * (int(times[-1] - first) + 1 if times else 0)
        for t in times:
            per_second[int(t - first)] += 1
        return {"accepted": len(times), "by_api": dict(self.by_api),
                "refused_throughput": self.refused_throughput,
                "max_in_any_second": self.max_in_any_second(),
                "first": first, "last": times[-1] if times else 0.0,
                "per_second": per_second}
