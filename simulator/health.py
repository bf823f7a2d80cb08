"""Provides the business number's health: what Graph reports, and the webhooks a change sends.

Gembok learns about a disconnected, flagged or restricted number both by polling
(`GET /{phone-number-id}`, `fields=health_status`) and from account webhooks; both views
come from the one `Health` record here, so they never disagree.
"""

from __future__ import annotations

from typing import Any

from simulator.config import MESSAGING_LIMITS, SimulatorConfig
from simulator.errors import GraphError
from simulator.numbers import calling_code, region_of
from simulator.payloads import TIERS, ban_date
from simulator.state import State
from simulator.webhooks import WebhookSender

PHONE_STATUSES = ("PENDING", "DELETED", "MIGRATED", "BANNED", "RESTRICTED", "RATE_LIMITED",
                  "FLAGGED", "CONNECTED", "DISCONNECTED", "UNKNOWN", "UNVERIFIED")
QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
THROUGHPUT_LEVELS = ("STANDARD", "HIGH")
BLOCKED = ("PENDING", "DELETED", "MIGRATED", "BANNED", "DISCONNECTED", "UNVERIFIED")
# Fields of the phone-number node that Graph knows (pywa asks for all of these at once).
KNOWN_FIELDS = {
    "id", "verified_name", "display_phone_number", "conversational_automation", "status",
    "quality_rating", "quality_score", "webhook_configuration", "name_status",
    "new_name_status", "code_verification_status", "account_mode", "is_on_biz_app",
    "is_official_business_account", "is_pin_enabled", "is_preverified_number",
    "search_visibility", "platform_type", "throughput", "health_status", "certificate",
    "new_certificate", "last_onboarded_time", "country_code", "country_dial_code",
    "whatsapp_business_manager_messaging_limit", "messaging_limit_tier",
    "eligibility_for_api_business_global_search",
}
DEFAULT_FIELDS = ("verified_name", "code_verification_status", "display_phone_number",
                  "quality_rating", "platform_type", "throughput", "status",
                  "whatsapp_business_manager_messaging_limit", "id")


def portfolio_id(cfg: SimulatorConfig) -> str:
    """The business portfolio owning the WABA: not configured, so derived, stable per WABA."""
    return str(10**15 + int(cfg.waba_id) % (9 * 10**15))


def phone_number_fields(state: State, fields: str | None,
                        number: str | None = None) -> dict[str, Any]:
    """`GET /{phone-number-id}[?fields=…]`; unknown fields are Graph's error 100. The
    health is the business's (one state for all its numbers in this simulator)."""
    cfg, h = state.config.as_number(number), state.health
    values: dict[str, Any] = {
        "verified_name": cfg.business_name, "code_verification_status": "VERIFIED",
        "display_phone_number": cfg.display_phone_number, "quality_rating": h.quality,
        "quality_score": {"score": h.quality}, "platform_type": "CLOUD_API",
        "throughput": {"level": h.throughput_level}, "status": h.status,
        "whatsapp_business_manager_messaging_limit": TIERS[h.messaging_limit],
        "name_status": "APPROVED", "account_mode": "LIVE", "is_on_biz_app": False,
        "is_official_business_account": False, "is_pin_enabled": True,
        "is_preverified_number": False, "country_code": region_of(cfg.display_phone_number),
        "country_dial_code": calling_code(cfg.display_phone_number),
        "health_status": health_status(state), "id": cfg.phone_number_id,
    }
    if cfg.webhook_url:
        values["webhook_configuration"] = {"application": cfg.webhook_url}
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else DEFAULT_FIELDS
    for name in wanted:
        if name not in KNOWN_FIELDS:
            raise GraphError(100, f"Tried accessing nonexisting field ({name}) on node type "
                             "(WhatsAppBusinessPhoneNumber)",
                             message=f"(#100) Tried accessing nonexisting field ({name}) on "
                             "node type (WhatsAppBusinessPhoneNumber)")
    return {k: values[k] for k in [*wanted, "id"] if k in values}


def health_status(state: State) -> dict[str, Any]:
    """The health-status shape of reference §5.5, computed from status and quality."""
    cfg, h = state.config, state.health
    phone: dict[str, Any] = {"entity_type": "PHONE_NUMBER", "id": cfg.phone_number_id,
                             "can_send_message": "AVAILABLE"}
    if h.status in BLOCKED:
        phone["can_send_message"] = "BLOCKED"
        phone["errors"] = [{"error_code": 131031 if h.status == "BANNED" else 133010,
                            "error_description": f"The phone number is {h.status.lower()}.",
                            "possible_solution": "Reconnect or re-register the number in "
                            "WhatsApp Manager."}]
    elif h.status in ("RESTRICTED", "FLAGGED", "RATE_LIMITED") or h.quality == "RED":
        phone["can_send_message"] = "LIMITED"
        phone["additional_info"] = [f"Phone number status is {h.status}, quality {h.quality}."]
    waba = {"entity_type": "WABA", "id": cfg.waba_id, "can_send_message": "AVAILABLE"}
    return {"can_send_message": phone["can_send_message"], "entities": [phone, waba]}


def change(state: State, hooks: WebhookSender, request: dict[str, Any]) -> list[str]:
    """Applies `POST /_sim/number` and emits the account webhooks Meta would; returns their
    fields. Call with `state.lock` held."""
    h, cfg, now = state.health, state.config, state.now()
    status = request.get("status", h.status)
    quality = request.get("quality", h.quality)
    level = request.get("throughput", h.throughput_level)
    limit = request.get("messaging_limit", h.messaging_limit)
    if status not in PHONE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(PHONE_STATUSES)}")
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}")
    if level not in THROUGHPUT_LEVELS:
        raise ValueError("throughput must be STANDARD or HIGH")
    if limit not in MESSAGING_LIMITS or type(limit) is bool:
        raise ValueError("messaging_limit must be 250, 2000, 10000, 100000 or null")
    events: list[tuple[str, dict[str, Any]]] = []
    old = h.status
    if status != old:
        events.extend(_status_events(state, old, status, request, now))
    if limit != h.messaging_limit:
        capability: dict[str, Any] = {"max_daily_conversations_per_business":
                                      -1 if limit is None else limit}
        if cfg.api_major < 24:
            capability["max_daily_conversation_per_phone"] = capability[
                "max_daily_conversations_per_business"]
        events.append(("business_capability_update", capability))
    if level != h.throughput_level and level == "HIGH":
        events.append(("phone_number_quality_update", {
            "display_phone_number": cfg.display_phone_number, "event": "THROUGHPUT_UPGRADE",
            "current_limit": "TIER_UNLIMITED"}))
    h.status, h.quality, h.throughput_level, h.messaging_limit = status, quality, level, limit
    for field, value in events:
        hooks.enqueue(field, value)
    return [field for field, _ in events]


def _status_events(state: State, old: str, new: str, request: dict[str, Any],
                   now: float) -> list[tuple[str, dict[str, Any]]]:
    cfg = state.config
    tier = TIERS[state.health.messaging_limit]
    if new == "DISCONNECTED":
        reason = request.get("disconnection_reason")
        if not reason:
            return [("account_update", {"event": "ACCOUNT_OFFBOARDED"})]
        return [("account_update", {
            "event": "PARTNER_REMOVED", "waba_info": {"waba_id": cfg.waba_id,
                                                      "owner_business_id": portfolio_id(cfg)},
            "disconnection_info": {"reason": str(reason),
                                   "initiated_by": str(request.get("initiated_by", "SYSTEM"))}})]
    if new == "FLAGGED":  # the legacy shape, still replayed (reference §2.8)
        return [("phone_number_quality_update", {
            "display_phone_number": cfg.display_phone_number, "event": "FLAGGED",
            "current_limit": tier})]
    if new == "RESTRICTED":
        return [("account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
             "expiration": int(now + 86400)}]})]
    if new == "BANNED":
        return [("account_update", {"event": "DISABLED_UPDATE", "ban_info": {
            "waba_ban_state": "DISABLE", "waba_ban_date": ban_date(now)}})]
    if new == "CONNECTED" and old == "DISCONNECTED":
        return [("account_update", {"event": "ACCOUNT_RECONNECTED"})]
    if new == "CONNECTED" and old == "BANNED":
        return [("account_update", {"event": "DISABLED_UPDATE", "ban_info": {
            "waba_ban_state": "REINSTATE", "waba_ban_date": ban_date(now)}})]
    if new == "CONNECTED" and old == "FLAGGED":  # † legacy UNFLAGGED
        return [("phone_number_quality_update", {
            "display_phone_number": cfg.display_phone_number, "event": "UNFLAGGED",
            "current_limit": tier})]
    return []
