"""Provides `create_app`: the staff web UI (LAN only), a thin shell over services."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import io
import secrets
from datetime import timedelta
from typing import IO

from flask import Flask, Request, Response, jsonify, request
from flask_babel import Babel, gettext
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from appliance import tasks
from appliance.audit.queue import AuditQueue
from appliance.config import Settings, load_settings
from appliance.inbox.outbound import MAX_ATTACHMENT
from appliance.privacy.export import preload_pdf
from appliance.queue_port import NoQueue
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import close_connection
from webui import (
    access,
    admin,
    api,
    auth,
    automation,
    broadcast,
    chatroom,
    home,
    i18n,
    inputs,
    privacy,
    welcome,
)
from webui.security_headers import install_security_headers

DEVICE_COOKIE_DAYS = 400
MAX_REQUEST = 2**20  # a reply, a note, a form: far less
MAX_UPLOAD_REQUEST = MAX_ATTACHMENT + 2**20  # an attachment, its caption and the form around it
MAX_CSV_REQUEST = 16 * 2**20 + 2**20  # a campaign's CSV (campaign_import.MAX_BYTES) and its form


class InMemoryRequest(Request):
    """A request whose files stay in memory: never a temporary file, never on disk in clear.

    werkzeug spools a file part over 500 KB to a deleted temporary file under $TMPDIR: an
    agent's photo of a customer's ID card sat there unencrypted for as long as its upload
    took (issue 11). Memory is bounded instead: a body is refused (413) past MAX_REQUEST,
    or MAX_UPLOAD_REQUEST on the attachment route, before it is read. The form is parsed
    before anyone is known (the CSRF check reads it), so only that route may hold more.
    """

    @property  # type: ignore[misc]  # werkzeug lets it be assigned; ours is per route
    def max_content_length(self) -> int:  # type: ignore[override]
        if self.url_rule is not None and self.url_rule.endpoint == "api.attach":
            return MAX_UPLOAD_REQUEST
        if self.url_rule is not None and self.url_rule.endpoint == "broadcast.import_csv":
            return MAX_CSV_REQUEST
        return MAX_REQUEST

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()



def create_app(settings: Settings | None = None, *, enqueue: bool = True) -> Flask:
    settings = settings or load_settings()
    rt = open_runtime(settings)
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    app.json = inputs.JSONProvider(app)
    app.url_map.converters["int"] = inputs.RowId  # before any route is added
    app.config.update(
        SECRET_KEY=_derived_key(rt, "flask-session"),
        SESSION_COOKIE_NAME="gembok_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.auth.absolute_hours),
        MAX_CONTENT_LENGTH=max(MAX_UPLOAD_REQUEST, MAX_CSV_REQUEST),  # InMemoryRequest: each
        WTF_CSRF_TIME_LIMIT=None,  # the session's own timeouts bound a token's life
        WTF_CSRF_SSL_STRICT=False,  # no Referer under no-referrer: see security_headers
    )
    app.extensions["gembok"] = rt
    if enqueue:  # in a served app, "who read what" is written off the request's path
        rt.read_audit = AuditQueue(rt.keyring.audit_key)
        atexit.register(rt.read_audit.close)
    Babel(app, locale_selector=i18n.locale, timezone_selector=lambda: settings.timezone,
          default_translation_directories=str(i18n.TRANSLATIONS))
    app.extensions["gembok.queue"] = tasks.queue_port(settings) if enqueue else NoQueue()
    CSRFProtect(app)
    preload_pdf()  # the export's PDF library, loaded once here rather than in a request
    install_security_headers(app)
    for blueprint in (auth.bp, api.bp, admin.bp, home.bp, chatroom.bp, welcome.bp,
                      automation.bp, broadcast.bp, privacy.bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    @access.public
    def healthz() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Response | RequestEntityTooLarge:
        if not request.path.startswith("/api/"):
            return exc
        resp = jsonify(error=gettext(
            "The request is too large: an attachment is at most 16 MB, anything else at "
            "most 1 MB. Send a smaller file, or less at once."))
        resp.status_code = 413
        return resp

    @app.after_request
    def device_cookie(response: Response) -> Response:
        if auth.DEVICE_COOKIE not in request.cookies:
            response.set_cookie(auth.DEVICE_COOKIE, secrets.token_urlsafe(24),
                                max_age=DEVICE_COOKIE_DAYS * 86400, secure=True,
                                httponly=True, samesite="Lax")
        return response

    @app.teardown_appcontext
    def close_db(_: BaseException | None) -> None:
        close_connection()

    access.check_every_route(app)
    return app


def _derived_key(rt: Runtime, purpose: str) -> bytes:
    """A key for one purpose, derived from the system key: no default secret, none on disk."""
    return hmac.new(rt.keyring.current("system"), b"gembok-derive|" + purpose.encode(),
                    hashlib.sha256).digest()
