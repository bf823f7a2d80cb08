"""How fast one worker process applies a backlog: first contacts beside known customers.

The shipped-box figures of `bench/ingest.py` are bounded by what the listener acknowledges
behind nginx and TLS (the worker keeps up with it, idle half the time). This measures the
worker's own capacity, as after an outage: a backlog of stored webhooks (one message
each) is applied by `ingest.process_events` in batches of 500 ids, as the inbox writer
hands them to the worker, in one process, on the encrypted store, synchronous=FULL.
Baseline in the same run: the same number of messages from customers already known.

    .venv/bin/python bench/apply.py [--events 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace

import webhooks
from procs import load_note, machine_facts, scratch_dir
from rules import make_rules

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import auto_reply, rule_book
from appliance.bootstrap import initialise
from appliance.config import load_settings
from appliance.inbox import ingest
from appliance.store.db import db, execute
from appliance.whatsapp.webhook_events import fingerprint_key, seal_event

BATCH = 500  # ids per queue message (the inbox writer's IdBatcher.max_ids)


def store_backlog(rt, bodies: list[bytes]) -> list[int]:
    """Stores sealed events as the inbox writer would (one multi-row statement a chunk)."""
    key = fingerprint_key(rt.keyring.current("system"))
    ids: list[int] = []
    for start in range(0, len(bodies), 1000):
        events = [seal_event(rt.keyring.system, raw, key) for raw in bodies[start:start + 1000]]
        with db.atomic("IMMEDIATE"):
            for e in events:
                ids.append(int(execute(
                    db, "INSERT INTO inbox_event (uid, received_at, body_sealed, digest, state,"
                        " attempts, error) VALUES (?, datetime('now'), ?, ?, 'new', 0, '')",
                    (e.uid, e.body, e.digest)).lastrowid))
    return ids


def apply(rt, ids: list[int], *, answer: bool = False) -> float:
    """Applies the backlog as the worker does; with `answer`, Auto Reply's rules run for
    each batch's new messages too (the worker's next job, timed with it)."""
    started = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        outcome = ingest.process_events(rt, ids[start:start + BATCH])
        if answer:
            auto_reply.respond(rt, outcome.inbound_ids)
    return time.perf_counter() - started


def save_rule_book(rt) -> int:
    """The rules of `bench/rules.py` (1,000 of 200 keywords), in the rule book."""
    book = make_rules(1000, 200, random.Random(12))
    for rule in book:
        rule_book.save_rule(rt, BOX_ADMIN, replace(rule, id=0))
    started = time.perf_counter()
    rule_book.COMPILED.current()  # a worker compiles once per change of the book
    return len(book), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    n = args.events
    with scratch_dir("gembok-bench-apply-") as base:
        settings = load_settings({"GEMBOK_DATA_DIR": str(base / "var")})
        rt, _ = initialise(settings)
        print(f"# {machine_facts()}; {load_note()}", flush=True)
        first = [json.dumps(webhooks.messages([(i, i)])).encode() for i in range(n)]
        ids = store_backlog(rt, first)
        took_first = apply(rt, ids)
        known = [json.dumps(webhooks.messages([(n + i, i)])).encode() for i in range(n)]
        ids = store_backlog(rt, known)
        took_known = apply(rt, ids)
        rules, compiled = save_rule_book(rt)
        answered = [json.dumps(webhooks.messages([(2 * n + i, i)])).encode() for i in range(n)]
        ids = store_backlog(rt, answered)
        took_answered = apply(rt, ids, answer=True)
        replies = execute(db, "SELECT COUNT(*) FROM outbox").fetchone()[0]
        customers = execute(db, "SELECT COUNT(*) FROM customer").fetchone()[0]
        undone = execute(db, "SELECT COUNT(*) FROM inbox_event WHERE state != 'done'"
                         ).fetchone()[0]
        db.close()
    print(f"# one worker process, batches of {BATCH}; {n:,} events each; {load_note()}")
    print(f"{'backlog':<44} {'events/s':>9} {'seconds':>8}")
    print(f"{'messages from customers already known':<44} {n / took_known:>9,.0f} "
          f"{took_known:>8.1f}")
    print(f"{'first contacts (each a new customer)':<44} {n / took_first:>9,.0f} "
          f"{took_first:>8.1f}")
    print(f"{'known, with Auto Reply (1,000 rules)':<44} {n / took_answered:>9,.0f} "
          f"{took_answered:>8.1f}")
    print(f"# Auto Reply: {rules:,} rules compiled in {compiled:.1f} s; {replies:,} replies "
          f"queued; with / without: {took_known / took_answered:.2f}")
    print(f"# check: {customers:,} customers made, {undone} events not applied; "
          f"first contacts / known: {took_known / took_first:.2f}")


if __name__ == "__main__":
    main()
