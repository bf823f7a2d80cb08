"""Baselines for bench/ingest.py, served by gunicorn with the listener's own settings.

`hello`: a Flask POST that only reads the body (the issue's ceiling of this box).
`plain`: Gembok's own webhook app minus its encryption: the same WSGI code, signature
check and inbox writer protocol, but the body is stored as it came, in a plain SQLite
file (see plain_writer.py), with no keyring and no SQLCipher.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from flask import Flask, request

from appliance.whatsapp.inbox import new_uid
from appliance.whatsapp.inbox_writer import WriterClient
from webui.webhook_app import WebhookApp


def hello() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/whatsapp")
    def receive() -> tuple[str, int]:
        request.get_data()
        return "", 200

    return app


class PlainWebhookApp(WebhookApp):
    def __init__(self) -> None:  # no settings, no keys: nothing to open
        self.rejected: Counter[str] = Counter()
        self.enqueue = False
        self.writer = WriterClient(Path(os.environ["BENCH_WRITER_SOCKET"]))
        self.secret = os.environ["BENCH_APP_SECRET"]

    def app_secret(self) -> str:
        return self.secret

    def seal(self, raw: bytes) -> tuple[str, bytes]:
        return new_uid(), raw


def plain() -> PlainWebhookApp:
    return PlainWebhookApp()
