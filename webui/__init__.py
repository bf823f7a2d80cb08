"""Provides `create_app`: the staff web UI (LAN only), a thin shell over services."""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, render_template

from appliance import __version__
from appliance.config import Settings, load_settings
from appliance.runtime import Runtime, open_runtime
from webui.security_headers import install_security_headers


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    rt = open_runtime(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_derived_key(rt, "flask-session"),
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=32 * 2**20,
    )
    app.extensions["gembok"] = rt
    install_security_headers(app)

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/")
    def home() -> str:
        return render_template("home/index.html", version=__version__)

    return app


def _derived_key(rt: Runtime, purpose: str) -> bytes:
    """A key for one purpose, derived from the system key: no default secret, none on disk."""
    return hmac.new(rt.keyring.current("system"), b"gembok-derive|" + purpose.encode(),
                    hashlib.sha256).digest()
