"""A real PostgreSQL server from Debian's package, started by the tests in a private
directory, listening on a unix socket only; one database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
ROLE = "gembok"


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: they run as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PostgresServer:
    def __init__(self, *, durable: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gembok-pg-"))
        self.data = self.root / "data"
        self.port = 5432  # names the socket file only: it listens on no TCP port, in its own dir
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
        source = urllib.parse.urlsplit(url).path.strip("/")
        self.psql("postgres", f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE {source}")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://{ROLE}@/{name}?host={self.root}&port={self.port}"

    def stop(self) -> None:
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                        "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
