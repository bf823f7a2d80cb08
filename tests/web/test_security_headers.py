"""What every answer of the staff web UI tells the browser: headers, cookies, types, errors.

A page, a JSON answer, a refusal, a 404 and a crash alike carry the strict CSP, HSTS,
nosniff, no-referrer and no-store; every cookie is Secure, HttpOnly and SameSite=Lax; no
other origin is granted anything; attachments download as files; an unexpected error is
a plain 500 that tells the browser nothing and the log everything.
"""

from __future__ import annotations

import logging
import re

from appliance.inbox import conversations
from tests.web.conftest import PASSWORD, Browser, make_user, sign_in_as

YEAR = 365 * 24 * 3600


def hardened(resp) -> list[str]:
    """What is missing or wrong among the headers every answer carries."""
    wrong = []
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {name: value.strip() for name, _, value in
                  (d.strip().partition(" ") for d in csp.split(";") if d.strip())}
    for name, value in (("object-src", "'none'"), ("base-uri", "'none'"),
                        ("frame-ancestors", "'none'"), ("script-src", "'self'"),
                        ("default-src", "'self'"), ("form-action", "'self'")):
        if directives.get(name) != value:
            wrong.append(f"CSP {name}={directives.get(name)!r}")
    if "unsafe" in csp:
        wrong.append("CSP allows something unsafe")
    max_age = re.search(r"max-age=(\d+)", resp.headers.get("Strict-Transport-Security", ""))
    if not max_age or int(max_age.group(1)) < YEAR:
        wrong.append("HSTS under a year")
    for name, value in (("X-Content-Type-Options", "nosniff"),
                        ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                        ("Cache-Control", "no-store")):
        if resp.headers.get(name) != value:
            wrong.append(f"{name}: {resp.headers.get(name)!r}")
    if resp.headers.get("Access-Control-Allow-Origin") is not None:
        wrong.append("a CORS grant")
    return wrong


def test_every_kind_of_answer_carries_the_hardening_headers(world):
    # Given a stranger, Dedi of Sales, and the answers they can get
    stranger, dedi = sign_in_as(world, None), sign_in_as(world, "dedi")
    token = dedi.csrf()
    answers = {
        "sign-in page": stranger.get("/login"),
        "health check": stranger.get("/healthz"),
        "API, not signed in (401)": stranger.get("/api/counts"),
        "page, not signed in (302)": stranger.get("/"),
        "Chatroom page": dedi.get("/"),
        "JSON": dedi.get("/api/counts"),
        "a conversation of another division (404)":
            dedi.get(f"/api/conversations/{world.conversations['billing']}"),
        "no such page (404)": dedi.get("/no/such/page"),
        "wrong method (405)": dedi.get("/logout"),
        "unreadable body (400)": dedi.client.post(
            "/api/search", data="{not json", headers={"Content-Type": "application/json",
                                                      "X-CSRFToken": token}),
        "no CSRF token (400)": dedi.client.post("/api/search", json={"q": "Siti"}),
        "another site's POST (403)": dedi.client.post(
            "/logout", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}),
        "an attachment": dedi.get(f"/api/media/{world.media['sales']}"),
    }
    # Then every one of them carries the same headers
    wrong = {what: problems for what, resp in answers.items() if (problems := hardened(resp))}
    assert wrong == {}


def test_an_unexpected_error_is_a_plain_500_that_tells_the_log_not_the_browser(
        world, monkeypatch, caplog):
    # Given a service that fails in a way nobody planned, with a secret in its words
    def broken(principal):
        raise RuntimeError("sqlcipher key x'00ff' at /var/lib/gembok/gembok.db")

    monkeypatch.setattr(conversations, "counts", broken)
    assert not world.app.debug and not world.app.testing
    # When Dedi's page asks for the counts
    with caplog.at_level(logging.ERROR):
        resp = sign_in_as(world, "dedi").get("/api/counts")
    # Then he gets a plain 500 with none of it, still with every header
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "x'00ff'" not in body and "Traceback" not in body and "gembok.db" not in body
    assert hardened(resp) == []
    # And the log has the whole story, for the admin
    assert any("x'00ff'" in (r.exc_text or "") + str(r.exc_info and r.exc_info[1])
               for r in caplog.records)


def test_every_cookie_is_secure_http_only_and_same_site(world):
    # Given Tari signing in from a new browser, which gets every cookie Gembok sets
    make_user(world, "tari")
    browser = Browser(world.app, None)
    first = browser.get("/login")
    signed_in = browser.form("/login", {"username": "tari", "password": PASSWORD})
    assert signed_in.status_code == 302
    # Then each cookie is sent over TLS only, out of scripts' reach, and not cross-site
    cookies = first.headers.getlist("Set-Cookie") + signed_in.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"gembok_session", "gembok_device"} <= names
    for cookie in cookies:
        attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")[1:]}
        assert "secure" in attributes and "httponly" in attributes, cookie
        assert attributes.get("samesite") == "SameSite=Lax", cookie


def test_no_other_origin_is_granted_anything(world):
    dedi = sign_in_as(world, "dedi")
    evil = {"Origin": "https://evil.example"}
    read = dedi.get("/api/counts", headers=evil)
    preflight = dedi.client.options("/api/search", headers={
        **evil, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-csrftoken,content-type"})
    for resp in (read, preflight):
        assert not [h for h, _ in resp.headers if h.lower().startswith("access-control-")]


def test_trace_is_not_served(world):
    for who in (None, "dedi"):
        for path in ("/", "/login", "/api/counts"):
            assert sign_in_as(world, who).client.open(path, method="TRACE").status_code == 405


def test_text_answers_say_their_type_and_charset(world):
    dedi = sign_in_as(world, "dedi")
    assert dedi.get("/login").headers["Content-Type"] == "text/html; charset=utf-8"
    assert dedi.get("/healthz").headers["Content-Type"] == "text/plain; charset=utf-8"
    assert dedi.get("/api/counts").headers["Content-Type"] == "application/json"  # UTF-8 by RFC


def test_attachments_and_exports_download_as_files_never_as_pages(world):
    # A customer's file is never shown as a page of Gembok's origin, whatever it holds
    media = sign_in_as(world, "dedi").get(f"/api/media/{world.media['sales']}")
    assert media.status_code == 200
    assert media.headers["Content-Disposition"].startswith("attachment")
    assert media.headers["X-Content-Type-Options"] == "nosniff"
    assert media.headers["Content-Type"] == "image/jpeg"
    # An export's file name is Gembok's own, never a name a customer or agent chose
    convo = world.conversations["sales"]
    export = sign_in_as(world, "budi").get(f"/api/conversations/{convo}/export")
    assert export.status_code == 200
    assert export.headers["Content-Disposition"] == \
        f'attachment; filename="conversation-{convo}.json"'


def test_redirects_stay_on_gembok_whatever_the_request_says(world):
    # Given addresses of another site wherever a redirect target could hide
    make_user(world, "umar")
    browser = Browser(world.app, None)
    browser.get("/login")
    signed_in = browser.client.post(
        "/login?next=https://evil.example/&url=//evil.example",
        data={"username": "umar", "password": PASSWORD, "csrf_token": browser.csrf(),
              "next": "https://evil.example/"},
        headers={"Referer": "https://evil.example/"})
    language = browser.client.post(
        "/account/language?next=https://evil.example/",
        data={"language": "id", "csrf_token": browser.csrf(), "next": "//evil.example"},
        headers={"Referer": "https://evil.example/"})
    # Then every redirect goes to a page of Gembok's own
    for resp in (signed_in, language, browser.get("/login/next")):
        assert resp.status_code == 302
        location = resp.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location


def test_a_field_is_read_from_the_one_place_its_view_reads(world):
    # Given Dedi of Sales, who sees Siti (Sales) and not Tono (Billing)
    dedi = sign_in_as(world, "dedi")
    # When a search names Siti in the query string and Tono in the body
    resp = dedi.client.post("/api/search?q=Siti", json={"q": "Tono"},
                            headers={"X-CSRFToken": dedi.csrf()})
    # Then only the body counts: nothing of Tono is shown, and Siti is not found either
    assert resp.status_code == 200 and resp.get_json() == {"conversations": []}
