"""A real appliance, one process at a time: Redis, webhook listener, worker, scheduler.

Fault tests need to stop and kill single parts (`gembok run` would stop everything
when one child dies), so this starts each the way systemd would, with its output in a
log file that the tests scan for personal data afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from appliance.bootstrap import initialise
from appliance.config import Settings, load_settings
from appliance.redis_server import find_redis_server, redis_argv
from appliance.store.db import db
from tests.conftest import free_port
from tests.whatsapp.conftest import WHATSAPP_ENV, signed


class Appliance:
    def __init__(self, root: Path, **extra_env: str) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
        env.update(WHATSAPP_ENV, GEMBOK_DATA_DIR=str(root / "var"),
                   GEMBOK_WEBHOOK_PORT=str(free_port()), GEMBOK_WEB_PORT=str(free_port()),
                   GEMBOK_SIMULATOR_PORT=str(free_port()), PYTHONUNBUFFERED="1", **extra_env)
        self.env = env
        self.settings: Settings = load_settings({k: v for k, v in env.items()
                                                 if k.startswith("GEMBOK_")})
        initialise(self.settings)
        db.close()
        self.settings.run_dir.mkdir(exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.http = httpx.Client(verify=False, timeout=10)  # noqa: S501 - our self-signed cert
        self.url = f"https://127.0.0.1:{env['GEMBOK_WEBHOOK_PORT']}/webhooks/whatsapp"

    # -- processes ---------------------------------------------------------------------
    def start(self, name: str) -> None:
        argv = {
            "redis": redis_argv(find_redis_server(), self.settings.redis_socket),
            "webhook": [sys.executable, "-m", "webui.serve", "webhook"],
            "worker": [sys.executable, "-m", "appliance", "worker"],
            "scheduler": [sys.executable, "-m", "appliance", "scheduler"],
            "inbox-writer": [sys.executable, "-m", "appliance", "inbox-writer"],
        }[name]
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(argv, env=self.env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._wait_up(name)

    def _wait_up(self, name: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise AssertionError(f"{name} exited: {(self.logs / f'{name}.log').read_text()}")
            if name == "redis" and self.settings.redis_socket.exists():
                return
            if name == "webhook":
                try:
                    self.http.get(self.url.replace("/webhooks/whatsapp", "/healthz"))
                    return
                except httpx.TransportError:
                    pass
            if name == "worker" and (self.settings.run_dir / "worker.ready").exists():
                return
            if name == "inbox-writer" and self.settings.inbox_writer_socket.exists():
                return
            if name == "scheduler":
                return
            time.sleep(0.05)
        raise AssertionError(f"{name} did not come up")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        if name == "redis":
            self.settings.redis_socket.unlink(missing_ok=True)

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name, signal.SIGKILL)
        self.http.close()

    # -- traffic -----------------------------------------------------------------------
    def post(self, body: bytes | dict, secret: str | None = None) -> int:
        raw, headers = signed(body) if secret is None else signed(body, secret)
        return self.http.post(self.url, content=raw, headers=headers).status_code

    def log_text(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.logs.glob("*.log"))

    def redis_dump(self) -> bytes:
        """Every key and value in Redis, to look for personal data in it."""
        import redis

        client = redis.Redis(unix_socket_path=str(self.settings.redis_socket))
        try:
            out = []
            for key in client.scan_iter():
                kind = client.type(key)
                out.append(key)
                if kind == b"string":
                    out.append(client.get(key) or b"")
                elif kind == b"list":
                    out.extend(client.lrange(key, 0, -1))
                elif kind == b"hash":
                    out.extend(b"".join(kv) for kv in client.hgetall(key).items())
                elif kind == b"zset":
                    out.extend(client.zrange(key, 0, -1))
                elif kind == b"set":
                    out.extend(client.smembers(key))
            return b"\n".join(out)
        finally:
            client.close()
