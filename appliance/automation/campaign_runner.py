"""Provides `run`: one worker sending one campaign for a while, exactly once per recipient.

A slice of due recipients is marked `sending` and committed before any of them goes out;
each answer is then written (in batches, a few times a second) as `sent` with its wamid,
`failed` with a reason, or `queued` again for later. One runner per campaign at a time,
by a lease on the campaign row that it renews as it goes; a runner that finds the lease
run out (its holder was killed) marks what the holder had in flight `unknown`: maybe
sent, never sent again, settled by Meta's status webhooks through the callback data each
send carries (`campaign_statuses`). The rate is the shared bucket of `send_rate`; the
calls go out through the async client of `campaign_wire`, hundreds in flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appliance.automation import campaign_statuses, send_rate, template_book
from appliance.automation.campaign_wire import Lost, NotSent, Wire, open_wire
from appliance.clock import utcnow
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import broadcast as store
from appliance.store.db import writing
from appliance.store.models import Customer
from appliance.store.sealed import open_text
from appliance.whatsapp import health, numbers
from appliance.whatsapp.connection import endpoint

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=10)
FLUSH_SECONDS = 0.25
SLICE_SECONDS = 0.4  # a claim holds about this long of sending: what a kill leaves unknown
TIERS = {"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000}
MAX_ATTEMPTS = 6
# Meta's answer about the template itself: what its status is, before the webhook says so
TEMPLATE_REFUSED = {132015: "PAUSED", 132016: "DISABLED", 132001: "DELETED"}


def in_quiet_hours(now: datetime, start: str, end: str, zone: str) -> bool:
    """Whether office time `now` (UTC) falls in [start, end), which may span midnight."""
    if start == end:
        return False
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).strftime("%H:%M")
    return start <= local < end if start < end else (local >= start or local < end)


def messaging_limit(rt: Runtime, number_id: int) -> tuple[int | None, list[int]]:
    """The unique people per moving 24 h of the number's business portfolio, as Meta last
    told us (None: unlimited or not known yet; Meta refuses beyond it with 131048
    anyway), and the portfolio's numbers, whose campaigns all count against it."""
    members = numbers.in_portfolio_of(rt, number_id)
    return TIERS.get(health.portfolio_limit(members)), members


@dataclass
class Answers:
    sent: list[tuple[int, str, str]] = field(default_factory=list)
    again: list[tuple[int, datetime, int, str]] = field(default_factory=list)
    failed: list[tuple[int, int, str]] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return (len(self.sent) + len(self.again) + len(self.failed) + len(self.unknown)
                + len(self.skipped))


@dataclass(frozen=True)
class Plan:
    """What a slice sends: the template (as of this second) and where marketing goes."""

    template: template_book.TemplateInfo
    marketing_api: bool
    fallback: bool


def take_lease(rt: Runtime, campaign_id: int, token: str) -> bool:
    now = utcnow()
    with writing(rt.settings.db_file):
        row = store.Campaign.get_or_none(store.Campaign.id == campaign_id)
        if row is None or row.state != "running":
            return False
        if row.runner and row.lease_until is not None and row.lease_until > now:
            return False
        lost = store.mark_unknown(campaign_id, now)  # what a killed holder had in flight
        if lost:
            log.warning("campaign %d: %d messages in flight when its worker stopped are "
                        "marked unknown", campaign_id, lost)
        store.Campaign.update(runner=token, lease_until=now + LEASE, updated_at=now).where(
            store.Campaign.id == campaign_id).execute()
    return True


def release_lease(rt: Runtime, campaign_id: int, token: str) -> None:
    with writing(rt.settings.db_file):
        store.Campaign.update(runner="", lease_until=None).where(
            store.Campaign.id == campaign_id, store.Campaign.runner == token).execute()


def run(rt: Runtime, campaign_id: int, *, seconds: float = 60.0,
        wire_kind: str | None = None) -> str:
    """Sends for up to `seconds`; returns `more` (due work is left: run again), `waiting`
    (quiet hours, messaging limit, retries due later), `done`, `stopped` (paused or
    cancelled) or `busy` (another runner holds it)."""
    token = secrets.token_hex(8)
    if not take_lease(rt, campaign_id, token):
        return "busy"
    try:
        return asyncio.run(_Runner(rt, campaign_id, token, wire_kind).run(seconds))
    finally:
        release_lease(rt, campaign_id, token)


class _Runner:
    def __init__(self, rt: Runtime, campaign_id: int, token: str,
                 wire_kind: str | None) -> None:
        self.rt, self.campaign_id, self.token = rt, campaign_id, token
        self.settings = rt.settings.broadcast
        self.wire_kind = wire_kind or self.settings.http_client
        self.number_id = int(store.Campaign.get_by_id(campaign_id).number_id)
        self.where = endpoint(rt, self.number_id)
        self.rate = send_rate.SendRate(send_rate.connect(rt.settings.broker_url,
                                                         rt.settings.redis.ca_file),
                                       self.where.phone_number_id, self.settings.throughput)
        self.answers = Answers()
        self.tokens = 0
        self.pause_note = ""
        self.template_status = ""

    # -- the loop -----------------------------------------------------------------------
    async def run(self, seconds: float) -> str:
        wire = open_wire(self.wire_kind, self.where, in_flight=self.settings.in_flight)
        gate = asyncio.Semaphore(self.settings.in_flight)
        tasks: set[asyncio.Task[None]] = set()
        deadline = time.monotonic() + seconds
        last_check = last_flush = 0.0
        plan: Plan | None = None
        allowance: int | None = None
        outcome = "more"
        try:
            while True:
                now = time.monotonic()
                if now - last_check >= 1.0:
                    last_check = now
                    plan, outcome = self._check()
                    allowance = self._allowance()
                if plan is None or self.pause_note or now >= deadline:
                    break
                if allowance is not None and allowance <= 0:
                    outcome = "waiting"  # Meta's messaging limit: the scheduler comes back
                    break
                want = max(10, int(self.settings.throughput * SLICE_SECONDS))
                if allowance is not None:
                    want = min(want, allowance)
                rows = self._claim(want) if len(tasks) < self.settings.in_flight else []
                if allowance is not None:
                    allowance -= len(rows)
                if not rows:
                    if not tasks:
                        outcome = self._finished()
                        break
                    await asyncio.sleep(0.02)
                else:
                    for message, rid in self._messages(plan, rows):
                        await self._token()
                        await gate.acquire()
                        task = asyncio.create_task(self._send(wire, gate, rid, message, plan))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    last_flush = time.monotonic()
                    self._flush()
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            self._flush()
            await wire.close()
        if self.pause_note:
            if self.template_status and plan is not None:
                template_book.mark(plan.template.id, self.template_status)
            self._pause(self.pause_note)
            return "stopped"
        if outcome == "more" and plan is not None and not self._due():
            outcome = self._finished()
        return outcome

    def _check(self) -> tuple[Plan | None, str]:
        """The campaign as it is this second: paused or cancelled stops the loop, a template
        paused by Meta pauses the campaign, a re-categorised one changes the path."""
        row = store.Campaign.get_by_id(self.campaign_id)
        if row.state != "running":
            return None, "stopped"
        now = utcnow()
        if in_quiet_hours(now, row.quiet_start, row.quiet_end, self.rt.settings.timezone):
            return None, "waiting"
        t = template_book.get(int(row.template_id))
        if not t.sendable:
            self.pause_note = f"template {t.name} is {t.why_not}"
            return None, "stopped"
        return Plan(t, self.settings.marketing_api, self.settings.fallback), "more"

    def _allowance(self) -> int | None:
        limit, members = messaging_limit(self.rt, self.number_id)
        if limit is None:
            return None
        return max(0, limit - store.sent_in_last_day(utcnow() - timedelta(hours=24), members))

    def _claim(self, want: int) -> list[tuple[Any, ...]]:
        now = utcnow()
        with writing(self.rt.settings.db_file):
            renewed = store.Campaign.update(lease_until=now + LEASE).where(
                store.Campaign.id == self.campaign_id, store.Campaign.runner == self.token,
                store.Campaign.state == "running").execute()
            if not renewed:
                return []
            return store.claim(self.campaign_id, want, now)

    def _due(self) -> bool:
        return store.next_due(self.campaign_id) is not None

    def _finished(self) -> str:
        """Nothing due now: done when nothing is left at all, else waiting (retries later)."""
        later = store.next_due(self.campaign_id)
        if later is not None:
            return "more" if later <= utcnow() else "waiting"
        now = utcnow()
        with writing(self.rt.settings.db_file):
            store.Campaign.update(state="done", finished_at=now, updated_at=now, note="").where(
                store.Campaign.id == self.campaign_id,
                store.Campaign.state == "running").execute()
        return "done"

    def _pause(self, note: str) -> None:
        now = utcnow()
        with writing(self.rt.settings.db_file):
            store.Campaign.update(state="paused", note=note[:200], updated_at=now).where(
                store.Campaign.id == self.campaign_id,
                store.Campaign.state == "running").execute()
        self.rt.audit(actor="broadcast", action="campaign.paused",
                      target=f"campaign:{self.campaign_id}", detail={"why": note[:200]})

    # -- messages -------------------------------------------------------------------------
    def _messages(self, plan: Plan, rows: list[tuple[Any, ...]]
                  ) -> list[tuple[dict[str, Any], int]]:
        """Each claimed recipient's message, opened from the rows under their keys; one
        that cannot be built (no number, values gone) fails here, with the reason."""
        keys = customer_keysets(self.rt.master, {int(r[1]) for r in rows})
        t = plan.template
        # Consent as it is now, not as it was when the campaign was prepared: someone who
        # stopped marketing since is never sent it.
        marketing = consent.marketing_states(int(r[1]) for r in rows) if t.marketing else {}
        base = {"messaging_product": "whatsapp", "recipient_type": "individual",
                "type": "template"}
        out = []
        for rid, customer_id, values_sealed, phone_sealed, user_sealed, _ in rows:
            ks = keys.get(int(customer_id))
            if t.marketing and marketing.get(int(customer_id)) != consent.GRANTED:
                self.answers.skipped.append((int(rid), "opted_out" if marketing.get(
                    int(customer_id)) == consent.WITHDRAWN else "no_opt_in"))
                continue
            try:
                if ks is None:
                    raise ValueError("erased")
                to = _open(ks, Customer, "phone", customer_id, phone_sealed) or \
                    _open(ks, Customer, "wa_user", customer_id, user_sealed)
                if not to:
                    raise ValueError("no_number")
                values = json.loads(_open(ks, store.CampaignRecipient, "values", rid,
                                          values_sealed) or "{}")
            except ValueError as exc:
                self.answers.failed.append((int(rid), 0, str(exc)[:32] or "unreadable"))
                continue
            message: dict[str, Any] = dict(base)
            if to.startswith("+") or to.isdigit():
                message["to"] = to
            else:
                message["recipient"] = to
            message["template"] = {"name": t.name, "language": {"code": t.language},
                                   "components": template_book.components(t, values)}
            message["biz_opaque_callback_data"] = campaign_statuses.callback_for(int(rid))
            out.append((message, int(rid)))
        return out

    async def _token(self) -> None:
        while self.tokens <= 0:
            grant = self.rate.take(max(1, self.settings.throughput // 50))
            if grant.tokens:
                self.tokens = grant.tokens
                break
            await asyncio.sleep(min(max(grant.wait, 0.002), 0.1))
        self.tokens -= 1

    async def _send(self, wire: Wire, gate: asyncio.Semaphore, rid: int,
                    message: dict[str, Any], plan: Plan) -> None:
        try:
            edge = "messages"
            if plan.template.marketing and plan.marketing_api:
                edge = "marketing_messages"
                message["product_policy"] = "CLOUD_API_FALLBACK" if plan.fallback else "STRICT"
            for _ in range(2):  # a second time only through /messages (see _answer)
                try:
                    status, doc = await wire.post(edge, message)
                except Lost:
                    self.answers.unknown.append(rid)
                    return
                except NotSent:
                    self.answers.again.append((rid, utcnow() + timedelta(seconds=2), -2,
                                               "no_connection"))
                    return
                if not self._answer(rid, edge, status, doc, plan):
                    return
                edge = "messages"
                message.pop("product_policy", None)
        finally:
            gate.release()

    def _answer(self, rid: int, edge: str, status: int, doc: dict[str, Any],
                plan: Plan) -> bool:
        """Files one answer; True when it should go again at once through /messages."""
        now = utcnow()
        if status == 200:
            try:
                self.answers.sent.append((rid, str(doc["messages"][0]["id"]), edge))
            except (KeyError, IndexError, TypeError):
                self.answers.unknown.append(rid)
            return False
        err = doc.get("error")
        raw = err.get("code") if isinstance(err, dict) else None
        code: int = raw if isinstance(raw, int) else -status
        if code in (131055, 134100) and edge == "marketing_messages":
            return True  # not (or no longer) marketing: the ordinary path takes it
        if code == 134101 and edge == "marketing_messages":
            if plan.fallback:
                return True
            self.answers.again.append((rid, now + timedelta(minutes=2), code, "template_not_ready"))
            return False
        if code in (130429, 4, 80007):
            self.rate.slow_down(1.0 if code == 130429 else 60.0)
            self.answers.again.append((rid, now + timedelta(seconds=1), code, "throughput"))
        elif code == 131056:
            self.answers.again.append((rid, now + timedelta(seconds=6), code, "pair_rate"))
        elif code in (131026, 131051):
            self.answers.failed.append((rid, code, "not_on_whatsapp"))
        elif code == 131047:
            self.answers.failed.append((rid, code, "window_closed"))
        elif code == 131050:
            self.answers.failed.append((rid, code, "opted_out"))
        elif code in (132000, 132012, 132018):
            self.answers.failed.append((rid, code, "bad_values"))
        elif code in TEMPLATE_REFUSED:
            said = TEMPLATE_REFUSED[code]
            self.template_status = said
            self.pause_note = (f"template {plan.template.name} is "
                               f"{template_book.NOT_SENDABLE.get(said, said.lower())} "
                               f"(error {code})")
            self.answers.again.append((rid, now, code, "template"))
        elif 132000 <= code < 133000:
            self.pause_note = f"Meta refused the template (error {code}): check it, sync"
            self.answers.again.append((rid, now, code, "template"))
        elif code in (0, 190):
            self.pause_note = "the access token was refused: enter a new one"
            self.answers.again.append((rid, now, code, "token"))
        elif code in (133010, 131031, 368):
            self.pause_note = f"the number cannot send now (error {code})"
            self.answers.again.append((rid, now, code, "number"))
        elif code == 131048:
            self.answers.again.append((rid, now + timedelta(hours=1), code, "messaging_limit"))
        elif code in (131000, 131016, 131057, 2) or status >= 500:
            self.answers.again.append((rid, now + timedelta(seconds=5), code, "meta_error"))
        else:
            self.answers.failed.append((rid, code, f"error_{code}"))
        return False

    def _flush(self) -> None:
        answers, self.answers = self.answers, Answers()
        if not len(answers):
            return
        now = utcnow()
        again, failed = list(answers.again), list(answers.failed)
        tries = _attempts([r[0] for r in again])
        for row in list(again):
            if tries.get(row[0], 0) >= MAX_ATTEMPTS and row[3] in ("meta_error", "no_connection",
                                                                    "throughput", "pair_rate"):
                again.remove(row)
                failed.append((row[0], row[2], "gave_up"))
        with writing(self.rt.settings.db_file):
            store.record_answers(answers.sent, again, failed, now, answers.skipped)
            if answers.unknown:
                store.mark_unknown(self.campaign_id, now, answers.unknown)


def _attempts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows: Any = (store.CampaignRecipient.select(store.CampaignRecipient.id,
                                                store.CampaignRecipient.attempts)
                 .where(store.CampaignRecipient.id.in_(ids)).tuples())
    return {int(i): int(a) for i, a in rows}


def _open(keys: Any, model: Any, column: str, row_id: int, token: Any) -> str | None:
    try:
        return open_text(keys, model, column, int(row_id), token)
    except Exception:  # a value that does not open (a key gone): unreadable, never sent
        raise ValueError("unreadable") from None

