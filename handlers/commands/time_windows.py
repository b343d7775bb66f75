"""Time windows ("today", "7d", "2026-11-01..2026-11-15") and silence durations ("1h30m") of manager commands.

A `TimeWindow` is a value object: it says which stretch of time a command asks about, and `resolve(now, tz)` turns
it into aware UTC instants `[start, end)` for the viewer's timezone:

- `today`: from local midnight in the viewer's timezone until now (a DST day is 23 or 25 hours long);
- `yesterday`: the whole local day before today;
- rolling `Nh` / `Nd` / `Nw` (24h, 7d, 30d, 14d, 12h, 2w): the exact span before now, 1 hour to 400 days;
- dates `FROM..TO` (ISO dates, TO inclusive): local midnight of FROM to local midnight after TO; the end is cut
  at now, and a window that starts in the future is an error.

`previous()` is the window just before (same span; for `today`, yesterday until the same wall-clock time), used
by "vs prev". Words are accepted in English and Chinese ("7天", "近7天", "24小时", "2周", "今天").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final, Literal

from handlers.commands.errors import CommandError
from handlers.phrases import Phrase, say, text_in

WindowKind = Literal["today", "yesterday", "rolling", "dates"]
WindowUnit = Literal["h", "d", "w"]

MAX_WINDOW: Final[timedelta] = timedelta(days=400)
MAX_SILENCE: Final[timedelta] = timedelta(days=30)
MIN_YEAR: Final[int] = 1970
MAX_YEAR: Final[int] = 2999

WINDOW_USAGE: Final[str] = "today | 24h | 7d | 30d | Nh | Nd | Nw | YYYY-MM-DD..YYYY-MM-DD (at most 400 days)"
DURATION_USAGE: Final[str] = "30m | 2h | 1d | 1h30m (at most 30 days)"

_UNIT_SPANS: Final[dict[str, timedelta]] = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

# Unit words of rolling windows, longest first so that the regex alternation prefers them.
_WINDOW_UNIT_WORDS: Final[dict[str, str]] = {
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "hr": "h",
    "h": "h",
    "个小时": "h",
    "小时": "h",
    "钟头": "h",
    "days": "d",
    "day": "d",
    "d": "d",
    "天": "d",
    "日": "d",
    "weeks": "w",
    "week": "w",
    "wks": "w",
    "wk": "w",
    "w": "w",
    "个星期": "w",
    "星期": "w",
    "周": "w",
}
_TODAY_WORDS: Final[frozenset[str]] = frozenset({"today", "今天", "今日"})
_YESTERDAY_WORDS: Final[frozenset[str]] = frozenset({"yesterday", "昨天", "昨日"})


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ROLLING_RE: Final = re.compile(rf"(?:最近|近|过去)?([0-9]{{1,6}})({_alternation(_WINDOW_UNIT_WORDS)})", re.IGNORECASE)
_NUMBER_THEN_WORD_RE: Final = re.compile(r"([0-9]{1,6})([^0-9].*)")
_DATE = r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
_DATES_RE: Final = re.compile(rf"({_DATE})(?:(?:\.\.|~|至|到)({_DATE}))?")
# "2026-11-01 .. 2026-11-15" and "2026-11-01 至 2026-11-15" are joined into one word before tokenising.
DATE_RANGE_SPACING_RE: Final = re.compile(rf"({_DATE})\s*(\.\.|~|至|到)\s*({_DATE})")

_DURATION_UNIT_WORDS: Final[dict[str, str]] = {
    "weeks": "w",
    "week": "w",
    "w": "w",
    "周": "w",
    "days": "d",
    "day": "d",
    "d": "d",
    "天": "d",
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "hr": "h",
    "h": "h",
    "个小时": "h",
    "小时": "h",
    "minutes": "m",
    "minute": "m",
    "mins": "m",
    "min": "m",
    "m": "m",
    "分钟": "m",
    "分": "m",
}
_DURATION_PART = rf"([0-9]{{1,6}})({_alternation(_DURATION_UNIT_WORDS)})"
_DURATION_RE: Final = re.compile(rf"(?:{_DURATION_PART})+", re.IGNORECASE)
_DURATION_PART_RE: Final = re.compile(_DURATION_PART, re.IGNORECASE)
_DURATION_SPANS: Final[dict[str, timedelta]] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}

# Unit words (with a number before them) that are merged into one word: "7 days" -> "7days".
UNIT_WORDS: Final[frozenset[str]] = frozenset(_WINDOW_UNIT_WORDS) | frozenset(_DURATION_UNIT_WORDS)


class TimeWindowError(CommandError):
    """A time window that is malformed, out of bounds, reversed or in the future; str() is the user's answer."""

    def __init__(self, message: str | Phrase, *, word: str | None = None, suggestion: str | None = None) -> None:
        super().__init__(message, say("window.usage", windows=WINDOW_USAGE), word=word, suggestion=suggestion)


@dataclass(frozen=True)
class TimeWindow:
    """Which stretch of time a command asks about; see the module docstring for the meaning of each kind.

    Build one with `TimeWindow.today()`, `TimeWindow.rolling(7, "d")`, `TimeWindow.dates(first, last)` or
    `TimeWindow.parse("7d")`. `periods_back` counts windows back from this one (0 for parsed windows).
    """

    kind: WindowKind
    amount: int = 0
    unit: WindowUnit | None = None
    first_day: date | None = None
    last_day: date | None = None
    periods_back: int = 0

    def __post_init__(self) -> None:
        if self.kind in ("today", "yesterday"):
            ok = self.amount == 0 and self.unit is None and self.first_day is None and self.last_day is None
        elif self.kind == "rolling":
            ok = self.unit in _UNIT_SPANS and self.amount >= 1 and self.first_day is None and self.last_day is None
            if ok and self.amount * _UNIT_SPANS[self.unit] > MAX_WINDOW:  # type: ignore[index]
                raise ValueError(f"a rolling window is at most 400 days, not {self.amount}{self.unit}")
        elif self.kind == "dates":
            ok = self.first_day is not None and self.last_day is not None and self.amount == 0 and self.unit is None
            if ok and self.last_day < self.first_day:  # type: ignore[operator]
                raise ValueError(f"window ends ({self.last_day}) before it starts ({self.first_day})")
        else:
            ok = False
        if not ok or self.periods_back < 0:
            raise ValueError(f"inconsistent TimeWindow: {self!r}")

    # -- construction ----------------------------------------------------------------------------------------
    @classmethod
    def today(cls) -> TimeWindow:
        return cls("today")

    @classmethod
    def yesterday(cls) -> TimeWindow:
        return cls("yesterday")

    @classmethod
    def rolling(cls, amount: int, unit: WindowUnit) -> TimeWindow:
        return cls("rolling", amount=amount, unit=unit)

    @classmethod
    def dates(cls, first: date, last: date) -> TimeWindow:
        return cls("dates", first_day=first, last_day=last)

    @classmethod
    def parse(cls, word: str) -> TimeWindow:
        """The window a word names, or TimeWindowError naming the word (and a suggestion where one fits)."""
        window = parse_window_word(word)
        if window is None:
            raise TimeWindowError(say("window.not_a_window", word=word), word=word)
        return window

    # -- meaning ---------------------------------------------------------------------------------------------
    @property
    def span(self) -> timedelta | None:
        """The length of a rolling or dates window (calendar days, ignoring DST); None for today and yesterday."""
        if self.kind == "rolling":
            return self.amount * _UNIT_SPANS[self.unit]  # type: ignore[index]
        if self.kind == "dates":
            return self.last_day - self.first_day + timedelta(days=1)  # type: ignore[operator]
        return None

    @property
    def token(self) -> str:
        """The word a command would spell this window with: "today", "7d", "2026-11-01..2026-11-15"."""
        if self.kind in ("today", "yesterday"):
            return self.kind
        if self.kind == "rolling":
            return f"{self.amount}{self.unit}"
        first, last = self._shifted_days()
        return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"

    @property
    def label(self) -> str:
        """A title for answers: "today", "last 7 days", "previous 7 days", "2026-11-01 – 2026-11-15"."""
        return self.label_in("en")

    def label_in(self, language: str | None) -> str:
        """`label` in `language` ("en", "zh": "今天", "近7天", "前7天")."""
        return text_in(self.title, language)

    @property
    def title(self) -> Phrase | str:
        """`label` as a phrase, to be written in the asker's language (dates are the same in every one)."""
        back = self.periods_back
        if self.kind == "today":
            if back == 0:
                return say("window.today")
            return say("window.today_back_1") if back == 1 else say("window.today_back_n", back=back)
        if self.kind == "yesterday":
            if back <= 1:
                return say("window.yesterday" if back == 0 else "window.yesterday_back_1")
            return say("window.yesterday_back_n", days=back + 1)
        if self.kind == "rolling":
            span = say(f"unit.{self.unit}.1") if self.amount == 1 else say(f"unit.{self.unit}.n", amount=self.amount)
            if back == 0:
                return say("window.last", span=span)
            return say("window.previous", span=span) if back == 1 else say("window.earlier", span=span, back=back)
        first, last = self._shifted_days()
        return first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"

    def previous(self) -> TimeWindow:
        """The window of the same span just before this one ("vs prev")."""
        return replace(self, periods_back=self.periods_back + 1)

    def resolve(self, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
        """Aware UTC `[start, end)` of this window as seen at `now` by a viewer in `tz`.

        Raises TimeWindowError for a dates window that starts after `now`; its end is cut at `now`.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        now_utc = now.astimezone(UTC)
        if self.kind == "rolling":
            span = self.span
            assert span is not None
            end = now_utc - span * self.periods_back
            return end - span, end
        if self.kind == "today":
            local_now = now_utc.astimezone(tz)
            day = local_now.date() - timedelta(days=self.periods_back)
            start = _local_midnight(day, tz)
            if self.periods_back == 0:
                return start, now_utc
            end = datetime.combine(day, local_now.timetz().replace(tzinfo=None), tzinfo=tz).astimezone(UTC)
            return start, max(start, end)
        if self.kind == "yesterday":
            day = now_utc.astimezone(tz).date() - timedelta(days=1 + self.periods_back)
            return _local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz)
        first, last = self._shifted_days()
        start = _local_midnight(first, tz)
        end = _local_midnight(last + timedelta(days=1), tz)
        if start > now_utc:
            today = now_utc.astimezone(tz).date().isoformat()
            raise TimeWindowError(say("window.future", token=self.token, today=today), word=self.token)
        return start, min(end, now_utc)

    def _shifted_days(self) -> tuple[date, date]:
        assert self.first_day is not None and self.last_day is not None
        days = (self.last_day - self.first_day).days + 1
        shift = timedelta(days=days * self.periods_back)
        return self.first_day - shift, self.last_day - shift

    def __str__(self) -> str:
        return self.token if self.periods_back == 0 else self.label


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_window_word(word: str) -> TimeWindow | None:
    """The window one (NFKC-normalised) word names; None when the word is not window-like at all.

    Raises TimeWindowError for a window-like word that is wrong: "0d", "500d", "7dys", "2026-02-30",
    "2026-11-15..2026-11-01".
    """
    key = word.casefold()
    if key in _TODAY_WORDS:
        return TimeWindow.today()
    if key in _YESTERDAY_WORDS:
        return TimeWindow.yesterday()
    rolling = _ROLLING_RE.fullmatch(key)
    if rolling:
        amount, unit = int(rolling.group(1)), _WINDOW_UNIT_WORDS[rolling.group(2)]
        if amount == 0:
            raise TimeWindowError(say("window.empty", word=word, unit=unit), word=word)
        if amount * _UNIT_SPANS[unit] > MAX_WINDOW:
            raise TimeWindowError(say("window.too_long", word=word), word=word)
        return TimeWindow.rolling(amount, unit)  # type: ignore[arg-type]
    dates = _DATES_RE.fullmatch(key)
    if dates:
        first = _parse_date(dates.group(1), word)
        last = _parse_date(dates.group(2), word) if dates.group(2) else first
        if last < first:
            raise TimeWindowError(say("window.reversed", word=word, last=last.isoformat(), first=first.isoformat()),
                                  word=word)
        if (last - first) >= MAX_WINDOW:
            raise TimeWindowError(say("window.too_long", word=word), word=word)
        return TimeWindow.dates(first, last)
    if re.fullmatch(rf"{_DATE}.*|.*\.\..*", key) and re.search(r"[0-9]{4}", key):
        raise TimeWindowError(say("window.bad_range", word=word), word=word)
    number = _NUMBER_THEN_WORD_RE.fullmatch(key)
    if number:
        suggestion = _suggest_window(int(number.group(1)), number.group(2))
        message = say("window.not_a_window", word=word)
        if suggestion:
            message = say("hint.did_you_mean", message=message, suggestion=suggestion)
        raise TimeWindowError(message, word=word, suggestion=suggestion)
    return None


def _parse_date(text: str, word: str) -> date:
    year, month, day = (int(part) for part in re.split(r"[-/.]", text))
    where: Phrase | str = "" if text == word else say("window.in_word", word=word)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise TimeWindowError(say("window.year_range", text=text, where=where, low=MIN_YEAR, high=MAX_YEAR), word=word)
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeWindowError(say("window.bad_date", text=text, where=where), word=word) from None


def _suggest_window(amount: int, unit_word: str) -> str | None:
    """A window for a number with an unknown unit word: "7dys" -> "7d", "3months" -> "90d"."""
    unit_word = unit_word.strip()
    if amount < 1:
        return None
    if unit_word.startswith("mo") or unit_word.startswith("月") or unit_word.startswith("个月"):
        return f"{amount * 30}d" if amount * 30 <= 400 else "400d"
    for prefix, unit in (("d", "d"), ("h", "h"), ("w", "w"), ("天", "d"), ("小", "h"), ("周", "w")):
        if unit_word.startswith(prefix) and amount * _UNIT_SPANS[unit] <= MAX_WINDOW:
            return f"{amount}{unit}"
    return None


def parse_duration(word: str) -> timedelta | None:
    """A silence duration ("30m", "2h", "1d", "1h30m", "2小时") or None when the word is not one.

    Bounds (more than zero, at most 30 days) are the caller's to check, so that its error can name the command.
    """
    key = word.casefold()
    if not _DURATION_RE.fullmatch(key):
        return None
    total = timedelta()
    for amount, unit in _DURATION_PART_RE.findall(key):
        total += int(amount) * _DURATION_SPANS[_DURATION_UNIT_WORDS[unit]]
    return total


def format_duration(duration: timedelta) -> str:
    """The shortest canonical spelling of a duration in whole minutes: 1d2h30m, 45m."""
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"
