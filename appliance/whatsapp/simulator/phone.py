"""Provides the demo "customer phone" page: one HTML page, one script, one stylesheet.

Served by the simulator itself under a strict `Content-Security-Policy: default-src
'self'` (no inline script or style, no CDN), so the page shows in a demo exactly what
Gembok's own pages must also live with.
"""

from __future__ import annotations

from pathlib import Path

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

STATIC = Path(__file__).with_name("static")
FILES = {"phone.js": "text/javascript", "phone.css": "text/css"}
CSP = "default-src 'self'"


def page(request: Request) -> Response:
    return _file("phone.html", "text/html")


def static(request: Request, name: str) -> Response:
    if name not in FILES:
        raise NotFound()
    return _file(name, FILES[name])


def _file(name: str, mimetype: str) -> Response:
    response = Response((STATIC / name).read_bytes(), mimetype=mimetype)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response
