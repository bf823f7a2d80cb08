"""Provides `LanOnly`: the staff web UI refuses any source address outside the office LAN.

The firewall already keeps the internet away from the web UI's port (the Ansible role's
nftables table). This is the second wall, in case the first one is missing, flushed or
wrong: a request from an address outside `web.allowed_networks` gets a 403 before Flask,
the session or any page code sees it. Loopback is always allowed, for the box's own
health checks and the admin on the box.

Behind the installed box's nginx, the peer of every request is nginx itself: the address
to check is the one nginx puts in X-Forwarded-For (it replaces whatever the client sent).
`behind_front` takes it from there, one trusted hop and no more, and wraps the check from
the outside, so the check sees the real client. Without a front the header is a client's
word and is never read: a request from the internet that says it comes from the LAN is
still refused.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_BODY = b"Gembok's web UI answers the office network only.\n"


class LanOnly:
    def __init__(self, app: WSGIApp, networks: Iterable[str]) -> None:
        self.app = app
        self.networks: list[Network] = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.refused = 0

    def allows(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%", 1)[0])  # fe80::1%eth0
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d
        return ip.is_loopback or any(ip in net for net in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if self.allows(environ.get("REMOTE_ADDR")):
            return self.app(environ, start_response)
        self.refused += 1
        log.warning("web UI request from %s refused: not in web.allowed_networks (%d so far)",
                    environ.get("REMOTE_ADDR"), self.refused)
        start_response("403 Forbidden", [
            ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_BODY))),
            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
        return [_BODY]


def behind_front(app: WSGIApp, trusted: bool = True) -> WSGIApp:
    """The client's address and scheme as the one front on this box saw them (or, when
    there is no front, `app` as it is: the headers are then not believed)."""
    if not trusted:
        return app
    # One hop: the last X-Forwarded-For value, the one nginx wrote, never one before it.
    return ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)


def lan_only(app: WSGIApp, networks: Iterable[str], *, behind_proxy: bool) -> WSGIApp:
    """The web UI as served: the LAN check, and outside it the front's address when there is one."""
    return behind_front(LanOnly(app, networks), behind_proxy)
