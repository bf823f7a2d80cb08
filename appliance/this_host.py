"""Provides the one rule for "this host": where Gembok may reach a server without TLS.

A store or broker named by an empty host, a unix socket path, `localhost` or a loopback
address is on this box, and what crosses to it never leaves the kernel; any other name is
a network, where the store (`store.ca_file`) and the broker (`redis.ca_file`) need TLS
with the server's name checked.
"""

from __future__ import annotations

import ipaddress


def is_this_host(host: str) -> bool:
    if host in ("", "localhost") or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
