"""Agents' shifts: the weekly shift calendar as written in settings and on the command line, and whether an agent
is on shift at a given instant (the calendar, or a shift started or stopped by hand with `/shift`).

A shift calendar is one line: day sets with their spans, `;` between sets, then the IANA timezone:

    mon-fri 09:00-18:00 Asia/Shanghai
    mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00 Europe/Berlin
    sun-thu 22:00-06:00 America/New_York        (a night shift: it runs into the next day)

Days are `mon`..`sun`, ranges such as `mon-fri` (or `sun-thu`, across the week's end), lists such as
`mon,wed,fri`, or `daily`. The calendar arithmetic
is bot.business_calendar's (DST-safe wall times in the zone). Imports nothing of kefu but that module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.business_calendar import DAYS, BusinessCalendar, CalendarError

LOOKAHEAD = timedelta(days=8)  # a weekly calendar repeats within this: enough to find the next or last window
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_EXAMPLE = "'mon-fri 09:00-18:00 Asia/Shanghai'"


class ShiftError(ValueError):
    """A shift calendar that cannot be read; str() says what is wrong and shows the expected form."""


@dataclass(frozen=True)
class ShiftCalendar:
    """A parsed shift calendar: `text` is its canonical spelling (what is stored), `calendar` its arithmetic."""

    text: str
    timezone: str
    calendar: BusinessCalendar

    def is_on(self, instant: datetime) -> bool:
        return self.calendar.is_working(instant)

    def current_or_next(self, instant: datetime) -> tuple[datetime, datetime] | None:
        """The window containing `instant`, else the next one to begin (None: none within a week)."""
        return next(iter(self.calendar.windows(instant, instant + LOOKAHEAD)), None)

    def next_start(self, instant: datetime) -> datetime | None:
        """When the next window after `instant` begins (not the one `instant` is in)."""
        return next((begin for begin, _ in self.calendar.windows(instant, instant + LOOKAHEAD) if begin > instant),
                    None)

    def last_end(self, instant: datetime) -> datetime | None:
        """When the last window that ended at or before `instant` ended."""
        ends = [end for _, end in self.calendar.windows(instant - LOOKAHEAD, instant) if end <= instant]
        return ends[-1] if ends else None


def parse_shift(text: str, default_timezone: str | None = None) -> ShiftCalendar:
    """The calendar `text` describes; ShiftError naming the bad part. Without a timezone at the end,
    `default_timezone` is used (and written into the canonical text), or the text is refused."""
    words = text.replace(";", " ; ").split()
    if not words:
        raise ShiftError(f"a shift calendar such as {_EXAMPLE}, got nothing")
    timezone = default_timezone
    if not _is_days(words[-1]) and ":" not in words[-1] and words[-1] != ";":
        timezone = words.pop()
    if timezone is None:
        raise ShiftError(f"the shift calendar needs its timezone at the end, e.g. {_EXAMPLE}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShiftError(f"{timezone!r} is not an IANA timezone such as Asia/Shanghai or Europe/Berlin") from None
    hours: dict[str, list[str]] = {day: [] for day in DAYS}
    parts: list[str] = []
    for part in " ".join(words).split(";"):
        tokens = part.split()
        if not tokens:
            continue
        days_word, spans = tokens[0].lower(), [s for token in tokens[1:] for s in token.split(",") if s]
        days = _days(days_word)
        if not spans:
            raise ShiftError(f"{days_word!r} needs its hours, e.g. {_EXAMPLE}")
        for span in spans:
            for day_offset, piece in _pieces(span):
                for day in days:
                    hours[DAYS[(day + day_offset) % 7]].append(piece)
        parts.append(f"{days_word} {','.join(spans)}")
    if not parts:
        raise ShiftError(f"a shift calendar such as {_EXAMPLE}, got only {timezone!r}")
    try:
        calendar = BusinessCalendar.from_spec(timezone, {day: spans for day, spans in hours.items() if spans})
    except CalendarError as exc:
        raise ShiftError(str(exc)) from None
    return ShiftCalendar(f"{'; '.join(parts)} {timezone}", timezone, calendar)


def _is_days(word: str) -> bool:
    try:
        _days(word.lower())
    except ShiftError:
        return False
    return True


def _days(word: str) -> list[int]:
    if word in ("daily", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for item in word.split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ShiftError(f"{item!r} is not a day such as mon or a range such as mon-fri (in {_EXAMPLE})")
        a, b = DAYS.index(first), DAYS.index(last) if last else DAYS.index(first)
        days += range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]  # sun-thu wraps the week
    return sorted(set(days))


def _pieces(span: str) -> list[tuple[int, str]]:
    """A span as (day offset, "HH:MM-HH:MM") pieces within one day: a night shift "22:00-06:00" is 22:00-24:00
    on its day and 00:00-06:00 on the next."""
    match = _SPAN.match(span)
    if not match:
        raise ShiftError(f"{span!r} is not hours such as 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2) or (h1, m1) == (h2, m2):
        raise ShiftError(f"{span!r} is not hours such as 09:00-18:00")
    start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
    if (h2, m2) > (h1, m1):
        return [(0, f"{start}-{end}")]
    pieces = [(0, f"{start}-24:00")]
    if (h2, m2) != (0, 0):
        pieces.append((1, f"00:00-{end}"))
    return pieces


# ---- on shift or not -----------------------------------------------------------------------------------------


class ShiftHolder(Protocol):
    """What the shift state needs of an agent (models.tables.Agent has it)."""

    shift: str | None
    shift_override: str | None
    shift_override_at: datetime | None
    shift_override_until: datetime | None


@dataclass(frozen=True)
class ShiftStatus:
    """Whether an agent is on shift at an instant, until when (None: no end known), why, and when they last went
    off shift (only while off; None when never seen on shift)."""

    on: bool
    until: datetime | None
    source: str  # calendar | started by hand | stopped by hand | no shift calendar
    went_off_at: datetime | None = None


@dataclass(frozen=True)
class ShiftOverride:
    """The override columns of an agent after `/shift start` or `/shift stop`."""

    state: str | None  # "on", "off", or None: the calendar rules
    at: datetime | None
    until: datetime | None


def calendar_of(agent: ShiftHolder) -> ShiftCalendar | None:
    """The agent's shift calendar (None when they have none, or it cannot be read any more)."""
    if not agent.shift:
        return None
    try:
        return parse_shift(agent.shift)
    except ShiftError:
        return None


def shift_status(agent: ShiftHolder, now: datetime) -> ShiftStatus:
    calendar = calendar_of(agent)
    state, until = agent.shift_override, agent.shift_override_until
    if state in ("on", "off") and (until is None or now < until):
        if state == "on":
            return ShiftStatus(True, until, "started by hand")
        return ShiftStatus(False, until, "stopped by hand", went_off_at=agent.shift_override_at)
    # An expired "on" override ended a shift too: the agent went off when it ran out.
    ended_by_hand = until if state == "on" and until is not None and until <= now else None
    if calendar is None:
        return ShiftStatus(False, None, "no shift calendar", went_off_at=ended_by_hand)
    window = calendar.current_or_next(now)
    if window is not None and window[0] <= now < window[1]:
        return ShiftStatus(True, window[1], "calendar")
    ends = [end for end in (calendar.last_end(now), ended_by_hand) if end is not None]
    return ShiftStatus(False, window[0] if window else None, "calendar", went_off_at=max(ends) if ends else None)


def start_shift(agent: ShiftHolder, now: datetime, manual_hours: float) -> ShiftOverride:
    """The override for "/shift start" at `now`: inside a calendar window, the calendar (nothing to override);
    otherwise on until the end of the next window when it begins within `manual_hours`, else for `manual_hours`."""
    calendar = calendar_of(agent)
    limit = now + timedelta(hours=manual_hours)
    window = calendar.current_or_next(now) if calendar is not None else None
    if window is not None and window[0] <= now:
        return ShiftOverride(None, None, None)
    until = window[1] if window is not None and window[0] <= limit else limit
    return ShiftOverride("on", now, until)


def stop_shift(agent: ShiftHolder, now: datetime) -> ShiftOverride:
    """The override for "/shift stop" at `now`: off until the calendar's next window begins (without a calendar,
    until started again)."""
    calendar = calendar_of(agent)
    return ShiftOverride("off", now, calendar.next_start(now) if calendar is not None else None)
