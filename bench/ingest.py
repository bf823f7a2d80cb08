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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.inbox.messages import read_conversation
from appliance.redis_server import find_redis_server, redis_argv
from appliance.runtime import open_runtime
from appliance.store.db import db, execute
from appliance.store.models import Conversation, InboxEvent, Message
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


@dataclass
class Drained:
    acked: int
    ack_rate: float
    seconds: float


def drain(work: Path, load: Callable[[], WrkResult]) -> Drained:
    """Runs the load, then waits for the backlog to empty: time from first POST to empty."""
    started = time.perf_counter()
    sent = load()
    while rows(work)[1]:
        time.sleep(0.2)
    return Drained(sent.requests - sent.non_2xx, sent.rps, time.perf_counter() - started)


def seed_outbound(work: Path, count: int) -> list[str]:
    """Messages the business sent (wamids known), for the statuses of the daily mix."""
    env = gembok_env(work, 1, False)
    open_runtime(load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")}))
    try:
        convos = [c for (c,) in execute(db, "SELECT id FROM conversation").fetchall()]
        wamids = [f"wamid.OUT{n:09d}" for n in range(count)]
        with db.atomic():
            db.cursor().executemany(
                "INSERT INTO message (conversation_id, direction, wamid, kind, status, "
                "created_at) VALUES (?, 'out', ?, 'text', 'accepted', ?)",
                [(convos[n % len(convos)], w, str(utcnow())) for n, w in enumerate(wamids)])
        return wamids
    finally:
        db.close()


def status_body(wamid: str, state: str, n: int) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000",
                             "phone_number_id": "106540352242922"},
                "statuses": [{"id": wamid, "status": state, "timestamp": str(1764000000 + n),
                              "recipient_id": "6281200000000"}]}}]}]}


def write_mixed(path: Path, count: int, outbound: list[str], customers: int) -> None:
    with path.open("w") as out:
        for n in range(count):
            if n % 4 == 0:
                body = envelope([message(40_000_000 + n, customers)], customers)
            else:
                body = status_body(outbound[(n // 4) % len(outbound)],
                                   ("sent", "delivered", "read")[n % 4 - 1], n)
            raw = json.dumps(body, separators=(",", ":"))
            out.write(f"{sign(SECRET, raw.encode())}\t{raw}\n")


def e2e_check(work: Path) -> str:
    """Readable rows and applied statuses, checked after the run."""
    env = gembok_env(work, 1, False)
    rt = open_runtime(load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")}))
    try:
        inbound = Message.select().where(Message.direction == "in").count()
        read = Message.select().where(Message.direction == "out", Message.status == "read").count()
        sample = Message.select().where(Message.direction == "in").order_by(Message.id.desc()).get()
        convo = Conversation.get_by_id(sample.conversation_id)
        text = read_conversation(rt, convo.id, actor="system")[-1].body or ""
        failed = InboxEvent.select().where(InboxEvent.state == "failed").count()
        return (f"{inbound} inbound messages stored, {read} outbound messages read, "
                f"{failed} events failed, newest message readable: {text.startswith('Halo')}")
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--e2e-events", type=int, default=40_000)
    parser.add_argument("--customers", type=int, default=2000)
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

    # End to end. First contacts: every message from a customer never seen before.
    e2e = base / "e2e"
    e2e.mkdir()
    customers = args.customers
    first = e2e / "first.txt"
    write_bodies(first, customers, 1, start=30_000_000, customers=customers)
    stack, url = start_gembok(e2e, worker=True)
    first_run = drain(e2e, lambda: wrk(url, first, max(1, customers // 1500), connections=16))
    # Then the daily mix at Meta's top tier: each inbound message from a known customer
    # comes with three statuses (sent, delivered, read) of a message the business sent.
    outbound = seed_outbound(e2e, args.e2e_events // 4)
    mixed = e2e / "mixed.txt"
    write_mixed(mixed, args.e2e_events, outbound, customers)
    mix_run = drain(e2e, lambda: wrk(url, mixed, max(1, args.e2e_events // 3000),
                                     connections=16))
    stack.stop()
    check = e2e_check(e2e)

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
    for name, run in (("first contacts (new customers)", first_run),
                      ("daily mix (1 message : 3 statuses)", mix_run)):
        print(f"end to end, {name}: {run.acked} events acknowledged at {run.ack_rate:.0f}/s; "
              f"all processed and the backlog drained in {run.seconds:.1f} s: "
              f"{run.acked / run.seconds:.0f} events/s processed")
    print(f"check: {check}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
