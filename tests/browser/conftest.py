"""Browser fixtures: the whole appliance (`gembok run` with its simulator) and Debian's Chromium.

One `gembok run` and one browser per test module; each test gets fresh browser contexts
(signed in through the real sign-in page once per person, then by the saved cookies).
Screenshots go to `test-artifacts/` at the repository root.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from appliance.auth import totp
from appliance.config import load_settings
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import Message, Outbox, User
from simulator.access import control_headers
from tests.running import GEMBOK, Running, appliance_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-quic",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
GOOD_PASSWORD = "kopi tubruk sore hujan gerimis"
DESKTOP = {"width": 1366, "height": 768}
WAIT_MS = 20_000
# A reply crosses the web app, the queue, the worker and the simulator: on a busy 2-core
# box one retry of the worker (its back-off starts at a second) must still fit.
SEND_WAIT_S = 45
expect.set_options(timeout=10_000)  # a busy 2-core box: answers may take a moment


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: sync Playwright runs an event loop in the main thread meanwhile."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))




class Office:
    """The running appliance, its simulator, and the staff made for a test module."""

    def __init__(self, run: Running, browser: Browser) -> None:
        self.run = run
        self.browser = browser
        self.url = f"https://127.0.0.1:{run.port('WEB')}"
        self.settings = load_settings({k: v for k, v in run.env.items()
                                       if k.startswith("GEMBOK_")})
        self.sim = httpx.Client(base_url=f"http://127.0.0.1:{run.port('SIMULATOR')}",
                                headers=control_headers(self.settings.data_dir), timeout=10)
        self.rt = open_runtime(self.settings)
        self.passwords: dict[str, str] = {}
        self.states: dict[str, Any] = {}

    def cli(self, *args: str) -> str:
        done = subprocess.run([*GEMBOK, *args], env=self.run.env, capture_output=True,
                              text=True, timeout=60, check=True)
        return done.stdout

    def division(self, name: str) -> None:
        self.cli("division", "create", name)

    def agent(self, username: str, division: str, name: str = "", role: str = "agent") -> None:
        out = self.cli("user", "create", username, "--role", role, "--division", division,
                       *(["--name", name] if name else []))
        self.passwords[username] = out.rsplit("one-time password:", 1)[1].strip()

    def customer(self, phone: str, name: str) -> str:
        resp = self.sim.post("/_sim/customers", json={"phone": phone, "name": name})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["wa_id"])

    def writes(self, wa_id: str, text: str) -> str:
        resp = self.sim.post(f"/_sim/customers/{wa_id}/messages",
                             json={"type": "text", "text": {"body": text}})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["wamid"])

    def phone_of(self, wa_id: str) -> list[dict[str, Any]]:
        """What the customer's simulated phone received from the business."""
        return list(self.sim.get(f"/_sim/customers/{wa_id}/inbox").json()["messages"])

    def outbox(self) -> str:
        """Where the latest replies stand, for a test that waited in vain (ids and states only)."""
        db.close()
        rows = (Outbox.select(Outbox, Message.kind, Message.status)
                .join(Message).order_by(Outbox.id.desc()).limit(5))
        return "\n".join(f"outbox {o.id}: {o.message.kind} {o.state} attempts={o.attempts} "
                         f"error={o.error_code} message={o.message.status}" for o in rows)

    def context(self, username: str | None = None, **options: Any) -> BrowserContext:
        settings = {"ignore_https_errors": True, "base_url": self.url, "viewport": DESKTOP,
                    **options}
        if username is not None:
            settings["storage_state"] = self.signed_in_state(username)
        return self.browser.new_context(**settings)

    def signed_in_state(self, username: str) -> Any:
        """Signs in through the real pages once: the second factor (supervisors enrol an
        authenticator), then the one-time password is changed for a good one."""
        if username not in self.states:
            context = self.browser.new_context(ignore_https_errors=True, base_url=self.url,
                                               viewport=DESKTOP)
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", self.passwords[username])
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/(account/(second-factor|password))?$"))
            if page.url.endswith("/account/second-factor"):
                page.click("button[type=submit]")  # start: shows the QR code
                db.close()
                secret = totp._secret(self.rt, User.get(User.username == username))
                page.fill("input[name=code]", pyotp.TOTP(secret).now())
                page.click("button[type=submit]")
                expect(page.locator("ul.codes li")).to_have_count(10)
                page.click("main a")
                page.wait_for_url("**/account/password")
            if page.url.endswith("/account/password"):
                page.fill("input[name=current]", self.passwords[username])
                page.fill("input[name=new]", GOOD_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(re.compile(re.escape(self.url) + r"/(privacy)?$"))  # DPO
                self.passwords[username] = GOOD_PASSWORD
            self.states[username] = context.storage_state()
            context.close()
        return self.states[username]

    def chatroom(self, username: str, **options: Any) -> Page:
        """A new browser window of `username`, on the Chatroom with every listener ready."""
        page = self.context(username, **options).new_page()
        page.goto("/")
        expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
        return page

    def close(self) -> None:
        self.sim.close()
        db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           browser: Browser) -> Iterator[Office]:
    """`gembok run` on a fresh data dir; the quick start wires the simulator itself."""
    env = appliance_env(tmp_path_factory.mktemp("office") / "var")
    del env["GEMBOK_WHATSAPP_API_BASE_URL"]
    run = Running(env)
    try:
        here = Office(run, browser)
        yield here
        here.close()
    finally:
        if run.proc.returncode is None:
            run.stop(signal.SIGTERM)
        # What the appliance printed, for whoever reads a failure (its logs hold no
        # personal data: the canary test makes sure of that).
        ARTIFACTS.mkdir(exist_ok=True)
        module = request.module.__name__.rsplit(".", 1)[-1]
        (ARTIFACTS / f"gembok-run-{module}.log").write_text("".join(run.out) + "".join(run.err))


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """Saves a screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save
