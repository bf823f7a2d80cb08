"""`gembok run` in the background, read until it says it is ready, stopped without a trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from appliance.store.db import db
from appliance.supervisor.state import read_state
from tests.conftest import free_port

GEMBOK = [sys.executable, "-m", "appliance"]


def appliance_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    env.update(GEMBOK_DATA_DIR=str(data_dir), GEMBOK_WEB_PORT=str(free_port()),
               GEMBOK_WEBHOOK_PORT=str(free_port()), GEMBOK_SIMULATOR_PORT=str(free_port()),
               **extra)
    env["GEMBOK_WHATSAPP_API_BASE_URL"] = f"http://127.0.0.1:{env['GEMBOK_SIMULATOR_PORT']}"
    return env


class Running:
    """A `gembok run` in the background, read until it says it is ready.

    Its output is then drained by threads all along: a pipe nobody reads fills at 64 KB,
    and the next log line would block whichever process wrote it (a worker stuck mid-send
    made a browser test wait in vain).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc = subprocess.Popen([*GEMBOK, "run"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"gembok run ended early: {self.proc.stderr.read()}")
            self.out.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        self.tree = [self.proc.pid] + [c.pid for c in psutil.Process(self.proc.pid)
                                       .children(recursive=True)]
        self.err: list[str] = []
        self.drains = [threading.Thread(target=self._drain, args=(stream, sink), daemon=True)
                       for stream, sink in ((self.proc.stdout, self.out),
                                            (self.proc.stderr, self.err))]
        for thread in self.drains:
            thread.start()

    @staticmethod
    def _drain(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)

    def tree_now(self) -> dict[str, int]:
        """Each child's pid as the supervisor last wrote it (a restarted child has a new one)."""
        state = read_state(Path(self.env["GEMBOK_DATA_DIR"]) / "run")
        assert state is not None, "gembok run wrote no state"
        return state.children

    def port(self, name: str) -> int:
        return int(self.env[f"GEMBOK_{name}_PORT"])

    def stop(self, sig: int = signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        return self.wait()

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout=timeout)
        for thread in self.drains:
            thread.join(timeout=10)
        self.stderr = "".join(self.err)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def survivors(self) -> list[int]:
        alive = []
        for pid in self.tree:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        return alive


def eventually(check: Callable[[], Any], timeout: float = 20,
               explain: Callable[[], str] | None = None) -> Any:
    """Polls `check` until it gives something: another process does the work.

    `explain` tells, on a timeout, where the work stands (say, the outbox's states).
    """
    deadline = time.monotonic() + timeout
    while True:
        db.close()  # a fresh read each time, as another process writes
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            where = f"\n{explain()}" if explain else ""
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}{where}")
        time.sleep(0.2)
