"""Provides the number's send rate as one token bucket in Redis, shared by every worker.

Meta counts a number's messages per second (80 by default, 1,000 after the upgrade;
130429 over it, cloud-api.md §5.1), whichever process sends them. So the bucket lives in
Redis and is taken from in one Lua call (atomic, Redis's own clock). It refills at 0.96
of the limit and holds 0.02 of it: any one-second window then carries at most
0.96 x 1.02 + 0.02 < 1.0 of the limit even when a call's trip takes 20 ms longer than
the one before, which is what "never over the limit in any second" needs; a bucket as
large as the limit lets two seconds' worth through in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis

from appliance import broker_link

REFILL_SHARE = 0.96
BURST_SHARE = 0.02
KEY = "gembok:send-rate:{phone}"  # a phone number id: digits, nobody's data

_TAKE = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then tokens = capacity; at = now end
if now < at then return {0, tostring(at - now)} end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local got = math.min(want, math.floor(tokens))
tokens = tokens - got
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
local wait = 0
if got < want then wait = (1 - (tokens - math.floor(tokens))) / rate end
return {got, tostring(wait)}
"""


@dataclass(frozen=True)
class Grant:
    tokens: int
    wait: float  # seconds until the next token, when fewer than asked were granted


class SendRate:
    """Tokens for one business number at `per_second`; `take(n)` never blocks."""

    def __init__(self, client: redis.Redis, phone_number_id: str, per_second: int) -> None:
        self.client = client
        self.key = KEY.format(phone=phone_number_id)
        self.rate = per_second * REFILL_SHARE
        self.capacity = max(1.0, per_second * BURST_SHARE)
        self._take = client.register_script(_TAKE)

    def take(self, want: int) -> Grant:
        got, wait = self._take(keys=[self.key], args=[self.rate, self.capacity, max(1, want)])
        return Grant(int(got), float(wait))

    def slow_down(self, seconds: float) -> None:
        """Meta said 130429 anyway (another app on the number, inbound counted too): the
        bucket is emptied and starts again after `seconds`."""
        now = self.client.time()
        at = now[0] + now[1] / 1e6 + seconds
        self.client.hset(self.key, mapping={"tokens": "0", "at": str(at)})


def connect(url: str, ca_file: Path | None = None) -> redis.Redis:
    return broker_link.client(url, ca_file, socket_timeout=5)
