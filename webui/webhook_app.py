"""Provides `create_webhook_app`: the second, minimal WSGI app, the only one facing the internet.

It serves the webhook routes and a health check, nothing of the staff UI: a bug in the
UI cannot be reached from the internet through this listener.
"""

from __future__ import annotations

from flask import Flask

from appliance.config import Settings, load_settings
from appliance.runtime import open_runtime
from webui.security_headers import install_security_headers


def create_webhook_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    rt = open_runtime(settings)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=4 * 2**20)  # Meta's batches are far smaller
    app.extensions["gembok"] = rt
    install_security_headers(app)

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    return app
