"""A person at a browser, over real HTTPS: signs in through the real pages (the one-time
password changed, a second factor enrolled when asked), then calls the JSON API with the
page's CSRF token, as the Chatroom's scripts do."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pyotp

GOOD_PASSWORD = "kopi tubruk sore hujan gerimis"


class StaffClient:
    def __init__(self, url: str, username: str, password: str,
                 totp_secret: Callable[[], str] | None = None) -> None:
        self.username, self.password, self.totp_secret = username, password, totp_secret
        self.http = httpx.Client(base_url=url, verify=False, timeout=30,  # noqa: S501 - ours
                                 follow_redirects=True)
        self.token = ""

    def sign_in(self) -> StaffClient:
        page = self.http.get("/login")
        resp = self.http.post("/login", data={"csrf_token": _hidden(page.text),
                                              "username": self.username,
                                              "password": self.password})
        if resp.url.path == "/account/second-factor":
            assert self.totp_secret is not None, f"{self.username} must enrol a second factor"
            resp = self.http.post("/account/second-factor", data={"csrf_token": _hidden(resp.text)})
            resp = self.http.post("/account/second-factor", data={
                "csrf_token": _hidden(resp.text), "step": "confirm",
                "code": pyotp.TOTP(self.totp_secret()).now()})
            resp = self.http.get("/login/next")
        if resp.url.path == "/account/password":
            resp = self.http.post("/account/password", data={
                "csrf_token": _hidden(resp.text), "current": self.password, "new": GOOD_PASSWORD})
            self.password = GOOD_PASSWORD
        # (the DPO's home is the privacy queue)
        assert resp.url.path in ("/", "/privacy"), \
            f"{self.username} did not reach the Chatroom: {resp.url}"
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', resp.text).group(1)
        return self

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def form(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A page's form, posted as the browser would (the DPO's pages are forms)."""
        return self.http.post(path, data=data or {}, headers={"X-CSRFToken": self.token})

    def close(self) -> None:
        self.http.close()


def _hidden(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
