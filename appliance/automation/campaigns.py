"""Provides campaigns as the faces use them: create, preview, start, pause, resume, cancel,
report; and what the scheduler asks (which campaigns are due).

Who: a supervisor keeps the campaigns of their divisions, to their divisions' customers;
an admin every campaign. Neither sees a phone number or a name here: a campaign is
counts, reasons and a template, so the report exports with no personal data in it.
Every change is audited.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from appliance.auth.permissions import Denied, Principal, require
from appliance.automation import audience, campaign_runner, template_book
from appliance.automation.audience import AudienceError, Filter, Parameter
from appliance.clock import utcnow
from appliance.config.checks import clock_time
from appliance.runtime import Runtime
from appliance.store import broadcast as store
from appliance.store.db import db
from appliance.whatsapp import numbers

STATES = ("draft", "scheduled", "running", "paused", "cancelled", "done")
FINAL = ("sent", "delivered", "read", "failed", "capped", "skipped", "unknown")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE")
MAX_NAME = 80


class CampaignError(AudienceError):
    """A campaign change that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Summary:
    id: int
    name: str
    state: str
    template: str
    language: str
    category: str
    division_id: int | None
    created_by: str
    created_at: datetime
    start_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    note: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def to_send(self) -> int:
        return self.total - self.counts.get("skipped", 0)

    @property
    def done(self) -> int:
        return sum(n for s, n in self.counts.items() if s not in ("queued", "sending"))


def _may_keep(principal: Principal, row: store.Campaign) -> bool:
    if principal.role == "admin":
        return True
    return row.division_id is not None and row.division_id in principal.divisions


def _row(principal: Principal, campaign_id: int) -> store.Campaign:
    require(principal, "broadcast.manage")
    row = store.Campaign.get_or_none(store.Campaign.id == campaign_id)
    if row is None or not _may_keep(principal, row):
        raise Denied()
    return row


def summary(row: store.Campaign) -> Summary:
    t = template_book.get(int(row.template_id))
    return Summary(int(row.id), str(row.name), str(row.state), t.name, t.language, t.category,
                   row.division_id, str(row.created_by), row.created_at, row.start_at,
                   row.started_at, row.finished_at, str(row.note),
                   store.counts(int(row.id)))


def list_campaigns(principal: Principal) -> list[Summary]:
    require(principal, "broadcast.manage")
    query = store.Campaign.select().order_by(store.Campaign.id.desc())
    if principal.role != "admin":
        query = query.where(store.Campaign.division.in_(sorted(principal.divisions)))
    return [summary(r) for r in query.limit(200)]


def draft_of(principal: Principal, campaign_id: int) -> store.Campaign:
    """The campaign, if it is still a draft the principal keeps (recipients may change)."""
    row = _row(principal, campaign_id)
    if row.state != "draft":
        raise CampaignError(f"the campaign is {row.state}: recipients are added to a draft")
    return row


def get(principal: Principal, campaign_id: int) -> Summary:
    return summary(_row(principal, campaign_id))


def create(rt: Runtime, principal: Principal, *, name: str, template_id: int,
           parameters: list[dict[str, Any]], audience_filter: Filter | None,
           quiet_start: str | None = None, quiet_end: str | None = None,
           number_id: int = numbers.FIRST_NUMBER) -> int:
    """A draft campaign with its recipients chosen by `audience_filter` (None: they come
    from a CSV import next), sent from the business's number `number_id`. Returns its id."""
    require(principal, "broadcast.manage")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise CampaignError(f"give the campaign a name of 1 to {MAX_NAME} characters")
    t = template_book.usable(template_id)
    sender = _sender(rt, number_id, t)
    params = audience.parameters_for(t, parameters)
    if audience_filter is not None and any(p.source == "column" for p in params):
        raise CampaignError("a CSV column is a value source only for a campaign whose "
                            "recipients come from a CSV import")
    settings = rt.settings.broadcast
    quiet = (quiet_start or settings.quiet_start, quiet_end or settings.quiet_end)
    for value in quiet:
        if clock_time(value):
            raise CampaignError(f"quiet hours: {value!r} is not a time such as 21:00")
    divisions = audience.divisions_of(principal, audience_filter.divisions
                                      if audience_filter else ())
    division = divisions[0] if divisions else None
    if principal.role != "admin" and division is None:
        raise CampaignError("you keep no division: a supervisor's campaign is for their "
                            "division's customers")
    with db.atomic():
        row = store.Campaign.create(
            name=name, template=t.id, division=division, created_by=principal.actor,
            number_id=sender,
            state="draft", quiet_start=quiet[0], quiet_end=quiet[1],
            parameters=json.dumps([p.as_json() for p in params]),
            audience=json.dumps(audience_filter.as_json() if audience_filter else
                                {"source": "csv"}), note="", runner="")
        if audience_filter is not None:
            found = audience.find(principal, audience_filter)
            audience.prepare(rt, int(row.id), found, t, params, audience_filter)
        rt.audit(actor=principal.actor, action="campaign.created", target=f"campaign:{row.id}",
                 detail={"template": t.name, "language": t.language})
    return int(row.id)


def senders(rt: Runtime, t: template_book.TemplateInfo) -> list[numbers.Number]:
    """The active numbers a campaign of `t` may leave from: those of the WhatsApp Business
    Account it belongs to (Meta answers 132001 to another account's template); a template
    synced before templates had an account (m0017) is number 1's."""
    return [n for n in numbers.active(rt) if n.waba_id == t.waba_id
            or (not t.waba_id and n.id == numbers.FIRST_NUMBER)]


def _sender(rt: Runtime, number_id: int, t: template_book.TemplateInfo) -> int:
    """`number_id`, if a campaign of `t` may leave from it; else why not, in words."""
    served = {n.id: n for n in numbers.active(rt)}
    if number_id not in served:
        raise CampaignError(f"there is no active number {number_id} to send from: "
                            "`gembok whatsapp numbers` lists them")
    able = senders(rt, t)
    if number_id not in {n.id for n in able}:
        hint = (f"send it from {' or '.join(n.label for n in able)}" if able
                else "sync the templates, then choose one of that number's")
        raise CampaignError(f"template {t.name} ({t.language}) belongs to another WhatsApp "
                            f"Business Account than {served[number_id].label}: {hint}")
    return number_id


def parameters_of(row: store.Campaign) -> list[Parameter]:
    return [Parameter(str(p["name"]), str(p["source"]), str(p.get("value", "")))
            for p in json.loads(row.parameters)]


@dataclass(frozen=True)
class Preview:
    to_send: int
    excluded: dict[str, int]
    limit: int | None  # people per 24 h at the portfolio's tier; None: unlimited or unknown
    days: int  # days the campaign needs at that tier
    minutes: int  # minutes of sending at the number's throughput
    cost: Decimal | None
    currency: str


def preview(rt: Runtime, principal: Principal, campaign_id: int) -> Preview:
    row = _row(principal, campaign_id)
    counts = store.counts(int(row.id))
    excluded = store.reasons(int(row.id))
    excluded = {r: n for r, n in excluded.items() if r}
    to_send = sum(n for s, n in counts.items() if s != "skipped")
    limit, _ = campaign_runner.messaging_limit(rt, int(row.number_id))
    days = math.ceil(to_send / limit) if limit else (1 if to_send else 0)
    minutes = math.ceil(to_send / rt.settings.broadcast.throughput / 60) if to_send else 0
    t = template_book.get(int(row.template_id))
    rate = store.MessageRate.get_or_none(store.MessageRate.category == t.category)
    cost = Decimal(rate.price) * to_send if rate is not None else None
    return Preview(to_send, excluded, limit, days, minutes, cost,
                   rate.currency if rate is not None else "")


def start(rt: Runtime, principal: Principal, campaign_id: int,
          start_at: datetime | None = None) -> str:
    """A draft goes: now (`running`) or at `start_at` (UTC; `scheduled`)."""
    row = _row(principal, campaign_id)
    if row.state != "draft":
        raise CampaignError(f"the campaign is {row.state}: only a draft can be started")
    template_book.usable(int(row.template_id))
    if not store.counts(int(row.id)).get("queued"):
        raise CampaignError("nobody to send to: every recipient was excluded (see why)")
    now = utcnow()
    state = "scheduled" if start_at is not None and start_at > now else "running"
    store.Campaign.update(state=state, start_at=start_at, updated_at=now,
                          started_at=now if state == "running" else None).where(
        store.Campaign.id == row.id).execute()
    rt.audit(actor=principal.actor, action="campaign.started", target=f"campaign:{row.id}",
             detail={"state": state})
    return state


def pause(rt: Runtime, principal: Principal, campaign_id: int) -> None:
    _move(rt, principal, campaign_id, ("running", "scheduled"), "paused", "campaign.paused")


def resume(rt: Runtime, principal: Principal, campaign_id: int) -> None:
    row = _row(principal, campaign_id)
    template_book.usable(int(row.template_id))
    _move(rt, principal, campaign_id, ("paused",), "running", "campaign.resumed")


def cancel(rt: Runtime, principal: Principal, campaign_id: int) -> None:
    """Stops it for good: who was not sent yet is skipped, `cancelled`."""
    _move(rt, principal, campaign_id, ("draft", "scheduled", "running", "paused"), "cancelled",
          "campaign.cancelled")
    store.CampaignRecipient.update(state="skipped", reason="cancelled", updated_at=utcnow()).where(
        store.CampaignRecipient.campaign == campaign_id,
        store.CampaignRecipient.state == "queued").execute()


def _move(rt: Runtime, principal: Principal, campaign_id: int, from_states: tuple[str, ...],
          to_state: str, action: str) -> None:
    row = _row(principal, campaign_id)
    if row.state not in from_states:
        raise CampaignError(f"the campaign is {row.state}: it cannot be "
                            f"{to_state.replace('running', 'resumed')}")
    now = utcnow()
    changes: dict[str, Any] = {"state": to_state, "updated_at": now, "note": ""}
    if to_state == "cancelled":
        changes["finished_at"] = now
    store.Campaign.update(**changes).where(store.Campaign.id == row.id,
                                           store.Campaign.state == row.state).execute()
    rt.audit(actor=principal.actor, action=action, target=f"campaign:{row.id}")


@dataclass(frozen=True)
class Report:
    summary: Summary
    sent: int
    delivered: int
    read: int
    failed: int
    capped: int
    skipped: int
    unknown: int  # still unsettled: maybe sent, no status ever came
    in_flight_at_stop: int  # in flight when a worker stopped (settled since, or resent)
    resent: int  # of those, sent once more after no status came
    replied: int
    opted_out: int
    reasons: dict[str, int]
    timeline: list[tuple[str, int, int, int, int]]
    cost: Decimal | None
    currency: str


def report(principal: Principal, campaign_id: int) -> Report:
    """Counts as the report shows them: `sent` is every message Meta accepted (delivered
    and read included), `delivered` includes read."""
    s = summary(_row(principal, campaign_id))
    c = s.counts
    reasons = store.reasons(s.id)
    delivered = c.get("delivered", 0) + c.get("read", 0)
    rate = store.MessageRate.get_or_none(store.MessageRate.category == s.category)
    doubt, resent = store.in_doubt(s.id)
    return Report(s, c.get("sent", 0) + delivered, delivered, c.get("read", 0),
                  c.get("failed", 0), c.get("capped", 0), c.get("skipped", 0),
                  c.get("unknown", 0), doubt, resent, store.replied(s.id),
                  reasons.get("opted_out", 0),
                  reasons, store.timeline(s.id),
                  Decimal(rate.price) * delivered if rate is not None else None,
                  rate.currency if rate is not None else "")


def report_csv(principal: Principal, campaign_id: int) -> str:
    """The aggregate report as CSV: counts and reasons, never a number or a name."""
    r = report(principal, campaign_id)
    lines = ["measure,count"]
    for key in ("sent", "delivered", "read", "failed", "capped", "skipped", "unknown",
                "in_flight_at_stop", "resent", "replied", "opted_out"):
        lines.append(f"{key},{getattr(r, key)}")
    lines += [f"reason:{k},{v}" for k, v in sorted(r.reasons.items()) if k]
    if r.cost is not None:
        lines.append(f"estimated_cost_{r.currency},{r.cost}")
    lines.append("")
    lines.append("minute_utc,sent,delivered,read,failed")
    lines += [",".join(str(v) for v in point) for point in r.timeline]
    return "\n".join(lines) + "\n"


def rates() -> dict[str, tuple[str, str]]:
    return {str(r.category): (str(r.currency), str(r.price))
            for r in store.MessageRate.select()}


def set_rate(rt: Runtime, principal: Principal, category: str, currency: str,
             price: str) -> None:
    require(principal, "settings.manage")
    category, currency = category.upper(), currency.upper()
    if category not in CATEGORIES:
        raise CampaignError(f"category must be one of {', '.join(CATEGORIES)}")
    if len(currency) != 3 or not currency.isalpha():
        raise CampaignError("currency: three letters such as IDR")
    try:
        value = Decimal(price.replace(",", "."))
    except InvalidOperation:
        raise CampaignError(f"price {price!r} is not a number: write it as 350 or 0.0125") \
            from None
    if not value.is_finite() or value < 0 or value > 10**9:
        raise CampaignError("price: a number from 0 up")
    store.MessageRate.insert(category=category, currency=currency, price=str(value),
                             updated_at=utcnow(), updated_by=principal.actor).on_conflict(
        conflict_target=[store.MessageRate.category],
        update={store.MessageRate.currency: currency, store.MessageRate.price: str(value),
                store.MessageRate.updated_at: utcnow(),
                store.MessageRate.updated_by: principal.actor}).execute()
    rt.audit(actor=principal.actor, action="broadcast.rate", target=f"rate:{category}",
             detail={"currency": currency, "price": str(value)})


def due(rt: Runtime) -> list[int]:
    """Campaigns a runner should take now: scheduled ones whose time came (made running),
    and running ones with no live runner, something due, and no quiet hours."""
    now = utcnow()
    store.Campaign.update(state="running", started_at=now, updated_at=now).where(
        store.Campaign.state == "scheduled", store.Campaign.start_at <= now).execute()
    out = []
    for row in store.Campaign.select().where(store.Campaign.state == "running"):
        if row.runner and row.lease_until is not None and row.lease_until > now:
            continue
        if campaign_runner.in_quiet_hours(now, row.quiet_start, row.quiet_end,
                                          rt.settings.timezone):
            continue
        when = store.next_due(int(row.id))
        if when is None or when <= now or row.runner:  # None: the runner closes it
            out.append(int(row.id))
    return out


@dataclass(frozen=True)
class Progress:
    """A running campaign as the admin's Status screen shows it: no names, no numbers."""

    id: int
    name: str
    done: int
    left: int
    per_second: float


RATE_WINDOW = 10.0  # seconds the shown rate is averaged over


def running() -> list[Progress]:
    since = utcnow() - timedelta(seconds=RATE_WINDOW)
    out = []
    for row in store.Campaign.select().where(store.Campaign.state == "running"):
        s = summary(row)
        out.append(Progress(s.id, s.name, s.done - s.counts.get("skipped", 0),
                            s.to_send - (s.done - s.counts.get("skipped", 0)),
                            store.sent_since(s.id, since) / RATE_WINDOW))
    return out
