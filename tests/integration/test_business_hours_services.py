"""Business hours as staff change them: who may, what is refused, what the rule engine reads.

Ayu runs the box and sets the office's default hours and the days closed for everyone;
Budi supervises Sales and sets Sales' own hours, and nobody else's; Citra answers
Billing's customers and sets nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.auth.permissions import BOX_ADMIN, Denied, principal_for
from appliance.automation import schedules
from appliance.automation.hours import (
    BadTime,
    EmptyPeriod,
    OverlappingPeriods,
    UnknownTimeZone,
    is_open,
)
from appliance.inbox.divisions import create_division
from appliance.store.hours import HoursDay, HoursPeriod, HoursSchedule
from appliance.store.models import AuditEntry
from tests.cast import DIVISIONS, hire

WIB = ZoneInfo("Asia/Jakarta")
WEEKDAYS_8_TO_5 = [(d, "08:00", "17:00") for d in range(5)]
WEDNESDAY_10_00 = datetime(2026, 12, 2, 10, 0, tzinfo=WIB)


@pytest.fixture
def office(rt):
    divisions = {name: create_division(rt, BOX_ADMIN, name) for name in DIVISIONS}
    people = {name: principal_for(hire(rt, name, divisions)) for name in ("ayu", "budi", "citra")}
    return rt, divisions, people


def hours_changes() -> list[tuple[str, str]]:
    return [(e.actor, e.target) for e in AuditEntry.select()
            .where(AuditEntry.action == "hours.changed").order_by(AuditEntry.seq)]


def test_after_17_00_on_a_weekday_sales_is_closed(office):
    rt, divisions, people = office
    # Given Budi sets Sales' hours, with an away message in both languages
    schedules.set_hours(rt, people["budi"], divisions["Sales"], periods=WEEKDAYS_8_TO_5,
                        away_message_id="Kami buka lagi besok pukul 08.00",
                        away_message_en="We open again tomorrow at 08:00")
    # When the rule engine loads the schedules
    sales = schedules.load_schedule(divisions["Sales"])
    # Then Sales is closed at 17:00 on a Wednesday and open at 16:59
    assert not is_open(sales, datetime(2026, 12, 2, 17, 0, tzinfo=WIB))
    assert is_open(sales, datetime(2026, 12, 2, 16, 59, tzinfo=WIB))
    assert sales.away_message["en"] == "We open again tomorrow at 08:00"


def test_a_supervisor_cannot_change_another_divisions_hours(office):
    rt, divisions, people = office
    budi = people["budi"]
    # When Budi, Sales' supervisor, tries Billing's hours, the default, or a day for everyone
    with pytest.raises(Denied):
        schedules.set_hours(rt, budi, divisions["Billing"], periods=WEEKDAYS_8_TO_5)
    with pytest.raises(Denied):
        schedules.set_hours(rt, budi, None, periods=WEEKDAYS_8_TO_5)
    with pytest.raises(Denied):
        schedules.set_day(rt, budi, None, date(2026, 12, 2), kind="closed", label="Libur")
    with pytest.raises(Denied):
        schedules.hours_of(budi, divisions["Billing"])
    # Then nothing changed and nothing was audited
    assert HoursSchedule.select().count() == 0
    assert HoursDay.select().count() == 0
    assert hours_changes() == []
    # But his own division's hours are his to set
    schedules.set_hours(rt, budi, divisions["Sales"], periods=WEEKDAYS_8_TO_5)
    assert hours_changes() == [(budi.actor, f"division:{divisions['Sales']}")]


def test_an_agent_can_neither_read_nor_change_hours(office):
    rt, divisions, people = office
    with pytest.raises(Denied):
        schedules.hours_of(people["citra"], divisions["Billing"])
    with pytest.raises(Denied):
        schedules.set_hours(rt, people["citra"], divisions["Billing"], periods=[])


def test_an_admins_own_closed_day_closes_every_division(office):
    rt, divisions, people = office
    ayu, budi = people["ayu"], people["budi"]
    # Given the default hours, and Sales' own longer ones
    schedules.set_hours(rt, ayu, None, periods=WEEKDAYS_8_TO_5)
    schedules.set_hours(rt, budi, divisions["Sales"], periods=[
        (d, "07:00", "21:00") for d in range(7)])
    assert all(is_open(s, WEDNESDAY_10_00) for s in schedules.load_schedules().values())
    # When Ayu closes Wednesday for everyone
    schedules.set_day(rt, ayu, None, date(2026, 12, 2), kind="closed", label="Stock opname")
    # Then every division, with its own hours or the default, is closed that day
    loaded = schedules.load_schedules()
    assert set(loaded) == {None, *divisions.values()}
    assert not any(is_open(s, WEDNESDAY_10_00) for s in loaded.values())
    assert loaded[divisions["Billing"]].closed_because(date(2026, 12, 2)) == "Stock opname"
    assert hours_changes()[-1] == (ayu.actor, "division:all")


def test_a_division_without_its_own_hours_keeps_the_default(office):
    rt, divisions, people = office
    schedules.set_hours(rt, people["ayu"], None, periods=WEEKDAYS_8_TO_5, time_zone="WITA")
    view = schedules.hours_of(people["ayu"], divisions["Billing"])
    assert not view.own
    assert view.time_zone == "Asia/Makassar"
    assert view.periods[0] == (0, "08:00", "17:00")
    # And when Sales drops its own hours it falls back to the default too
    schedules.set_hours(rt, people["budi"], divisions["Sales"], periods=[(5, "09:00", "12:00")])
    assert schedules.hours_of(people["budi"], divisions["Sales"]).own
    schedules.clear_hours(rt, people["budi"], divisions["Sales"])
    assert schedules.load_schedule(divisions["Sales"]).time_zone == "Asia/Makassar"


def test_a_box_where_nobody_set_hours_never_closes(office):
    _, divisions, _ = office
    sales = schedules.load_schedule(divisions["Sales"])
    assert not sales.configured
    assert is_open(sales, datetime(2025, 12, 25, 3, 0, tzinfo=WIB))  # Christmas, at night


def test_a_supervisor_opens_his_division_on_a_sunday(office):
    rt, divisions, people = office
    schedules.set_hours(rt, people["ayu"], None, periods=WEEKDAYS_8_TO_5)
    schedules.set_day(rt, people["budi"], divisions["Sales"], date(2026, 12, 6), kind="open",
                      label="Promo akhir tahun", opens="10:00", closes="14:00")
    sunday_noon = datetime(2026, 12, 6, 12, 0, tzinfo=WIB)
    loaded = schedules.load_schedules()
    assert is_open(loaded[divisions["Sales"]], sunday_noon)
    assert not is_open(loaded[divisions["Billing"]], sunday_noon)
    assert schedules.remove_day(rt, people["budi"], divisions["Sales"], date(2026, 12, 6))
    assert not is_open(schedules.load_schedule(divisions["Sales"]), sunday_noon)


@pytest.mark.parametrize(("how", "error", "says"), [
    ({"time_zone": "Asia/Tokyo"}, UnknownTimeZone,
     r"'Asia/Tokyo' is not one .*: choose one of Asia/Jakarta \(WIB\)"),
    ({"periods": [(0, "09:00", "09:00")]}, EmptyPeriod, "Monday 09:00-09:00"),
    ({"periods": [(4, "20:00", "02:00"), (5, "01:00", "05:00")]}, OverlappingPeriods,
     "Friday 20:00-02:00 overlaps Saturday 01:00-05:00"),
    ({"periods": [(0, "8am", "17:00")]}, BadTime, r"period 1 \(Monday\) opens: '8am'"),
    ({"periods": [(0, "08:00", "17.00")]}, BadTime, r"period 1 \(Monday\) closes: '17.00'"),
])
def test_bad_hours_are_refused_with_what_where_and_what_to_do(office, how, error, says):
    rt, divisions, people = office
    with pytest.raises(error, match=says):
        schedules.set_hours(rt, people["budi"], divisions["Sales"],
                            **{"periods": WEEKDAYS_8_TO_5, **how})
    assert HoursSchedule.select().count() == HoursPeriod.select().count() == 0
    assert hours_changes() == []


def test_a_closed_day_needs_a_label(office):
    rt, _, people = office
    with pytest.raises(ValueError, match="a closed day needs a label"):
        schedules.set_day(rt, people["ayu"], None, date(2026, 12, 2), kind="closed")


def test_changing_hours_twice_keeps_one_schedule_and_audits_each_change(office):
    rt, divisions, people = office
    sales = divisions["Sales"]
    schedules.set_hours(rt, people["budi"], sales, periods=WEEKDAYS_8_TO_5)
    view = schedules.set_hours(rt, people["ayu"], sales, periods=[(4, "20:00", "24:00")],
                               holidays_close=False)
    assert view.periods == ((4, "20:00", "24:00"),)
    assert not view.holidays_close
    assert HoursSchedule.select().count() == 1
    assert [t for _, t in hours_changes()] == [f"division:{sales}"] * 2
