"""Provides the one way any process reaches the task broker (Redis): TLS with the server's
certificate and name checked to any host but this one.

On one box Redis is a unix socket. With workers on other hosts it is a TCP port on the
broker's host, and its queues, though they hold row ids only, carry the ACL password
Gembok signs in with: sent in clear on a LAN, anyone who sniffed it could read and
reorder the queues. So a remote broker is `rediss://` with `redis.ca_file`, as a remote
PostgreSQL needs `store.ca_file`; a URL that asks for less is refused at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from appliance.errors import GembokError
from appliance.this_host import is_this_host


class BrokerConfigError(GembokError):
    """The broker URL would send the queues' password over a network without TLS."""


def link_params(url: str, ca_file: Path | None) -> dict[str, Any]:
    """redis-py's keyword arguments that make `url` safe to use, or the reason it is not."""
    parts = urlsplit(url)
    if parts.scheme == "unix" or is_this_host(parts.hostname or ""):
        if parts.scheme == "rediss" and ca_file is not None:
            return {"ssl_ca_certs": str(ca_file), "ssl_cert_reqs": "required"}
        return {}
    if parts.scheme != "rediss":
        raise BrokerConfigError(
            f"redis.url names the remote host {parts.hostname!r} over plain redis://: use "
            "rediss:// (TLS) and set redis.ca_file to the CA that signed its certificate "
            "(the queues' password does not cross a network in clear)")
    if ca_file is None:
        raise BrokerConfigError(
            f"redis.url names the remote host {parts.hostname!r}: set redis.ca_file to the CA "
            "that signed its certificate (TLS with the server's name checked)")
    return {"ssl_ca_certs": str(ca_file), "ssl_cert_reqs": "required",
            "ssl_check_hostname": True}


def connection_pool(url: str, ca_file: Path | None, **options: Any) -> redis.ConnectionPool:
    return redis.ConnectionPool.from_url(url, **link_params(url, ca_file), **options)


def client(url: str, ca_file: Path | None, **options: Any) -> redis.Redis:
    """A client of the broker at `url` (not connected yet: the first command connects)."""
    return redis.Redis(connection_pool=connection_pool(url, ca_file, **options))
