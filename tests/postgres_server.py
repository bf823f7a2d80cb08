"""A real PostgreSQL server from Debian's package, started by the tests in a private
directory, listening on a unix socket only; one database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
ROLE = "gembok"


def available() -> bool:
    return (BIN / "initdb").exists()


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: they run as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, *, durable: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gembok-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(self.data), "-U",
                                        "postgres", "--auth=trust", "-E", "UTF8",
                                        "--no-instructions"]),
                       check=True, capture_output=True)
        # Tests do not need a power cut to keep their writes; the benchmark does (durable).
        fast = "" if durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(_as_server_user([
            str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.root / "log"),
            "-o", f"-k {self.root} -p {self.port} -c listen_addresses='' "
                  f"-c max_connections=200{fast}", "start"]), check=True, capture_output=True)
        self.psql("postgres", f"CREATE ROLE {ROLE} LOGIN CREATEDB")

    def psql(self, database: str, statement: str) -> str:
        out = subprocess.run(["psql", "-h", str(self.root), "-p", str(self.port), "-U",
                              "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc",
                              statement], check=True, capture_output=True, text=True)
        return out.stdout

    def new_database(self) -> str:
        """A fresh, empty database owned by Gembok's role: its store URL."""
        name = f"gembok_{os.getpid()}_{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name} OWNER {ROLE}")
        return self.url(name)

    def copy_database(self, url: str) -> str:
        """A new database made from the one at `url` (nobody may be connected to it)."""
        name = f"gembok_{os.getpid()}_{next(self._names)}"
        source = url.split("/")[3].split("?")[0]
        self.psql("postgres", f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE {source}")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://{ROLE}@/{name}?host={self.root}&port={self.port}"

    def stop(self) -> None:
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                        "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
