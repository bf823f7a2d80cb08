"""Provides the business number's health: from account webhooks and from polling.

Every change (connected, disconnected, flagged, restricted, quality, messaging limit) is
stored as a row; `changed` tells the alerting whether staff must hear about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from appliance.clock import utcnow
from appliance.store.models import NumberHealth

# account_update events that mean the number cannot (or can again) send.
DISCONNECTING = {"ACCOUNT_OFFBOARDED": "DISCONNECTED", "PARTNER_REMOVED": "DISCONNECTED",
                 "ACCOUNT_DELETED": "DELETED", "ACCOUNT_RESTRICTION": "RESTRICTED",
                 "ACCOUNT_VIOLATION": "FLAGGED", "DISABLED_UPDATE": "BANNED"}
RECONNECTING = {"ACCOUNT_RECONNECTED": "CONNECTED"}
# Statuses in which Meta refuses what the number sends: not registered (133010), locked
# (131031), business-initiated messaging restricted (368, and an alert is a template).
# FLAGGED is not here: a flagged number still sends (its quality is low), and a send that
# Meta refuses anyway is kept all the same (`notify.kept_alerts`).
CANNOT_SEND = frozenset({"DISCONNECTED", "DELETED", "BANNED", "RESTRICTED", "PENDING",
                         "UNVERIFIED", "MIGRATED"})


@dataclass(frozen=True)
class HealthState:
    status: str = ""
    quality: str = ""
    messaging_limit: str = ""

    def describe(self) -> str:
        parts = [p for p in (self.status, self.quality and f"quality {self.quality}",
                             self.messaging_limit) if p]
        return ", ".join(parts) or "unknown"


def current(number_id: int = 1) -> HealthState:
    """What Gembok last heard of one number (number 1, the box's first, by default)."""
    row = (NumberHealth.select().where(NumberHealth.number_id == number_id)
           .order_by(NumberHealth.id.desc()).first())
    return HealthState(row.status, row.quality, row.messaging_limit) if row else HealthState()


def portfolio_limit(number_ids: Sequence[int]) -> str:
    """A portfolio's messaging limit: since 2025 one per portfolio, shared by all its
    numbers (cloud-api.md 5.4), so the latest any of its numbers reported."""
    row = (NumberHealth.select(NumberHealth.messaging_limit)
           .where(NumberHealth.messaging_limit != "",
                  NumberHealth.number_id.in_(list(number_ids)))
           .order_by(NumberHealth.id.desc()).first())
    return str(row.messaging_limit) if row else ""


def can_send(state: HealthState) -> bool:
    """Whether the number can carry a message now, as far as Gembok last heard."""
    return state.status not in CANNOT_SEND


def record(new: HealthState, *, source: str, event: str = "", number_id: int = 1) -> int | None:
    """Stores an observation; returns its row id when staff must hear of it, else None.

    A poll that sees what was already known stores nothing; a webhook event is always
    kept (Meta's alerts matter even when the state stays the same).
    """
    before = current(number_id)
    merged = HealthState(new.status or before.status, new.quality or before.quality,
                         new.messaging_limit or before.messaging_limit)
    if merged == before and not event:
        return None
    row = NumberHealth.create(source=source, status=merged.status, quality=merged.quality,
                              messaging_limit=merged.messaging_limit, event=event[:64],
                              number_id=number_id)
    first_sight = before == HealthState() and not event  # nothing to compare with yet
    return None if first_sight else int(row.id)


TOKEN_REJECTED = "TOKEN_REJECTED"  # noqa: S105 - an event name, not a secret


def token_rejected(number_id: int = 1) -> int | None:
    """Records that Meta refused a number's access token; a row to alert on, at most once an
    hour a number."""
    since = utcnow() - timedelta(hours=1)
    recent = NumberHealth.select().where(NumberHealth.event == TOKEN_REJECTED,
                                         NumberHealth.number_id == number_id,
                                         NumberHealth.at > since).exists()
    if recent:
        return None
    before = current(number_id)
    row = NumberHealth.create(source="client", status=before.status, quality=before.quality,
                              messaging_limit=before.messaging_limit, event=TOKEN_REJECTED,
                              number_id=number_id)
    return int(row.id)


def from_account_update(field: str, value: dict[str, Any]) -> tuple[HealthState, str] | None:
    """What an account-level webhook says about the number, if anything."""
    event = str(value.get("event", ""))
    if field == "account_update":
        if event == "DISABLED_UPDATE":
            ban = value.get("ban_info") or {}
            state = "CONNECTED" if ban.get("waba_ban_state") == "REINSTATE" else "BANNED"
            return HealthState(status=state), event
        status = DISCONNECTING.get(event) or RECONNECTING.get(event)
        return (HealthState(status=status), event) if status else None
    if field == "phone_number_quality_update":
        limit = str(value.get("current_limit") or "")
        status = "FLAGGED" if event == "FLAGGED" else "CONNECTED" if event == "UNFLAGGED" else ""
        return HealthState(status=status, messaging_limit=limit), event
    if field == "account_alerts":
        info = value.get("alert_info") or {}
        return HealthState(), str(info.get("alert_type", "ALERT"))
    return None


def from_phone_number(doc: dict[str, Any]) -> HealthState:
    """The same facts from a poll of `GET /{phone-number-id}`."""
    return HealthState(status=str(doc.get("status", "") or ""),
                       quality=str(doc.get("quality_rating", "") or ""),
                       messaging_limit=str(doc.get("whatsapp_business_manager_messaging_limit",
                                                   "") or ""))
