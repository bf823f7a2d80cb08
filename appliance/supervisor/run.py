"""Provides `Supervisor`: starts every process of the appliance, watches them, stops them all.

Children run in their own process groups (so a Ctrl-C reaches the supervisor alone and
it stops them in order: worker first, Redis last) and die with the supervisor if it is
killed (PR_SET_PDEATHSIG). Nothing is left behind: a child group that ignores SIGTERM
for too long gets SIGKILL.

A child that dies is started again after a back-off, as systemd's `Restart=` does for
the units: the first version stopped the whole appliance instead, and the webhook
listener then refused Meta until someone noticed (an outside review, issue 11). Only a
child that cannot stay up (`MAX_RESTARTS` within `RESTART_WINDOW`) stops everything.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from appliance.config import Settings
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.scheduler import Scheduler, checkpoint
from appliance.supervisor.children import Child, plan
from appliance.supervisor.ports import check_free
from appliance.supervisor.state import RunState, clear_state, write_state

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
MAX_RESTARTS = 5  # within RESTART_WINDOW: more, and the child cannot stay up
RESTART_WINDOW = 120.0
FIRST_BACKOFF = 0.5  # doubled at each restart within the window
MAX_BACKOFF = 10.0
_PR_SET_PDEATHSIG = 1


class StartError(GembokError):
    """A process of the appliance could not start."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, settings: Settings, rt: Runtime, say: Callable[[str], None],
                 scheduler: Scheduler) -> None:
        self.settings = settings
        self.rt = rt
        self.scheduler = scheduler
        self.say = say
        self.children = plan(settings)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self._lock: IO[str] | None = None
        self._env: dict[str, str] = {}
        self._ready = 0.0
        self.restarts: dict[str, list[float]] = {}  # monotonic times of each child's restarts

    # -- start -------------------------------------------------------------------------
    def start(self) -> float:
        """Starts everything; returns seconds from this process's start to all answering."""
        self._take_lock()
        for child in self.children:
            for port in child.ports:
                check_free(port)
        for path in (self.settings.redis_socket, self.settings.run_dir / "worker.ready"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._env = {**os.environ, "GEMBOK_DATA_DIR": str(self.settings.data_dir),
                     "PYTHONUNBUFFERED": "1"}
        for child in self.children:
            if self.stopping:
                break
            self._spawn(child)
            if child.name == "redis":  # the others need it before they can start
                self._wait_ready([child])
        self._wait_ready([c for c in self.children if c.name != "redis"])
        self._ready = _process_age()
        self._write_state()
        return self._ready

    def _spawn(self, child: Child) -> None:
        self.procs[child.name] = subprocess.Popen(
            child.argv, env=self._env, process_group=0, preexec_fn=_die_with_parent,
            stdin=subprocess.DEVNULL)

    def _write_state(self) -> None:
        write_state(self.settings.run_dir, RunState(
            os.getpid(), round(self._ready, 2), {n: p.pid for n, p in self.procs.items()},
            {n: len(times) for n, times in self.restarts.items()}))

    def _take_lock(self) -> None:
        self.settings.run_dir.mkdir(mode=0o700, exist_ok=True)
        lock = open(self.settings.run_dir / "supervisor.lock", "a+")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StartError(f"another `gembok run` already uses data dir "
                             f"{self.settings.data_dir}: stop it first") from None
        self._lock = lock

    def _wait_ready(self, children: list[Child]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(children)
        while waiting:
            if self.stopping:
                return
            for child in list(waiting):
                self._check_alive(child.name, starting=True)
                if _is_ready(child):
                    waiting.remove(child)
            if time.monotonic() > deadline:
                names = ", ".join(c.label for c in waiting)
                raise StartError(f"{names} did not come up within {START_TIMEOUT:.0f} s")
            time.sleep(0.05)

    def _check_alive(self, name: str, *, starting: bool = False) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is None:
            return
        label = next(c.label for c in self.children if c.name == name)
        when = "while starting" if starting else "unexpectedly"
        raise StartError(f"{label} (pid {proc.pid}) exited {when} ({_how(proc)}); its own "
                         "message, if any, is above. Everything else was stopped")

    # -- run ---------------------------------------------------------------------------
    def table(self) -> str:
        rows = [(c.label, c.where, str(self.procs[c.name].pid))
                for c in self.children if c.name in self.procs]
        rows.append(("scheduler", "in this process", str(os.getpid())))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
                         .rstrip() for r in rows)

    def watch(self) -> None:
        """Runs the scheduler and watches the children until a stop is asked; a child that
        dies is started again (`revive`)."""
        while not self.stopping:
            for child in self.children:
                proc = self.procs.get(child.name)
                if proc is not None and proc.poll() is not None and not self.stopping:
                    self.revive(child)
            self.scheduler.tick()
            time.sleep(0.2)

    def revive(self, child: Child) -> None:
        """Starts a dead child again after a back-off; gives up (everything stops) when it
        cannot stay up. One line each time, for the admin reading the output."""
        while not self.stopping:
            proc = self.procs[child.name]
            now = time.monotonic()
            recent = [t for t in self.restarts.get(child.name, []) if now - t < RESTART_WINDOW]
            if len(recent) >= MAX_RESTARTS:
                raise StartError(f"{child.label} died {len(recent) + 1} times within "
                                 f"{RESTART_WINDOW:.0f} s (last: {_how(proc)}); it cannot stay "
                                 "up, so everything was stopped: its own message, if any, is "
                                 "above")
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** len(recent))
            self.say(f"gembok: {child.label} (pid {proc.pid}) died ({_how(proc)}); "
                     f"restarting it in {delay:.1f} s")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # what is left of its group (workers)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.stopping:
                time.sleep(0.05)
            if self.stopping:
                return
            self.restarts[child.name] = [*recent, time.monotonic()]
            self._spawn(child)
            try:
                self._wait_ready([child])
            except StartError:
                continue  # it died again while starting: count it, back off, try again
            self._write_state()
            self.say(f"gembok: {child.label} is back (pid {self.procs[child.name].pid}, "
                     f"restart {len(self.restarts[child.name])})")
            return

    # -- stop --------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def stop(self) -> None:
        """Stops children in reverse start order, each group with SIGTERM then SIGKILL."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.say(f"gembok: {name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group, if any
            proc.wait()
        try:
            checkpoint(self.rt)
        finally:
            clear_state(self.settings.run_dir)
            if self._lock is not None:
                self._lock.close()


def _how(proc: subprocess.Popen[bytes]) -> str:
    code = proc.returncode
    return f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 \
        else f"exit code {code}"


def _process_age() -> float:
    """Seconds since this process was exec'd (10 ms ticks; psutil rounds boot time to 1 s)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    return time.clock_gettime(time.CLOCK_BOOTTIME) - started


def _is_ready(child: Child) -> bool:
    if child.unix_socket is not None:
        return _unix_answers(child.unix_socket, b"PING\r\n" if child.redis_ping else None)
    if child.ready_file is not None:
        return child.ready_file.exists()
    if child.health_url is not None:
        return _http_ok(child.health_url)
    return True


def _http_ok(url: str) -> bool:
    # A liveness probe of our own child on this machine: no data crosses it.
    context = ssl._create_unverified_context()  # noqa: S323
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except OSError:
        return False


def _unix_answers(path: Path, ping: bytes | None) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            if ping is None:
                return True
            sock.sendall(ping)
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def install_signal_handlers(supervisor: Supervisor) -> None:
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGHUP, supervisor.request_stop)
