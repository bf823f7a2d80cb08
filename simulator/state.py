"""Provides the simulator's memory: customers, messages, number health, faults, limits, clock.

Everything lives in one process (the simulator runs one gunicorn worker) behind one
lock: the Graph side and the control side change the same few dicts, and one lock
keeps each request's reads and writes consistent without any ordering puzzles.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator import ids
from simulator.config import SimulatorConfig
from simulator.limits import DAY, MessagingLimit, PairRate, Throughput
from simulator.media import MediaStore
from simulator.numbers import region_of
from simulator.send_log import SendLog

Clock = Callable[[], float]  # Unix seconds
KEEP_MESSAGES = 200_000  # per direction: a long benchmark must not eat the box's memory
_SEQUENCE = itertools.count()  # orders messages of both directions within one second


class SimClock:
    """The injected clock plus an offset that `POST /_sim/clock` moves forward."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or time.time
        self._offset = 0.0

    def __call__(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@dataclass
class Customer:
    """A simulated WhatsApp user; `wa_id` is None for a username-only user without a phone."""

    user_id: str
    name: str
    wa_id: str | None
    username: str | None = None
    username_only: bool = False
    last_inbound_at: float | None = None
    # each business number's window: writing to one brand's number opens no other's
    last_inbound_by: dict[str, float] = field(default_factory=dict)
    opted_out: bool = False
    marketing_capped: bool = False  # Meta's per-person marketing cap reached (131049)
    marketing_recent: list[float] = field(default_factory=list)  # marketing received at
    typing_until: float = 0.0  # the business's typing indicator shows until then

    @property
    def phone_visible(self) -> bool:
        """Whether webhooks may show the phone (reference §2.4: hidden for username users)."""
        return self.wa_id is not None and not self.username_only

    def window_open(self, now: float, number: str | None = None) -> bool:
        """On `number` (a phone number id), or on any number for None."""
        last = self.last_inbound_at if number is None else self.last_inbound_by.get(number)
        return last is not None and now - last < DAY

    def public(self, now: float) -> dict[str, Any]:
        return {"wa_id": self.wa_id, "user_id": self.user_id, "name": self.name,
                "username": self.username, "username_only": self.username_only,
                "opted_out": self.opted_out, "window_open": self.window_open(now)}


@dataclass
class Outbound:
    """A message the business sent, as the customer's phone sees it."""

    wamid: str
    user_id: str | None  # None: the recipient is not a simulated customer
    type: str
    message: dict[str, Any]
    created_at: float
    wa_id: str | None = None  # the number it was addressed to, when sent with `to`
    by_bsuid: bool = False  # sent with `recipient` (a BSUID) rather than `to`
    callback_data: str | None = None  # biz_opaque_callback_data, echoed on every status
    rendered: dict[str, Any] | None = None  # a template as the phone shows it
    status: str = "accepted"  # accepted, sent, delivered, read, failed
    error_code: int | None = None
    api: str = "messages"  # or marketing_messages
    from_number: str = ""  # the phone number id it was sent from
    seq: int = field(default_factory=_SEQUENCE.__next__)

    def public(self) -> dict[str, Any]:
        out = {"wamid": self.wamid, "type": self.type, "message": self.message,
               "status": self.status, "error_code": self.error_code,
               "timestamp": int(self.created_at), "api": self.api,
               "from_number": self.from_number}
        if self.rendered is not None:
            out["rendered"] = self.rendered
        return out


@dataclass
class Inbound:
    """A message a customer sent to the business (the webhook's `messages[]` item)."""

    wamid: str
    user_id: str
    type: str
    message: dict[str, Any]
    created_at: float
    read: bool = False  # the business marked it as read
    to_number: str = ""  # the phone number id it was written to
    seq: int = field(default_factory=_SEQUENCE.__next__)

    def public(self) -> dict[str, Any]:
        return {"wamid": self.wamid, "type": self.type, "message": self.message,
                "status": "read" if self.read else "delivered",
                "timestamp": int(self.created_at), "to_number": self.to_number}


@dataclass
class Health:
    """What `GET /{phone-number-id}` and the health-status API report."""

    status: str = "CONNECTED"
    quality: str = "GREEN"
    messaging_limit: int | None = 250
    throughput_level: str = "STANDARD"


@dataclass
class Fault:
    """The next `remaining` Graph calls on `path` fail the way `kind` says."""

    path: str
    kind: str
    remaining: int
    delay_seconds: float


@dataclass
class State:
    config: SimulatorConfig
    clock: SimClock
    lock: threading.RLock = field(default_factory=threading.RLock)
    customers: dict[str, Customer] = field(default_factory=dict)  # by user_id
    by_wa_id: dict[str, str] = field(default_factory=dict)  # wa_id -> user_id
    outbound: dict[str, Outbound] = field(default_factory=dict)
    inbound: dict[str, Inbound] = field(default_factory=dict)
    media: MediaStore = field(default_factory=MediaStore)
    throughput: Throughput = field(default_factory=Throughput)
    pair_rate: PairRate = field(default_factory=PairRate)
    messaging_limit: MessagingLimit = field(default_factory=MessagingLimit)
    health: Health = field(default_factory=Health)
    faults: list[Fault] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)  # the first WABA's
    # another WABA's templates: the configured ones under ids of its own, made when first
    # asked for (a brand's account holds its own `order_update`)
    account_templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    username_only_default: bool = False
    public_url: str = ""  # learnt from the latest request, for media URLs in webhooks
    sends: SendLog = field(default_factory=SendLog)
    # the number's local storage (GET/POST /<phone-number-id>/settings): where Meta keeps
    # message content at rest; DEFAULT is Meta's own data centres, anywhere
    storage: dict[str, str] = field(default_factory=lambda: {"status": "DEFAULT"})

    def __post_init__(self) -> None:
        self.health.messaging_limit = self.config.messaging_limit
        self.templates = copy.deepcopy(list(self.config.templates))

    def now(self) -> float:
        return self.clock()

    def templates_of(self, waba_id: str) -> list[dict[str, Any]]:
        """One account's templates (the caller holds the lock)."""
        if waba_id == self.config.waba_id or waba_id not in self.config.waba_ids():
            return self.templates
        if waba_id not in self.account_templates:
            nth = self.config.waba_ids().index(waba_id)
            own = copy.deepcopy(list(self.config.templates))
            for t in own:
                t["id"] = str(int(t["id"]) + nth * 10**15)
            self.account_templates[waba_id] = own
        return self.account_templates[waba_id]

    def reset(self) -> None:
        """Forgets customers, messages, media, faults and buckets; keeps config and health."""
        self.customers.clear()
        self.by_wa_id.clear()
        self.outbound.clear()
        self.inbound.clear()
        self.media = MediaStore()
        self.throughput = Throughput()
        self.pair_rate = PairRate()
        self.messaging_limit = MessagingLimit()
        self.faults.clear()
        self.sends.clear()

    def add_customer(self, name: str, wa_id: str | None, username: str | None,
                     username_only: bool) -> Customer:
        country = region_of(wa_id or self.config.display_phone_number)
        customer = Customer(user_id=ids.bsuid(country), name=name, wa_id=wa_id,
                            username=username, username_only=username_only or wa_id is None)
        self.customers[customer.user_id] = customer
        if wa_id:
            self.by_wa_id[wa_id] = customer.user_id
        return customer

    def find_customer(self, key: str) -> Customer | None:
        """By BSUID or wa_id (a `+` and separators in a phone are ignored)."""
        if key in self.customers:
            return self.customers[key]
        user_id = self.by_wa_id.get("".join(ch for ch in key if ch.isdigit()))
        return self.customers.get(user_id) if user_id else None

    def remember(self, message: Outbound | Inbound) -> None:
        """Stores a message, forgetting the oldest beyond KEEP_MESSAGES."""
        store: dict[str, Any] = self.outbound if isinstance(message, Outbound) else self.inbound
        store[message.wamid] = message
        if len(store) > KEEP_MESSAGES:
            del store[next(iter(store))]

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.path in (path, "any"):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def throughput_mps(self) -> int:
        return 1000 if self.health.throughput_level == "HIGH" else self.config.throughput_mps
