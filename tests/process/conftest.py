"""The appliance as users run it: `gembok run` (gunicorn with preload and forked workers,
the inbox writer, the worker, Redis, the simulator), and staff who sign in over HTTPS.

Promises about audit, erasure, masking and restarts are tested here, through the real
processes, because a promise kept by an app built inside the test process was broken
by the fork of the one users run (the read audit, issue 11).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pyotp
import pytest

from appliance.auth import totp
from appliance.config import load_settings
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Customer, User
from appliance.whatsapp.credentials import load_credentials
from tests.running import GEMBOK, Running, appliance_env, eventually
from tests.simulator_access import sim_client

GOOD_PASSWORD = "kopi tubruk sore hujan gerimis"


class Staff:
    """A person at a browser: signs in through the real pages, then calls the JSON API."""

    def __init__(self, office: Office, username: str) -> None:
        self.office = office
        self.username = username
        self.http = httpx.Client(base_url=office.url, verify=False, timeout=30,  # noqa: S501
                                 follow_redirects=True)
        self.token = ""

    def sign_in(self) -> Staff:
        page = self.http.get("/login")
        resp = self.http.post("/login", data={
            "csrf_token": _hidden(page.text), "username": self.username,
            "password": self.office.passwords[self.username]})
        if resp.url.path == "/account/second-factor":
            resp = self.http.post("/account/second-factor", data={"csrf_token": _hidden(resp.text)})
            db.close()
            secret = totp._secret(self.office.rt, User.get(User.username == self.username))
            resp = self.http.post("/account/second-factor", data={
                "csrf_token": _hidden(resp.text), "step": "confirm",
                "code": pyotp.TOTP(secret).now()})
            resp = self.http.get("/login/next")
        if resp.url.path == "/account/password":
            resp = self.http.post("/account/password", data={
                "csrf_token": _hidden(resp.text), "current": self.office.passwords[self.username],
                "new": GOOD_PASSWORD})
            self.office.passwords[self.username] = GOOD_PASSWORD
        assert resp.url.path == "/", f"{self.username} did not reach the Chatroom: {resp.url}"
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', resp.text).group(1)
        return self

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def close(self) -> None:
        self.http.close()


def _hidden(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Office:
    """`gembok run` on a fresh data dir, its simulator, and the staff made for a module."""

    def __init__(self, run: Running) -> None:
        self.run = run
        self.url = f"https://127.0.0.1:{run.port('WEB')}"
        self.settings = load_settings({k: v for k, v in run.env.items()
                                       if k.startswith("GEMBOK_")})
        self.rt: Runtime = open_runtime(self.settings)
        self.sim = sim_client(self.settings)
        self.passwords: dict[str, str] = {}
        self.people: list[Staff] = []

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*GEMBOK, *args], env=self.run.env, capture_output=True,
                              text=True, timeout=120, check=check)

    def division(self, name: str) -> None:
        self.cli("division", "create", name)

    def staff(self, username: str, division: str, role: str = "agent") -> Staff:
        out = self.cli("user", "create", username, "--role", role, "--division", division).stdout
        self.passwords[username] = out.rsplit("one-time password:", 1)[1].strip()
        self.people.append(Staff(self, username))
        return self.people[-1].sign_in()

    def customer_writes(self, phone: str, name: str, text: str) -> int:
        """A customer writes through the simulator; returns their conversation once stored."""
        resp = self.sim.post("/_sim/customers", json={"phone": phone, "name": name})
        assert resp.status_code in (200, 201), resp.text
        wa_id = resp.json()["wa_id"]
        resp = self.sim.post(f"/_sim/customers/{wa_id}/messages",
                             json={"type": "text", "text": {"body": text}})
        assert resp.status_code == 201, resp.text
        index = self.rt.index("phone", "+" + wa_id)

        def stored() -> int | None:
            """the customer's conversation is stored"""
            row = (Conversation.select(Conversation.id).join(Customer)
                   .where(Customer.phone_index == index).order_by(Conversation.id.desc())
                   .first())
            return None if row is None else int(row.id)

        return int(eventually(stored, timeout=30))

    def audited(self, action: str, target: str) -> int:
        db.close()
        return int(AuditEntry.select().where(AuditEntry.action == action,
                                             AuditEntry.target == target).count())

    def web_workers(self) -> list[psutil.Process]:
        """gunicorn's forked workers of the web UI (children of its master)."""
        master = psutil.Process(self.run.tree_now()["web"])
        return master.children()

    def post_webhook(self, body: bytes, timeout: float = 5) -> int:
        """Meta's POST, signed with the app secret the quick start gave the simulator."""
        secret = load_credentials(self.rt).app_secret
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        url = f"https://127.0.0.1:{self.run.port('WEBHOOK')}/webhooks/whatsapp"
        with httpx.Client(verify=False, timeout=timeout) as client:  # noqa: S501 - our cert
            return client.post(url, content=body, headers={
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json"}).status_code

    def close(self) -> None:
        for person in self.people:
            person.close()
        self.sim.close()
        db.close()


@pytest.fixture(scope="module")
def office(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """A module's own appliance; a module may set `OFFICE_ENV` (GEMBOK_* settings)."""
    env = appliance_env(tmp_path_factory.mktemp("office") / "var",
                        **getattr(request.module, "OFFICE_ENV", {}))
    del env["GEMBOK_WHATSAPP_API_BASE_URL"]  # the quick start wires its simulator itself
    run = Running(env)
    try:
        here = Office(run)
        yield here
        here.close()
    finally:
        if run.proc.returncode is None:
            run.stop(signal.SIGTERM)
