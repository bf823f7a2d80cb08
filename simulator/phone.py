"""Provides the demo "customer phone" page: one HTML page, one script, one stylesheet.

Served by the simulator itself under a strict `Content-Security-Policy: default-src
'self'` (no inline script or style, no CDN), so the page shows in a demo exactly what
Gembok's own pages must also live with. The page holds no secret: its script takes the
control token from the URL fragment of the link `gembok run` prints (see access.py).

Times are formatted here, on the office's clock ("14:05 WIB"), not by the browser: a
box's browser runs in UTC, and the phone showed times seven hours off the Chatroom's
(issue 11, item 20). Every glyph on the page is one that Debian's Chromium draws with
its default fonts (DejaVu, Liberation): no emoji, which showed as an empty box.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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


def clock_time(timestamp: float, zone: ZoneInfo) -> str:
    """`14:05 WIB`: hours and minutes in the office's zone, with the zone's short name."""
    return datetime.fromtimestamp(timestamp, zone).strftime("%H:%M %Z")
