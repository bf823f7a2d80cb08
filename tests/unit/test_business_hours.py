"""Business hours as Toko Makmur keeps them: weekdays, nights, holidays, cuti bersama, zones.

Sales works Monday to Friday 08:00-17:00 and Saturday 08:00-12:00 in Jakarta; the
warehouse in Makassar keeps the same hours on its own clock (WITA); the night desk answers
Friday 20:00-02:00. Times are built in the office's zone unless a test is about zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st

from appliance.automation.hours import (
    DAY,
    BadTime,
    Day,
    EmptyPeriod,
    HoursError,
    OverlappingPeriods,
    Schedule,
    UnknownTimeZone,
    away_message,
    is_open,
    national_holidays,
    next_opening,
    parse_time,
    week_from,
    zone_name,
)

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
OFFICE = [(d, 8 * 60, 17 * 60) for d in (MON, TUE, WED, THU, FRI)] + [(SAT, 8 * 60, 12 * 60)]
CUTI_BERSAMA = date(2025, 12, 26)  # Cuti Bersama Hari Raya Natal, a Friday


def schedule(periods=OFFICE, **how) -> Schedule:
    return Schedule(week=week_from(periods), **how)


def days(**by_date: Day) -> MappingProxyType:
    return MappingProxyType({date.fromisoformat(k.lstrip("d").replace("_", "-")): v
                             for k, v in by_date.items()})


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


sales = schedule(away_message=MappingProxyType({"id": "Kami tutup", "en": "We are closed"}))


def test_after_17_00_on_a_weekday_sales_is_closed():
    # Given Sales' hours, on Wednesday 2 December 2026
    # Then it is open up to 16:59 and closed from 17:00 on
    assert is_open(sales, wib(2026, 12, 2, 16, 59, 59))
    assert not is_open(sales, wib(2026, 12, 2, 17, 0))
    assert not is_open(sales, wib(2026, 12, 2, 21, 30))
    # And the away message is there in both languages
    assert away_message(sales, "en") == "We are closed"
    assert away_message(sales, "id") == "Kami tutup"
    # And it opens again on Thursday at 08:00 Jakarta time
    assert next_opening(sales, wib(2026, 12, 2, 17, 0)) == wib(2026, 12, 3, 8, 0)


def test_on_a_cuti_bersama_day_the_office_is_closed():
    # Given a cuti bersama day that the `holidays` package keeps in its government category
    assert CUTI_BERSAMA in national_holidays(2025)
    assert "Cuti Bersama" in national_holidays(2025)[CUTI_BERSAMA]
    assert CUTI_BERSAMA not in holidays.country_holidays("ID", years=2025)  # public only
    assert CUTI_BERSAMA.weekday() == FRI
    # Then the office is closed on that Friday morning, and opens on Saturday
    assert not is_open(sales, wib(2025, 12, 26, 10, 0))
    assert next_opening(sales, wib(2025, 12, 26, 10, 0)) == wib(2025, 12, 27, 8, 0)
    # Unless its schedule says holidays do not close it
    assert is_open(schedule(holidays_close=False), wib(2025, 12, 26, 10, 0))
    # And this year's Christmas Eve is one too (Thursday 24 December 2026)
    assert not is_open(sales, wib(2026, 12, 24, 10, 0))
    assert is_open(sales, wib(2026, 12, 23, 10, 0))


def test_a_national_holiday_closes_the_office_too():
    # Christmas Day 2025 is a Thursday and a public holiday
    assert not is_open(sales, wib(2025, 12, 25, 10, 0))
    assert sales.closed_because(date(2025, 12, 25)) == national_holidays(2025)[
        date(2025, 12, 25)]


def test_a_night_shift_past_midnight_is_open_at_01_30():
    # Given the night desk, Friday 20:00 to 02:00
    night = schedule([(FRI, 20 * 60, 2 * 60)])
    # Then Friday's opening runs into Saturday 01:30, and ends at 02:00
    assert not is_open(night, wib(2026, 12, 4, 19, 59))
    assert is_open(night, wib(2026, 12, 4, 20, 0))
    assert is_open(night, wib(2026, 12, 5, 1, 30))
    assert not is_open(night, wib(2026, 12, 5, 2, 0))
    # And a Saturday closed for everyone does not cut Friday's night short
    closed_saturday = schedule([(FRI, 20 * 60, 2 * 60)],
                               shared_days=days(d2026_12_05=Day("Stock opname")))
    assert is_open(closed_saturday, wib(2026, 12, 5, 1, 30))
    # But a closed Friday means no night shift at all
    closed_friday = schedule([(FRI, 20 * 60, 2 * 60)],
                             own_days=days(d2026_12_04=Day("Renovasi")))
    assert not is_open(closed_friday, wib(2026, 12, 5, 1, 30))


def test_wita_hours_are_read_in_makassar_time():
    # Given the Makassar warehouse, 08:00-17:00 on weekdays, WITA (UTC+8, Jakarta +1)
    makassar = schedule(time_zone="WITA")
    assert makassar.time_zone == "Asia/Makassar"
    # When it is 16:30 in Jakarta, it is 17:30 in Makassar: closed
    assert not is_open(makassar, wib(2026, 12, 2, 16, 30))
    # When it is 07:30 in Jakarta, it is 08:30 in Makassar: open (Jakarta's office is not)
    assert is_open(makassar, wib(2026, 12, 2, 7, 30))
    assert not is_open(sales, wib(2026, 12, 2, 7, 30))
    # And a naive time is UTC, as the store keeps it: 00:30 UTC is 08:30 WITA
    assert is_open(makassar, datetime(2026, 12, 2, 0, 30))
    assert next_opening(makassar, wib(2026, 12, 2, 16, 30)) == datetime(
        2026, 12, 3, 8, 0, tzinfo=WITA)


def test_an_admins_own_closed_day_closes_a_division_that_would_be_open():
    office = schedule(shared_days=days(d2026_12_02=Day("Stock opname")))
    assert not is_open(office, wib(2026, 12, 2, 10, 0))
    assert office.closed_because(date(2026, 12, 2)) == "Stock opname"


def test_a_divisions_own_open_day_opens_it_on_a_sunday_and_on_a_holiday():
    office = schedule(own_days=days(d2026_12_06=Day("Promo", ((10 * 60, 14 * 60),)),
                                    d2025_12_26=Day("Stok", ((9 * 60, 12 * 60),))))
    assert is_open(office, wib(2026, 12, 6, 10, 0))
    assert not is_open(office, wib(2026, 12, 6, 14, 0))
    assert is_open(office, wib(2025, 12, 26, 11, 0))


def test_a_schedule_without_periods_never_opens():
    assert next_opening(schedule([]), wib(2026, 12, 2, 10, 0)) is None


@pytest.mark.parametrize(("value", "error", "says"), [
    ("Asia/Tokyo", UnknownTimeZone, "Asia/Tokyo"),
    ("UTC+7", UnknownTimeZone, "Asia/Jakarta \\(WIB\\)"),
])
def test_an_unknown_time_zone_is_refused_with_the_allowed_ones(value, error, says):
    with pytest.raises(error, match=says):
        zone_name(value)
    with pytest.raises(error):
        Schedule(time_zone=value)


@pytest.mark.parametrize("value", ["8:00", "25:00", "08:60", "0800", "", "08:00:00", "pagi"])
def test_a_time_not_hh_mm_is_refused_naming_the_field(value):
    with pytest.raises(BadTime, match=r"Monday opens: .* write HH:MM"):
        parse_time(value, "Monday opens")


def test_24_00_is_allowed_as_a_closing_time_only():
    assert parse_time("24:00", "closes", closing=True) == DAY
    with pytest.raises(BadTime):
        parse_time("24:00", "opens")


def test_a_period_that_opens_when_it_closes_is_refused():
    with pytest.raises(EmptyPeriod, match="Tuesday 09:00-09:00: opens and closes at 09:00"):
        week_from([(TUE, 9 * 60, 9 * 60)])


@pytest.mark.parametrize(("periods", "says"), [
    ([(MON, 8 * 60, 12 * 60), (MON, 11 * 60, 17 * 60)],
     "Monday 08:00-12:00 overlaps Monday 11:00-17:00"),
    ([(FRI, 20 * 60, 2 * 60), (SAT, 1 * 60, 5 * 60)],
     "Friday 20:00-02:00 overlaps Saturday 01:00-05:00"),
    ([(SUN, 22 * 60, 3 * 60), (MON, 0, 8 * 60)],
     "Sunday 22:00-03:00 overlaps Monday 00:00-08:00"),
])
def test_overlapping_periods_are_refused_naming_both(periods, says):
    with pytest.raises(OverlappingPeriods, match=says):
        week_from(periods)


def test_periods_that_touch_do_not_overlap():
    week = week_from([(MON, 8 * 60, 12 * 60), (MON, 12 * 60, 17 * 60)])
    assert is_open(Schedule(week=week), wib(2026, 11, 30, 12, 0))


def test_hours_errors_are_value_errors_an_operator_can_read():
    assert issubclass(HoursError, ValueError)


# Properties: the answer agrees with a brute-force reading of the same schedule.

minutes = st.integers(0, DAY - 1)
periods = st.lists(st.tuples(st.integers(0, 6), minutes, st.integers(1, 16 * 60)).map(
    lambda p: (p[0], p[1], (p[1] + p[2]) % DAY)), max_size=6)
instants = st.datetimes(min_value=datetime(2025, 1, 2), max_value=datetime(2026, 12, 30))
special = st.dictionaries(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    st.one_of(st.just(Day("closed")),
              st.tuples(minutes, minutes).filter(lambda p: p[0] != p[1]).map(
                  lambda p: Day("open", ((p[0], p[1] if p[1] > p[0] else p[1] + DAY),)))),
    max_size=5)


@st.composite
def schedules(draw) -> Schedule:
    chosen = draw(periods)
    try:
        week = week_from(chosen)
    except HoursError:
        reject()
    return Schedule(week=week, time_zone=draw(st.sampled_from(["WIB", "WITA", "WIT"])),
                    holidays_close=draw(st.booleans()),
                    own_days=MappingProxyType(draw(special)),
                    shared_days=MappingProxyType(draw(special)))


def brute_force_open(office: Schedule, at: datetime) -> bool:
    """Every period that opens within two days of `at`, laid out on the clock."""
    local = at.replace(tzinfo=UTC).astimezone(office.zone)
    for back in (0, 1):
        day = local.date() - timedelta(days=back)
        if day in office.own_days:
            spans = office.own_days[day].spans
        elif day in office.shared_days:
            spans = office.shared_days[day].spans
        elif office.holidays_close and day in holidays.country_holidays(
                "ID", years=day.year, categories=("public", "government")):
            spans = ()
        else:
            spans = office.week[day.weekday()]
        midnight = datetime(day.year, day.month, day.day, tzinfo=office.zone)
        if any(midnight + timedelta(minutes=s) <= local < midnight + timedelta(minutes=e)
               for s, e in spans):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(office=schedules(), at=instants)
def test_is_open_agrees_with_a_brute_force_reading(office, at):
    at = at.replace(second=0, microsecond=0)
    assert is_open(office, at) == brute_force_open(office, at)


@settings(max_examples=60, deadline=None)
@given(office=schedules(), at=instants)
def test_next_opening_is_open_and_nothing_before_it_is(office, at):
    at = at.replace(second=0, microsecond=0)
    opening = next_opening(office, at)
    assume(opening is not None)
    assert opening >= at.replace(tzinfo=UTC)
    assert is_open(office, opening)
    # And a minute-by-minute scan finds nothing open between `at` and the opening
    step = at.replace(tzinfo=UTC)
    while step < opening:
        assert not is_open(office, step)
        step += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(office=schedules(), at=instants)
def test_the_answer_does_not_depend_on_the_zone_the_question_is_asked_in(office, at):
    utc = at.replace(tzinfo=UTC)
    assert is_open(office, utc) == is_open(office, utc.astimezone(WITA)) \
        == is_open(office, at)
