"""Shared fixtures for the simulator: a fake clock, simulators, a Graph caller, a receiver."""

from __future__ import annotations

import json
import random
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from simulator import Simulator, SimulatorConfig, create_simulator

PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
TOKEN = "EAAG-test-token"
SECRET = "test-app-secret"
CONTROL_TOKEN = "sim-control-test-token-0123456789"


class FakeClock:
    """Unix seconds that move only when a test says so."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_config(**overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {
        "phone_number_id": PHONE_ID, "waba_id": WABA_ID,
        "display_phone_number": "6281100000000", "business_name": "Toko Ayu",
        "access_token": TOKEN, "app_secret": SECRET, "verify_token": "verify-me",
        "control_token": CONTROL_TOKEN,
        "auto_deliver_seconds": 0.2, "retry_base_seconds": 1.0, "retry_max_attempts": 3,
        "webhook_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return SimulatorConfig(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sim(clock: FakeClock) -> Iterator[Callable[..., Simulator]]:
    """Builds simulators on the fake clock, delivering only on `flush()`; closes them all."""
    made: list[Simulator] = []

    def make(**overrides: Any) -> Simulator:
        sim = create_simulator(make_config(**overrides), clock=clock, rng=random.Random(7),
                               background=False)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture
def sim(make_sim: Callable[..., Simulator]) -> Simulator:
    return make_sim()


class Api:
    """Calls the simulator the way Gembok and its tests do: Graph with the bearer token,
    the control API with its own token and JSON bodies."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.client = Client(sim)
        self.auth = {"Authorization": f"Bearer {sim.config.access_token}"}
        self.control_auth = {"X-Sim-Token": sim.config.control_token}

    def send(self, body: dict[str, Any] | None = None, **fields: Any) -> TestResponse:
        payload = {"messaging_product": "whatsapp", **(body or {}), **fields}
        return self.client.post(f"/v25.0/{PHONE_ID}/messages", json=payload,
                                headers=self.auth)

    def text(self, to: str, body: str = "Halo, pesanan Anda sudah dikirim.",
             **fields: Any) -> TestResponse:
        return self.send(to=to, type="text", text={"body": body}, **fields)

    def template(self, to: str, name: str = "order_update", language: str = "id",
                 params: list[str] | None = None, **fields: Any) -> TestResponse:
        values = ["Siti", "INV-001"] if params is None else params
        components = [{"type": "body", "parameters": [{"type": "text", "text": v}
                                                      for v in values]}] if values else []
        return self.send(to=to, type="template", template={
            "name": name, "language": {"code": language}, "components": components}, **fields)

    def graph(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None,
                expect: int | None = None) -> Any:
        if body is None and method != "GET":
            body = {}  # a POST or DELETE says application/json even with nothing to say
        response = self.client.open(f"/_sim/{path}", method=method, json=body,
                                    headers=self.control_auth)
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response.json

    def customer(self, phone: str | None = "+62 812 3456 7890", name: str = "Siti",
                 **fields: Any) -> dict[str, Any]:
        return self.control("POST", "customers", {"phone": phone, "name": name, **fields},
                            expect=201)  # type: ignore[no-any-return]

    def says(self, customer: dict[str, Any], text: str = "Halo, pesanan saya?",
             **extra: Any) -> dict[str, Any]:
        """The customer writes to the business, which opens the 24 h window."""
        body = {"type": "text", "text": {"body": text}, **extra}
        return self.control("POST", f"customers/{customer['user_id']}/messages", body,
                            expect=201)  # type: ignore[no-any-return]


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


@pytest.fixture
def siti(api: Api) -> dict[str, Any]:
    """A customer with a phone, a username and an open window."""
    customer = api.customer(username="@siti")
    api.says(customer)
    api.sim.flush()
    return customer


def error_of(response: TestResponse) -> dict[str, Any]:
    return response.json["error"]  # type: ignore[no-any-return,index]


def updates(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every change value of every posted body, in order."""
    return [change["value"] for post in posts for entry in post["body"]["entry"]
            for change in entry["changes"]]


def statuses(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for value in updates(posts) for s in value.get("statuses", [])]


# -- a real webhook receiver ------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records each POST's raw bytes and headers; answers the statuses it is told to."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)
    default: int = 200
    arrived: threading.Event = field(default_factory=threading.Event)

    def answer(self, *statuses: int) -> None:
        self.answers.extend(statuses)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver = self.server.receiver
        receiver.requests.append(Received(dict(self.headers.items()), body))
        status = receiver.answers.popleft() if receiver.answers else receiver.default
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        receiver.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    receiver: Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/webhooks")
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server.receiver
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def hooked(make_sim: Callable[..., Simulator], receiver: Receiver) -> Api:
    """A simulator that delivers its webhooks to the receiver (on `flush()`)."""
    return Api(make_sim(webhook_url=receiver.url))
