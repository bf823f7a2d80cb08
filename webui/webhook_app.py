"""Provides `WebhookApp`: the second, minimal WSGI app, the only one facing the internet.

It serves Meta's webhook, a health check and the business's privacy notice (the page
customers reach from the link in Auto Reply's welcome), nothing of the staff UI: a bug in the UI
cannot be reached from the internet through this listener. A POST is verified over its
raw bytes before anything parses them, stored sealed and committed, and only then
acknowledged: normally by the inbox writer process, which commits many requests' events
with one fsync and queues their ids; if it is not running, here, one commit each. If
Redis is down the sweeper finds the events in the database later.

It is plain WSGI, not Flask: four routes do not need a framework, and at 3,000
requests a second on two cores the framework's share of each request is what is left
to save.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from appliance import tasks
from appliance.config import Settings, load_settings
from appliance.privacy import notice
from appliance.queue_port import NoQueue, QueuePort
from appliance.runtime import open_runtime
from appliance.whatsapp import numbers, webhook_events, webhook_routing
from appliance.whatsapp.event_writer import WriterClient, WriterUnavailable
from appliance.whatsapp.signature import handshake_challenge

log = logging.getLogger(__name__)
MAX_BODY = 4 * 2**20  # Meta's payloads are at most 3 MB
PATH = "/webhooks/whatsapp"
StartResponse = Callable[..., Any]
_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 503: "Service Unavailable"}


class WebhookApp:
    def __init__(self, settings: Settings | None = None, *, enqueue: bool = True) -> None:
        self.settings = settings or load_settings()
        self.rt = open_runtime(self.settings)
        self.rejected: Counter[str] = Counter()
        self.queue: QueuePort = tasks.queue_port(self.settings) if enqueue else NoQueue()
        self.writer = WriterClient(self.settings.inbox_writer_socket)
        self.fingerprint = webhook_events.fingerprint_key(self.rt.keyring.current("system"))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _reply(start_response, 200, b"ok\n")
        if path == notice.NOTICE_PATH and method in ("GET", "HEAD"):
            return self.privacy_notice(environ, start_response)
        if path != PATH:
            return _reply(start_response, 404)
        if method == "POST":
            return _reply(start_response, self.receive(environ))
        if method == "GET":
            return self.handshake(environ, start_response)
        return _reply(start_response, 405)

    def served(self) -> list[numbers.Number]:
        return numbers.active(self.rt)

    def seal(self, raw: bytes) -> webhook_events.SealedEvent:
        return webhook_events.seal_event(self.rt.keyring.system, raw, self.fingerprint)

    def privacy_notice(self, environ: dict[str, Any], start_response: StartResponse
                       ) -> list[bytes]:
        """The full notice: the version asked for (`?v=`, what a customer's link names),
        else the current one, in `?lang=` (Indonesian by default)."""
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        version = args.get("v", "")
        found = notice.find(version) if version else notice.current()
        if version and found is None:
            return _reply(start_response, 404)
        page = notice.page(found, args.get("lang", "id")).encode()
        start_response("200 OK", [
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))),
            ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
            ("Referrer-Policy", "no-referrer")])
        return [page]

    def handshake(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""),
                                             keep_blank_values=True).items()}
        challenge = next((found for n in self.served()
                          if (found := handshake_challenge(args, n.verify_token)) is not None),
                         None)  # Meta's app settings hold one token; each number's is tried
        if challenge is None:
            self.rejected["handshake"] += 1
            log.warning("webhook handshake refused (from %s)", environ.get("REMOTE_ADDR"))
            return _reply(start_response, 403)
        return _reply(start_response, 200, challenge.encode())

    def receive(self, environ: dict[str, Any]) -> int:
        declared = environ.get("CONTENT_LENGTH") or ""
        declared = declared if declared.isascii() and declared.isdigit() else ""  # not '²'
        if declared and int(declared) > MAX_BODY:
            return 413  # refused before a byte of it is read
        raw = environ["wsgi.input"].read(int(declared) if declared else MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return 413
        verdict = webhook_routing.route(raw, environ.get("HTTP_X_HUB_SIGNATURE_256"),
                                        self.served())
        if verdict.status == 401:
            self.rejected["signature"] += 1
            log.warning("webhook with a bad or missing signature refused (from %s, %d bytes; "
                        "%d so far)", environ.get("REMOTE_ADDR"), len(raw),
                        self.rejected["signature"])
            return 401
        if verdict.unknown:  # signed, but for a number this box does not serve
            self.rejected["unknown_number"] += 1
            log.warning("webhook for number %s refused: not a number of this box (add it "
                        "with `gembok whatsapp number add`; Meta retries for 7 days)",
                        ", ".join(verdict.unknown))
            webhook_routing.count_refused(verdict.unknown)
        if verdict.foreign:  # a number of this box signed by another app, or another WABA
            self.rejected["foreign"] += 1
            log.warning("webhook naming %s refused: not signed by the app of that number or "
                        "account (from %s)", ", ".join(verdict.foreign),
                        environ.get("REMOTE_ADDR"))
        if verdict.status != 200:
            return verdict.status
        event = self.seal(raw)
        try:
            # committed in a group; the writer queues the id (0: a replay, not stored again)
            self.writer.store(event.uid, event.body, event.digest)
            return 200
        except WriterUnavailable:
            pass  # no writer (tests, a restart): commit it here, one fsync of our own
        event_id = webhook_events.store_sealed(event)
        if event_id:  # stored and committed: if Redis is down, the sweeper queues it
            self.queue.process_events([event_id])
        return 200


def _reply(start_response: StartResponse, status: int, body: bytes = b"") -> list[bytes]:
    start_response(f"{status} {_REASONS[status]}", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")])
    return [body]


def create_webhook_app(settings: Settings | None = None, *, enqueue: bool = True) -> WebhookApp:
    return WebhookApp(settings, enqueue=enqueue)
