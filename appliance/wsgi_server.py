"""Provides `serve`: run a WSGI app under gunicorn (gthread, TLS) from one of Gembok's commands.

gunicorn is driven from Python rather than its own command line so that every listener
(web UI, webhook, simulator) takes its options from the validated `Settings`, and
systemd units and the quick start run the very same entry points.

gunicorn is not a front for the internet: a gthread worker spends a thread on each TLS
handshake and first read, with no timeout, so 32 idle connections held the webhook's
threads for as long as they stayed open (150 s seen; issue 11). On an installed box nginx
faces the clients and gunicorn serves a unix socket that systemd made for nginx alone
(`gembok-web.socket`) and hands over at start: gunicorn takes it from LISTEN_FDS and binds
nothing itself (it could not give the socket nginx's group: the unit has a private user
namespace, and chown is outside its system-call filter). Where no systemd hands one
over, gunicorn binds the socket itself, mode 0666: its directory decides who enters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

WSGIApp = Callable[..., Any]


@dataclass(frozen=True)
class Listener:
    name: str
    host: str
    port: int
    workers: int = 1
    threads: int = 8
    certfile: Path | None = None
    keyfile: Path | None = None
    socket: Path | None = None  # this unix socket instead of host:port


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, factory: Callable[[], WSGIApp], options: dict[str, Any],
                 before_fork: Callable[[], object]) -> None:
        self._factory = factory
        self._options = options
        self._before_fork = before_fork
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        app = self._factory()
        # The app was built in the master (preload): whatever it opened that must not
        # cross a fork (Gembok's SQLite connection) is let go here; each worker thread
        # opens its own on first use.
        self._before_fork()
        return app


def serve(factory: Callable[[], WSGIApp], listener: Listener, *,
          before_fork: Callable[[], object] = lambda: None) -> None:
    """Serves the app; `before_fork` lets go of what the app opened in the master."""
    options: dict[str, Any] = {
        "bind": [f"unix:{listener.socket}" if listener.socket
                 else f"{listener.host}:{listener.port}"],
        "workers": listener.workers,
        "worker_class": "gthread",
        "threads": listener.threads,
        "preload_app": True,  # a bad key or config fails once, in the master, with one line
        "graceful_timeout": 2,  # open live streams would otherwise hold a stop for 30 s
        "proc_name": listener.name,
        "control_socket_disable": True,
        "loglevel": "warning",
        "accesslog": None,  # URLs carry no personal data, but staff IPs need not pile up
    }
    if listener.socket:
        options["umask"] = 0o111  # when gunicorn binds it: 0666, its directory decides
    if listener.certfile and listener.keyfile:
        options.update(certfile=str(listener.certfile), keyfile=str(listener.keyfile))
    _Gunicorn(factory, options, before_fork).run()
