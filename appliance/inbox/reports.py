"""Provides the supervisor's dashboard: load now, and response and resolution times.

Counts come straight from the conversations in the supervisor's scope; times are
medians and averages over a chosen period (first response: from the conversation's
start to the first reply by a person; resolution: to `resolved_at`). Days are the
office's days (`timezone`): in Jakarta a conversation at 01:30 belongs to that day, not
to the UTC day before.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from peewee import fn

from appliance.auth.permissions import Principal, require, visible
from appliance.store.automation import AutoReplyLog, MenuState
from appliance.store.db import tuples
from appliance.store.models import Conversation, Division, Message, User


@dataclass
class Load:
    division_id: int | None
    division: str
    open: int = 0
    unassigned: int = 0
    waiting: int = 0  # the customer wrote last: someone owes an answer
    per_agent: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Times:
    conversations: int
    first_response_median_s: float | None
    first_response_mean_s: float | None
    resolution_median_s: float | None
    resolved: int
    per_day: list[tuple[str, int]]  # new conversations per day, for the chart


def load(principal: Principal) -> list[Load]:
    require(principal, "report.read")
    names = {d.id: d.name for d in Division.select()}
    people = {u.id: u.display_name for u in User.select(User.id, User.display_name)}
    open_convos = list(Conversation.select().where(visible(principal),
                                                   Conversation.status != "resolved"))
    latest = (Message.select(fn.MAX(Message.id))
              .where(Message.conversation.in_([c.id for c in open_convos]))
              .group_by(Message.conversation))
    last_direction: dict[int, str] = {
        convo: direction for convo, direction in
        tuples(Message.select(Message.conversation, Message.direction)
               .where(Message.id.in_(latest)))}
    rows: dict[int | None, Load] = {}
    for c in open_convos:
        row = rows.setdefault(c.division_id, Load(c.division_id, names.get(c.division_id or 0,
                                                                            "-")))
        row.open += 1
        if c.assignee_id is None:
            row.unassigned += 1
        else:
            name = people.get(c.assignee_id, "?")
            row.per_agent[name] = row.per_agent.get(name, 0) + 1
        if last_direction.get(c.id) == "in":
            row.waiting += 1
    return sorted(rows.values(), key=lambda r: r.division)


def local_day(moment: datetime, tz: tzinfo) -> str:
    """The office's calendar day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=UTC).astimezone(tz).date().isoformat()


def times(principal: Principal, since: datetime, until: datetime, tz: tzinfo = UTC) -> Times:
    require(principal, "report.read")
    convos = list(Conversation.select().where(visible(principal),
                                              Conversation.created_at >= since,
                                              Conversation.created_at < until))
    first = [(c.first_response_at - c.created_at).total_seconds() for c in convos
             if c.first_response_at is not None]
    resolved = [(c.resolved_at - c.created_at).total_seconds() for c in convos
                if c.resolved_at is not None]
    per_day: dict[str, int] = {}
    for c in convos:
        day = local_day(c.created_at, tz)
        per_day[day] = per_day.get(day, 0) + 1
    return Times(len(convos), statistics.median(first) if first else None,
                 statistics.fmean(first) if first else None,
                 statistics.median(resolved) if resolved else None, len(resolved),
                 sorted(per_day.items()))


@dataclass(frozen=True)
class Automated:
    """What Auto Reply did in the period, in conversations of the supervisor's scope."""

    answered: int  # conversations it sent at least one message to
    routed: int  # conversations it sent to a division (a rule, the menu, a menu's timeout)
    asked_for_person: int  # customers who chose "talk to a person" from the menu


def automated(principal: Principal, since: datetime, until: datetime) -> Automated:
    require(principal, "report.read")
    logs = (AutoReplyLog.select(AutoReplyLog.conversation, AutoReplyLog.replies,
                                AutoReplyLog.routed_to, AutoReplyLog.outcome)
            .join(Conversation, on=AutoReplyLog.conversation == Conversation.id)
            .where(visible(principal), AutoReplyLog.at >= since, AutoReplyLog.at < until))
    answered, routed, person = set(), set(), set()
    for convo, replies, routed_to, outcome in tuples(logs):
        if replies:
            answered.add(convo)
        if routed_to is not None:
            routed.add(convo)
        if outcome == "menu_person":
            person.add(convo)
    timeouts = (MenuState.select(MenuState.conversation)
                .join(Conversation, on=MenuState.conversation == Conversation.id)
                .where(visible(principal), MenuState.outcome == "timeout",
                       MenuState.closed_at >= since, MenuState.closed_at < until))
    routed |= {convo for (convo,) in tuples(timeouts)}
    return Automated(len(answered), len(routed), len(person))
