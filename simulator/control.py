"""Provides the control API under `/_sim/`: play the customers, the number and Meta's moods.

Tests and the demo phone page drive the simulator through it: create customers, make
them write, read, tap buttons and opt out; disconnect or flag the number; inject
faults; choose how awkwardly webhooks arrive; move the clock. JSON in, JSON out; the
gate in access.py (a token, JSON bodies only, loopback host names) has been passed
before any handler here runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from simulator import health, ids, inbound, payloads
from simulator.config import SimulatorConfigError
from simulator.phone import clock_time
from simulator.send import emit_status
from simulator.state import Customer, Fault, Inbound, Outbound, State
from simulator.templates import CATEGORIES, STATUSES
from simulator.webhooks import WebhookSender

FAULT_PATHS = ("messages", "media", "any")
FAULT_KINDS = ("http_500", "http_503", "timeout", "rate_limit", "token_expired")
Handler = Callable[..., Response]
JAKARTA = ZoneInfo("Asia/Jakarta")


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def reply(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class Control:
    """The `/_sim/` handlers over one simulator's state and webhook sender."""

    def __init__(self, state: State, hooks: WebhookSender,
                 zone: ZoneInfo = JAKARTA) -> None:
        self.state = state
        self.hooks = hooks
        self.zone = zone  # the office's, for the times the phone page shows

    def routes(self) -> list[tuple[str, tuple[str, ...], Handler]]:
        return [
            ("/_sim/business", ("GET",), self.business),
            ("/_sim/numbers", ("POST",), self.add_number),
            ("/_sim/customers", ("GET",), self.list_customers),
            ("/_sim/customers", ("POST",), self.create_customer),
            ("/_sim/customers/bulk", ("POST",), self.create_customers),
            ("/_sim/customers/<key>/marketing-cap", ("POST",), self.marketing_cap),
            ("/_sim/sends/rate", ("GET", "DELETE"), self.send_rate),
            ("/_sim/sends/callbacks", ("GET",), self.send_callbacks),
            ("/_sim/latency", ("GET", "POST"), self.latency),
            ("/_sim/customers/<key>", ("GET",), self.get_customer),
            ("/_sim/customers/<key>/messages", ("POST",), self.customer_sends),
            ("/_sim/customers/<key>/inbox", ("GET",), self.inbox),
            ("/_sim/customers/<key>/thread", ("GET",), self.thread),
            ("/_sim/customers/<key>/read", ("POST",), self.customer_reads),
            ("/_sim/customers/<key>/opt_out", ("POST",), self.opt_out),
            ("/_sim/customers/<key>/opt_in", ("POST",), self.opt_in),
            ("/_sim/number", ("GET", "POST"), self.number),
            ("/_sim/events", ("POST",), self.event),
            ("/_sim/templates", ("GET", "POST"), self.templates),
            ("/_sim/faults", ("GET", "POST", "DELETE"), self.faults),
            ("/_sim/webhooks/mode", ("GET", "POST"), self.mode),
            ("/_sim/webhooks/flush", ("POST",), self.flush),
            ("/_sim/webhooks/retry_now", ("POST",), self.retry_now),
            ("/_sim/webhooks/log", ("GET",), self.log),
            ("/_sim/clock", ("GET", "POST"), self.clock),
            ("/_sim/reset", ("POST",), self.reset),
        ]

    # -- the business and its customers ---------------------------------------------------

    def business(self, request: Request) -> Response:
        cfg = self.state.config
        return reply({"phone_number_id": cfg.phone_number_id, "waba_id": cfg.waba_id,
                      "display_phone_number": cfg.display_phone_number,
                      "business_name": cfg.business_name, "api_version": cfg.api_version,
                      "timezone": self.zone.key, "more_numbers": list(cfg.more_numbers)})

    def add_number(self, request: Request) -> Response:
        """`{"display_phone_number": "6281100000001", "verified_name": "Brand B"}`: one more
        number of the business, on the same app, in the same WABA unless `waba_id` names
        another (with templates of its own); answers its new phone number id."""
        body = _body(request)
        with self.state.lock:
            cfg = self.state.config
            taken = {n["display_phone_number"] for n in cfg.more_numbers}
            if body.get("display_phone_number") in taken | {cfg.display_phone_number}:
                raise ControlError("the business has that number already", 409)
            added = {"phone_number_id": ids.node_id(),
                     "display_phone_number": str(body.get("display_phone_number", "")),
                     "verified_name": str(body.get("verified_name") or "")}
            if body.get("waba_id") not in (None, cfg.waba_id):
                added["waba_id"] = str(body["waba_id"])
            try:
                self.state.config = dataclasses.replace(
                    cfg, more_numbers=(*cfg.more_numbers, added))
            except SimulatorConfigError as exc:
                raise ControlError(exc.problem) from None
            return reply(added, 201)

    def list_customers(self, request: Request) -> Response:
        with self.state.lock:
            now = self.state.now()
            return reply({"customers": [c.public(now) for c in self.state.customers.values()]})

    def create_customer(self, request: Request) -> Response:
        body = _body(request)
        name = body.get("name") or "Pelanggan"
        phone, username = body.get("phone"), body.get("username")
        if not isinstance(name, str) or (phone is not None and not isinstance(phone, str)):
            raise ControlError("name must be a string; phone a string or null")
        if username is not None and (not isinstance(username, str) or not username.strip()):
            raise ControlError("username must be a non-empty string or null")
        wa_id = "".join(ch for ch in phone if ch.isdigit()) if phone else None
        if phone is not None and not wa_id:
            raise ControlError("phone must hold digits, e.g. +62 812 3456 7890")
        if username:
            username = username if username.startswith("@") else "@" + username
        elif wa_id is None:
            username = "@" + "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        with self.state.lock:
            if wa_id and wa_id in self.state.by_wa_id:
                raise ControlError(f"a customer with phone {phone} exists already", 409)
            if wa_id == self.state.config.display_phone_number:
                raise ControlError("that is the business's own number", 409)
            only = bool(body.get("username_only", self.state.username_only_default))
            customer = self.state.add_customer(name, wa_id, username, only)
            return reply(customer.public(self.state.now()), 201)

    def create_customers(self, request: Request) -> Response:
        """`{"first": "6281100000001", "count": 100000, "name": "Pelanggan"}`: numbers
        first, first+1, ... at once (a benchmark's audience; one call, not 100,000)."""
        body = _body(request)
        first, count = str(body.get("first", "")), body.get("count")
        name = body.get("name", "Pelanggan")
        if not first.isdigit() or type(count) is not int or not 1 <= count <= 1_000_000:
            raise ControlError("give first (digits) and count (1 to 1,000,000)")
        if not isinstance(name, str) or not name:
            raise ControlError("name must be a non-empty string")
        made = 0
        with self.state.lock:
            for n in range(count):
                wa_id = str(int(first) + n)
                if wa_id in self.state.by_wa_id or wa_id == \
                        self.state.config.display_phone_number:
                    continue
                self.state.add_customer(f"{name} {n}", wa_id, None, False)
                made += 1
        return reply({"created": made}, 201)

    def marketing_cap(self, request: Request, key: str) -> Response:
        """`{"capped": true}`: Meta's per-person marketing cap reached (131049 follows)."""
        capped = _body(request).get("capped", True)
        if not isinstance(capped, bool):
            raise ControlError("capped must be true or false")
        with self.state.lock:
            customer = self._customer(key)
            customer.marketing_capped = capped
            return reply(customer.public(self.state.now()))

    def send_rate(self, request: Request) -> Response:
        with self.state.lock:
            if request.method == "DELETE":
                self.state.sends.clear()
            return reply(self.state.sends.summary())

    def send_callbacks(self, request: Request) -> Response:
        """Each campaign callback accepted, with how many times: a duplicate shows as 2."""
        with self.state.lock:
            return reply({"callbacks": dict(self.state.sends.callbacks)})

    def latency(self, request: Request) -> Response:
        """`{"latency_ms": [150, 300]}`: Meta's answer time from now on."""
        with self.state.lock:
            if request.method == "POST":
                value = _body(request).get("latency_ms")
                try:
                    self.state.config = dataclasses.replace(
                        self.state.config, latency_ms=tuple(value)  # type: ignore[arg-type]
                        if isinstance(value, list) else value)
                except SimulatorConfigError as exc:
                    raise ControlError(exc.problem) from None
            return reply({"latency_ms": list(self.state.config.latency_ms)})

    def get_customer(self, request: Request, key: str) -> Response:
        with self.state.lock:
            return reply(self._customer(key).public(self.state.now()))

    def customer_sends(self, request: Request, key: str) -> Response:
        body = _body(request)
        number = body.pop("to_number", None)  # which of the business's numbers, if several
        if number is not None and number not in self.state.config.number_ids():
            raise ControlError(f"to_number must be one of the business's phone number ids: "
                               f"{', '.join(self.state.config.number_ids())}")
        with self.state.lock:
            self.state.public_url = request.host_url
            try:
                message = inbound.receive(self.state, self.hooks, self._customer(key), body,
                                          number)
            except inbound.InboundError as exc:
                raise ControlError(str(exc)) from None
            return reply({"wamid": message.wamid, "message": message.message}, 201)

    def inbox(self, request: Request, key: str) -> Response:
        """What the customer received from the business, oldest first."""
        with self.state.lock:
            customer = self._customer(key)
            rows = [m.public() for m in self.state.outbound.values()
                    if m.user_id == customer.user_id]
            return reply({"messages": rows})

    def thread(self, request: Request, key: str) -> Response:
        """Both directions, for the phone page, each with its time on the office's clock."""
        with self.state.lock:
            customer = self._customer(key)
            now = self.state.now()
            both: list[Outbound | Inbound] = [*self.state.outbound.values(),
                                              *self.state.inbound.values()]
            mine = sorted((m for m in both if m.user_id == customer.user_id),
                          key=lambda m: m.seq)
            rows = [{"direction": "out" if isinstance(m, Outbound) else "in", **m.public(),
                     "time": clock_time(m.created_at, self.zone)} for m in mine]
            return reply({"customer": customer.public(now), "messages": rows,
                          "typing": customer.typing_until > now})

    def customer_reads(self, request: Request, key: str) -> Response:
        body = _body(request)
        with self.state.lock:
            customer = self._customer(key)
            mine = [m for m in self.state.outbound.values() if m.user_id == customer.user_id]
            if body.get("wamid"):
                mine = [m for m in mine if m.wamid == body["wamid"]]
                if not mine:
                    raise ControlError("no such message sent to this customer", 404)
            read = []
            for message in mine:
                if message.status in ("sent", "delivered"):
                    # Read while in the chat: Meta skips `delivered` as implied (§2.3).
                    self.hooks.cancel(f"{message.wamid}:delivered",
                                      due_after=self.state.now())
                    message.status = "read"
                    emit_status(self.state, self.hooks, message, "read")
                    read.append(message.wamid)
            return reply({"read": read})

    def opt_out(self, request: Request, key: str) -> Response:
        return self._preference(key, opted_out=True)

    def opt_in(self, request: Request, key: str) -> Response:
        return self._preference(key, opted_out=False)

    def _preference(self, key: str, *, opted_out: bool) -> Response:
        with self.state.lock:
            customer = self._customer(key)
            customer.opted_out = opted_out
            value = payloads.user_preferences_value(
                self.state.config, customer, "stop" if opted_out else "resume",
                self.state.now())
            self.hooks.enqueue("user_preferences", value)
            return reply(customer.public(self.state.now()))

    def _customer(self, key: str) -> Customer:
        customer = self.state.find_customer(key)
        if customer is None:
            raise ControlError(f"no customer {key}", 404)
        return customer

    # -- the number, events, templates, faults -------------------------------------------

    def number(self, request: Request) -> Response:
        with self.state.lock:
            events: list[str] = []
            if request.method == "POST":
                try:
                    events = health.change(self.state, self.hooks, _body(request))
                except ValueError as exc:
                    raise ControlError(str(exc)) from None
            h = self.state.health
            return reply({"status": h.status, "quality": h.quality,
                          "messaging_limit": h.messaging_limit,
                          "throughput": h.throughput_level, "events": events,
                          "messaging_limit_used": self.state.messaging_limit.used(
                              self.state.now())})

    def event(self, request: Request) -> Response:
        body = _body(request)
        field, value = body.get("field"), body.get("value")
        if not isinstance(field, str) or not field or not isinstance(value, dict):
            raise ControlError("give a field name and a value object")
        self.hooks.enqueue(field, value)
        return reply({"queued": 1}, 202)

    def templates(self, request: Request) -> Response:
        """POST `{"name", "language", "status", "reason"?, "waba_id"?}`: a template review
        outcome (in the first account, or the one `waba_id` names); GET `?waba_id=`."""
        body: dict[str, Any] = (_body(request) if request.method == "POST"
                                else dict(request.args))
        with self.state.lock:
            account = str(body.get("waba_id") or self.state.config.waba_id)
            if account not in self.state.config.waba_ids():
                raise ControlError(f"the business has no account {account}", 404)
            kept = self.state.templates_of(account)
            if request.method == "POST":
                found = [t for t in kept if t["name"] == body.get("name")
                         and t["language"] == body.get("language")]
                if not found:
                    raise ControlError("no such template (name and language)", 404)
                t = found[0]
                category = body.get("category")
                if category is not None:
                    if category not in CATEGORIES:
                        raise ControlError(f"category must be one of {', '.join(CATEGORIES)}")
                    if category != t["category"]:
                        previous, t["category"] = t["category"], category
                        self.hooks.enqueue("template_category_update", {
                            "message_template_id": int(t["id"]),
                            "message_template_name": t["name"],
                            "message_template_language": t["language"],
                            "previous_category": previous, "new_category": category},
                            account=account)
                ready_in = body.get("mm_ready_in_seconds")
                if ready_in is not None:
                    if type(ready_in) not in (int, float) or ready_in < 0:
                        raise ControlError("mm_ready_in_seconds must be seconds, 0 or more")
                    t["mm_ready_at"] = self.state.now() + float(ready_in)
                if "status" not in body:
                    return reply({"templates": kept})
                if body.get("status") not in STATUSES:
                    raise ControlError(f"status must be one of {', '.join(STATUSES)}")
                t["status"] = body["status"]
                self.hooks.enqueue("message_template_status_update", {
                    "event": t["status"], "message_template_id": int(t["id"]),
                    "message_template_name": t["name"],
                    "message_template_language": t["language"],
                    "reason": body.get("reason", "NONE"),
                    "message_template_category": t["category"]}, account=account)
            return reply({"templates": kept})

    def faults(self, request: Request) -> Response:
        with self.state.lock:
            if request.method == "DELETE":
                self.state.faults.clear()
            elif request.method == "POST":
                body = _body(request)
                if body.get("path", "any") not in FAULT_PATHS:
                    raise ControlError(f"path must be one of {', '.join(FAULT_PATHS)}")
                if body.get("kind") not in FAULT_KINDS:
                    raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
                count = body.get("count", 1)
                delay = body.get("delay_seconds", self.state.config.fault_timeout_seconds)
                if type(count) is not int or count < 1 or not isinstance(delay, (int, float)):
                    raise ControlError("count must be a whole number ≥ 1, delay_seconds a "
                                       "number")
                self.state.faults.append(Fault(body.get("path", "any"), body["kind"], count,
                                               float(delay)))
            return reply({"faults": [vars(f) for f in self.state.faults]})

    # -- webhook delivery and time --------------------------------------------------------

    def mode(self, request: Request) -> Response:
        mode = self.hooks.mode
        if request.method == "POST":
            body = _body(request)
            batch = body.get("batch", mode.batch)
            duplicate = body.get("duplicate", mode.duplicate)
            if isinstance(duplicate, bool):
                duplicate = 1.0 if duplicate else 0.0
            if type(batch) is not int or not 1 <= batch <= 1000:
                raise ControlError("batch must be a whole number from 1 to 1000")
            if not isinstance(duplicate, (int, float)) or not 0 <= duplicate <= 1:
                raise ControlError("duplicate must be a probability from 0 to 1 (or a bool)")
            mode.batch, mode.duplicate = batch, float(duplicate)
            mode.reorder = bool(body.get("reorder", mode.reorder))
            with self.state.lock:
                self.state.username_only_default = bool(
                    body.get("username_only", self.state.username_only_default))
        return reply({"batch": mode.batch, "duplicate": mode.duplicate,
                      "reorder": mode.reorder,
                      "username_only": self.state.username_only_default})

    def flush(self, request: Request) -> Response:
        # Never under the state lock: delivery marks messages delivered, which takes it.
        scheduled = bool(_body(request).get("scheduled", True))
        return reply({"posts": self.hooks.flush(scheduled=scheduled)})

    def retry_now(self, request: Request) -> Response:
        return reply({"posts": self.hooks.retry_now()})

    def log(self, request: Request) -> Response:
        return reply({"posts": self.hooks.entries(), "pending": self.hooks.pending_count()})

    def clock(self, request: Request) -> Response:
        if request.method == "POST":
            seconds = _body(request).get("advance_seconds")
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) \
                    or seconds < 0:
                raise ControlError("advance_seconds must be a number ≥ 0 (time never goes back)")
            with self.state.lock:
                self.state.clock.advance(float(seconds))
            self.hooks.poke()
        return reply({"now": self.state.now()})

    def reset(self, request: Request) -> Response:
        with self.state.lock:
            self.state.reset()
        return reply({"ok": True})


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ControlError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body
