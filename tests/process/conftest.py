"""The appliance as users run it: `gembok run` (gunicorn with preload and forked workers,
the inbox writer, the worker, Redis, the simulator), and staff who sign in over HTTPS.

Promises about audit, erasure, masking and restarts are tested here, through the real
processes, because a promise kept by an app built inside the test process was broken
by the fork of the one users run (the read audit, issue 11).
"""

from __future__ import annotations

import hashlib
import hmac
import signal
import subprocess
from collections.abc import Iterator

import httpx
import psutil
import pytest

from appliance.auth import totp
from appliance.config import load_settings
from appliance.runtime import Runtime, open_runtime
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Customer, User
from appliance.whatsapp.credentials import load_credentials
from tests.running import GEMBOK, Running, appliance_env, eventually
from tests.simulator_access import sim_client
from tests.staff_client import StaffClient


class Office:
    """`gembok run` on a fresh data dir, its simulator, and the staff made for a module."""

    def __init__(self, run: Running) -> None:
        self.run = run
        self.url = f"https://127.0.0.1:{run.port('WEB')}"
        self.settings = load_settings({k: v for k, v in run.env.items()
                                       if k.startswith("GEMBOK_")})
        self.rt: Runtime = open_runtime(self.settings)
        self.sim = sim_client(self.settings)
        self.people: list[StaffClient] = []

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*GEMBOK, *args], env=self.run.env, capture_output=True,
                              text=True, timeout=120, check=check)

    def division(self, name: str) -> None:
        self.cli("division", "create", name)

    def staff(self, username: str, division: str, role: str = "agent") -> StaffClient:
        out = self.cli("user", "create", username, "--role", role, "--division", division).stdout
        password = out.rsplit("one-time password:", 1)[1].strip()

        def secret() -> str:
            db.close()
            return str(totp._secret(self.rt, User.get(User.username == username)))

        self.people.append(StaffClient(self.url, username, password, secret))
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
    """A module's own appliance; a module may set `OFFICE_ENV` (GEMBOK_* settings), and
    `OFFICE_STORE = "postgres"` to keep its store on the tests' PostgreSQL."""
    extra = dict(getattr(request.module, "OFFICE_ENV", {}))
    if getattr(request.module, "OFFICE_STORE", "") == "postgres":  # the tests' own server
        extra["GEMBOK_STORE_URL"] = request.getfixturevalue("pg_server").new_database()
    env = appliance_env(tmp_path_factory.mktemp("office") / "var", **extra)
    del env["GEMBOK_WHATSAPP_API_BASE_URL"]  # the quick start wires its simulator itself
    run = Running(env)
    try:
        here = Office(run)
        yield here
        here.close()
    finally:
        if run.proc.returncode is None:
            run.stop(signal.SIGTERM)
