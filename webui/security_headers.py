"""Provides the headers every response carries (strict CSP, HSTS, no framing, no referrer)
and the same-origin check on every request that changes something.

`Referrer-Policy: no-referrer` leaves browsers' POSTs without a Referer, so Flask-WTF's
referrer check cannot run (it refused every sign-in in a real browser); the CSRF token
stays required, and the browser's own `Sec-Fetch-Site` header takes the referrer's place:
a request another site makes the browser send is refused before any view runs.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # "none": typed or bookmarked by the user

HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
    "Strict-Transport-Security": "max-age=31536000",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def install_security_headers(app: Flask) -> None:
    @app.before_request
    def same_origin_only() -> None:
        fetched_from = request.headers.get("Sec-Fetch-Site")
        if request.method not in SAFE_METHODS and fetched_from is not None \
                and fetched_from not in SAME_SITE:
            abort(403)

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
