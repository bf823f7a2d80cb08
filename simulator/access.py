"""Provides the control API's gate: a token, JSON-only bodies and loopback host names.

The control API (`/_sim/…`) can make customers write, flip the number, move the clock and
read every webhook body. An outside review (issue 11, item 16) showed that any web page
open on the box could drive it: a cross-site `text/plain` POST is a "simple request" the
browser sends without asking, and `/_sim/webhooks/log` served bodies to whoever asked.
So, before any handler runs:

- the Host must be a loopback name or address, or the address the simulator was told to
  listen on (when that is a wildcard, any IP literal): a DNS-rebound name is refused (421);
- every route but the phone page's own HTML, JS and CSS needs the `X-Sim-Token` header,
  the `control_token` of the simulator's config file (0600), compared in constant time;
  a custom header also makes any cross-site call a preflighted one, which is never granted;
- a POST or DELETE must say `Content-Type: application/json`, even with no body, so no
  form or `text/plain` request ever acts (415).

Graph paths keep Meta's own bearer-token check (graph.py). Callers read the token with
`control_token(data_dir)` or send `control_headers(data_dir)`; `gembok run` prints
`phone_link(settings)`, the phone page's address with the token in the URL fragment,
which the browser never sends to a server or writes to a log.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from werkzeug.wrappers import Request, Response

from appliance.config import Settings
from simulator.config import SimulatorConfigError, config_path, load_config
from simulator.control import reply

TOKEN_HEADER = "X-Sim-Token"  # noqa: S105 - a header name, not a secret
PUBLIC_PAGES = ("/_sim/phone",)  # the phone page's HTML; its files are under /_sim/static/
PUBLIC_PREFIX = "/_sim/static/"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WILDCARDS = (ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::"))  # noqa: S104
NO_TOKEN = (f"the control API needs the simulator's token in the {TOKEN_HEADER} header: "
            "open the phone page from the link `gembok run` prints, or read control_token "
            "in <data dir>/simulator/config.json")


class Gate:
    """Decides, before routing, whether a `/_sim/` request may reach its handler."""

    def __init__(self, token: str, listen_host: str = "127.0.0.1") -> None:
        self.token = token.encode()
        self.listen = ipaddress.ip_address(listen_host)

    def refuse(self, request: Request) -> Response | None:
        """The error response for a request that must not act, or None to let it through."""
        if not self.host_allowed(request.host):
            return reply({"error": f"the simulator does not answer to the host name "
                                   f"{request.host!r}: use 127.0.0.1 or localhost"}, 421)
        path = request.path
        if path.rstrip("/") in PUBLIC_PAGES or path.startswith(PUBLIC_PREFIX):
            return None
        given = request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace")
        if not self.token or not hmac.compare_digest(given, self.token):
            return reply({"error": NO_TOKEN}, 401)
        if request.method not in SAFE_METHODS and request.mimetype != "application/json":
            return reply({"error": "the control API takes Content-Type: application/json "
                                   "only (even with no body)"}, 415)
        return None

    def host_allowed(self, host: str) -> bool:
        name = _hostname(host)
        if name == "localhost":
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False  # a name: only an attacker's DNS would point it here
        return address.is_loopback or address == self.listen or self.listen in WILDCARDS


def _hostname(host: str) -> str:
    """`127.0.0.1:8445` → `127.0.0.1`, `[::1]:8445` → `::1`, `LocalHost.` → `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def control_token(data_dir: Path) -> str:
    """The quick start's control token, from `<data_dir>/simulator/config.json` (checked 0600)."""
    path = config_path({}, data_dir)
    token = load_config(path).control_token
    if not token:
        raise SimulatorConfigError(f"{path}: no control_token yet (the simulator adds one "
                                   "when it starts)")
    return token


def control_headers(data_dir: Path) -> dict[str, str]:
    """Headers for an HTTP client that drives the control API: `httpx.Client(headers=…)`."""
    return {TOKEN_HEADER: control_token(data_dir)}


def simulator_url(settings: Settings) -> str:
    """Where a browser or client on this box reaches the simulator (a wildcard → loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.simulator.host,  # noqa: S104
                                                     settings.simulator.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.simulator.port}"


def phone_link(settings: Settings) -> str:
    """The phone page with the token in the fragment: `…/_sim/phone#t=…`."""
    return f"{simulator_url(settings)}/_sim/phone#t={control_token(settings.data_dir)}"

