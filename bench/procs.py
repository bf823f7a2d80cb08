"""Provides what the benches share: a scratch dir that never outlives its bench, process
groups stopped together, and the machine facts every table is printed with.

A bench leaves nothing behind: not when it ends, not on an error, not on Ctrl-C, not on
a plain `kill` (SIGTERM becomes the same clean exit). `bench/inbox.py` left its 900 MB
store in /tmp after every run (issue 11).
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import psutil

ROOT = Path(__file__).resolve().parents[1]


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temp dir for one bench, removed at the end, on an error, Ctrl-C or SIGTERM."""
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as tmp:
            yield Path(tmp)
    finally:
        signal.signal(signal.SIGTERM, previous)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The processes of one variant, each in a group of its own; stopped together (also
    when the bench is interrupted: use it as a context manager)."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.names: dict[int, str] = {}  # pid -> name, for `cpu`
        self.log = open(log_dir / "bench.log", "ab")  # noqa: SIM115 - closed in stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, argv: list[str], cwd: Path = ROOT,
              name: str | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=self.env, cwd=cwd, stdout=self.log, stderr=self.log,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        self.names[proc.pid] = name or Path(argv[0]).name
        return proc

    def wait_path(self, path: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            self.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"{path} did not appear; see {self.log_dir / 'bench.log'}")
            time.sleep(0.05)

    def check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise SystemExit(f"{proc.args!r} exited with {proc.returncode}; see "
                                 f"{self.log_dir / 'bench.log'}")

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each named process, its children (gunicorn's workers,
        nginx's) included."""
        used: dict[str, float] = {}
        for proc in self.procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        times = p.cpu_times()
                        name = self.names[proc.pid]
                        used[name] = used.get(name, 0.0) + times.user + times.system
        return used

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        self.log.close()


def _version(argv: list[str], pattern: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    found = re.search(pattern, done.stdout + done.stderr)
    return found.group(1) if found else "?"


def machine_facts() -> str:
    """One line: the CPU, cores, memory, system and the tools' versions."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text()
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        model = found.group(1).strip() if found else model
    debian = ""
    with contextlib.suppress(OSError):
        debian = " " + Path("/etc/debian_version").read_text().strip()
    tools = []
    if shutil.which("nginx"):
        tools.append("nginx " + _version(["nginx", "-v"], r"nginx/(\S+)"))
    if shutil.which("wrk"):
        tools.append("wrk " + _version(["wrk", "-v"], r"wrk (\S+)"))
    return (f"{platform.node()}: {model}, {psutil.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Debian{debian}, kernel "
            f"{platform.release()}, Python {platform.python_version()}, " + ", ".join(tools))


def load_note() -> str:
    """How busy the box was (1-minute load average): figures taken on a busy box lie."""
    return f"load average {os.getloadavg()[0]:.2f}"
