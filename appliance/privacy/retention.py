"""Provides retention (UU PDP Pasal 44): each division keeps resolved conversations for its
`retention_days` after resolution, then the scheduler deletes them (messages, media,
notes, labels and everything else that hangs off a conversation, by the database's
cascades, with `secure_delete` on so freed pages keep nothing), and the encrypted exports
left waiting past `privacy.export_keep_hours`.

A division with no retention keeps conversations until they are erased: the page says
so, never a silent default. The sector's minimum (`privacy.sector_minimum_days`, e.g.
five years under Permenkominfo 20/2016 for some operators) is a setting: a division below
it gets a warning, and its limit is kept as the business set it. A customer on legal
hold is skipped, whatever their conversations' age. The preview counts what the next run
deletes, with the same query; each run's counts are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from appliance.auth.permissions import Denied, Principal, require
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.privacy.export import purge_exports
from appliance.privacy.holds import held_customers
from appliance.runtime import Runtime
from appliance.store.chatroom import Note
from appliance.store.db import db
from appliance.store.models import Conversation, Division, Media, Message

MAX_DAYS = 36500
CHUNK = 200  # conversations per delete: short write transactions beside live traffic


class RetentionError(GembokError):
    """A retention that cannot be set as typed."""


@dataclass(frozen=True)
class DivisionRetention:
    division_id: int
    name: str
    days: int | None
    warning: str  # below the sector's minimum, or none set; empty when fine
    conversations: int  # what the next run deletes
    messages: int
    media: int
    notes: int
    held: int  # conversations kept because their customer is on legal hold


def _expired(division: Division, now: datetime, held: set[int]) -> tuple[list[int], int]:
    """(ids of conversations past the limit, how many of them a hold keeps)."""
    if not division.retention_days:
        return [], 0
    limit = now - timedelta(days=division.retention_days)
    rows = [(c.id, c.customer_id) for c in
            Conversation.select(Conversation.id, Conversation.customer)
            .where(Conversation.division == division.id, Conversation.status == "resolved",
                   Conversation.resolved_at.is_null(False), Conversation.resolved_at < limit)]
    kept = [cid for cid, customer in rows if customer in held]
    return [cid for cid, customer in rows if customer not in held], len(kept)


def _warning(days: int | None, minimum: int) -> str:
    if not days:
        return "no retention set: resolved conversations are kept until erased"
    if minimum and days < minimum:
        return (f"below the sector's minimum of {minimum} days (privacy.sector_minimum_days): "
                "check the law that applies to the business")
    return ""


def preview(rt: Runtime, principal: Principal) -> list[DivisionRetention]:
    """What the next run deletes, per division, counted with the run's own query."""
    require(principal, "privacy.manage")
    now, held = utcnow(), held_customers()
    out = []
    for d in Division.select().order_by(Division.name):
        ids, kept = _expired(d, now, held)
        messages = media = notes = 0
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            messages += Message.select().where(Message.conversation.in_(part)).count()
            media += (Media.select().join(Message)
                      .where(Message.conversation.in_(part)).count())
            notes += Note.select().where(Note.conversation.in_(part)).count()
        out.append(DivisionRetention(d.id, d.name, d.retention_days,
                                     _warning(d.retention_days,
                                              rt.settings.privacy.sector_minimum_days),
                                     len(ids), messages, media, notes, kept))
    return out


def set_days(rt: Runtime, principal: Principal, division_id: int, days: int | None) -> str:
    """Sets a division's retention (None or 0: none); returns the warning it now has."""
    require(principal, "privacy.manage")
    row = Division.get_or_none(Division.id == division_id)
    if row is None:
        raise Denied()
    if days is not None and not 0 <= days <= MAX_DAYS:
        raise RetentionError(f"retention is a number of days from 1 to {MAX_DAYS} (0 or "
                             "empty: keep until erased)")
    with db.atomic():
        Division.update(retention_days=days or None).where(Division.id == division_id).execute()
        rt.audit(actor=principal.actor, action="retention.changed",
                 target=f"division:{division_id}", detail={"days": days or 0})
    return _warning(days, rt.settings.privacy.sector_minimum_days)


def purge(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """Deletes every conversation past its division's retention (holds skipped) and old
    exports; audits the counts. Returns them."""
    now = now or utcnow()
    held = held_customers()
    counts = {"conversations": 0, "messages": 0, "media": 0, "notes": 0, "held": 0}
    divisions: list[int] = []
    for d in Division.select().where(Division.retention_days.is_null(False),
                                     Division.retention_days > 0):
        ids, kept = _expired(d, now, held)
        counts["held"] += kept
        if ids:
            divisions.append(d.id)
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            with db.atomic():
                counts["messages"] += Message.select().where(
                    Message.conversation.in_(part)).count()
                counts["media"] += (Media.select().join(Message)
                                    .where(Message.conversation.in_(part)).count())
                counts["notes"] += Note.select().where(Note.conversation.in_(part)).count()
                counts["conversations"] += Conversation.delete().where(
                    Conversation.id.in_(part)).execute()
    counts["exports"] = purge_exports(rt.settings, now)
    if counts["conversations"] or counts["exports"]:
        rt.audit(actor="system", action="retention.purged", target="",
                 detail={**counts, "divisions": len(divisions)})
    return counts


def oldest_kept() -> str:
    """When the oldest resolved conversation was resolved (for the records page)."""
    row = Conversation.select(fn.MIN(Conversation.resolved_at)).scalar()
    return str(row or "")
