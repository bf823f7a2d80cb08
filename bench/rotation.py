"""Key rotation at scale: the master key over 100,000 customer keys, and data keys over
1,000,000 messages while the web UI serves a steady load.

Master rotation stands beside its floor measured in the same run: the same 100,000
unwrap + wrap calls in memory, with no database and no file. Data-key rotation runs as
`gembok keys rotate-data --wait` (one process, as the worker runs it) against the web UI
under gunicorn, with a supervisor's inbox requested by 4 simulated agents (each one
request, then 0.25 s of reading); the inbox's latency is measured before the job and
during it, from the client's side.

    .venv/bin/python bench/rotation.py [--keys 100000] [--customers 100000]
                                       [--messages 1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from inbox import build  # bench/inbox.py: the same 100,000 customers and 1,000,000 messages
from procs import scratch_dir

from appliance.auth.permissions import BOX_ADMIN
from appliance.bootstrap import initialise
from appliance.config import load_settings
from appliance.crypto.wrap import unwrap, wrap
from appliance.keys.master_rotation import rotate_master
from appliance.redis_server import find_redis_server, redis_argv
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.keystate import KeyJob
from appliance.store.models import Customer
from webui import create_app

ROOT = Path(__file__).resolve().parents[1]
AGENTS, THINK = 4, 0.25


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


# -- master rotation ---------------------------------------------------------------------

def master_rotation(base: Path, count: int) -> tuple[float, float]:
    settings = load_settings({"GEMBOK_DATA_DIR": str(base / "master" / "var")})
    rt, _ = initialise(settings)
    keys = [os.urandom(32) for _ in range(count)]
    rows = []
    with db.atomic():
        for key in keys:
            cid = Customer.insert().execute()
            rows.append((cid, wrap(rt.master.key, key, f"customer:{cid}:v1"),
                         rt.master.key_id))
        db.cursor().executemany("INSERT INTO customer_key (customer_id, version, wrapped, "
                                "master_id, created_at) VALUES (?, 1, ?, ?, '2026-01-01')",
                                rows)
    new_master = os.urandom(32)
    started = time.perf_counter()
    for cid, wrapped, _ in rows:  # the floor: the crypto alone
        wrap(new_master, unwrap(rt.master.key, wrapped, f"customer:{cid}:v1"),
             f"customer:{cid}:v1")
    floor = time.perf_counter() - started
    report = rotate_master(rt, principal=BOX_ADMIN)
    assert report.customer_keys == count, report
    db.close()
    return report.seconds, floor


# -- data-key rotation under load --------------------------------------------------------

class Load:
    """Agents reloading the inbox; each keeps its own latencies, tagged by phase."""

    def __init__(self, url: str, cookie: str) -> None:
        self.url, self.cookie = url, cookie
        self.phase = "warm-up"  # first requests fill caches: not counted
        self.samples: dict[str, list[float]] = {"warm-up": [], "before": [], "during": []}
        self.errors = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._agent, daemon=True)
                        for _ in range(AGENTS)]

    def _agent(self) -> None:
        with httpx.Client(base_url=self.url, verify=False, timeout=30,  # noqa: S501 - self-signed
                          cookies={"gembok_session": self.cookie}) as client:
            while not self.stopping.is_set():
                phase = self.phase
                started = time.perf_counter()
                answer = client.get("/api/conversations")
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code == 200 and phase == self.phase:
                    self.samples[phase].append(elapsed)
                elif answer.status_code != 200:
                    self.errors += 1
                time.sleep(THINK)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def data_rotation(base: Path, customers: int, messages: int, seconds: float) -> dict[str, Any]:
    _, settings, token, _ = build(base, customers, messages, sealed=True)
    app = create_app(settings, enqueue=False)  # only to sign the session cookie as the UI does
    cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": token})
    db.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    env.update(GEMBOK_DATA_DIR=str(settings.data_dir), GEMBOK_WEB_PORT=str(port),
               GEMBOK_LOG_LEVEL="warning")
    log = open(base / "bench.log", "ab")  # noqa: SIM115
    procs = [subprocess.Popen(redis_argv(find_redis_server(), settings.redis_socket), env=env,
                              stdout=log, stderr=log, start_new_session=True)]
    procs.append(subprocess.Popen([sys.executable, "-m", "webui.serve", "web"], env=env,
                                  cwd=ROOT, stdout=log, stderr=log, start_new_session=True))
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/login", verify=False, timeout=1)  # noqa: S501
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the web UI did not start; see {base}/bench.log") from None
                time.sleep(0.1)
        load = Load(url, cookie)
        load.start()
        time.sleep(3)
        load.phase = "before"
        time.sleep(seconds)
        load.phase = "during"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "appliance", "keys", "rotate-data",
                               "--wait"], env=env, cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - started
        load.stop()
        if done.returncode != 0:
            raise SystemExit(f"rotate-data failed: {done.stderr}")
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        log.close()
    open_runtime(settings)  # as it is now, after the job
    job = KeyJob.select().order_by(KeyJob.id.desc()).get()
    return {"rows": job.rows_done, "seconds": took, "samples": load.samples,
            "errors": load.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long the inbox is measured before the job starts")
    args = parser.parse_args()
    with scratch_dir("gembok-rotation-") as base:  # removed at the end, on Ctrl-C too
        machine = (f"{platform.node()}: {psutil.cpu_count()} cores, "
                   f"Python {platform.python_version()}")

        took, floor = master_rotation(base, args.keys)
        print(f"# Master key rotation, {machine}")
        print(f"{'customer keys':<16} {'rotation':>9} {'crypto floor':>13} {'ratio':>6}")
        print(f"{args.keys:<16,} {took:>8.2f}s {floor:>12.2f}s {took / floor:>6.2f}")

        figures = data_rotation(base, args.customers, args.messages, args.seconds)
        before, during = figures["samples"]["before"], figures["samples"]["during"]
        rate = figures["rows"] / figures["seconds"]
        print(f"# Data-key rotation under load, {machine}; {args.customers:,} customers, "
              f"{args.messages:,} messages; web UI under gunicorn, {AGENTS} agents reloading "
              f"the inbox every {THINK} s")
        print(f"rows re-sealed: {figures['rows']:,} in {figures['seconds']:.1f} s = "
              f"{rate:,.0f} rows/s")
        print(f"{'inbox (50 rows)':<18} {'requests':>9} {'p50':>8} {'p95':>8}")
        for label, values in (("before the job", before), ("during the job", during)):
            print(f"{label:<18} {len(values):>9} {statistics.median(values):>6.1f}ms "
                  f"{p95(values):>6.1f}ms")
        print(f"p95 during / before: {p95(during) / p95(before):.2f}  "
              f"(failed requests: {figures['errors']})")


if __name__ == "__main__":
    main()
