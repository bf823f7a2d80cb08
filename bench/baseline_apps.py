"""Baselines for bench/ingest.py, served by gunicorn with the listener's own settings.

`hello`: a Flask POST that only reads the body (the issue's ceiling of this box).
`wsgi_hello`: the same as plain WSGI, as the webhook listener itself is written.
`plain`: Gembok's own webhook app minus its encryption: the same WSGI code, signature
check and inbox writer protocol, but the body is stored as it came, in a plain SQLite
file (see plain_writer.py), with no keyring and no SQLCipher.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Flask, request

from appliance.whatsapp.event_writer import WriterClient
from appliance.whatsapp.webhook_events import SealedEvent, new_uid
from webui.webhook_app import WebhookApp


def hello() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/whatsapp")
    def receive() -> tuple[str, int]:
        request.get_data()
        return "", 200

    @app.get("/healthz")
    def healthz() -> str:
        return "ok\n"

    return app


def wsgi_hello() -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        environ["wsgi.input"].read(int(length) if length.isdigit() else 0)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]

    return app


class PlainWebhookApp(WebhookApp):
    def __init__(self) -> None:  # no settings, no keys: nothing to open
        self.rejected: Counter[str] = Counter()
        self.enqueue = False
        self.writer = WriterClient(Path(os.environ["BENCH_WRITER_SOCKET"]))
        self.secret = os.environ["BENCH_APP_SECRET"]

    def app_secret(self) -> str:
        return self.secret

    def seal(self, raw: bytes) -> SealedEvent:  # a plain digest: replays refused the same
        return SealedEvent(new_uid(), hashlib.sha256(raw).digest(), raw)


def plain() -> PlainWebhookApp:
    return PlainWebhookApp()
