"""Shared fixtures: a fresh data dir per test, an initialised appliance, real subprocesses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.bootstrap import initialise
from appliance.config import Settings, load_settings
from appliance.runtime import Runtime
from appliance.store.db import db

CI = bool(os.environ.get("CI"))

# Marks a test module whose tests run on both engines: SQLCipher, and a real PostgreSQL.
BOTH_ENGINES = [pytest.mark.postgres, pytest.mark.usefixtures("engine")]
_server: Any = None  # the tests' PostgreSQL, while a module runs on it
_server_databases: dict[Path, str] = {}  # data dir -> its database there


def settings_for(data_dir: Path, **env: str) -> Settings:
    """Settings as a process would load them, with only the given GEMBOK_* variables.

    In a module run on PostgreSQL each data dir gets a fresh database of its own, and
    the same one every time it is named again (a process opening it anew).
    """
    if _server is not None and "GEMBOK_STORE_URL" not in env:
        if data_dir not in _server_databases:
            _server_databases[data_dir] = _server.new_database()
        env = {**env, "GEMBOK_STORE_URL": _server_databases[data_dir]}
    return load_settings({"GEMBOK_DATA_DIR": str(data_dir), **env})


def store_env(data_dir: Path) -> dict[str, str]:
    """The GEMBOK_* a subprocess needs besides the data dir to open the same store."""
    if _server is not None and data_dir in _server_databases:
        return {"GEMBOK_STORE_URL": _server_databases[data_dir]}
    return {}


def copy_data_dir(source: Path, target: Path) -> Path:
    """A copy of an appliance (closed): its files, and on PostgreSQL its database, made
    from the source's as a template."""
    shutil.copytree(source, target)
    if _server is not None and source in _server_databases:
        _server_databases[target] = _server.copy_database(_server_databases[source])
    return target


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("postgres"):
        metafunc.parametrize("engine", ["sqlcipher", "postgres"], indirect=True,
                             scope="module")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """Debian's PostgreSQL, started once for the session in a private directory."""
    from tests.postgres_server import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which engine this module's stores are on (BOTH_ENGINES runs it on each)."""
    global _server
    name = getattr(request, "param", "sqlcipher")
    if name == "postgres":
        _server = request.getfixturevalue("pg_server")
    try:
        yield name
    finally:
        _server = None
        _server_databases.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "var")


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """An appliance initialised on a fresh data dir: keys, database, first admin."""
    runtime, _ = initialise(settings)
    yield runtime
    db.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


class MailCollector:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtpd(tmp_path_factory):
    """A real SMTP server on 127.0.0.1 that requires STARTTLS; `.ca_file` trusts its cert."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller

    d = tmp_path_factory.mktemp("smtp")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", d / "k.pem", "-out", d / "c.pem"], check=True,
                   capture_output=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(d / "c.pem", d / "k.pem")
    ctl = Controller(MailCollector(), hostname="127.0.0.1", port=free_port(), tls_context=tls,
                     require_starttls=True)
    ctl.start()
    ctl.ca_file = d / "c.pem"
    yield ctl
    ctl.stop()


@pytest.fixture
def start():
    """Starts `gembok run`s; whatever a failing test left running is stopped afterwards."""
    from tests.running import Running

    started: list[Running] = []

    def starter(env: dict[str, str]):
        started.append(Running(env))
        return started[-1]

    yield starter
    for run in started:
        if run.proc.returncode is None:
            run.stop(signal.SIGTERM)


