"""Webhook ingest: the box a user gets first, then the listener alone, each beside baselines.

1. **The shipped box.** Every process of an installed box as its systemd units run them,
   with the shipped defaults (Redis, inbox writer, webhook listener, worker, web UI,
   scheduler; both faces on unix sockets behind the front: `*.socket`,
   `*.behind_proxy`), behind Debian's nginx configured from the Ansible role's own
   template (TLS; `bench/front.py`). wrk (Debian's) over TLS on the same two cores, 16
   connections (the front lets one address have 20 requests in progress). Two
   workloads, each sent for `--e2e-seconds`, then waited on until the backlog is empty:
   the daily mix at Meta's top tier (each inbound message from a known customer with the
   three statuses, sent, delivered and read, of a message the business sent) and first
   contacts (each POST from a customer never seen). processed/s = events acknowledged /
   (first POST to backlog empty); every acknowledged event is counted as a row, and every
   first contact as a customer. Baselines in the same run: a Flask and a plain WSGI hello
   world behind the same nginx, on the same gunicorn settings.
2. **The listener alone**, as measured before: worker off, no front, gunicorn on plain
   HTTP over TCP (2 workers x 32 threads, `--listener-workers`, `--listener-threads`), wrk
   -c32. Baselines: a Flask hello world on the same settings, and the same pipeline with
   field encryption off on plain SQLite (the price of the encryption).

Everything runs on this box, synchronous=FULL kept. Check that the box is otherwise quiet
first: each table prints the load average before and after it.

    .venv/bin/python bench/ingest.py [--seconds 10] [--rounds 2] [--e2e-seconds 10]
                                     [--only shipped|listener] [--set worker.threads=4 ...]
                                     [--auto-reply]

With `--auto-reply`, the shipped box's two workloads run again after 1,000 Auto Reply
rules of 200 keywords are saved, and the table gives processed/s on against off.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import webhooks
from front import Front
from procs import ROOT, Stack, free_port, load_note, machine_facts, scratch_dir
from rules import make_rules

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import rule_book
from appliance.clock import utcnow
from appliance.config import Settings, load_settings
from appliance.inbox.messages import read_conversation
from appliance.redis_server import find_redis_server, redis_argv
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import db, execute

HERE = Path(__file__).resolve().parent
WRK = shutil.which("wrk")
MAX_RATE = 6000  # more than wrk gets acknowledged per second here: a body file never wraps


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def acked(self) -> int:
        return self.requests - self.non_2xx


def wrk(url: str, bodies: Path, seconds: float, connections: int) -> WrkResult:
    assert WRK is not None
    done = subprocess.run([WRK, "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout",
                           "10s", "--latency", "-s", str(HERE / "wrk_bodies.lua"), url, "--",
                           str(bodies), "0"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    out = done.stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] \
            if m else float("nan")

    def number(pattern: str) -> int:
        m = re.search(pattern, out)
        return int(m.group(1)) if m else 0

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return WrkResult(number(r"(\d+) requests in"), float(rate.group(1)) if rate else 0.0,
                     ms("50"), ms("99"), number(r"Non-2xx or 3xx responses: (\d+)"),
                     sum(int(g) for g in errors.groups()) if errors else 0)


def best(results: list[WrkResult]) -> WrkResult:
    return max(results, key=lambda r: r.rps)


def gunicorn(app: str, bind: str, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads",
            str(threads), "--no-control-socket", "--log-level", "warning", "-b", bind, app]


def wait_http(url: str, stack: Stack) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, verify=False)  # noqa: S501 - our self-signed cert
            return
        except httpx.TransportError:
            stack.check_alive()
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up; see {stack.log_dir / 'bench.log'}")


# -- a Gembok box ------------------------------------------------------------------------
def gembok_env(data_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    env.update(GEMBOK_DATA_DIR=str(data_dir), GEMBOK_WHATSAPP_APP_SECRET=webhooks.SECRET,
               GEMBOK_WHATSAPP_VERIFY_TOKEN="v", GEMBOK_WHATSAPP_ACCESS_TOKEN="t",
               GEMBOK_WHATSAPP_PHONE_NUMBER_ID=webhooks.PHONE_NUMBER_ID,
               GEMBOK_SIMULATOR_ENABLED="false", PYTHONUNBUFFERED="1", **overrides)
    return env


def init_box(env: dict[str, str]) -> Settings:
    settings = load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")})
    subprocess.run([sys.executable, "-m", "appliance", "init"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    settings.run_dir.mkdir(exist_ok=True)
    return settings


def start_box(stack: Stack, settings: Settings, parts: list[str]) -> None:
    """The processes of an installed box, started as its units start them."""
    commands = {
        "redis": redis_argv(find_redis_server(), settings.redis_socket),
        "writer": [sys.executable, "-m", "appliance", "inbox-writer"],
        "worker": [sys.executable, "-m", "appliance", "worker"],
        "listener": [sys.executable, "-m", "webui.serve", "webhook"],
        "web": [sys.executable, "-m", "webui.serve", "web"],
        "scheduler": [sys.executable, "-m", "appliance", "scheduler"],
    }
    ready = {"redis": settings.redis_socket, "writer": settings.inbox_writer_socket,
             "worker": settings.run_dir / "worker.ready", "web": settings.web.socket}
    for name in parts:
        stack.start(commands[name], name=name)
        if ready.get(name) is not None:
            stack.wait_path(ready[name])  # type: ignore[arg-type]


class Probe:
    """The bench's own view of the box's database: counts, backlog, a readable message."""

    def __init__(self, settings: Settings) -> None:
        self.rt: Runtime = open_runtime(settings)

    def count(self, sql: str, *params: Any) -> int:
        return int(execute(db, sql, params).fetchone()[0])

    def marks(self) -> dict[str, int]:
        return {"event": self.count("SELECT COALESCE(MAX(id), 0) FROM inbox_event"),
                "customer": self.count("SELECT COUNT(*) FROM customer"),
                "message": self.count("SELECT COALESCE(MAX(id), 0) FROM message")}

    def drained(self, started: float, quiet: float = 0.5) -> float:
        """Seconds from `started` to the backlog's end: no event waiting, and none arriving
        for `quiet` seconds (requests still in flight when wrk stopped count too)."""
        busy_until, last = time.perf_counter(), -1
        while time.perf_counter() - busy_until < quiet:
            waiting = self.count("SELECT COUNT(*) FROM inbox_event WHERE state = 'new'")
            newest = self.count("SELECT COALESCE(MAX(id), 0) FROM inbox_event")
            if waiting or newest != last:
                busy_until, last = time.perf_counter(), newest
            time.sleep(0.05)
        return busy_until - started

    def seed_outbound(self, count: int) -> list[str]:
        """Messages the business sent (their wamids known), for the daily mix's statuses."""
        convos = [c for (c,) in execute(db, "SELECT id FROM conversation").fetchall()]
        wamids = [f"wamid.OUT{n:09d}" for n in range(count)]
        with db.atomic("IMMEDIATE"):
            db.cursor().executemany(
                "INSERT INTO message (conversation_id, direction, wamid, kind, status, "
                "created_at) VALUES (?, 'out', ?, 'text', 'accepted', ?)",
                [(convos[n % len(convos)], w, str(utcnow())) for n, w in enumerate(wamids)])
        return wamids

    def check(self, before: dict[str, int], acked: int) -> tuple[int, str]:
        """Rows stored since `before`, and what they hold."""
        stored = self.count("SELECT COUNT(*) FROM inbox_event WHERE id > ?", before["event"])
        failed = self.count("SELECT COUNT(*) FROM inbox_event WHERE id > ? AND state != 'done'",
                            before["event"])
        made = self.count("SELECT COUNT(*) FROM customer") - before["customer"]
        inbound = self.count("SELECT COUNT(*) FROM message WHERE id > ? AND direction = 'in'",
                             before["message"])
        read = self.count("SELECT COUNT(*) FROM message WHERE direction = 'out' AND "
                          "status = 'read'")
        newest = execute(db, "SELECT conversation_id FROM message WHERE direction = 'in' "
                             "ORDER BY id DESC LIMIT 1").fetchone()
        text = read_conversation(self.rt, newest[0], actor="system")[-1].body or ""
        # wrk counts the answers that came within its run; the requests in flight when it
        # stopped (one per connection at most) were stored and answered too, uncounted.
        rows = (f"every acknowledged event a row ({stored:,} rows: {stored - acked} answered "
                "after wrk stopped counting)") if 0 <= stored - acked <= 64 else \
            f"{stored:,} rows for {acked:,} acknowledged (!)"
        return stored, (f"{rows}; {failed} not applied, {inbound:,} messages stored, "
                        f"{made:,} customers made, {read:,} outbound messages read, newest "
                        f"message readable: {text.startswith('Halo')}")

    def close(self) -> None:
        db.close()


class CpuMeter:
    """Cores each part used over a span: the stacks' processes, and wrk (our child)."""

    def __init__(self, *stacks: Stack) -> None:
        self.stacks = stacks
        self.before = self._now()

    def _now(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for stack in self.stacks:
            for name, seconds in stack.cpu().items():
                used[name] = used.get(name, 0.0) + seconds
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        used["wrk"] = children.ru_utime + children.ru_stime
        used["whole box"] = sum(psutil.cpu_times()[:3])  # user, nice, system
        return used

    def cores(self, seconds: float) -> dict[str, float]:
        after = self._now()
        return {k: (v - self.before.get(k, 0.0)) / seconds for k, v in after.items()}


def show_cores(cores: dict[str, float]) -> str:
    parts = {k: v for k, v in cores.items() if k != "whole box"}
    rest = cores["whole box"] - sum(parts.values())
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
                     if v >= 0.005) + f"; anything else on the box {rest:.2f}" \
        f" (of {psutil.cpu_count()})"


@dataclass
class Run:
    name: str
    load: WrkResult
    stored: int  # rows: the acknowledged events, and the few answered after wrk stopped
    seconds: float  # first POST to backlog empty
    cores: dict[str, float]
    check: str

    @property
    def processed(self) -> float:
        return self.stored / self.seconds


def end_to_end(name: str, stacks: list[Stack], probe: Probe, url: str, bodies: Path,
               seconds: int, connections: int) -> Run:
    """Sends for `seconds`, then waits until the box has applied everything it acknowledged."""
    before = probe.marks()
    meter = CpuMeter(*stacks)
    started = time.perf_counter()
    load = wrk(url, bodies, seconds, connections)
    took = probe.drained(started)
    cores = meter.cores(took)
    stored, check = probe.check(before, load.acked)
    return Run(name, load, stored, took, cores, check)


# -- 1. the shipped box ------------------------------------------------------------------
def shipped_box(base: Path, args: argparse.Namespace, overrides: dict[str, str]) -> None:
    print(f"# 1. The shipped box, behind its nginx front; {load_note()}", flush=True)
    sockets = base / "sockets"  # nginx's workers (www-data) must reach the sockets
    sockets.mkdir(mode=0o711)
    os.chmod(base, 0o711)  # noqa: S103 - traverse only, for nginx; the data dir stays 0700
    env = gembok_env(base / "box" / "var", {
        "GEMBOK_WEBHOOK_SOCKET": str(sockets / "webhook.sock"),
        "GEMBOK_WEBHOOK_BEHIND_PROXY": "true",
        "GEMBOK_WEB_SOCKET": str(sockets / "web.sock"), "GEMBOK_WEB_BEHIND_PROXY": "true",
        "GEMBOK_LOG_LEVEL": "info", **overrides})
    (base / "box").mkdir()
    settings = init_box(env)
    hook = settings.webhook
    front = Front(base / "nginx", webhook_socket=sockets / "webhook.sock",
                  web_socket=sockets / "web.sock", cert=settings.tls_cert_path,
                  key=settings.tls_key_path, webhook_port=free_port(), web_port=free_port(),
                  keepalive=args.front_keepalive)
    conns = args.front_connections
    rows: list[tuple[str, WrkResult, dict[str, float]]] = []
    known = args.known
    first_bodies, mix_bodies = base / "first.txt", base / "mix.txt"
    enough = int(args.e2e_seconds * MAX_RATE)
    size = webhooks.write(first_bodies, max(enough, known), webhooks.first_contacts(0))
    with Stack(base, dict(os.environ)) as nginx:
        front.start(nginx)
        baselines = [] if args.skip_baselines else [
            ("Flask hello world", "baseline_apps:hello()"),
            ("plain WSGI hello world", "baseline_apps:wsgi_hello()")]
        for label, app in baselines:
            with Stack(base, env) as hello:
                hello.start(gunicorn(app, f"unix:{sockets / 'webhook.sock'}", hook.workers,
                                     hook.threads), cwd=HERE)
                front.wait_healthy()
                meter, started = CpuMeter(nginx, hello), time.perf_counter()
                result = best([wrk(front.url, first_bodies, args.seconds, conns)
                               for _ in range(args.rounds)])
                rows.append((f"{label} behind nginx", result,
                             meter.cores(time.perf_counter() - started)))
            (sockets / "webhook.sock").unlink(missing_ok=True)
        with Stack(base / "box", env) as box:
            start_box(box, settings, ["redis", "writer", "worker", "listener", "web",
                                      "scheduler"])
            front.wait_healthy()
            time.sleep(3)  # let every process finish starting (imports, first ticks)
            probe = Probe(settings)
            try:
                first = end_to_end("first contacts (each POST from a new customer)",
                                   [nginx, box], probe, front.url, first_bodies,
                                   args.e2e_seconds, conns)
                made = probe.count("SELECT COUNT(*) FROM customer")
                outbound = probe.seed_outbound(enough // 4 + 1)
                webhooks.write(mix_bodies, enough,
                               webhooks.daily_mix(min(known, made), outbound, 50_000_000))
                mix = end_to_end(f"daily mix, {min(known, made):,} known customers",
                                 [nginx, box], probe, front.url, mix_bodies, args.e2e_seconds,
                                 conns)
                if args.auto_reply:
                    answered = with_auto_reply(base, args, probe, [nginx, box], front.url,
                                               known=min(known, made), outbound=outbound,
                                               enough=enough)
            finally:
                probe.close()
    ceiling = max([r.rps for _, r, _ in rows] or [float("nan")])
    print(f"# {machine_facts()}")
    print(f"# gunicorn gthread {hook.workers} x {hook.threads} (webhook.workers x "
          f"webhook.threads) on a unix socket, worker.threads {settings.worker.threads}; "
          f"nginx from the role's template, TLS; wrk -t1 -c{conns} over TLS; hello worlds "
          f"best of {args.rounds} x {args.seconds} s, each workload sent for "
          f"{args.e2e_seconds} s then drained; single-event bodies of {size} B; "
          f"synchronous=FULL; {load_note()}")
    print(f"{'what':<52} {'ack/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'processed/s':>12} "
          f"{'non-2xx':>8}")
    for name, r, _ in rows:
        print(f"{name:<52} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {'':>12} "
              f"{r.non_2xx + r.errors:>8}")
    for run in (mix, first):
        r = run.load
        print(f"{'Gembok, ' + run.name:<52} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
              f"{run.processed:>12.0f} {r.non_2xx + r.errors:>8}")
    for name, _, cores in rows:
        print(f"  {name}, cores used: {show_cores(cores)}")
    if args.auto_reply:
        print(f"# Auto Reply on: {answered[2]}")
        for off, on in zip((mix, first), answered[:2], strict=True):
            r = on.load
            print(f"{'Gembok + Auto Reply, ' + off.name:<52} {r.rps:>7.0f} {r.p50_ms:>7.1f} "
                  f"{r.p99_ms:>7.1f} {on.processed:>12.0f} {r.non_2xx + r.errors:>8}  "
                  f"processed on / off: {on.processed / off.processed:.2f}")
            print(f"    cores used: {show_cores(on.cores)}")
            print(f"    check: {on.check}")
    for run in (mix, first):
        print(f"  {run.name}: {run.load.acked:,} acknowledged, drained {run.seconds:.1f} s after "
              f"the first POST; acknowledged / best hello world: "
              f"{run.load.rps / ceiling:.2f}")
        print(f"    cores used: {show_cores(run.cores)}")
        print(f"    check: {run.check}")


def with_auto_reply(base: Path, args: argparse.Namespace, probe: Probe, stacks: list[Stack],
                    url: str, *, known: int, outbound: list[str], enough: int
                    ) -> tuple[Run, Run, str]:
    """The same two workloads again (fresh messages, so none is a replay), with the rule
    book of `bench/rules.py` (1,000 rules x 200 keywords) saved through the rule book
    service: every inbound message is tried against it by the worker and logged once."""
    book = make_rules(1000, 200, random.Random(12))
    started = time.perf_counter()
    for rule in book:
        rule_book.save_rule(probe.rt, BOX_ADMIN, dataclasses.replace(rule, id=0))
    saved = time.perf_counter() - started
    warm = base / "warm.txt"  # the worker compiles the book at its first batch: not timed
    webhooks.write(warm, 50, webhooks.first_contacts(20_000_000))
    wrk(url, warm, 1, 1)
    probe.drained(time.perf_counter())
    time.sleep(5)
    # fresh messages, and statuses with other timestamps: an identical body is a replay,
    # acknowledged but not stored again
    first_bodies, mix_bodies = base / "first-on.txt", base / "mix-on.txt"
    webhooks.write(first_bodies, enough, webhooks.first_contacts(10_000_000))
    webhooks.write(mix_bodies, enough, webhooks.daily_mix(known, outbound, 70_500_000))
    mix = end_to_end(f"daily mix, {known:,} known customers", stacks, probe, url, mix_bodies,
                     args.e2e_seconds, args.front_connections)
    first = end_to_end("first contacts (each POST from a new customer)", stacks, probe, url,
                       first_bodies, args.e2e_seconds, args.front_connections)
    logged = probe.count("SELECT COUNT(*) FROM auto_reply_log")
    return mix, first, (f"{len(book):,} rules x 200 keywords saved in {saved:.0f} s; "
                        f"{logged:,} messages tried and logged by Auto Reply")


# -- 2. the listener alone ---------------------------------------------------------------
def listener_alone(base: Path, args: argparse.Namespace) -> None:
    print(f"# 2. The listener alone; {load_note()}", flush=True)
    single, batched = base / "single.txt", base / "batched.txt"
    enough = int(args.seconds * MAX_RATE)
    size = webhooks.write(single, enough, webhooks.single(2000, start=100_000_000))
    bsize = webhooks.write(batched, enough // 4, webhooks.batched(100, 2000, 200_000_000))
    workers, threads = args.listener_workers, args.listener_threads
    table: list[tuple[str, WrkResult, int]] = []

    def measure(url: str, bodies: Path = single) -> WrkResult:
        return best([wrk(url, bodies, args.seconds, 32) for _ in range(args.rounds)])

    port = free_port()
    with Stack(base, dict(os.environ)) as stack:
        stack.start(gunicorn("baseline_apps:hello()", f"127.0.0.1:{port}", workers, threads),
                    cwd=HERE)
        wait_http(f"http://127.0.0.1:{port}/healthz", stack)
        table.append(("Flask hello world (ceiling)", measure(f"http://127.0.0.1:{port}"), 1))

    plain = base / "plain"
    plain.mkdir()
    env = {**os.environ, "BENCH_APP_SECRET": webhooks.SECRET,
           "BENCH_WRITER_SOCKET": str(plain / "writer.sock")}
    with Stack(plain, env) as stack:
        stack.start(redis_argv(find_redis_server(), plain / "redis.sock"))
        stack.wait_path(plain / "redis.sock")
        stack.start([sys.executable, str(HERE / "plain_writer.py"), str(plain / "plain.db"),
                     str(plain / "writer.sock"), str(plain / "redis.sock")])
        stack.wait_path(plain / "writer.sock")
        stack.start(gunicorn("baseline_apps:plain()", f"127.0.0.1:{port}", workers, threads),
                    cwd=HERE)
        wait_http(f"http://127.0.0.1:{port}/healthz", stack)
        table.append(("same pipeline, no encryption, plain SQLite",
                      measure(f"http://127.0.0.1:{port}"), 1))

    for tls in (False, True):
        work = base / f"gembok-{'tls' if tls else 'plain'}"
        work.mkdir()
        env = gembok_env(work / "var", {
            "GEMBOK_WEBHOOK_PORT": str(port), "GEMBOK_WEBHOOK_TLS": str(tls).lower(),
            "GEMBOK_WEBHOOK_WORKERS": str(workers), "GEMBOK_WEBHOOK_THREADS": str(threads),
            "GEMBOK_LOG_LEVEL": "warning"})
        settings = init_box(env)
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        with Stack(work, env) as stack:
            start_box(stack, settings, ["redis", "writer", "listener"])
            wait_http(f"{url}/healthz", stack)
            if tls:
                table.append(("Gembok over TLS, no front", measure(url), 1))
                continue
            table.append(("Gembok (sealed, SQLCipher, group commit)", measure(url), 1))
            table.append(("Gembok, 100 updates per POST", measure(url, batched), 100))

    print(f"# {machine_facts()}")
    print(f"# worker off, no front: gunicorn gthread {workers} x {threads} on TCP, plain HTTP "
          f"unless said; wrk -t1 -c32, best of {args.rounds} x {args.seconds} s; bodies "
          f"{size} B (batched {bsize} B); synchronous=FULL; {load_note()}")
    print(f"{'what':<46} {'POST/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'updates/s':>10} "
          f"{'non-2xx':>8}")
    for name, r, per in table:
        print(f"{name:<46} {r.rps:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
              f"{r.rps * per:>10.0f} {r.non_2xx + r.errors:>8}")
    ceiling, plain_r, ours = table[0][1].rps, table[1][1].rps, table[2][1].rps
    print(f"Gembok / hello world: {ours / ceiling:.2f}; Gembok / no-encryption pipeline: "
          f"{ours / plain_r:.2f}")


def overrides_from(pairs: list[str]) -> dict[str, str]:
    """`--set worker.threads=4` as the setting's variable, GEMBOK_WORKER_THREADS=4."""
    found = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        found["GEMBOK_" + key.replace(".", "_").upper()] = value
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--e2e-seconds", type=int, default=10)
    parser.add_argument("--known", type=int, default=2000,
                        help="known customers of the daily mix")
    parser.add_argument("--front-connections", type=int, default=16)
    parser.add_argument("--front-keepalive", type=int, default=0,
                        help="an experiment: idle upstream connections nginx keeps (the "
                             "role's template keeps none)")
    parser.add_argument("--listener-workers", type=int, default=2)
    parser.add_argument("--listener-threads", type=int, default=32)
    parser.add_argument("--only", choices=["shipped", "listener"])
    parser.add_argument("--skip-baselines", action="store_true",
                        help="the shipped box without its hello worlds (to compare settings)")
    parser.add_argument("--auto-reply", action="store_true",
                        help="the shipped box's workloads again with 1,000 Auto Reply rules")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the shipped box other than its default")
    args = parser.parse_args()
    if WRK is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    with scratch_dir("gembok-ingest-") as base:
        if args.only in (None, "shipped"):
            shipped_box(base, args, overrides_from(args.set))
        if args.only in (None, "listener"):
            listener_alone(base, args)


if __name__ == "__main__":
    main()
