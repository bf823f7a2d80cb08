"""Provides the plan of `gembok run`: which processes it starts, and how each shows it is up."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from appliance.config import Settings
from appliance.redis_server import find_redis_server, redis_argv


@dataclass(frozen=True)
class Port:
    host: str
    port: int
    label: str
    setting: str  # the setting that moves it, named in the "port in use" error


@dataclass(frozen=True)
class Child:
    name: str
    label: str
    argv: list[str]
    where: str  # shown in the table of what runs where
    ports: list[Port] = field(default_factory=list)
    health_url: str | None = None  # GET answered with 200 when the process serves
    ready_file: Path | None = None  # created by the process when it is ready
    unix_socket: Path | None = None  # ready once it accepts a connection
    redis_ping: bool = False  # ... and answers PING


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def plan(settings: Settings) -> list[Child]:
    s = settings
    children = []
    if not s.redis.url:
        children.append(Child(
            "redis", "Redis (embedded)", redis_argv(find_redis_server(), s.redis_socket),
            f"unix:{s.redis_socket}", unix_socket=s.redis_socket, redis_ping=True))
    web = f"https://{s.web.host}:{s.web.port}"
    children.append(Child(
        "web", "web UI (staff, LAN)", _python("webui.serve", "web"), web,
        [Port(s.web.host, s.web.port, "web UI", "web.port")], health_url=f"{web}/healthz"))
    children.append(Child(
        "inbox-writer", "inbox writer (group commit)", _python("appliance", "inbox-writer"),
        f"unix:{s.inbox_writer_socket}", unix_socket=s.inbox_writer_socket))
    hook = f"{'https' if s.webhook.tls else 'http'}://{s.webhook.host}:{s.webhook.port}"
    children.append(Child(
        "webhook", "webhook listener (Meta)", _python("webui.serve", "webhook"),
        f"{hook}/webhooks/whatsapp",
        [Port(s.webhook.host, s.webhook.port, "webhook listener", "webhook.port")],
        health_url=f"{hook}/healthz"))
    if s.simulator.enabled:
        sim = f"http://{s.simulator.host}:{s.simulator.port}"
        children.append(Child(
            "simulator", "Cloud API simulator", _python("simulator"),
            f"{sim} (a customer's phone: the link below)",
            [Port(s.simulator.host, s.simulator.port, "Cloud API simulator", "simulator.port")],
            health_url=f"{sim}/healthz"))
    children.append(Child(
        "worker", "worker (Dramatiq)", _python("appliance", "worker"),
        f"{s.worker.threads} threads, queues webhook > send > broadcast > maintenance",
        ready_file=s.run_dir / "worker.ready"))
    return children
