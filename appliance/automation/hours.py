"""Provides business hours as pure values: `Schedule`, `is_open` and `next_opening`.

The rule engine asks `is_open` for every inbound message, so a schedule is an immutable
value built once (`appliance.automation.schedules` loads them) and the question costs a
few dictionary lookups: a few microseconds, no query. Times are whole minutes after local
midnight in the schedule's own zone (WIB, WITA or WIT: none of them has daylight saving,
so local minutes are plain arithmetic). A period runs from `opens` up to, not including,
`closes`; when `closes` is at or before `opens` it runs past midnight and belongs to the
day it opens on: Friday 20:00-02:00 is open at Saturday 01:30, even when Saturday is a
holiday or a closed day. For each date the most specific word decides: the division's
own day (closed, or open on its own hours), then the admin's day for every division,
then the national holidays and cuti bersama (when the schedule says they close it), then
the weekly periods.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from appliance.errors import GembokError

DAY = 24 * 60
WEEK = 7 * DAY
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_ZONE = "Asia/Jakarta"
# Indonesia's three zones, and the names people use for them.
ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_ALIASES = {short.casefold(): name for name, short in ZONES.items()}
# `holidays` keeps cuti bersama (collective leave days) in its government category.
HOLIDAY_CATEGORIES = ("public", "government")
LOOK_AHEAD_DAYS = 400  # next_opening gives up after this: a schedule that never opens
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

Span = tuple[int, int]  # minutes after the day's midnight: opens, closes (> opens, <= +DAY)


class HoursError(GembokError, ValueError):
    """Business hours that cannot be kept as given: the message says what, where, what to do."""


class UnknownTimeZone(HoursError):
    """A time zone other than WIB, WITA or WIT."""


class BadTime(HoursError):
    """A time that is not HH:MM on a 24-hour clock."""


class EmptyPeriod(HoursError):
    """A period that opens and closes at the same minute."""


class OverlappingPeriods(HoursError):
    """Two periods that cover the same minutes."""


def zone_name(value: str) -> str:
    """The IANA name of one of Indonesia's zones, from that name or from WIB, WITA, WIT."""
    cleaned = value.strip()
    if cleaned in ZONES:
        return cleaned
    if cleaned.casefold() in _ALIASES:
        return _ALIASES[cleaned.casefold()]
    allowed = ", ".join(f"{name} ({short})" for name, short in ZONES.items())
    raise UnknownTimeZone(f"time zone {value!r} is not one Gembok keeps hours in: "
                          f"choose one of {allowed}")


def parse_time(value: str, where: str, *, closing: bool = False) -> int:
    """Minutes after midnight of an HH:MM time; `where` names the field for the error.

    A closing time may be 24:00, the end of the day (the same as 00:00 past midnight).
    """
    if closing and isinstance(value, str) and value.strip() == "24:00":
        return DAY
    if not isinstance(value, str) or not (m := _HHMM.fullmatch(value.strip())):
        last = "24:00" if closing else "23:59"
        raise BadTime(f"{where}: {value!r} is not a time of day: write HH:MM on a 24-hour "
                      f"clock, 00:00 to {last} (for example 08:00 or 17:30)")
    return int(m.group(1)) * 60 + int(m.group(2))


def hhmm(minutes: int) -> str:
    """HH:MM of minutes after midnight; the end of the day is 24:00."""
    return "24:00" if minutes == DAY else f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def span(opens: int, closes: int, where: str) -> Span:
    """A period as minutes, checked: past midnight when it closes at or before it opens."""
    if not (0 <= opens < DAY and 0 <= closes <= DAY):
        raise BadTime(f"{where}: {opens}-{closes} are not minutes of the day (0 to 1440)")
    if opens == closes:
        raise EmptyPeriod(f"{where}: opens and closes at {hhmm(opens)}: give a closing time "
                          "after the opening (or earlier, for a period past midnight)")
    return (opens, closes if closes > opens else closes + DAY)


def check_week(periods: Iterable[tuple[int, int, int]]) -> None:
    """Refuses periods (weekday, opens, closes) of one week that cover the same minutes."""
    placed = []
    for weekday, opens, closes in periods:
        if not 0 <= weekday < 7:
            raise HoursError(f"weekday {weekday} is not a day of the week: 0 is Monday, "
                             "6 is Sunday")
        start, end = span(opens, closes, f"{WEEKDAYS[weekday]} {hhmm(opens)}-{hhmm(closes)}")
        for shift in (0, WEEK):  # Sunday night runs into Monday morning
            placed.append((weekday * DAY + start + shift, weekday * DAY + end + shift,
                           weekday, opens, closes))
    placed.sort()
    for before, after in itertools.pairwise(placed):
        if after[0] < before[1]:
            first = f"{WEEKDAYS[before[2]]} {hhmm(before[3])}-{hhmm(before[4])}"
            second = f"{WEEKDAYS[after[2]]} {hhmm(after[3])}-{hhmm(after[4])}"
            raise OverlappingPeriods(f"{first} overlaps {second}: shorten one of them or "
                                     "join them into one period")


@lru_cache(maxsize=64)
def national_holidays(year: int) -> Mapping[date, str]:
    """Indonesia's national holidays and cuti bersama of one year, each with its name."""
    found = holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES,
                                      language="id")  # not the box's LANG: always Indonesian
    return MappingProxyType({day: str(name) for day, name in found.items()})


@dataclass(frozen=True)
class Day:
    """A date the schedule treats on its own: closed, or open on the given periods."""

    label: str
    spans: tuple[Span, ...] = ()  # empty: closed all day


@dataclass(frozen=True)
class Schedule:
    """One division's hours (or the global default) as the rule engine reads them."""

    division_id: int | None = None
    time_zone: str = DEFAULT_ZONE
    week: tuple[tuple[Span, ...], ...] = ((),) * 7  # per weekday, Monday first
    holidays_close: bool = True
    own_days: Mapping[date, Day] = field(default_factory=lambda: MappingProxyType({}))
    shared_days: Mapping[date, Day] = field(default_factory=lambda: MappingProxyType({}))
    away_message: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    configured: bool = True  # False: nobody has set hours, so the office never closes
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise HoursError("a week has seven days of periods, Monday first")
        frozen = {"time_zone": zone_name(self.time_zone),
                  "week": tuple(tuple(spans) for spans in self.week),
                  "own_days": MappingProxyType(dict(self.own_days)),
                  "shared_days": MappingProxyType(dict(self.shared_days)),
                  "away_message": MappingProxyType(dict(self.away_message))}
        for name, value in frozen.items():  # a caller's dict or list cannot change it later
            object.__setattr__(self, name, value)
        object.__setattr__(self, "zone", ZoneInfo(self.time_zone))

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The periods that open on `day`, after its own, shared and holiday words."""
        special = self.own_days.get(day) or self.shared_days.get(day)
        if special is not None:
            return special.spans
        if self.holidays_close and day in national_holidays(day.year):
            return ()
        return self.week[day.weekday()]

    def closed_because(self, day: date) -> str | None:
        """Why a date is closed all day (its label or holiday name), or None."""
        special = self.own_days.get(day) or self.shared_days.get(day)
        if special is not None:
            return None if special.spans else special.label
        if self.holidays_close:
            return national_holidays(day.year).get(day)
        return None

    def local(self, at: datetime) -> datetime:
        """`at` on this schedule's clock; a naive time is UTC, as the store keeps it."""
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(self.zone)


ALWAYS_OPEN = Schedule(week=(((0, DAY),),) * 7, holidays_close=False, configured=False)


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether the office is open at `at` (aware, or naive UTC)."""
    local = schedule.local(at)
    today = local.date()
    minute = local.hour * 60 + local.minute
    for start, end in schedule.spans_on(today):
        if start <= minute < end:
            return True
    minute += DAY  # the same minute, counted from yesterday's midnight
    return any(end > minute for _, end in schedule.spans_on(today - timedelta(days=1)))


def next_opening(schedule: Schedule, at: datetime) -> datetime | None:
    """The first moment at or after `at` the office is open, on the schedule's clock.

    `at` itself (in the schedule's zone) when it is open already; None when the schedule
    does not open within LOOK_AHEAD_DAYS (no periods, or a long closed spell).
    """
    if is_open(schedule, at):
        return schedule.local(at)
    local = schedule.local(at)
    today = local.date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=schedule.zone)
    minute = local.hour * 60 + local.minute
    for offset in range(LOOK_AHEAD_DAYS + 1):
        starts = [start for start, _ in schedule.spans_on(today + timedelta(days=offset))
                  if offset or start > minute]
        if starts:
            return midnight + timedelta(days=offset, minutes=min(starts))
    return None


def away_message(schedule: Schedule, language: str) -> str:
    """The away message in `language` ("id" or "en"), or the other one if it has none."""
    texts = schedule.away_message
    return texts.get(language) or texts.get("id") or texts.get("en") or ""


def week_from(periods: Iterable[tuple[int, int, int]]) -> tuple[tuple[Span, ...], ...]:
    """Weekly periods (weekday, opens, closes), checked, as a Schedule's `week`."""
    periods = list(periods)
    check_week(periods)
    days: list[list[Span]] = [[] for _ in range(7)]
    for weekday, opens, closes in periods:
        days[weekday].append(span(opens, closes, WEEKDAYS[weekday]))
    return tuple(tuple(sorted(spans)) for spans in days)
