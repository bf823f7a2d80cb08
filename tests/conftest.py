"""Shared fixtures: a fresh data dir per test, an initialised appliance, real subprocesses."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.bootstrap import initialise
from appliance.config import Settings, load_settings
from appliance.runtime import Runtime
from appliance.store.db import db

CI = bool(os.environ.get("CI"))


def settings_for(data_dir: Path, **env: str) -> Settings:
    """Settings as a process would load them, with only the given GEMBOK_* variables."""
    return load_settings({"GEMBOK_DATA_DIR": str(data_dir), **env})


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
