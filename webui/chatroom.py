"""Provides the supervisor's dashboard: load per division and agent, times, a daily chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request

from appliance.clock import utcnow
from appliance.inbox import reports
from webui.access import current, permission, runtime

bp = Blueprint("chatroom", __name__)
PERIODS = (7, 30)
CHART_WIDTH, CHART_HEIGHT = 720, 180


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # every day's bar, but only some days' names fit under the axis


@bp.get("/dashboard")
@permission("report.read")
def dashboard() -> str:
    asked = request.args.get("days", "")
    days = int(asked) if asked in {str(n) for n in PERIODS} else PERIODS[0]
    until = utcnow()
    since = until - timedelta(days=days)
    me = current().principal
    tz = ZoneInfo(runtime().settings.timezone)
    times = reports.times(me, since, until, tz)
    return render_template("chatroom/dashboard.html", load=reports.load(me), times=times,
                           figures={name: _duration(getattr(times, name)) for name in (
                               "first_response_median_s", "first_response_mean_s",
                               "resolution_median_s")},
                           days=days, periods=PERIODS, since=since, until=until,
                           bars=day_bars(times.per_day, since, until, tz),
                           automated=reports.automated(me, since, until),
                           width=CHART_WIDTH, height=CHART_HEIGHT)


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def day_bars(per_day: list[tuple[str, int]], since: datetime, until: datetime,
             tz: tzinfo = UTC) -> list[Bar]:
    """One bar per office day of the period, empty days included, scaled to the chart's box."""
    counts = dict(per_day)
    first, last = (date.fromisoformat(reports.local_day(m, tz)) for m in (since, until))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    top = max([*counts.values(), 1])
    slot = CHART_WIDTH / len(days)
    every = 1 if len(days) <= 10 else 5
    bars = []
    for n, day in enumerate(days):
        count = counts.get(day.isoformat(), 0)
        height = CHART_HEIGHT * count / top
        bars.append(Bar(day, count, round(n * slot + slot * 0.15, 1),
                        round(CHART_HEIGHT - height, 1), round(slot * 0.7, 1), round(height, 1),
                        (len(days) - 1 - n) % every == 0))
    return bars
