"""Webhook ingest: acknowledged POSTs/s, updates/s in batches, and events processed end to end.

Everything runs on this box, load generator (wrk, Debian's) included, with
synchronous=FULL kept. Each figure stands beside two baselines measured in the same
run: a Flask hello world on the same gunicorn settings (the ceiling of the box), and the
same pipeline with field encryption off on plain SQLite (the price of our security).

    .venv/bin/python bench/ingest.py [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from appliance.config import load_settings
from appliance.redis_server import find_redis_server, redis_argv
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import InboxEvent, Message
from appliance.whatsapp.signature import sign

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECRET = "bench-app-secret"
WRK = shutil.which("wrk")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def message(n: int, customers: int) -> dict:
    who = n % customers
    return {"from": f"62812{who:08d}", "from_user_id": f"ID.{who:012d}", "id": f"wamid.B{n:09d}",
            "timestamp": str(1764000000 + n), "type": "text",
            "text": {"body": f"Halo kak, pesanan nomor {n} belum sampai. " * 4}}


def envelope(messages: list[dict], customers: int) -> dict:
    contacts = [{"profile": {"name": f"Pelanggan {m['from'][-4:]}"}, "wa_id": m["from"],
                 "user_id": m["from_user_id"]} for m in messages]
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000",
                             "phone_number_id": "106540352242922"},
                "contacts": contacts, "messages": messages}}]}]}


def write_bodies(path: Path, count: int, per_post: int, start: int = 0,
                 customers: int = 2000) -> int:
    with path.open("w") as out:
        for i in range(count):
            first = start + i * per_post
            body = json.dumps(envelope([message(first + k, customers) for k in range(per_post)],
                                       customers), separators=(",", ":"))
            out.write(f"{sign(SECRET, body.encode())}\t{body}\n")
    return len(body)


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def wrk(url: str, bodies: Path, seconds: int, connections: int = 32, offset: int = 0) -> WrkResult:
    out = subprocess.run([WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(HERE / "wrk_bodies.lua"), url, "--", str(bodies),
                          str(offset)], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    total = re.search(r"(\d+) requests in", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(int(total.group(1)) if total else 0,
                     float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
                     ms("50"), ms("99"), int(non.group(1)) if non else 0)


class Stack:
    """The processes of one variant; stopped together."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env, self.procs = work, env, []
        self.log = open(work / "bench.log", "ab")  # noqa: SIM115

    def start(self, argv: list[str], cwd: Path = ROOT) -> None:
        self.procs.append(subprocess.Popen(argv, env=self.env, cwd=cwd, stdout=self.log,
                                           stderr=self.log, start_new_session=True))

    def wait_http(self, url: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit(f"{url} did not come up; see {self.work / 'bench.log'}")

    def wait_path(self, path: Path) -> None:
        deadline = time.monotonic() + 30
        while not path.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{path} did not appear; see {self.work / 'bench.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.log.close()


def gunicorn(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "32",
            "--no-control-socket", "--log-level", "warning", "-b", f"127.0.0.1:{port}", app]


def best(results: list[WrkResult]) -> WrkResult:
    return max(results, key=lambda r: r.rps)


def gembok_env(work: Path, port: int, tls: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    env.update(GEMBOK_DATA_DIR=str(work / "var"), GEMBOK_WEBHOOK_PORT=str(port),
               GEMBOK_WEBHOOK_TLS="true" if tls else "false", GEMBOK_WEBHOOK_WORKERS="2",
               GEMBOK_WEBHOOK_THREADS="32", GEMBOK_WHATSAPP_APP_SECRET=SECRET,
               GEMBOK_WHATSAPP_VERIFY_TOKEN="v", GEMBOK_WHATSAPP_ACCESS_TOKEN="t",
               GEMBOK_WHATSAPP_PHONE_NUMBER_ID="106540352242922", GEMBOK_LOG_LEVEL="warning")
    return env


def start_gembok(work: Path, tls: bool = False, worker: bool = False) -> tuple[Stack, str]:
    port = free_port()
    env = gembok_env(work, port, tls)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")})
    if not settings.db_file.exists():
        subprocess.run([sys.executable, "-m", "appliance", "init"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    stack = Stack(work, env)
    settings.run_dir.mkdir(exist_ok=True)
    stack.start(redis_argv(find_redis_server(), settings.redis_socket))
    stack.wait_path(settings.redis_socket)
    stack.start([sys.executable, "-m", "appliance", "inbox-writer"])
    stack.wait_path(settings.inbox_writer_socket)
    if worker:
        stack.start([sys.executable, "-m", "appliance", "worker"])
        stack.wait_path(settings.run_dir / "worker.ready")
    stack.start([sys.executable, "-m", "webui.serve", "webhook"])
    scheme = "https" if tls else "http"
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1, verify=False)  # noqa: S501 - self-signed
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return stack, url


def rows(work: Path) -> tuple[int, int, int]:
    env = gembok_env(work, 1, False)
    open_runtime(load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")}))
    try:
        return (InboxEvent.select().count(), InboxEvent.select().where(
            InboxEvent.state == "new").count(), Message.select().count())
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--e2e-events", type=int, default=40_000)
    args = parser.parse_args()
    if WRK is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    base = Path(tempfile.mkdtemp(prefix="gembok-ingest-"))
    single, batched = base / "single.txt", base / "batched.txt"
    size = write_bodies(single, 60_000, 1)
    bsize = write_bodies(batched, 600, 100, start=10_000_000)
    table: list[tuple[str, WrkResult, int, str]] = []

    # Ceiling: Flask hello world, same gunicorn settings.
    port = free_port()
    stack = Stack(base, dict(os.environ))
    stack.start(gunicorn("baseline_apps:hello()", port), cwd=HERE)
    stack.wait_http(f"http://127.0.0.1:{port}/")
    res = best([wrk(f"http://127.0.0.1:{port}", single, args.seconds)
                for _ in range(args.rounds)])
    stack.stop()
    table.append(("Flask hello world (ceiling)", res, 1, ""))

    # The price of security: same pipeline, no encryption, plain SQLite.
    plain = base / "plain"
    plain.mkdir()
    port = free_port()
    env = {**os.environ, "BENCH_APP_SECRET": SECRET,
           "BENCH_WRITER_SOCKET": str(plain / "writer.sock")}
    stack = Stack(plain, env)
    stack.start(redis_argv(find_redis_server(), plain / "redis.sock"))
    stack.wait_path(plain / "redis.sock")
    stack.start([sys.executable, str(HERE / "plain_writer.py"), str(plain / "plain.db"),
                 str(plain / "writer.sock"), str(plain / "redis.sock")])
    stack.wait_path(plain / "writer.sock")
    stack.start(gunicorn("baseline_apps:plain()", port), cwd=HERE)
    stack.wait_http(f"http://127.0.0.1:{port}/")
    res = best([wrk(f"http://127.0.0.1:{port}", single, args.seconds)
                for _ in range(args.rounds)])
    stack.stop()
    table.append(("same pipeline, no encryption, plain SQLite", res, 1, ""))

    # Gembok itself: single events, batches of 100, and over TLS.
    work = base / "gembok"
    work.mkdir()
    stack, url = start_gembok(work)
    res = best([wrk(url, single, args.seconds) for _ in range(args.rounds)])
    stored = rows(work)[0]
    table.append(("Gembok (sealed, SQLCipher, group commit)", res, 1,
                  f"{stored} events stored"))
    resb = best([wrk(url, batched, args.seconds) for _ in range(args.rounds)])
    table.append(("Gembok, 100 updates per POST", resb, 100, ""))
    stack.stop()
    stack, url = start_gembok(work, tls=True)
    rest = best([wrk(url, single, args.seconds) for _ in range(args.rounds)])
    stack.stop()
    table.append(("Gembok over TLS (no proxy in front)", rest, 1, ""))

    # End to end: unique events in, worker on, until the backlog is drained.
    e2e = base / "e2e"
    e2e.mkdir()
    fresh = e2e / "bodies.txt"
    write_bodies(fresh, args.e2e_events, 1, start=20_000_000)
    stack, url = start_gembok(e2e, worker=True)
    started = time.perf_counter()
    sent = wrk(url, fresh, max(1, args.e2e_events // 3000), connections=16)
    total = sent.requests - sent.non_2xx
    while True:
        _, waiting, messages = rows(e2e)
        if waiting == 0:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    stack.stop()
    _, _, messages = rows(e2e)

    cpu = platform.processor() or platform.machine()
    print(f"# webhook ingest, {platform.node()}: {psutil.cpu_count()} cores ({cpu}), "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
          f"wrk -t1 -c32, best of {args.rounds} x {args.seconds} s; bodies {size} B "
          f"(batched {bsize} B); synchronous=FULL")
    print(f"{'what':<46} {'POST/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'updates/s':>10} "
          f"{'non-2xx':>8}")
    for name, r, per, _ in table:
        print(f"{name:<46} {r.rps:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
              f"{r.rps * per:>10.0f} {r.non_2xx:>8}")
    ceiling, plain_r, ours = table[0][1].rps, table[1][1].rps, table[2][1].rps
    print(f"Gembok / hello world: {ours / ceiling:.2f}; Gembok / no-encryption pipeline: "
          f"{ours / plain_r:.2f}")
    print(f"end to end: {total} unique events acknowledged at {sent.rps:.0f}/s, all "
          f"{messages} messages stored and the backlog drained in {elapsed:.1f} s: "
          f"{messages / elapsed:.0f} events/s processed")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
