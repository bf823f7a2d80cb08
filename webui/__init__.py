"""Provides `create_app`: the staff web UI (LAN only), a thin shell over services."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask, Response, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from appliance import tasks
from appliance.config import Settings, load_settings
from appliance.privacy.audit_queue import AuditQueue
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import db
from webui import access, admin, api, auth, chatroom, home, i18n
from webui.security_headers import install_security_headers

DEVICE_COOKIE_DAYS = 400



def create_app(settings: Settings | None = None, *, enqueue: bool = True) -> Flask:
    settings = settings or load_settings()
    rt = open_runtime(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_derived_key(rt, "flask-session"),
        SESSION_COOKIE_NAME="gembok_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.auth.absolute_hours),
        MAX_CONTENT_LENGTH=32 * 2**20,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own timeouts bound a token's life
        WTF_CSRF_SSL_STRICT=False,  # no Referer under no-referrer: see security_headers
        GEMBOK_ENQUEUE=enqueue,
    )
    app.extensions["gembok"] = rt
    if enqueue:  # in a served app, "who read what" is written off the request's path
        rt.read_audit = AuditQueue(rt.keyring.audit_key)
        atexit.register(rt.read_audit.close)
    Babel(app, locale_selector=i18n.locale, timezone_selector=lambda: settings.timezone,
          default_translation_directories=str(i18n.TRANSLATIONS))
    if enqueue:
        tasks.configure(rt)
        tasks.bind(tasks.redis_broker(settings))
    CSRFProtect(app)
    install_security_headers(app)
    for blueprint in (auth.bp, api.bp, admin.bp, home.bp, chatroom.bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    @access.public
    def healthz() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.after_request
    def device_cookie(response: Response) -> Response:
        if auth.DEVICE_COOKIE not in request.cookies:
            response.set_cookie(auth.DEVICE_COOKIE, secrets.token_urlsafe(24),
                                max_age=DEVICE_COOKIE_DAYS * 86400, secure=True,
                                httponly=True, samesite="Lax")
        return response

    @app.teardown_appcontext
    def close_db(_: BaseException | None) -> None:
        if not db.is_closed():
            db.close()

    access.check_every_route(app)
    return app


def _derived_key(rt: Runtime, purpose: str) -> bytes:
    """A key for one purpose, derived from the system key: no default secret, none on disk."""
    return hmac.new(rt.keyring.current("system"), b"gembok-derive|" + purpose.encode(),
                    hashlib.sha256).digest()
