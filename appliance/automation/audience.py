"""Provides a campaign's audience: who the filter finds, who is excluded and why, and each
recipient's own template values.

The filter reads the supervisor's divisions only (an admin's campaign: every division).
Whatever it says, a MARKETING template goes only to customers whose latest marketing
entry in the consent ledger is a grant: never to one who opted out, nor to one who never
opted in. Meta's per-user cap (131049) in the last 24 hours excludes too: Meta asks not
to try again within the day (cloud-api.md §11). Each recipient's values (their name, a
CSV column) are sealed under their own key in their recipient row; a value that comes
out empty skips the person with the reason, rather than send "Halo ,".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from appliance.auth.permissions import Principal
from appliance.automation import template_book
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.errors import GembokError
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import broadcast as store
from appliance.store.chatroom import ConversationLabel, Label
from appliance.store.models import Conversation, Customer
from appliance.store.sealed import open_text, seal_text
from appliance.whatsapp.templates import refused_by_meta

SOURCES = ("name", "column", "text")
CONSENT_FILTERS = ("any", "granted")
REASONS = {
    "no_opt_in": "no marketing opt-in on record",
    "opted_out": "opted out of marketing",
    "capped_recently": "capped by Meta's per-person marketing limit in the last 24 hours",
    "no_number": "no valid WhatsApp number",
    "empty_value": "a template value is empty for them",
    "cancelled": "the campaign was cancelled before their turn",
}
CAP_DAY = timedelta(hours=24)


class AudienceError(GembokError):
    """The filter or the values cannot be used as given; the message says which and why."""


@dataclass(frozen=True)
class Parameter:
    """Where one template value comes from: the customer's name, a CSV column, or a text
    the same for everyone (the business's words)."""

    name: str
    source: str
    value: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "value": self.value}


@dataclass(frozen=True)
class Filter:
    divisions: tuple[int, ...] = ()  # empty: every division the principal has
    label: str = ""
    contacted_within_days: int | None = None
    consent: str = "any"

    def as_json(self) -> dict[str, Any]:
        return {"divisions": list(self.divisions), "label": self.label,
                "contacted_within_days": self.contacted_within_days, "consent": self.consent}


@dataclass
class Prepared:
    queued: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    def exclude(self, reason: str, n: int = 1) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + n


def parameters_for(t: template_book.TemplateInfo, raw: Sequence[dict[str, Any]]
                   ) -> list[Parameter]:
    """Checks that every value of the template has a source, and nothing else does."""
    given = {str(p.get("name", "")): p for p in raw if isinstance(p, dict)}
    out = []
    for name in t.parameters:
        p = given.get(name)
        if p is None:
            raise AudienceError(f"value {{{{{name}}}}} of template {t.name} has no source: "
                                "choose the customer's name, a CSV column or a text")
        source, value = str(p.get("source", "")), str(p.get("value", "")).strip()
        if source not in SOURCES:
            raise AudienceError(f"value {{{{{name}}}}}: the source must be one of "
                                f"{', '.join(SOURCES)}")
        if source in ("column", "text") and not value:
            raise AudienceError(f"value {{{{{name}}}}}: give the "
                                f"{'column name' if source == 'column' else 'text'}")
        if source == "text" and refused_by_meta(value):
            raise AudienceError(f"value {{{{{name}}}}} has a line break, a tab or five spaces "
                                "in a row, which WhatsApp refuses in a template: write it on "
                                "one line")
        out.append(Parameter(name, source, value[:1000]))
    extra = sorted(set(given) - set(t.parameters))
    if extra:
        raise AudienceError(f"template {t.name} has no value named {extra[0]}")
    return out


def divisions_of(principal: Principal, wanted: Sequence[int]) -> list[int] | None:
    """The divisions a filter may read: the principal's (None: every division, an admin)."""
    if principal.role == "admin":
        return list(wanted) or None
    mine = sorted(principal.divisions)
    if not wanted:
        return mine
    outside = [d for d in wanted if d not in principal.divisions]
    if outside:
        raise AudienceError("a division of the filter is not one of yours")
    return sorted(wanted)


def find(principal: Principal, f: Filter) -> list[int]:
    """Customer ids the filter finds (erased ones never)."""
    if f.consent not in CONSENT_FILTERS:
        raise AudienceError(f"consent must be one of {', '.join(CONSENT_FILTERS)}")
    divisions = divisions_of(principal, f.divisions)
    query = (Conversation.select(Conversation.customer).distinct()
             .join(Customer, on=(Customer.id == Conversation.customer))
             .where(Customer.erased_at.is_null()))
    if divisions is not None:
        query = query.where(Conversation.division.in_(divisions))
    if f.contacted_within_days is not None:
        if not 0 < f.contacted_within_days <= 3650:
            raise AudienceError("last contact: a number of days from 1 to 3650")
        since = utcnow() - timedelta(days=f.contacted_within_days)
        query = query.where(Conversation.last_message_at >= since)
    if f.label:
        labelled = (ConversationLabel.select(ConversationLabel.conversation)
                    .join(Label).where(Label.name == f.label.strip()))
        query = query.where(Conversation.id.in_(labelled))
    rows: Any = query.tuples()
    return sorted({int(r[0]) for r in rows})


def recently_capped(customer_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(customer_ids))
    found: set[int] = set()
    since = utcnow() - CAP_DAY
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = (store.CampaignRecipient.select(store.CampaignRecipient.customer)
                 .where(store.CampaignRecipient.customer.in_(chunk),
                        store.CampaignRecipient.state == "capped",
                        store.CampaignRecipient.updated_at >= since))
        rows: Any = query.tuples()
        found |= {int(r[0]) for r in rows}
    return found


def prepare(rt: Runtime, campaign_id: int, customer_ids: Sequence[int],
            t: template_book.TemplateInfo, parameters: Sequence[Parameter], f: Filter,
            columns: dict[int, dict[str, str]] | None = None) -> Prepared:
    """Writes one recipient row per customer: queued with their sealed values, or skipped
    with the reason. Call inside a transaction."""
    out = Prepared()
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        states = consent.marketing_states(chunk)
        capped = recently_capped(chunk) if t.marketing else set()
        keys = customer_keysets(rt.master, set(chunk))
        rows = {int(r.id): r for r in Customer.select().where(Customer.id.in_(chunk))}
        queued: list[tuple[int, int, str, str, bytes | None]] = []
        values_of: dict[int, dict[str, str]] = {}
        for cid in chunk:
            reason = _excluded(t, f, states.get(cid, consent.UNKNOWN), cid in capped,
                               rows.get(cid))
            values: dict[str, str] | None = None
            if not reason:
                values = _values(keys[cid], rows[cid], parameters,
                                 (columns or {}).get(cid, {}))
                if values is None:
                    reason = "empty_value"
            if reason:
                out.exclude(reason)
                queued.append((campaign_id, cid, "skipped", reason, None))
            else:
                out.queued += 1
                queued.append((campaign_id, cid, "queued", "", None))
                values_of[cid] = values or {}
        store.insert_recipients(queued)
        seal_values(campaign_id, keys, values_of)
    return out


def seal_values(campaign_id: int, keys: dict[int, KeySet],
                values_of: dict[int, dict[str, str]]) -> None:
    """Seals the values of rows just inserted: the row id is part of what is sealed
    (pinned to its row), so this follows the insert."""
    if not values_of:
        return
    ids = store.recipient_ids(campaign_id, sorted(values_of))
    store.set_values([(seal_text(keys[cid], store.CampaignRecipient, "values", rid,
                                 json.dumps(values_of[cid], ensure_ascii=False)), rid)
                      for cid, rid in ids.items()])


def _excluded(t: template_book.TemplateInfo, f: Filter, marketing: str, capped: bool,
              row: Customer | None) -> str:
    if row is None or row.erased_at is not None:
        return "no_number"
    if row.phone_sealed is None and row.wa_user_sealed is None:
        return "no_number"
    if t.marketing or f.consent == "granted":
        if marketing == consent.WITHDRAWN:
            return "opted_out"
        if marketing != consent.GRANTED:
            return "no_opt_in"
    if capped:
        return "capped_recently"
    return ""


def _values(keys: KeySet, row: Customer, parameters: Sequence[Parameter],
            columns: dict[str, str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for p in parameters:
        if p.source == "name":
            value = open_text(keys, Customer, "name", int(row.id), row.name_sealed) or ""
        elif p.source == "column":
            value = columns.get(p.value, "")
        else:
            value = p.value
        value = " ".join(value.split())  # Meta refuses newlines, tabs, runs of spaces
        if not value:
            return None
        out[p.name] = value[:1000]
    return out
