"""Provides Broadcast's tables: templates, campaigns, recipients, the rate table.

A template row is what Meta last said of it (sync or webhook): its components are the
business's own words, never a customer's. A recipient row is one message of one campaign
to one customer; its per-recipient template values are sealed under the customer's key
(`values_sealed`), so erasure makes them unreadable with everything else they wrote.
The hot paths (claiming a slice, writing a slice's answers, applying status webhooks)
are single statements over many rows: at 1,000 messages a second, peewee building one
query per row would be the bottleneck, not the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from peewee import (
    AutoField,
    BlobField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from appliance.clock import utcnow
from appliance.store.db import db, execute, execute_many
from appliance.store.models import BaseModel, Customer, Division


class WaTemplate(BaseModel):
    """A template belongs to a WhatsApp Business Account (`waba_id`): two brands' WABAs may
    each hold an `order_update` in `id`, with their own words and status."""

    id = AutoField()
    waba_id = CharField(max_length=32, default="")  # '' only before its first sync (m0017)
    meta_id = CharField(max_length=32, index=True)
    name = CharField(max_length=512)
    language = CharField(max_length=16)
    category = CharField(max_length=16)  # the latest: it decides the send path
    previous_category = CharField(max_length=16, default="")
    status = CharField(max_length=24)  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED...
    reason = CharField(max_length=64, default="")
    components = TextField(default="[]")  # JSON, as Meta lists them
    parameter_format = CharField(max_length=12, default="POSITIONAL")
    synced_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "wa_template"
        indexes = ((("waba_id", "name", "language"), True),)


class Campaign(BaseModel):
    """`state`: draft, scheduled, running, paused, cancelled, done. `runner` and
    `lease_until` name the one worker sending it now; another takes over only after the
    lease ran out (the first died), and then marks what the first had in flight `unknown`."""

    id = AutoField()
    name = CharField(max_length=80)
    template = ForeignKeyField(WaTemplate, backref="campaigns")
    division = ForeignKeyField(Division, null=True, on_delete="SET NULL")  # None: all (admin)
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    state = CharField(max_length=12, default="draft", index=True)
    start_at = DateTimeField(null=True)  # None: now
    quiet_start = CharField(max_length=5, default="21:00")  # office time
    quiet_end = CharField(max_length=5, default="08:00")
    parameters = TextField(default="[]")  # JSON: where each template value comes from
    audience = TextField(default="{}")  # JSON: the filter as the supervisor chose it
    note = CharField(max_length=200, default="")  # why it paused or waits, in words
    runner = CharField(max_length=32, default="")
    lease_until = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)
    number_id = IntegerField(default=1)  # store.numbers: the number it is sent from
    template_id: int
    division_id: int | None


class CampaignRecipient(BaseModel):
    """queued -> sending -> sent -> delivered -> read, or failed, capped, skipped; and
    `unknown`: in flight when its worker died, settled by a status webhook or never."""

    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="recipients", on_delete="CASCADE",
                               index=False)  # the indexes below start with it
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    state = CharField(max_length=10, default="queued")
    reason = CharField(max_length=32, default="")
    values_sealed = BlobField(null=True)
    wamid = CharField(max_length=128, null=True, unique=True)
    api = CharField(max_length=20, default="")  # messages, marketing_messages
    error_code = IntegerField(null=True)
    attempts = IntegerField(default=0)
    capped_times = IntegerField(default=0)
    # 1: in flight when its worker stopped (maybe sent); 2: sent once more after no status
    # came for it; never a third time
    in_doubt = IntegerField(default=0)
    next_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    read_at = DateTimeField(null=True)
    failed_at = DateTimeField(null=True)
    replied_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)
    campaign_id: int
    customer_id: int

    class Meta:
        table_name = "campaign_recipient"
        indexes = ((("campaign", "customer"), True), (("campaign", "state", "next_at"), False))


class MessageRate(BaseModel):
    """What one delivered message of a category costs, as the admin last typed it: Meta's
    rates change by country and volume, so none is written in the code."""

    category = CharField(max_length=16, primary_key=True)
    currency = CharField(max_length=3, default="IDR")
    price = CharField(max_length=24, default="0")  # a decimal, as text: no float rounding
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")

    class Meta:
        table_name = "message_rate"




def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


_INSERT = ("INSERT INTO campaign_recipient (campaign_id, customer_id, state, reason,"
           " values_sealed, api, attempts, capped_times, in_doubt, next_at, updated_at)"
           " VALUES (?, ?, ?, ?, ?, '', 0, 0, 0, ?, ?) ON CONFLICT DO NOTHING")


def insert_recipients(rows: Iterable[tuple[int, int, str, str, bytes | None]]) -> None:
    """(campaign, customer, state, reason, values): a second row of one customer in one
    campaign is ignored by the unique index, never sent twice."""
    now = str(utcnow())
    execute_many(_INSERT, [(*r, now, now) for r in rows])


def recipient_ids(campaign_id: int, customer_ids: Sequence[int]) -> dict[int, int]:
    """customer -> recipient row id in one campaign."""
    out: dict[int, int] = {}
    for start in range(0, len(customer_ids), 500):
        chunk = list(customer_ids[start:start + 500])
        for cid, rid in execute(db, "SELECT customer_id, id FROM campaign_recipient"  # noqa: S608
                                    f" WHERE campaign_id = ? AND customer_id IN ({_marks(chunk)})",
                                (campaign_id, *chunk)):
            out[int(cid)] = int(rid)
    return out


def set_values(rows: Sequence[tuple[bytes | None, int]]) -> None:
    execute_many("UPDATE campaign_recipient SET values_sealed = ? WHERE id = ?",
                            rows)


_DUE = ("SELECT r.id, r.customer_id, r.values_sealed, c.phone_sealed, c.wa_user_sealed,"
        " r.capped_times FROM campaign_recipient r JOIN customer c ON c.id = r.customer_id"
        " WHERE r.campaign_id = ? AND (r.state IN ('queued', 'capped')"
        " OR (r.state = 'unknown' AND r.in_doubt = 1)) AND r.next_at <= ?"
        " ORDER BY r.next_at, r.id LIMIT ?")


def claim(campaign_id: int, limit: int, now: datetime) -> list[tuple[Any, ...]]:
    """Up to `limit` due recipients, marked `sending` (call inside a write transaction):
    the mark is committed before any of them is sent, which is what lets a restart tell
    "maybe sent" from "not sent"."""
    rows = list(execute(db, _DUE, (campaign_id, str(now), limit)))
    if rows:
        ids = [r[0] for r in rows]
        execute(db, "UPDATE campaign_recipient SET state = 'sending',"  # noqa: S608
                    " in_doubt = CASE WHEN state = 'unknown' THEN 2 ELSE in_doubt END,"
                    f" attempts = attempts + 1, updated_at = ? WHERE id IN ({_marks(ids)})"
                    " AND state IN ('queued', 'capped', 'unknown')",
                    (str(now), *ids))
    return rows


_SENT = ("UPDATE campaign_recipient SET state = 'sent', wamid = ?, api = ?, sent_at = ?,"
         " updated_at = ? WHERE id = ? AND state = 'sending'")
_AGAIN = ("UPDATE campaign_recipient SET state = 'queued', next_at = ?, error_code = ?,"
          " reason = ?, updated_at = ? WHERE id = ? AND state = 'sending'")
_FAILED = ("UPDATE campaign_recipient SET state = 'failed', error_code = ?, reason = ?,"
           " failed_at = ?, updated_at = ? WHERE id = ? AND state = 'sending'")
_SKIPPED = ("UPDATE campaign_recipient SET state = 'skipped', reason = ?, updated_at = ?"
            " WHERE id = ? AND state = 'sending'")


def record_answers(sent: Sequence[tuple[int, str, str]],
                   again: Sequence[tuple[int, datetime, int, str]],
                   failed: Sequence[tuple[int, int, str]], now: datetime,
                   skipped: Sequence[tuple[int, str]] = ()) -> None:
    """A slice's answers in a statement each: sent (id, wamid, api), to try again (id,
    when, code, reason), failed (id, code, reason) and skipped unsent (id, reason)."""
    at = str(now)
    if sent:
        execute_many(_SENT, [(w, api, at, at, i) for i, w, api in sent])
    if again:
        execute_many(_AGAIN, [(str(when), code, reason, at, i)
                                    for i, when, code, reason in again])
    if failed:
        execute_many(_FAILED, [(code, reason, at, at, i) for i, code, reason in failed])
    if skipped:
        execute_many(_SKIPPED, [(reason, at, i) for i, reason in skipped])


UNKNOWN_GRACE = timedelta(seconds=60)


def mark_unknown(campaign_id: int, now: datetime, ids: Sequence[int] | None = None) -> int:
    """What a dead runner had in flight (or calls that got no answer): maybe sent. A
    status webhook settles it; if none comes within UNKNOWN_GRACE it was most likely
    never sent, and it goes once more (a duplicate only if Meta had it after all and
    its statuses were lost); never a third time."""
    only = f" AND id IN ({_marks(ids)})" if ids else ""
    cursor = execute(db, "UPDATE campaign_recipient SET state = 'unknown',"  # noqa: S608
                         " in_doubt = CASE WHEN in_doubt = 0 THEN 1 ELSE in_doubt END,"
                         " next_at = ?, updated_at = ? WHERE campaign_id = ?"
                         f" AND state = 'sending'{only}",
                     (str(now + UNKNOWN_GRACE), str(now), campaign_id, *(ids or ())))
    return int(cursor.rowcount)


def in_doubt(campaign_id: int) -> tuple[int, int]:
    """(recipients in flight at a stop, those of them sent once more)."""
    row = execute(db, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN in_doubt = 2 THEN 1 ELSE 0 END),"
                      " 0) FROM campaign_recipient WHERE campaign_id = ? AND in_doubt > 0",
                  (campaign_id,)).fetchone()
    return int(row[0]), int(row[1])


def recipient_states(ids: Sequence[int]) -> dict[int, tuple[str, int, int, str | None, int]]:
    """id -> (state, campaign, customer, wamid, capped_times) for status webhooks."""
    out: dict[int, tuple[str, int, int, str | None, int]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for rid, state, campaign, customer, wamid, capped in execute(
                db, "SELECT id, state, campaign_id, customer_id, wamid, capped_times"  # noqa: S608
                    f" FROM campaign_recipient WHERE id IN ({_marks(chunk)})", tuple(chunk)):
            out[int(rid)] = (str(state), int(campaign), int(customer), wamid, int(capped))
    return out


_STATUS = ("UPDATE campaign_recipient SET state = ?, wamid = COALESCE(wamid, ?),"
           " error_code = ?, reason = ?, next_at = ?, capped_times = ?,"
           " sent_at = COALESCE(sent_at, ?), delivered_at = COALESCE(delivered_at, ?),"
           " read_at = COALESCE(read_at, ?), failed_at = COALESCE(failed_at, ?),"
           " updated_at = ? WHERE id = ?")


def write_statuses(rows: Sequence[tuple[Any, ...]]) -> None:
    """(state, wamid, error, reason, next_at, capped_times, sent_at, delivered_at, read_at,
    failed_at, updated_at, id) per recipient."""
    if rows:
        execute_many(_STATUS, rows)


def counts(campaign_id: int) -> dict[str, int]:
    rows = execute(db, "SELECT state, COUNT(*) FROM campaign_recipient WHERE campaign_id = ?"
                       " GROUP BY state", (campaign_id,))
    return {str(s): int(n) for s, n in rows}


def reasons(campaign_id: int) -> dict[str, int]:
    """Why recipients were skipped or failed: reason -> count."""
    rows = execute(db, "SELECT reason, COUNT(*) FROM campaign_recipient WHERE campaign_id = ?"
                       " AND state IN ('skipped', 'failed', 'capped', 'unknown')"
                       " GROUP BY reason", (campaign_id,))
    return {str(r): int(n) for r, n in rows}


def replied(campaign_id: int) -> int:
    row = execute(db, "SELECT COUNT(*) FROM campaign_recipient WHERE campaign_id = ?"
                      " AND replied_at IS NOT NULL", (campaign_id,)).fetchone()
    return int(row[0])


def next_due(campaign_id: int) -> datetime | None:
    """When the next recipient is due: queued ones, and those Meta capped once (tried
    again after 24 h); None when nothing is left to send."""
    row = execute(db, "SELECT MIN(next_at) FROM campaign_recipient WHERE campaign_id = ?"
                      " AND (state IN ('queued', 'sending') OR (state = 'capped'"
                      " AND reason = 'capped_once') OR (state = 'unknown' AND in_doubt = 1))",
                  (campaign_id,)).fetchone()
    return _as_datetime(row[0]) if row and row[0] else None


def timeline(campaign_id: int) -> list[tuple[str, int, int, int, int]]:
    """Per minute (office time is the face's business): sent, delivered, read, failed."""
    out: dict[str, list[int]] = {}
    for column, slot in (("sent_at", 0), ("delivered_at", 1), ("read_at", 2),
                         ("failed_at", 3)):
        for minute, n in execute(db, f"SELECT substr(CAST({column} AS TEXT), 1, 16), COUNT(*)"  # noqa: S608
                                     " FROM campaign_recipient WHERE campaign_id = ?"
                                     f" AND {column} IS NOT NULL GROUP BY 1", (campaign_id,)):
            out.setdefault(str(minute), [0, 0, 0, 0])[slot] = int(n)
    return [(m, *v) for m, v in sorted(out.items())]  # type: ignore[misc]


def sent_in_last_day(since: datetime, number_ids: Sequence[int]) -> int:
    """Distinct customers sent a campaign message since `since` from one of `number_ids`
    (the messaging limit counts unique people a portfolio's numbers reached outside the
    service window in a moving 24 h)."""
    ids = list(number_ids) or [0]
    row = execute(db, "SELECT COUNT(DISTINCT r.customer_id) FROM campaign_recipient r"  # noqa: S608
                      " JOIN campaign c ON c.id = r.campaign_id WHERE r.sent_at >= ?"
                      f" AND c.number_id IN ({_marks(ids)})", (str(since), *ids)).fetchone()
    return int(row[0])


def mark_replied(customer_ids: Sequence[int], since: datetime, now: datetime
                 ) -> list[tuple[int, int]]:
    """The latest campaign each customer got since `since`, marked replied (once):
    returns (customer, campaign) for the Chatroom to name it."""
    if not customer_ids:
        return []
    rows = list(execute(db, "SELECT customer_id, id, campaign_id FROM campaign_recipient"  # noqa: S608
                            " WHERE id IN (SELECT MAX(id) FROM campaign_recipient"
                            f" WHERE customer_id IN ({_marks(customer_ids)}) AND sent_at >= ?"
                            " AND replied_at IS NULL GROUP BY customer_id)",
                        (*customer_ids, str(since))))
    if rows:
        execute_many("UPDATE campaign_recipient SET replied_at = ? WHERE id = ?",
                                [(str(now), r[1]) for r in rows])
    return [(int(r[0]), int(r[2])) for r in rows]


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def sent_since(campaign_id: int, since: datetime) -> int:
    row = execute(db, "SELECT COUNT(*) FROM campaign_recipient WHERE campaign_id = ?"
                      " AND sent_at >= ?", (campaign_id, str(since))).fetchone()
    return int(row[0])
