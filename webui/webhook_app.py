"""Provides `create_webhook_app`: the second, minimal WSGI app, the only one facing the internet.

It serves Meta's webhook and a health check, nothing of the staff UI: a bug in the UI
cannot be reached from the internet through this listener. A POST is verified over its
raw bytes before anything parses it, stored sealed and committed, and only then
acknowledged: normally by the inbox writer process, which commits many requests' events
with one fsync and queues their ids; if it is not running, here, one commit each. If
Redis is down the sweeper finds the events in the database later.
"""

from __future__ import annotations

import logging
from collections import Counter

from flask import Flask, Response, abort, request

from appliance import tasks
from appliance.config import Settings, load_settings
from appliance.runtime import open_runtime
from appliance.whatsapp import inbox
from appliance.whatsapp.credentials import load_credentials
from appliance.whatsapp.inbox_writer import WriterClient, WriterUnavailable
from appliance.whatsapp.signature import handshake_challenge, signature_ok
from webui.security_headers import install_security_headers

log = logging.getLogger(__name__)
MAX_BODY = 4 * 2**20  # Meta's payloads are at most 3 MB


def create_webhook_app(settings: Settings | None = None, *, enqueue: bool = True) -> Flask:
    settings = settings or load_settings()
    rt = open_runtime(settings)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY)
    app.extensions["gembok"] = rt
    rejected: Counter[str] = Counter()
    app.extensions["gembok.rejected"] = rejected
    if enqueue:
        tasks.bind(tasks.redis_broker(settings))
    writer = WriterClient(settings.inbox_writer_socket)
    app.extensions["gembok.writer"] = writer
    install_security_headers(app)

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/webhooks/whatsapp")
    def handshake() -> Response:
        challenge = handshake_challenge(request.args, load_credentials(rt).verify_token)
        if challenge is None:
            rejected["handshake"] += 1
            log.warning("webhook handshake refused (from %s)", request.remote_addr)
            abort(403)
        return Response(challenge, mimetype="text/plain")

    @app.post("/webhooks/whatsapp")
    def receive() -> tuple[str, int]:
        if (request.content_length or 0) > MAX_BODY:
            abort(413)
        raw = request.get_data(cache=False)  # bytes as sent; nothing parses before the check
        if not signature_ok(load_credentials(rt).app_secret, raw,
                            request.headers.get("X-Hub-Signature-256")):
            rejected["signature"] += 1
            log.warning("webhook with a bad or missing signature refused (from %s, %d bytes; "
                        "%d so far)", request.remote_addr, len(raw), rejected["signature"])
            abort(401)
        uid, sealed = inbox.seal_event(rt.keyring.system, raw)
        try:
            writer.store(uid, sealed)  # committed in a group; the writer queues the id
            return "", 200
        except WriterUnavailable:
            pass  # no writer (tests, a restart): commit it here, one fsync of our own
        event_id = inbox.store_sealed(uid, sealed)
        if enqueue:
            try:
                tasks.process_events.send([event_id])
            except Exception as exc:  # Redis down: stored and committed, the sweeper re-queues
                log.warning("event %d stored but not queued (%s); the sweeper will queue it",
                            event_id, type(exc).__name__)
        return "", 200

    return app
