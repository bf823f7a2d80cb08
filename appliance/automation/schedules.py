"""Provides business hours as the store keeps them: loaded for the rule engine, changed by staff.

`load_schedules()` reads every division's hours into immutable `hours.Schedule` values in
three queries, for the rule engine to hold in memory; `load_schedule` reads one. The
services check who is asking (deny by default): an admin sets any division's hours, the
global default and the days closed for everyone; a supervisor only their own divisions'.
Each change is one audit entry, `hours.changed`, naming the division.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

from peewee import Expression

from appliance.auth.permissions import Denied, Principal, require
from appliance.automation.hours import (
    ALWAYS_OPEN,
    DEFAULT_ZONE,
    WEEKDAYS,
    ZONES,
    Day,
    HoursError,
    Schedule,
    hhmm,
    national_holidays,
    parse_time,
    span,
    week_from,
    zone_name,
)
from appliance.clock import utcnow
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.hours import DAY_KINDS, HoursDay, HoursPeriod, HoursSchedule
from appliance.store.models import Division

MAX_AWAY = 4096  # WhatsApp's limit for a text message
MAX_LABEL = 120


@dataclass(frozen=True)
class DayView:
    day: date
    kind: str  # closed, open
    label: str
    opens: str | None
    closes: str | None


@dataclass(frozen=True)
class HoursView:
    """A scope's hours as a form shows them; `own` is False when the default applies."""

    division_id: int | None
    own: bool
    time_zone: str
    periods: tuple[tuple[int, str, str], ...]  # weekday (0 Monday), opens, closes
    holidays_close: bool
    away_message_id: str
    away_message_en: str
    days: tuple[DayView, ...]


def load_schedule(division_id: int | None) -> Schedule:
    """One division's schedule (its own, else the global default); None: the default."""
    return load_schedules([division_id])[division_id]


def load_schedules(division_ids: Sequence[int | None] | None = None
                   ) -> dict[int | None, Schedule]:
    """Every division's schedule (or those asked for), keyed by division id; None: default."""
    if division_ids is None:
        division_ids = [None, *(d.id for d in Division.select(Division.id))]
    rows = {row.division_id: row for row in HoursSchedule.select()}
    periods: dict[int, list[tuple[int, int, int]]] = {}
    for p in HoursPeriod.select():
        periods.setdefault(p.schedule_id, []).append((p.weekday, p.opens, p.closes))
    days: dict[int | None, dict[date, Day]] = {}
    for d in HoursDay.select():
        spans: tuple[tuple[int, int], ...] = ()  # closed
        if d.kind == "open" and d.opens is not None and d.closes is not None:
            spans = (span(d.opens, d.closes, str(d.day)),)
        days.setdefault(d.division_id, {})[d.day] = Day(d.label, spans)
    national_holidays(utcnow().year)  # warm the cache before the first message needs it
    shared = MappingProxyType(days.get(None, {}))
    found: dict[int | None, Schedule] = {}
    for division_id in division_ids:
        own = MappingProxyType(days.get(division_id, {}) if division_id is not None else {})
        row = rows.get(division_id)
        if row is None:
            row = rows.get(None)
        if row is None:
            found[division_id] = replace(ALWAYS_OPEN, division_id=division_id,
                                         own_days=own, shared_days=shared)
            continue
        away = {lang: text for lang, text in (("id", row.away_message_id),
                                              ("en", row.away_message_en)) if text}
        found[division_id] = Schedule(
            division_id, row.time_zone, week_from(periods.get(row.id, [])),
            row.holidays_close, own, shared, MappingProxyType(away))
    return found


def hours_of(principal: Principal, division_id: int | None) -> HoursView:
    """The hours a division keeps (its own or the default's) and its own days."""
    _may_manage(principal, division_id)
    row = HoursSchedule.get_or_none(_scope(HoursSchedule, division_id))
    if row is None and division_id is not None:
        row = HoursSchedule.get_or_none(HoursSchedule.division.is_null())
    days = tuple(DayView(d.day, d.kind, d.label, _maybe(d.opens), _maybe(d.closes))
                 for d in HoursDay.select().where(_scope(HoursDay, division_id))
                 .order_by(HoursDay.day))
    if row is None:
        return HoursView(division_id, False, DEFAULT_ZONE, (), True, "", "", days)
    periods = tuple((p.weekday, hhmm(p.opens), hhmm(p.closes)) for p in HoursPeriod.select()
                    .where(HoursPeriod.schedule == row.id)
                    .order_by(HoursPeriod.weekday, HoursPeriod.opens))
    return HoursView(division_id, row.division_id == division_id, row.time_zone, periods,
                     row.holidays_close, row.away_message_id, row.away_message_en, days)


def set_hours(rt: Runtime, principal: Principal, division_id: int | None, *,
              periods: Sequence[tuple[int, str, str]], time_zone: str = DEFAULT_ZONE,
              holidays_close: bool = True, away_message_id: str = "",
              away_message_en: str = "") -> HoursView:
    """Replaces a division's weekly hours (None: the global default) with those given."""
    _may_manage(principal, division_id)
    zone = zone_name(time_zone)
    minutes = [_period(i, weekday, opens, closes)
               for i, (weekday, opens, closes) in enumerate(periods)]
    week_from(minutes)  # refuses empty and overlapping periods, naming them
    away_id, away_en = _away(away_message_id, "Indonesian"), _away(away_message_en, "English")
    with db.atomic():
        row = HoursSchedule.get_or_none(_scope(HoursSchedule, division_id))
        if row is None:
            row = HoursSchedule(division=division_id)
        row.time_zone, row.holidays_close, row.updated_at = zone, holidays_close, utcnow()
        row.away_message_id, row.away_message_en = away_id, away_en
        row.save()
        HoursPeriod.delete().where(HoursPeriod.schedule == row.id).execute()
        for weekday, opens, closes in minutes:
            HoursPeriod.create(schedule=row.id, weekday=weekday, opens=opens, closes=closes)
        _audit(rt, principal, division_id, what="week", periods=len(minutes),
               zone=ZONES[zone])
    return hours_of(principal, division_id)


def clear_hours(rt: Runtime, principal: Principal, division_id: int) -> None:
    """Drops a division's own hours: from now on it keeps the global default's."""
    _may_manage(principal, division_id)
    with db.atomic():
        deleted = HoursSchedule.delete().where(HoursSchedule.division == division_id).execute()
        if deleted:
            _audit(rt, principal, division_id, what="week", periods=None, zone=None)


def set_day(rt: Runtime, principal: Principal, division_id: int | None, day: date, *,
            kind: str, label: str = "", opens: str | None = None,
            closes: str | None = None) -> DayView:
    """Closes a date (with a label) or opens it on its own hours; None: every division."""
    _may_manage(principal, division_id)
    where = f"{day.isoformat()}"
    if kind not in DAY_KINDS:
        raise HoursError(f"{where}: {kind!r} is not a kind of day: choose closed or open")
    label = label.strip()
    if len(label) > MAX_LABEL or (kind == "closed" and not label):
        raise HoursError(f"{where}: a closed day needs a label of 1 to {MAX_LABEL} "
                         "characters (for example 'Stock opname'), an open day at most "
                         f"{MAX_LABEL}")
    start = end = None
    if kind == "open":
        if opens is None or closes is None:
            raise HoursError(f"{where}: an open day needs its opening and closing times")
        start = parse_time(opens, f"{where} opens")
        end = parse_time(closes, f"{where} closes", closing=True)
        span(start, end, where)
    with db.atomic():
        row = HoursDay.get_or_none(_scope(HoursDay, division_id), HoursDay.day == day)
        if row is None:
            row = HoursDay(division=division_id, day=day)
        row.kind, row.label, row.opens, row.closes = kind, label, start, end
        row.save()
        _audit(rt, principal, division_id, what="day", day=day.isoformat(), kind=kind)
    return DayView(day, kind, label, _maybe(start), _maybe(end))


def remove_day(rt: Runtime, principal: Principal, division_id: int | None, day: date) -> bool:
    """Forgets a closed or open day; True when there was one."""
    _may_manage(principal, division_id)
    with db.atomic():
        deleted = HoursDay.delete().where(_scope(HoursDay, division_id),
                                          HoursDay.day == day).execute()
        if deleted:
            _audit(rt, principal, division_id, what="day", day=day.isoformat(), kind=None)
    return bool(deleted)


def _may_manage(principal: Principal, division_id: int | None) -> None:
    """Admins every division and the default; supervisors their own divisions only."""
    require(principal, "automation.manage")
    if principal.can("division.manage"):
        if division_id is not None and Division.get_or_none(Division.id == division_id) is None:
            raise Denied()
        return
    if division_id is None or division_id not in principal.divisions:
        raise Denied()


def _scope(model: type[HoursSchedule] | type[HoursDay], division_id: int | None
           ) -> Expression:
    column = model.division
    return column.is_null() if division_id is None else column == division_id


def _period(index: int, weekday: int, opens: str, closes: str) -> tuple[int, int, int]:
    if not isinstance(weekday, int) or not 0 <= weekday < 7:
        raise HoursError(f"period {index + 1}: weekday {weekday!r} is not a day of the "
                         "week: 0 is Monday, 6 is Sunday")
    where = f"period {index + 1} ({WEEKDAYS[weekday]})"
    return (weekday, parse_time(opens, f"{where} opens"),
            parse_time(closes, f"{where} closes", closing=True))


def _away(text: str, language: str) -> str:
    text = text.strip()
    if len(text) > MAX_AWAY:
        raise HoursError(f"the {language} away message has {len(text):,} characters: "
                         f"WhatsApp carries at most {MAX_AWAY:,}, shorten it")
    return text


def _maybe(minutes: int | None) -> str | None:
    return None if minutes is None else hhmm(minutes)


def _audit(rt: Runtime, principal: Principal, division_id: int | None,
           **detail: str | int | None) -> None:
    target = "division:all" if division_id is None else f"division:{division_id}"
    rt.audit(actor=principal.actor, action="hours.changed", target=target, detail=detail)
