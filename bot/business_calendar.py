"""Business-hours calendar: weekly working hours in one IANA timezone plus holiday dates, and its arithmetic.

The two operations an SLA needs, both on aware datetimes and DST-safe (every working interval is built as wall
time in the calendar's zone, then measured in UTC, so a day that loses or gains an hour counts what it really has):

- `add(start, duration)`: the instant when `duration` of working time has passed after `start`;
- `working_time(start, end)`: how much working time lies between two instants.

`BusinessCalendar.always()` is the 24/7 calendar (plain clock arithmetic). Imports nothing of kefu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3 * 366  # how far arithmetic looks for working time before giving up
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

Interval = tuple[int, int]  # minutes after local midnight: [start, end), end at most 24*60


class CalendarError(ValueError):
    """An invalid business-hours definition; the message names the bad key or value."""


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"business-hours arithmetic needs timezone-aware datetimes, got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (Monday first) in `timezone`, minus `holidays` (local dates)."""

    timezone: str = "UTC"
    weekly: tuple[tuple[Interval, ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()
    around_the_clock: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"timezone {self.timezone!r} is not an IANA timezone such as 'Asia/Shanghai'") from None
        object.__setattr__(self, "_zone", zone)
        if len(self.weekly) != 7:
            raise CalendarError(f"weekly hours need 7 days (Monday first), got {len(self.weekly)}")
        if not self.around_the_clock and not any(self.weekly):
            raise CalendarError("business hours have no working time in the week")

    # ---- construction ----------------------------------------------------------------------------------

    @classmethod
    def always(cls) -> BusinessCalendar:
        """24/7: working time is wall-clock time."""
        return cls(around_the_clock=True)

    @classmethod
    def from_spec(cls, timezone: str, hours: dict[str, str | list[str]], holidays: list[str] | tuple[str, ...] = (),
                  ) -> BusinessCalendar:
        """Build from settings-like values: `hours` maps a day ("mon") or a range ("mon-fri") to "09:00-18:00"
        (or a list of such spans, or "" / "closed"); `holidays` are ISO dates. Errors name the bad key."""
        weekly: list[list[Interval]] = [[] for _ in DAYS]
        for key, spans in hours.items():
            days = _days(key)
            for span in [spans] if isinstance(spans, str) else list(spans):
                if not isinstance(span, str):
                    raise CalendarError(f"hours.{key}: expected 'HH:MM-HH:MM', got {span!r}")
                if span.strip().lower() in ("", "closed"):
                    continue
                interval = _interval(key, span)
                for day in days:
                    weekly[day].append(interval)
        merged = tuple(_merge(day) for day in weekly)
        parsed: set[date] = set()
        for index, value in enumerate(holidays):
            try:
                parsed.add(date.fromisoformat(str(value)))
            except ValueError:
                raise CalendarError(f"holidays[{index}]: expected an ISO date like 2026-10-01, got {value!r}") from None
        return cls(timezone=timezone, weekly=merged, holidays=frozenset(parsed))

    # ---- queries ---------------------------------------------------------------------------------------

    def is_working(self, instant: datetime) -> bool:
        """Whether `instant` lies inside working hours."""
        instant = _naive_utc(instant)
        if self.around_the_clock:
            return True
        local_day = instant.astimezone(self._zone).date()
        for day in (local_day - timedelta(days=1), local_day):
            for start, end in self._intervals(day):
                if start <= instant < end:
                    return True
        return False

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of working time has elapsed from `start` (UTC)."""
        start = _naive_utc(start)
        if duration < timedelta(0):
            raise ValueError(f"a working duration must not be negative, got {duration}")
        if self.around_the_clock or duration == timedelta(0):
            return start + duration
        left = duration
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            for begin, end in self._intervals(day):
                if end <= start:
                    continue
                begin = max(begin, start)
                if left <= end - begin:
                    return begin + left
                left -= end - begin
            day += timedelta(days=1)
        raise CalendarError(f"no working time found within {_MAX_DAYS} days after {start.isoformat()}")

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between `start` and `end`; negative when `end` is before `start`."""
        start, end = _naive_utc(start), _naive_utc(end)
        if end < start:
            return -self.working_time(end, start)
        if self.around_the_clock:
            return end - start
        total = timedelta(0)
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        last = end.astimezone(self._zone).date()
        while day <= last:
            for begin, finish in self._intervals(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The working intervals overlapping [start, end) as UTC instants, whole (not clipped) and in order;
        intervals that touch, such as a night shift's 22:00-24:00 and the next day's 00:00-06:00, are one."""
        start, end = _naive_utc(start), _naive_utc(end)
        if self.around_the_clock:
            return [(start, end)] if start < end else []
        merged: list[tuple[datetime, datetime]] = []
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        last = end.astimezone(self._zone).date() + timedelta(days=1)
        while day <= last:
            for begin, finish in self._intervals(day):
                if merged and begin <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(finish, merged[-1][1]))
                else:
                    merged.append((begin, finish))
            day += timedelta(days=1)
        return [(begin, finish) for begin, finish in merged if finish > start and begin < end]

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date as UTC instants (empty on holidays)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time(0))
        result = []
        for start, end in self.weekly[day.weekday()]:
            result.append((self._utc(midnight + timedelta(minutes=start)),
                           self._utc(midnight + timedelta(minutes=end))))
        return result

    def _utc(self, wall: datetime) -> datetime:
        """A local wall time as UTC. An ambiguous wall time (DST fall-back) is its first occurrence; one skipped
        by a spring-forward jump is read with the offset before the jump, which lands just after the gap."""
        return wall.replace(tzinfo=self._zone).astimezone(UTC)


def _days(key: str) -> list[int]:
    names = key.strip().lower()
    if names in ("daily", "every day", "mon-sun"):
        return list(range(7))
    first, _, last = names.partition("-")
    try:
        a = DAYS.index(first)
        b = DAYS.index(last) if last else a
    except ValueError:
        raise CalendarError(f"hours.{key}: expected a day such as 'mon' or a range such as 'mon-fri'") from None
    if b < a:
        raise CalendarError(f"hours.{key}: a day range runs forward in the week, like 'mon-fri'")
    return list(range(a, b + 1))


def _interval(key: str, span: str) -> Interval:
    match = _SPAN.match(span.strip())
    if not match:
        raise CalendarError(f"hours.{key}: expected 'HH:MM-HH:MM' such as '09:00-18:00', got {span!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60 or end <= start:
        raise CalendarError(f"hours.{key}: {span!r} is not a span within one day (end after start, up to 24:00)")
    return start, end


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
