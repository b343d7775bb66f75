"""Shift calendars: what they accept and refuse, night shifts, and on/off with /shift start and stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.assignment.shifts import ShiftError, parse_shift, shift_status, start_shift, stop_shift

MONDAY_10_SHENZHEN = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class Someone:
    shift: str | None
    shift_override: str | None = None
    shift_override_at: datetime | None = None
    shift_override_until: datetime | None = None


@pytest.mark.parametrize(("text", "error"), [
    ("mon-fri 09:00-18:00", "needs its timezone"),
    ("mon-fry 09:00-18:00 UTC", "'mon-fry' is not a day"),
    ("mon-fri 9-18 UTC", "'9-18' is not hours"),
    ("mon-fri 09:00-18:00 Mars/Olympus", "'Mars/Olympus' is not an IANA timezone"),
    ("mon-fri Asia/Shanghai", "'mon-fri' needs its hours"),
])
def test_bad_calendars_are_refused_naming_the_bad_part(text: str, error: str) -> None:
    with pytest.raises(ShiftError, match=error):
        parse_shift(text)


def test_a_night_shift_runs_into_the_next_day_and_the_week_wraps() -> None:
    calendar = parse_shift("sun-thu 22:00-06:00 America/New_York")
    assert calendar.text == "sun-thu 22:00-06:00 America/New_York"
    sunday_23h = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Sun 23:00 in New York
    assert calendar.is_on(sunday_23h)
    assert calendar.current_or_next(sunday_23h) == (datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
                                                    datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert not calendar.is_on(datetime(2026, 11, 28, 4, 0, tzinfo=UTC))  # Fri 23:00: no Friday night shift


def test_the_teams_timezone_is_written_into_a_calendar_without_one() -> None:
    assert parse_shift("mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00", "Europe/Berlin").text == \
        "mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00 Europe/Berlin"


def test_stopping_early_lasts_until_the_next_shift_and_starting_covers_until_its_end() -> None:
    mei = Someone("mon-fri 09:00-18:00 Asia/Shanghai")
    status = shift_status(mei, MONDAY_10_SHENZHEN)
    assert (status.on, status.until) == (True, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))

    stop = stop_shift(mei, MONDAY_10_SHENZHEN)
    mei.shift_override, mei.shift_override_at, mei.shift_override_until = stop.state, stop.at, stop.until
    status = shift_status(mei, MONDAY_10_SHENZHEN + timedelta(minutes=5))
    assert (status.on, status.until, status.went_off_at) == (False, datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
                                                             MONDAY_10_SHENZHEN)
    assert shift_status(mei, datetime(2026, 11, 24, 1, 30, tzinfo=UTC)).on  # Tuesday 09:30: the calendar again

    early = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # Tuesday 08:00 in Shenzhen, an hour early
    start = start_shift(mei, early, manual_hours=12)
    assert (start.state, start.until) == ("on", datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # until 18:00


def test_without_a_calendar_a_shift_started_by_hand_runs_out_after_the_limit() -> None:
    bo = Someone(None)
    assert not shift_status(bo, MONDAY_10_SHENZHEN).on
    start = start_shift(bo, MONDAY_10_SHENZHEN, manual_hours=8)
    bo.shift_override, bo.shift_override_at, bo.shift_override_until = start.state, start.at, start.until
    assert shift_status(bo, MONDAY_10_SHENZHEN + timedelta(hours=7)).on
    later = shift_status(bo, MONDAY_10_SHENZHEN + timedelta(hours=9))
    assert (later.on, later.went_off_at) == (False, MONDAY_10_SHENZHEN + timedelta(hours=8))
