"""Footprint of the quick start: time from `gembok run` to every port answering, and idle memory.

Measured from outside (wall clock from spawning the command to the last health check
answering), on an existing data dir, several rounds. The baseline, measured in the same
run, is one gunicorn serving a Flask hello world: the cheapest thing that could answer.

    .venv/bin/python bench/footprint.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil
from procs import scratch_dir

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        ctx = ssl._create_unverified_context()
        with urllib.request.urlopen(url, timeout=1, context=ctx) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def wait_all(urls: list[str], started: float, proc: subprocess.Popen[bytes]) -> float:
    pending = list(urls)
    while pending:
        if proc.poll() is not None:
            raise SystemExit(f"process exited with {proc.returncode} before answering")
        pending = [u for u in pending if not answers(u)]
        if pending:
            time.sleep(0.01)
    return time.perf_counter() - started


Sample = tuple[float, float, float, int]  # ready seconds, RSS MB, PSS MB, processes


def memory(pid: int) -> tuple[float, float, int]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    rss = sum(p.memory_info().rss for p in procs)
    pss = sum(p.memory_full_info().pss for p in procs)
    return rss / 2**20, pss / 2**20, len(procs)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


def measure(argv: list[str], env: dict[str, str], urls: list[str], cwd: Path,
            settle: float) -> Sample:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        ready = wait_all(urls, started, proc)
        time.sleep(settle)  # idle: let start-up garbage go before reading memory
        rss, pss, count = memory(proc.pid)
    finally:
        stop(proc)
    return ready, rss, pss, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    with scratch_dir("gembok-bench-") as work:  # removed at the end, on Ctrl-C too
        env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
        ports = {name: free_port() for name in ("WEB", "WEBHOOK", "SIMULATOR")}
        env.update({f"GEMBOK_{n}_PORT": str(p) for n, p in ports.items()},
                   GEMBOK_DATA_DIR=str(work / "var"))
        subprocess.run([sys.executable, "-m", "appliance", "init"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        gembok_urls = [f"https://127.0.0.1:{ports['WEB']}/healthz",
                       f"https://127.0.0.1:{ports['WEBHOOK']}/healthz",
                       f"http://127.0.0.1:{ports['SIMULATOR']}/healthz"]
        (work / "hello.py").write_text(textwrap.dedent("""
            from flask import Flask
            app = Flask(__name__)
            @app.get("/healthz")
            def ok(): return "ok"
        """))
        hello_port = free_port()
        hello = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8",
                 "--no-control-socket", "-b", f"127.0.0.1:{hello_port}", "hello:app"]
        rows: dict[str, list[Sample]] = {"gembok run": [], "baseline": []}
        for _ in range(args.rounds):
            rows["gembok run"].append(measure([sys.executable, "-m", "appliance", "run"], env,
                                              gembok_urls, ROOT, args.settle))
            rows["baseline"].append(measure(hello, env, [f"http://127.0.0.1:{hello_port}/healthz"],
                                            work, args.settle))
        print(f"# footprint, {args.rounds} rounds, {platform.node()}: {os.cpu_count()} cores, "
              f"{psutil.virtual_memory().total / 2**30:.0f} GiB, "
              f"Python {platform.python_version()}, "
              f"{platform.platform()}")
        print(f"{'what':<12} {'ready s median':>15} {'ready s max':>12} {'RSS MB':>7} "
              f"{'PSS MB':>7} {'processes':>10}")
        med: dict[str, list[float]] = {}
        for name, results in rows.items():
            med[name] = [statistics.median(r[i] for r in results) for i in range(4)]
            ready, rss, pss, count = med[name]
            print(f"{name:<12} {ready:>15.2f} {max(r[0] for r in results):>12.2f} {rss:>7.0f} "
                  f"{pss:>7.0f} {count:>10.0f}")
        g, b = med["gembok run"], med["baseline"]
        print(f"gembok run / baseline: ready x{g[0] / b[0]:.1f}, RSS x{g[1] / b[1]:.1f}, "
              f"PSS x{g[2] / b[2]:.1f}")


if __name__ == "__main__":
    main()
