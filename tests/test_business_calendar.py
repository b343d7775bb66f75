"""Business-hours arithmetic: weekends, holidays, DST changes, timezones, bad definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.business_calendar import BusinessCalendar, CalendarError

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def office(timezone: str, holidays: list[str] | None = None) -> BusinessCalendar:
    return BusinessCalendar.from_spec(timezone, {"mon-fri": "09:00-18:00"}, holidays or [])


def test_within_one_working_day() -> None:
    cal = office("Europe/Berlin")
    start = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)  # Tuesday
    assert cal.add(start, timedelta(hours=2)) == datetime(2026, 11, 24, 12, 0, tzinfo=BERLIN)


def test_after_hours_start_counts_from_next_morning() -> None:
    cal = office("Europe/Berlin")
    start = datetime(2026, 11, 24, 20, 0, tzinfo=BERLIN)  # Tuesday evening
    assert cal.add(start, timedelta(hours=2)) == datetime(2026, 11, 25, 11, 0, tzinfo=BERLIN)


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    cal = office("Europe/Berlin")
    start = datetime(2026, 11, 27, 17, 0, tzinfo=BERLIN)  # Friday 17:00, one hour left
    assert cal.add(start, timedelta(hours=4)) == datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)  # Monday 12:00
    assert cal.working_time(start, datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)) == timedelta(hours=4)


def test_holidays_are_skipped() -> None:
    # 1-3 October 2026 (Thu-Sat) are holidays: Wednesday 17:00 + 2 h is Monday 10:00.
    cal = office("Asia/Shanghai", ["2026-10-01", "2026-10-02"])
    start = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    assert cal.add(start, timedelta(hours=2)) == datetime(2026, 10, 5, 10, 0, tzinfo=SHANGHAI)
    assert cal.working_time(start, datetime(2026, 10, 5, 10, 0, tzinfo=SHANGHAI)) == timedelta(hours=2)


def test_berlin_friday_evening_ticket_covered_by_shenzhen_team() -> None:
    """A customer in Berlin writes Friday 18:00 (Saturday 01:00 in Shenzhen): a 2 h first response is due at
    Monday 11:00 Shenzhen time, which is Monday 04:00 in Berlin."""
    team = office("Asia/Shanghai")
    start = datetime(2026, 11, 27, 18, 0, tzinfo=BERLIN)
    due = team.add(start, timedelta(hours=2))
    assert due == datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)
    assert due.astimezone(BERLIN) == datetime(2026, 11, 30, 4, 0, tzinfo=BERLIN)
    assert not team.is_working(start)
    assert team.is_working(due - timedelta(minutes=1))


def test_spring_forward_day_has_one_hour_less() -> None:
    """Round-the-clock local hours on 29 March 2026 (Berlin jumps 02:00 → 03:00) hold 23 hours."""
    cal = BusinessCalendar.from_spec("Europe/Berlin", {"daily": "00:00-24:00"})
    day_start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    day_end = datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert cal.working_time(day_start, day_end) == timedelta(hours=23)
    assert cal.add(day_start, timedelta(hours=23)) == day_end


def test_fall_back_day_has_one_hour_more() -> None:
    cal = BusinessCalendar.from_spec("America/New_York", {"daily": "00:00-24:00"})
    day_start = datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)  # clocks go back at 02:00
    day_end = datetime(2026, 11, 2, 0, 0, tzinfo=NEW_YORK)
    assert cal.working_time(day_start, day_end) == timedelta(hours=25)


def test_office_hours_across_a_dst_change_keep_local_opening_times() -> None:
    """Friday 17:00 + 2 h across the weekend of the autumn change is Monday 10:00 local (UTC offset changed)."""
    cal = office("Europe/Berlin")
    start = datetime(2026, 10, 23, 17, 0, tzinfo=BERLIN)  # Friday, CEST (UTC+2)
    due = cal.add(start, timedelta(hours=2))
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=BERLIN)  # Monday, CET (UTC+1)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_split_shifts_and_weekend_hours() -> None:
    cal = BusinessCalendar.from_spec("UTC", {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "10:00-14:00"})
    monday = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert cal.add(monday, timedelta(hours=2)) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # lunch skipped
    friday = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert cal.add(friday, timedelta(hours=3)) == datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # Saturday shift


def test_working_time_is_negative_backwards_and_zero_outside_hours() -> None:
    cal = office("UTC")
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert cal.working_time(saturday, sunday) == timedelta(0)
    monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert cal.working_time(monday_noon, saturday) == -timedelta(hours=3)


def test_always_is_wall_clock() -> None:
    cal = BusinessCalendar.always()
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert cal.add(start, timedelta(hours=2)) == datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    assert cal.is_working(start)


@pytest.mark.parametrize(
    ("timezone", "hours", "holidays", "message"),
    [
        ("Mars/Olympus", {"mon-fri": "09:00-18:00"}, [], "timezone 'Mars/Olympus'"),
        ("UTC", {"mon-fro": "09:00-18:00"}, [], "hours.mon-fro"),
        ("UTC", {"mon": "18:00-09:00"}, [], "hours.mon"),
        ("UTC", {"tue": "9am-5pm"}, [], "hours.tue"),
        ("UTC", {"mon-fri": "closed"}, [], "no working time"),
        ("UTC", {"mon-fri": "09:00-18:00"}, ["2026-02-30"], "holidays[0]"),
    ],
)
def test_bad_definitions_name_the_key(timezone: str, hours: dict[str, str], holidays: list[str],
                                      message: str) -> None:
    with pytest.raises(CalendarError, match=message.replace("[", r"\[").replace("]", r"\]")):
        BusinessCalendar.from_spec(timezone, hours, holidays)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office("UTC").add(datetime(2026, 11, 23, 9, 0), timedelta(hours=1))
