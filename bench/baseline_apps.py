"""Baselines for bench/ingest.py, served by gunicorn with the listener's own settings.

`hello`: a Flask POST that only reads the body (the ceiling of this box).
`plain`: Gembok's webhook path minus its encryption: the same signature check and the
same inbox writer protocol, but the body is stored as it came, in a plain SQLite file.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request

from appliance.whatsapp.inbox import new_uid
from appliance.whatsapp.inbox_writer import WriterClient
from appliance.whatsapp.signature import signature_ok


def hello() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/whatsapp")
    def receive() -> tuple[str, int]:
        request.get_data()
        return "", 200

    return app


def plain() -> Flask:
    app = Flask(__name__)
    secret = os.environ["BENCH_APP_SECRET"]
    writer = WriterClient(Path(os.environ["BENCH_WRITER_SOCKET"]))

    @app.post("/webhooks/whatsapp")
    def receive() -> tuple[str, int]:
        raw = request.get_data(cache=False)
        if not signature_ok(secret, raw, request.headers.get("X-Hub-Signature-256")):
            return "", 401
        writer.store(new_uid(), raw)
        return "", 200

    return app
