"""Provides `POST /{phone-number-id}/messages`: the checks Meta makes and what happens after.

The answer is only "accepted" (reference §3.3); the outcome follows as status webhooks:
`sent` and `delivered`, or `failed` with 131026 (unknown user), 131047 (window closed,
in the default async mode), 131048 (messaging limit) or 131050 (marketing opt-out).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simulator import ids, payloads, templates
from simulator.errors import GraphError, webhook_error
from simulator.limits import DAY
from simulator.numbers import is_phone_like, normalise_to
from simulator.state import Customer, Outbound, State
from simulator.validate import check_message
from simulator.webhooks import WebhookSender

BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")
NOT_REGISTERED = ("DISCONNECTED", "PENDING", "UNVERIFIED", "DELETED", "MIGRATED")
TYPING_SECONDS = 25.0


def handle(state: State, hooks: WebhookSender, body: Any,
           number: str | None = None) -> dict[str, Any]:
    """`POST /{phone-number-id}/messages`: sent from `number` (the first one for None)."""
    _check_product(body)
    if "status" in body:
        return mark_read(state, body)
    return send(state, hooks, body, number=number)


def _check_product(body: Any) -> None:
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be "
                         "'whatsapp'.")


MARKETING_API = "marketing_messages"
POLICIES = ("CLOUD_API_FALLBACK", "STRICT")


def marketing(state: State, hooks: WebhookSender, body: Any,
              number: str | None = None) -> dict[str, Any]:
    """`POST /{phone-number-id}/marketing_messages`: the template send's body, plus
    `product_policy` and `message_activity_sharing`; MARKETING templates only (134100),
    and a template new or dormant on this API is not ready for a while (134101)
    (cloud-api.md §11). Statuses then price the message as `marketing_lite`."""
    _check_product(body)
    body = dict(body)
    if body.pop("product_policy", POLICIES[0]) not in POLICIES:
        raise GraphError(100, "Param product_policy must be one of "
                         f"{', '.join(POLICIES)}.")
    if not isinstance(body.pop("message_activity_sharing", False), bool):
        raise GraphError(100, "Param message_activity_sharing must be a boolean.")
    if body.get("type") != "template" or not isinstance(body.get("template"), dict):
        raise GraphError(131009, "The Marketing Messages API sends templates only: "
                         "type must be 'template'.")
    spec = body["template"]
    language = spec.get("language")
    with state.lock:
        template = templates.find(state.templates_of(state.config.as_number(number).waba_id),
                                  str(spec.get("name", "")),
                                  str(language.get("code", "")) if isinstance(language, dict)
                                  else "")
        if template["category"] != "MARKETING":
            raise GraphError(134100)
        if float(template.get("mm_ready_at", 0.0)) > state.now():
            raise GraphError(134101)
    return send(state, hooks, body, api=MARKETING_API, number=number)


def send(state: State, hooks: WebhookSender, body: dict[str, Any],
         api: str = "messages", number: str | None = None) -> dict[str, Any]:
    cfg = state.config.as_number(number)
    if body.get("recipient_type", "individual") != "individual":
        raise GraphError(131009, "recipient_type must be 'individual': groups are not "
                         "simulated.")
    to, recipient = body.get("to"), body.get("recipient")
    if (to is None) == (recipient is None):
        raise GraphError(100, "Exactly one of the parameters to and recipient is required.")
    callback_data = body.get("biz_opaque_callback_data")
    if callback_data is not None and (not isinstance(callback_data, str)
                                      or len(callback_data) > 512):
        raise GraphError(100, "Param biz_opaque_callback_data must be at most 512 characters.")
    with state.lock:
        mtype = check_message(body, lambda mid: state.media.get(mid, state.now()) is not None)
        now = state.now()
        _check_number(state, mtype)
        if to is not None:
            if not isinstance(to, str) or not is_phone_like(to):
                raise GraphError(100, "Invalid parameter: to must be a phone number.")
            wa_id: str | None = normalise_to(to, cfg.display_phone_number, state.by_wa_id)
            if wa_id == cfg.display_phone_number:
                raise GraphError(131021)
            customer = state.find_customer(wa_id) if wa_id else None
            pair_key = wa_id or ""
        else:
            if not isinstance(recipient, str) or not BSUID.fullmatch(recipient):
                raise GraphError(100, "Invalid parameter: recipient must be a business-scoped "
                                 "user ID.")
            wa_id = None
            customer = state.customers.get(recipient)
            pair_key = recipient
        if not state.throughput.admit(now, state.throughput_mps()):
            state.sends.refused()
            raise GraphError(130429)
        template = None
        if mtype == "template":
            spec = body["template"]
            template = templates.find(state.templates_of(cfg.waba_id), str(spec["name"]),
                                      str(spec["language"]["code"]))
            templates.check_parameters(template, spec.get("components", []))
        if not state.pair_rate.admit(pair_key, now):
            raise GraphError(131056)
        window_open = customer is not None and customer.window_open(now, cfg.phone_number_id)
        if (mtype != "template" and customer is not None and not window_open
                and cfg.window_failure == "sync"):
            raise GraphError(131047)

        content = body[mtype]
        out = Outbound(ids.wamid(), customer.user_id if customer else recipient, mtype,
                       copy.deepcopy(content), now, wa_id=wa_id, by_bsuid=to is None,
                       callback_data=callback_data, api=api, from_number=cfg.phone_number_id)
        if template is not None:
            out.rendered = templates.render(template, content.get("components", []))
        state.remember(out)
        state.sends.accepted(api, callback_data)
        failure = _failure(state, customer, template, window_open, now)
        if failure is not None:
            out.status, out.error_code = "failed", failure
            emit_status(state, hooks, out, "failed", error=webhook_error(failure))
        else:
            out.status = "sent"
            category = template["category"].lower() if template else "service"
            free = window_open and category in ("service", "utility")
            if api == MARKETING_API:
                category = "marketing_lite"
            emit_status(state, hooks, out, "sent", price=payloads.pricing(category, free))
            emit_status(state, hooks, out, "delivered", delay=cfg.auto_deliver_seconds)

        contact: dict[str, Any] = {"input": to if to is not None else recipient}
        if to is not None:
            contact["wa_id"] = wa_id
        elif customer is not None and customer.phone_visible:
            contact["wa_id"] = customer.wa_id
        if customer is not None or to is None:
            contact["user_id"] = out.user_id
        return {"messaging_product": "whatsapp", "contacts": [contact],
                "messages": [{"id": out.wamid}]}


def _check_number(state: State, mtype: str) -> None:
    status = state.health.status
    if status in NOT_REGISTERED:
        raise GraphError(133010)
    if status == "BANNED":
        raise GraphError(131031)
    if status == "RESTRICTED" and mtype == "template":  # business-initiated messaging only
        raise GraphError(368)


def _failure(state: State, customer: Customer | None, template: dict[str, Any] | None,
             window_open: bool, now: float) -> int | None:
    if customer is None:
        return 131026  # not a WhatsApp user: Meta accepts, then fails (usually async)
    if template is None:
        return None if window_open else 131047
    if template["category"] == "MARKETING" and customer.opted_out:
        return 131050
    if template["category"] == "MARKETING" and _capped(state, customer, now):
        return 131049
    # Over the messaging limit: Meta documents no dedicated code for the new per-portfolio
    # limit; 131048 ("restrictions on how many messages can be sent from this phone
    # number") is the closest documented one, and pywa maps it to SpamRateLimitHit.
    if not window_open and not state.messaging_limit.admit(
            customer.user_id, now, state.health.messaging_limit):
        return 131048
    return None


def _capped(state: State, customer: Customer, now: float) -> bool:
    """Meta's per-person marketing cap: forced by the control API, or over the configured
    count in a moving 24 h; the failure arrives later as a status (131049)."""
    if customer.marketing_capped:
        return True
    cap = state.config.marketing_cap_per_day
    recent = [t for t in customer.marketing_recent if now - t < DAY]
    if cap is not None and len(recent) >= cap:
        customer.marketing_recent = recent
        return True
    customer.marketing_recent = [*recent, now]
    return False


def emit_status(state: State, hooks: WebhookSender, out: Outbound, status: str, *,
                delay: float = 0.0, price: dict[str, Any] | None = None,
                error: dict[str, Any] | None = None) -> None:
    """Queues one status webhook of `out`; `delivered` is dropped if `read` comes first."""
    customer = state.customers.get(out.user_id) if out.user_id else None
    if customer is not None:
        wa_id = customer.wa_id if customer.phone_visible else None
    else:
        wa_id = out.wa_id
    cfg = state.config.as_number(out.from_number)  # statuses name the number it left from
    item = payloads.status_item(cfg, out.wamid, status, state.now() + delay,
                                wa_id=wa_id, user_id=out.user_id, by_bsuid=out.by_bsuid,
                                price=price, callback_data=out.callback_data, error=error)
    value = payloads.status_value(cfg, item, customer)
    if status != "delivered":
        hooks.enqueue(payloads.MESSAGES, value, delay=delay, account=cfg.waba_id)
        return

    def delivered() -> None:
        with state.lock:
            if out.status == "sent":
                out.status = "delivered"

    hooks.enqueue(payloads.MESSAGES, value, delay=delay, account=cfg.waba_id,
                  cancel_key=f"{out.wamid}:delivered",
                  on_take=delivered)


def mark_read(state: State, body: dict[str, Any]) -> dict[str, Any]:
    """`{"status": "read", "message_id": …}`: marks it and earlier messages of the chat read."""
    if body.get("status") != "read":
        raise GraphError(100, "Param status must be 'read'.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise GraphError(100, "The parameter message_id is required.")
    typing = body.get("typing_indicator")
    if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
        raise GraphError(131009, "typing_indicator['type'] must be 'text'.")
    with state.lock:
        message = state.inbound.get(message_id)
        if message is None:
            raise GraphError(100, f"Invalid message_id: {message_id} is not a message "
                             "received by this phone number.")
        for other in state.inbound.values():
            if other.user_id == message.user_id and other.created_at <= message.created_at:
                other.read = True
        customer = state.customers.get(message.user_id)
        if typing is not None and customer is not None:
            customer.typing_until = state.now() + TYPING_SECONDS
    return {"success": True}
