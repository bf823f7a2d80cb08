"""Ingest and processing on PostgreSQL with 1, 2 and 3 worker processes, beside the
single-box SQLCipher store, in the same run (issue 16).

Each variant gets a fresh store. The inbox writer's path stores a backlog of webhooks
(one message each, customers already known: the daily case) with its one multi-row
INSERT per 100 events; then W worker processes apply disjoint halves or thirds of it
with `ingest.process_events`, in batches of 500 ids as the queue hands them out. The
clock runs from the moment every worker is ready until the last one is done. CPU is
split between the workers (their own rusage) and everything else on the box (mostly
the PostgreSQL server), which is what the model for more traffic needs.

PostgreSQL runs from Debian's package with its durable defaults (fsync on, synchronous
commit), as SQLCipher runs with synchronous=FULL: an acknowledged write survives a
power cut on both.

    .venv/bin/python bench/scale.py [--events 12000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

import psutil
import webhooks
from procs import ROOT, load_note, machine_facts, scratch_dir

sys.path.insert(0, str(ROOT))  # the tests' PostgreSQL server, started the same way

from appliance.bootstrap import initialise
from appliance.config import load_settings
from appliance.inbox import ingest
from appliance.runtime import open_runtime
from appliance.store import bulk
from appliance.store.db import close_connection, connect_raw, db, execute
from appliance.whatsapp.webhook_events import fingerprint_key, seal_event
from tests.postgres_server import PostgresServer

BATCH = 500  # ids per queue message (the inbox writer's IdBatcher.max_ids)
WRITE = 100  # events per inbox-writer INSERT


def store_backlog(rt, bodies: list[bytes]) -> tuple[list[int], float]:
    """Stores sealed events through the inbox writer's own statement; ids and seconds."""
    key = fingerprint_key(rt.keyring.current("system"))
    conn = connect_raw(rt.settings.db_file, rt.keyring.database_key)
    ids: list[int] = []
    started = time.perf_counter()
    try:
        for start in range(0, len(bodies), WRITE):
            events = [seal_event(rt.keyring.system, raw, key)
                      for raw in bodies[start:start + WRITE]]
            rows = [(None, e.uid, e.digest, e.body) for e in events]
            by_uid = bulk.insert_inbox_events(conn, "2026-12-05 10:00:00", rows)
            ids += [by_uid[e.uid] for e in events]
    finally:
        conn.close()
    return ids, time.perf_counter() - started


def _worker(settings, ids: list[int], ready, go, out) -> None:
    rt = open_runtime(settings)
    ready.release()
    go.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    for start in range(0, len(ids), BATCH):
        ingest.process_events(rt, ids[start:start + BATCH])
    after = resource.getrusage(resource.RUSAGE_SELF)
    close_connection()
    out.put((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def apply_with(settings, ids: list[int], workers: int) -> tuple[float, float, float]:
    """Wall seconds, workers' CPU seconds, and the rest of the box's CPU seconds."""
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    close_connection()  # a child must not share the parent's connection
    procs = [ctx.Process(target=_worker, args=(settings, ids[w::workers], ready, go, out))
             for w in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    box_before = psutil.cpu_times()
    started = time.perf_counter()
    go.set()
    spent = [out.get() for _ in procs]
    took = time.perf_counter() - started
    box_after = psutil.cpu_times()
    for p in procs:
        p.join()
    busy = sum(getattr(box_after, f) - getattr(box_before, f)
               for f in ("user", "system", "nice", "irq", "softirq"))
    return took, sum(spent), max(0.0, busy - sum(spent))


def variant(base: Path, name: str, env: dict[str, str], n: int, workers: int) -> dict:
    settings = load_settings({"GEMBOK_DATA_DIR": str(base / name / "var"), **env})
    rt, _ = initialise(settings)
    # The customers exist already (first contacts are bench/apply.py's subject)
    seed = [json.dumps(webhooks.messages([(i, i % 2000)])).encode() for i in range(2000)]
    ids, _ = store_backlog(rt, seed)
    for start in range(0, len(ids), BATCH):
        ingest.process_events(rt, ids[start:start + BATCH])
    bodies = [json.dumps(webhooks.messages([(10_000_000 + i, i % 2000)])).encode()
              for i in range(n)]
    ids, stored = store_backlog(rt, bodies)
    took, worker_cpu, other_cpu = apply_with(settings, ids, workers)
    undone = execute(db, "SELECT COUNT(*) FROM inbox_event WHERE state != 'done'").fetchone()[0]
    db.close()
    return {"name": name, "workers": workers, "stored": n / stored, "applied": n / took,
            "worker_ms": 1000 * worker_cpu / n, "other_ms": 1000 * other_cpu / n,
            "undone": undone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=12_000)
    args = parser.parse_args()
    n = args.events
    print(f"# {machine_facts()}; {load_note()}", flush=True)
    server = PostgresServer(durable=True)
    results = []
    try:
        with scratch_dir("gembok-bench-scale-") as base:
            results.append(variant(base, "sqlcipher-1", {}, n, 1))
            results.append(variant(base, "sqlcipher-2", {}, n, 2))
            for workers in (1, 2, 3):
                url = server.new_database()
                results.append(variant(base, f"postgres-{workers}", {"GEMBOK_STORE_URL": url},
                                       n, workers))
    finally:
        server.stop()
    baseline = results[0]["applied"]
    print(f"# {n:,} events (known customers), batches of {BATCH}; stored by the inbox "
          f"writer's INSERT of {WRITE}; {load_note()}")
    print(f"{'store, worker processes':<26} {'stored/s':>9} {'applied/s':>10} {'ratio':>6} "
          f"{'worker ms/ev':>13} {'rest ms/ev':>11}")
    for r in results:
        engine, workers = r["name"].split("-")
        print(f"{engine + ', ' + workers:<26} {r['stored']:>9,.0f} {r['applied']:>10,.0f} "
              f"{r['applied'] / baseline:>6.2f} {r['worker_ms']:>13.2f} {r['other_ms']:>11.2f}")
    print(f"# ratio: applied/s against SQLCipher with one worker, in this run; rest = the "
          f"box's other CPU while applying (PostgreSQL's server, mostly); cores: "
          f"{os.cpu_count()}; not applied: {sum(r['undone'] for r in results)}")


if __name__ == "__main__":
    main()
