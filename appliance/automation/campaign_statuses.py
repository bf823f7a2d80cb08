"""Provides what Meta's status webhooks do to a campaign's recipients.

Every campaign send carries `biz_opaque_callback_data = gembok:bc:<recipient id>`, which
Meta echoes in each status of the message; so a status finds its recipient without a
lookup by wamid, and a message whose answer was lost (its worker killed mid-call: the
row is `unknown`) is settled by its first status. A status never moves a recipient
backwards. 131049 (Meta's per-user marketing cap) makes the recipient `capped`, tried once
more after 24 hours and never again; 131050 (the person stopped marketing) records the
withdrawal in the consent ledger, proved by the wamid (cloud-api.md §11).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import utcnow
from appliance.inbox import work
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import broadcast as store
from appliance.whatsapp.webhook_parse import StatusUpdate

CALLBACK_PREFIX = "gembok:bc:"
RANK = {"queued": 0, "sending": 1, "unknown": 2, "capped": 12, "sent": 10, "failed": 15,
        "delivered": 20, "read": 30}
CAPPED = 131049
OVER_LIMIT = 131048
CAP_WAIT = timedelta(hours=24)
LIMIT_WAIT = timedelta(hours=1)
NEVER = datetime(9999, 12, 31)


def callback_for(recipient_id: int) -> str:
    return f"{CALLBACK_PREFIX}{recipient_id}"


def recipient_of(callback: str | None) -> int | None:
    if callback and callback.startswith(CALLBACK_PREFIX):
        tail = callback[len(CALLBACK_PREFIX):]
        if tail.isascii() and tail.isdigit():
            return int(tail)
    return None


def ours(statuses: Iterable[StatusUpdate]) -> tuple[list[StatusUpdate], list[StatusUpdate]]:
    """(campaign statuses, the rest) by their callback."""
    mine: list[StatusUpdate] = []
    rest: list[StatusUpdate] = []
    for s in statuses:
        (mine if recipient_of(s.callback) is not None else rest).append(s)
    return mine, rest


def apply(statuses: list[StatusUpdate]) -> list[consent.Entry]:
    """Applies campaign statuses in arrival order (inside the caller's transaction);
    returns the consent withdrawals (131050) for the caller's ledger write."""
    ids = [rid for s in statuses if (rid := recipient_of(s.callback)) is not None]
    if not ids:
        return []
    current = store.recipient_states(ids)
    rows: dict[int, list[Any]] = {}
    withdrawals: list[consent.Entry] = []
    again: set[int] = set()  # campaigns with someone to try again later
    now = utcnow()
    for s in statuses:
        rid = recipient_of(s.callback)
        if rid is None or rid not in current:
            continue
        state, campaign, customer, wamid, capped_times = current[rid]
        row = rows.get(rid)
        if row is None:
            row = rows[rid] = [state, wamid, None, "", None, None, None, None, None,
                               capped_times]
        at = s.timestamp or now
        new = s.status
        if new not in ("sent", "delivered", "read", "failed"):
            continue
        if RANK.get(new, 0) <= RANK.get(row[0], 0) and row[0] != "unknown":
            continue
        row[1] = row[1] or s.wamid
        if new == "failed":
            code = s.error_code
            row[2] = code
            if code == CAPPED:
                times = row[9]
                row[9] = times + 1
                row[0], row[3] = "capped", "capped_once" if times == 0 else "capped"
                row[4] = now + CAP_WAIT if times == 0 else NEVER
                if times == 0:
                    again.add(campaign)
            elif code == OVER_LIMIT:
                row[0], row[3], row[4] = "queued", "messaging_limit", now + LIMIT_WAIT
                again.add(campaign)
            else:
                row[0], row[3] = "failed", "opted_out" if code == consent.MARKETING_STOPPED \
                    else f"error_{code}"
                row[8] = at
                if code == consent.MARKETING_STOPPED:
                    withdrawals.append(consent.Entry(customer, "marketing", False,
                                                     "error_131050", consent.as_proof(s.wamid),
                                                     at))
        else:
            row[0] = new
            row[5] = row[5] or at  # sent_at
            if new in ("delivered", "read"):
                row[6] = row[6] or at
            if new == "read":
                row[7] = row[7] or at
    out = []
    for rid, r in rows.items():
        if r[0] == current[rid][0] and r[2] is None and r[5] is None:
            continue
        out.append((r[0], r[1], r[2], r[3], str(r[4] or now), r[9],
                    _s(r[5]), _s(r[6]), _s(r[7]), _s(r[8]), str(now), rid))
    store.write_statuses(out)
    if again:  # a campaign that looked done has a try left: it runs again when it is due
        store.Campaign.update(state="running", finished_at=None).where(
            store.Campaign.id.in_(sorted(again)), store.Campaign.state == "done").execute()
    return withdrawals


REPLY_WINDOW = timedelta(hours=72)


def note_replies(rt: Runtime, conversations: dict[int, int]) -> int:
    """Customers who wrote within 72 h of a campaign's message: their first answer marks
    the recipient `replied` (the report counts it) and the conversation gets a note
    naming the campaign, so the agent knows what the customer answers."""
    now = utcnow()
    found = store.mark_replied(sorted(conversations), now - REPLY_WINDOW, now)
    if not found:
        return 0
    names = {int(r.id): str(r.name) for r in store.Campaign.select(
        store.Campaign.id, store.Campaign.name).where(
        store.Campaign.id.in_(sorted({c for _, c in found})))}
    for customer_id, campaign_id in found:
        work.add_system_note(rt, "broadcast", conversations[customer_id],
                             f"Reply to broadcast \u201c{names.get(campaign_id, '')}\u201d")
    return len(found)


def _s(value: datetime | None) -> str | None:
    return None if value is None else str(value)
