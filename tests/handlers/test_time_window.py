"""Time windows of manager commands: resolution in the viewer's timezone (DST included), bounds and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.commands import CommandError, TimeWindow, TimeWindowError, format_duration, parse_duration

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


NOW = utc(2026, 11, 23, 9, 30)  # 10:30 in Berlin (CET), 17:30 in Shanghai


@pytest.mark.parametrize(
    ("now", "tz", "start"),
    [
        (NOW, BERLIN, utc(2026, 11, 22, 23, 0)),
        (NOW, SHANGHAI, utc(2026, 11, 22, 16, 0)),
        (NOW, UTC, utc(2026, 11, 23, 0, 0)),
        # 00:30 on the 24th in Shanghai, still the 23rd in Berlin: "today" is the viewer's day
        (utc(2026, 11, 23, 16, 30), SHANGHAI, utc(2026, 11, 23, 16, 0)),
        (utc(2026, 11, 23, 16, 30), BERLIN, utc(2026, 11, 22, 23, 0)),
        # DST starts in Berlin on 2026-03-29: midnight was CET, noon is CEST, so "today" is 11 hours old at noon
        (utc(2026, 3, 29, 10, 0), BERLIN, utc(2026, 3, 28, 23, 0)),
        # DST ends on 2026-10-25: midnight was CEST, noon is CET, so "today" is 13 hours old at noon
        (utc(2026, 10, 25, 11, 0), BERLIN, utc(2026, 10, 24, 22, 0)),
    ],
)
def test_today_starts_at_local_midnight_of_the_viewer(now: datetime, tz: ZoneInfo, start: datetime) -> None:
    assert TimeWindow.parse("today").resolve(now, tz) == (start, now)


def test_today_on_dst_days_lasts_the_local_wall_clock_hours() -> None:
    spring = TimeWindow.today().resolve(utc(2026, 3, 29, 10, 0), BERLIN)
    autumn = TimeWindow.today().resolve(utc(2026, 10, 25, 11, 0), BERLIN)
    assert spring[1] - spring[0] == timedelta(hours=11)
    assert autumn[1] - autumn[0] == timedelta(hours=13)


def test_previous_of_today_is_yesterday_until_the_same_wall_clock_time() -> None:
    now = utc(2026, 3, 30, 10, 0)  # 12:00 CEST on the day after DST started
    start, end = TimeWindow.today().previous().resolve(now, BERLIN)
    assert (start, end) == (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 10, 0))  # 00:00 CET .. 12:00 CEST
    assert TimeWindow.today().previous().label == "yesterday (same hours)"


def test_yesterday_is_the_whole_local_day_before_today() -> None:
    yesterday = TimeWindow.parse("yesterday")
    assert yesterday == TimeWindow.parse("昨天")
    assert yesterday.resolve(NOW, BERLIN) == (utc(2026, 11, 21, 23, 0), utc(2026, 11, 22, 23, 0))
    assert yesterday.resolve(NOW, SHANGHAI) == (utc(2026, 11, 21, 16, 0), utc(2026, 11, 22, 16, 0))
    # the day after DST ended in Berlin, yesterday had 25 hours
    start, end = yesterday.resolve(utc(2026, 10, 26, 9, 0), BERLIN)
    assert end - start == timedelta(hours=25)
    assert yesterday.previous().resolve(NOW, BERLIN) == (utc(2026, 11, 20, 23, 0), utc(2026, 11, 21, 23, 0))
    assert (yesterday.label, yesterday.previous().label) == ("yesterday", "the day before yesterday")


@pytest.mark.parametrize("tz", [BERLIN, SHANGHAI, UTC])
def test_rolling_windows_are_exact_spans_before_now_whatever_the_timezone(tz: ZoneInfo) -> None:
    now = utc(2026, 3, 31, 10, 0)  # 7 days back crosses the Berlin DST change
    assert TimeWindow.parse("7d").resolve(now, tz) == (now - timedelta(days=7), now)
    assert TimeWindow.parse("24h").resolve(now, tz) == (now - timedelta(hours=24), now)
    assert TimeWindow.parse("2w").resolve(now, tz) == (now - timedelta(days=14), now)
    assert TimeWindow.parse("7d").previous().resolve(now, tz) == (now - timedelta(days=14), now - timedelta(days=7))


def test_resolve_gives_utc_for_a_now_in_any_timezone() -> None:
    local_now = NOW.astimezone(SHANGHAI)
    start, end = TimeWindow.parse("30d").resolve(local_now, BERLIN)
    assert end == NOW and end.utcoffset() == timedelta(0) and start.utcoffset() == timedelta(0)


def test_resolve_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeWindow.parse("7d").resolve(datetime(2026, 11, 23, 9, 30), BERLIN)


@pytest.mark.parametrize(
    ("word", "tz", "start", "end"),
    [
        ("2026-11-01..2026-11-15", BERLIN, utc(2026, 10, 31, 23, 0), utc(2026, 11, 15, 23, 0)),
        ("2026-11-01..2026-11-15", SHANGHAI, utc(2026, 10, 31, 16, 0), utc(2026, 11, 15, 16, 0)),
        ("2026-11-03", BERLIN, utc(2026, 11, 2, 23, 0), utc(2026, 11, 3, 23, 0)),
        # a 25-hour and a 23-hour day
        ("2026-10-25", BERLIN, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)),
        ("2026-03-29", BERLIN, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)),
        ("2026-03-28..2026-03-30", BERLIN, utc(2026, 3, 27, 23, 0), utc(2026, 3, 30, 22, 0)),
        # TO is today: the end is cut at now
        ("2026-11-20..2026-11-23", BERLIN, utc(2026, 11, 19, 23, 0), NOW),
        ("2026-11-20..2026-11-30", BERLIN, utc(2026, 11, 19, 23, 0), NOW),
    ],
)
def test_dates_cover_whole_local_days_including_to(word: str, tz: ZoneInfo, start: datetime, end: datetime) -> None:
    assert TimeWindow.parse(word).resolve(NOW, tz) == (start, end)


def test_dates_that_start_in_the_viewers_future_are_an_error() -> None:
    window = TimeWindow.parse("2026-11-24..2026-11-30")
    with pytest.raises(TimeWindowError, match=r"2026-11-24\.\.2026-11-30 starts in the future \(today is 2026-11-23\)"):
        window.resolve(NOW, BERLIN)
    # at 00:30 on the 24th in Shanghai the same window has begun
    assert window.resolve(utc(2026, 11, 23, 16, 30), SHANGHAI)[0] == utc(2026, 11, 23, 16, 0)


def test_previous_dates_window_is_the_same_number_of_days_before() -> None:
    window = TimeWindow.parse("2026-11-01..2026-11-15").previous()
    assert window.token == "2026-10-17..2026-10-31"
    assert window.label == "2026-10-17 – 2026-10-31"
    assert window.resolve(NOW, BERLIN) == (utc(2026, 10, 16, 22, 0), utc(2026, 10, 31, 23, 0))
    assert TimeWindow.parse("2026-11-03").previous().token == "2026-11-02"


@pytest.mark.parametrize(
    ("word", "window", "label"),
    [
        ("today", TimeWindow.today(), "today"),
        ("今天", TimeWindow.today(), "today"),
        ("7d", TimeWindow.rolling(7, "d"), "last 7 days"),
        ("7days", TimeWindow.rolling(7, "d"), "last 7 days"),
        ("7天", TimeWindow.rolling(7, "d"), "last 7 days"),
        ("近7天", TimeWindow.rolling(7, "d"), "last 7 days"),
        ("最近7天", TimeWindow.rolling(7, "d"), "last 7 days"),
        ("24h", TimeWindow.rolling(24, "h"), "last 24 hours"),
        ("24小时", TimeWindow.rolling(24, "h"), "last 24 hours"),
        ("1h", TimeWindow.rolling(1, "h"), "last hour"),
        ("2w", TimeWindow.rolling(2, "w"), "last 2 weeks"),
        ("2周", TimeWindow.rolling(2, "w"), "last 2 weeks"),
        ("400d", TimeWindow.rolling(400, "d"), "last 400 days"),
        ("57w", TimeWindow.rolling(57, "w"), "last 57 weeks"),
        ("9600h", TimeWindow.rolling(9600, "h"), "last 9600 hours"),
        ("2026-01-01..2027-02-04", TimeWindow.dates(date(2026, 1, 1), date(2027, 2, 4)), "2026-01-01 – 2027-02-04"),
        ("2026/11/01..2026/11/15", TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)), "2026-11-01 – 2026-11-15"),
    ],
)
def test_window_words_and_labels(word: str, window: TimeWindow, label: str) -> None:
    assert TimeWindow.parse(word) == window
    assert window.label == label


def test_previous_rolling_label() -> None:
    assert TimeWindow.parse("7d").previous().label == "previous 7 days"


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("0d", "empty window"),
        ("0h", "empty window"),
        ("401d", "at most 400 days"),
        ("58w", "at most 400 days"),
        ("9601h", "at most 400 days"),
        ("2026-01-01..2027-02-05", "at most 400 days"),
        ("2026-11-15..2026-11-01", "ends (2026-11-01) before it starts (2026-11-15)"),
        ("2026-02-29", "not a valid date"),
        ("2026-11-01..2026-11-31", '"2026-11-31" in "2026-11-01..2026-11-31" is not a valid date'),
        ("1969-12-31", "out of range"),
        ("2026-11-01..", "not a date range"),
        ("7dys", 'Did you mean "7d"?'),
        ("2months", 'Did you mean "60d"?'),
        ("tomorrow", "not a time window"),
    ],
)
def test_bad_windows_name_the_word(word: str, message: str) -> None:
    with pytest.raises(TimeWindowError) as caught:
        TimeWindow.parse(word)
    assert message in str(caught.value)
    assert caught.value.word == word
    assert isinstance(caught.value, CommandError)


@pytest.mark.parametrize(
    ("word", "duration"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1d12h", timedelta(hours=36)),
        ("2H", timedelta(hours=2)),
        ("2hours", timedelta(hours=2)),
        ("45mins", timedelta(minutes=45)),
        ("2小时", timedelta(hours=2)),
        ("30分钟", timedelta(minutes=30)),
        ("1周", timedelta(weeks=1)),
        ("soon", None),
        ("1.5h", None),
        ("h", None),
        ("2", None),
    ],
)
def test_silence_durations(word: str, duration: timedelta | None) -> None:
    assert parse_duration(word) == duration


def test_format_duration_is_the_shortest_spelling() -> None:
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=2, minutes=5)) == "2d5m"
    assert format_duration(timedelta(hours=24)) == "1d"
