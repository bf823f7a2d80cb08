"""Provides the bodies of the webhooks the simulator sends, in Meta's exact shapes and types.

Fidelity points that peers got wrong (reference §7.3, §9): `entry[].id` is the WABA
id, message and status timestamps are strings while account-level `time` is an int,
a username user has no `wa_id`/`from`/`recipient_id`, and a failed status has no
`contacts` block.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from simulator.config import SimulatorConfig
from simulator.state import Customer

MESSAGES = "messages"
# Fields whose entry carries no `time` (pywa's and Meta's samples); all others do.
UNTIMED_FIELDS = {MESSAGES, "user_preferences"}
TIERS = {250: "TIER_250", 2000: "TIER_2K", 10000: "TIER_10K", 100000: "TIER_100K",
         None: "TIER_UNLIMITED"}

Update = tuple[str, dict[str, Any]]  # (field, value) of one change


def metadata(config: SimulatorConfig) -> dict[str, str]:
    return {"display_phone_number": config.display_phone_number,
            "phone_number_id": config.phone_number_id}


def contact(customer: Customer, *, username: bool = True) -> dict[str, Any]:
    profile: dict[str, str] = {"name": customer.name}
    if username and customer.username:
        profile["username"] = customer.username
    out: dict[str, Any] = {"profile": profile}
    if customer.phone_visible:
        out["wa_id"] = customer.wa_id
    out["user_id"] = customer.user_id
    return out


def message_value(config: SimulatorConfig, customer: Customer,
                  message: dict[str, Any]) -> dict[str, Any]:
    """One inbound message with its sender's contact block."""
    return {"messaging_product": "whatsapp", "metadata": metadata(config),
            "contacts": [contact(customer)], "messages": [message]}


def pricing(category: str, free: bool) -> dict[str, Any]:
    """Per-message pricing (PMP since July 2025); free inside the window for service/utility."""
    return {"billable": not free, "pricing_model": "PMP",
            "type": "free_customer_service" if free else "regular", "category": category}


def status_item(config: SimulatorConfig, wamid: str, status: str, timestamp: float, *,
                wa_id: str | None, user_id: str | None, by_bsuid: bool,
                price: dict[str, Any] | None = None, callback_data: str | None = None,
                error: dict[str, Any] | None = None) -> dict[str, Any]:
    """One `statuses[]` item; `wa_id` is None when the phone must stay hidden."""
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(timestamp))}
    if wa_id:
        item["recipient_id"] = wa_id
    if user_id and (status != "failed" or by_bsuid):
        item["recipient_user_id"] = user_id  # omitted on a failed send to a phone (§2.4)
    if config.api_major < 24 and status in ("sent", "delivered") and price is not None:
        conversation: dict[str, Any] = {"id": secrets.token_hex(16),
                                        "origin": {"type": price["category"]}}
        if status == "sent":
            conversation["expiration_timestamp"] = str(int(timestamp) + 86400)
        item["conversation"] = conversation
    if price is not None:
        item["pricing"] = price
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if error is not None:
        item["errors"] = [error]
    return item


def status_value(config: SimulatorConfig, item: dict[str, Any],
                 customer: Customer | None) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": metadata(config)}
    if item["status"] != "failed" and customer is not None:
        # Usernames appear on delivered and read statuses only (reference §2.4).
        value["contacts"] = [contact(customer,
                                     username=item["status"] in ("delivered", "read"))]
    value["statuses"] = [item]
    return value


def user_preferences_value(config: SimulatorConfig, customer: Customer, choice: str,
                           timestamp: float) -> dict[str, Any]:
    """Marketing stop or resume, shaped like pywa's `user_marketing_preferences.json`."""
    pref: dict[str, Any] = {}
    if customer.phone_visible:
        pref["wa_id"] = customer.wa_id
    pref["user_id"] = customer.user_id
    pref.update({"detail": f"User requested to {choice} marketing messages",
                 "category": "marketing_messages", "value": choice,
                 "timestamp": int(timestamp)})
    return {"messaging_product": "whatsapp", "metadata": metadata(config),
            "contacts": [contact(customer)], "user_preferences": [pref]}


def ban_date(timestamp: float) -> str:
    """`waba_ban_date` is written out in words ("April 17, 2025") in Meta's example."""
    day = datetime.fromtimestamp(timestamp, UTC)
    return f"{day:%B} {day.day}, {day.year}"


def envelope(waba_id: str, updates: Sequence[Update], now: float) -> dict[str, Any]:
    """One POST body holding every update given, merged the way Meta batches them.

    Inbound messages share one change, statuses with contacts another, failed statuses
    a third; account-level changes go in their own entry, which carries `time`.
    """
    merged: dict[str, dict[str, Any]] = {}
    plain: list[dict[str, Any]] = []
    timed: list[dict[str, Any]] = []
    for field, value in updates:
        if field == MESSAGES and ("messages" in value or "statuses" in value):
            key = ("messages" if "messages" in value
                   else "statuses" if "contacts" in value else "failed")
            if key not in merged:
                merged[key] = {"value": _empty_like(value), "field": field}
                plain.append(merged[key])
            _merge(merged[key]["value"], value)
        elif field in UNTIMED_FIELDS:
            plain.append({"value": value, "field": field})
        else:
            timed.append({"value": value, "field": field})
    entries: list[dict[str, Any]] = []
    if plain:
        entries.append({"id": waba_id, "changes": plain})
    if timed:
        entries.append({"id": waba_id, "time": int(now), "changes": timed})
    return {"object": "whatsapp_business_account", "entry": entries}


def _empty_like(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"messaging_product": value["messaging_product"],
                           "metadata": value["metadata"]}
    if "contacts" in value:
        out["contacts"] = []
    for key in ("messages", "statuses"):
        if key in value:
            out[key] = []
    return out


def _merge(into: dict[str, Any], value: dict[str, Any]) -> None:
    seen = {c["user_id"] for c in into.get("contacts", [])}
    for c in value.get("contacts", []):
        if c["user_id"] not in seen:
            into["contacts"].append(c)
            seen.add(c["user_id"])
    for key in ("messages", "statuses"):
        into.get(key, []).extend(value.get(key, []))
