"""Provides the check that a port is free, with the one-line error that says how to move it."""

from __future__ import annotations

import errno
import socket

from appliance.errors import GembokError
from appliance.supervisor.children import Port


class PortInUse(GembokError):
    """Another program listens on a port Gembok needs."""


def setting_hint(port: Port) -> str:
    env = "GEMBOK_" + port.setting.replace(".", "_").upper()
    return f"set {port.setting} in the config file or {env} to move it"


def check_free(port: Port) -> None:
    family = socket.AF_INET6 if ":" in port.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((port.host, port.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port.port} on {port.host} ({port.label}) is already in "
                                f"use: stop what uses it, or {setting_hint(port)}") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise PortInUse(f"port {port.port} on {port.host} ({port.label}) needs more "
                                f"privileges: {setting_hint(port)}") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise PortInUse(f"address {port.host} ({port.label}) is not on this machine: "
                                f"fix the host setting next to {port.setting}") from None
            raise
