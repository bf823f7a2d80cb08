"""Provides `create_simulator`: the simulator's WSGI app, its routing and its lifecycle.

Written on werkzeug alone (Flask's base), so the core package stays free of Flask.
Graph paths (`/vNN.N/…`), the control API (`/_sim/…`), media downloads (`/_media/…`)
and `/healthz` are told apart here and handed to the module that owns each; every
`/_sim/` request passes the gate of access.py first, before it is even routed.
"""

from __future__ import annotations

import io
import logging
import os
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from appliance.config import load_settings
from simulator import graph, phone
from simulator.access import Gate
from simulator.config import SimulatorConfig, config_path, ensure_config
from simulator.control import Control, ControlError, reply
from simulator.errors import unknown_object
from simulator.state import Clock, SimClock, State
from simulator.webhooks import WebhookSender

log = logging.getLogger(__name__)
GRAPH_METHODS = ("GET", "POST", "DELETE")
MAX_BODY = 101 * 1024 * 1024  # the largest document Meta takes is 100 MB


class _Request(Request):
    """Uploads stay in memory: media (even fake) never lands in a temp file."""

    max_content_length = MAX_BODY
    max_form_memory_size = MAX_BODY

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


class Simulator:
    """The WSGI app, plus what tests reach for: `state`, `webhooks`, `flush()`, `close()`.

    `listen_host` is the address it serves on (settings' `simulator.host`), the one host
    besides loopback that the control API answers to; `office_zone` (settings' `timezone`)
    is the zone of the times the phone page shows.
    """

    def __init__(self, config: SimulatorConfig, *, clock: Clock | None = None,
                 rng: random.Random | None = None, background: bool = True,
                 listen_host: str = "127.0.0.1", office_zone: str = "Asia/Jakarta") -> None:
        self.config = config
        self.gate = Gate(config.control_token, listen_host)
        self.clock = SimClock(clock)
        self.state = State(config, self.clock)
        self.webhooks = WebhookSender(config, self.clock, rng or random.Random(),  # noqa: S311 - jitter, not secrets
                                      background=background)
        self.control = Control(self.state, self.webhooks, ZoneInfo(office_zone))
        rules = [Rule("/healthz", endpoint=self._healthz, methods=["GET"]),
                 Rule("/_media/<token>", endpoint=self._download, methods=["GET"]),
                 Rule("/_sim/phone", endpoint=phone.page, methods=["GET"]),
                 Rule("/_sim/static/<name>", endpoint=phone.static, methods=["GET"])]
        rules += [Rule(path, endpoint=handler, methods=list(methods))
                  for path, methods, handler in self.control.routes()]
        rules += [Rule("/<version>/<node>", endpoint=self._graph, methods=GRAPH_METHODS),
                  Rule("/<version>/<node>/<edge>", endpoint=self._graph,
                       methods=GRAPH_METHODS)]
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def flush(self, *, scheduled: bool = True) -> list[dict[str, Any]]:
        """Delivers every queued webhook now, in the calling thread (see WebhookSender)."""
        return self.webhooks.flush(scheduled=scheduled)

    def close(self) -> None:
        self.webhooks.close()

    def _respond(self, request: _Request) -> Response:
        if request.path.startswith("/_sim/"):
            refused = self.gate.refuse(request)
            if refused is not None:
                return refused
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except (NotFound, MethodNotAllowed):
            if request.path.startswith("/_sim/"):
                return reply({"error": f"no control route {request.method} {request.path}"},
                             404)
            return graph.error_response(unknown_object(request.method, request.path[1:]))
        except HTTPException as exc:  # e.g. a redirect for a doubled slash
            return reply({"error": exc.description}, exc.code or 400)
        try:
            result: Response = endpoint(request, **args)
        except ControlError as exc:
            return reply({"error": str(exc)}, exc.status)
        except HTTPException as exc:  # e.g. 413 for an upload over the limit
            return reply({"error": exc.description}, exc.code or 400)
        return result

    def _healthz(self, request: Request) -> Response:
        return Response("ok\n", mimetype="text/plain")

    def _graph(self, request: Request, version: str, node: str,
               edge: str | None = None) -> Response:
        with self.state.lock:
            self.state.public_url = request.host_url
        return graph.dispatch(self.state, self.webhooks, request, version, node, edge)

    def _download(self, request: Request, token: str) -> Response:
        return graph.download(self.state, request, token)


def create_simulator(config: SimulatorConfig | None = None, *, clock: Clock | None = None,
                     rng: random.Random | None = None, background: bool = True,
                     listen_host: str = "127.0.0.1",
                     office_zone: str = "Asia/Jakarta") -> Simulator:
    """The app factory. Without a config it loads the one `__main__` would (and creates it).

    Starts no thread: under gunicorn's preload the factory runs in the master before it
    forks, so the webhook sender starts lazily, in the worker, on the first webhook.
    """
    if config is None:
        config = load_default_config()
    return Simulator(config, clock=clock, rng=rng, background=background,
                     listen_host=listen_host, office_zone=office_zone)


def load_default_config(env: dict[str, str] | None = None) -> SimulatorConfig:
    """$GEMBOK_SIMULATOR_CONFIG, else `<data_dir>/simulator/config.json`, created on first use
    with Gembok's own webhook listener as the target."""
    env = dict(os.environ if env is None else env)
    path_env = {k: v for k, v in env.items() if k == "GEMBOK_SIMULATOR_CONFIG"}
    settings = load_settings({k: v for k, v in env.items() if k != "GEMBOK_SIMULATOR_CONFIG"})
    hook = settings.webhook
    scheme = "https" if hook.tls else "http"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(hook.host, hook.host)  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{host}:{hook.port}/webhooks/whatsapp"
    ca: Path | None = settings.tls_cert_path if hook.tls else None
    return ensure_config(config_path(path_env, settings.data_dir), url, ca)
