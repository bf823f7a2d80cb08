"""Provides the simulator's WSGI app. A stub: every Graph path answers Meta's error shape.

Written on werkzeug alone (Flask's base), so the core package stays free of Flask.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from werkzeug.wrappers import Request, Response


def _graph_error(message: str, code: int, status: int) -> Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code,
                      "error_subcode": None, "fbtrace_id": secrets.token_urlsafe(12)}}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def create_simulator() -> Any:
    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/healthz":
            return Response("ok\n", mimetype="text/plain")
        return _graph_error("Unsupported request: this simulator does not serve "
                            f"{request.method} {request.path} yet", 100, 400)

    return app


