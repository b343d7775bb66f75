"""A history file for `kefu import history`: JSON Lines, one message per line, checked and put in time order.

A line is {"conversation_id", "channel_message_id", "customer": {"id", "name"?, "language"?, "country"?},
"direction": "in" | "out", "author"?, "text", "sent_at", "order_id"?, "sku"?, "marketplace"?, "resolved_at"?}.
Fields are checked like the inbound API's (bot/message_fields.py: the same limits, the same messages); unknown
fields are refused, so a misspelt optional field is not silently lost. Times need a UTC offset or Z: a time
without one is refused, not guessed. `customer` may be left out of an "out" line (an agent's message), whose
`author` is the agent. `resolved_at` resolves the ticket of the line's message at that time; it may be repeated
on every line of a ticket, and must not be before the line's `sent_at`.

Helpdesk exports are seldom in time order (ticket by ticket, newest first, ...) while tickets must be built in
time order, so the file is read twice and never held in memory: `scan_history` checks every line, reports the
bad ones by number, and keeps (sent_at, line number, byte offset) of each good one; `HistoryFile.batches` reads
the good lines back by offset in time order (lines sent at the same instant in file order).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.message_fields import (
    MAX_TEXT_CHARS,
    FieldError,
    customer_field,
    json_object_line,
    reject_unknown,
    string_field,
    time_field,
)
from bot.messages import CustomerInfo

FIELDS = ("conversation_id", "channel_message_id", "customer", "direction", "author", "text", "sent_at",
          "order_id", "sku", "marketplace", "resolved_at")
DIRECTIONS = ("in", "out")
AUTHOR_MAX_CHARS = 128  # an author becomes an Agent, whose name is at most this long

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class HistoryMessage:
    """One good line of a history file."""

    line: int
    conversation_id: str
    channel_message_id: str
    customer: CustomerInfo | None  # None only on an "out" line
    direction: str  # in | out
    author: str | None
    text: str
    sent_at: datetime  # UTC
    order_id: str | None
    sku: str | None
    marketplace: str | None
    resolved_at: datetime | None  # UTC


class HistoryFileChanged(RuntimeError):
    """A line that was good when the file was scanned is not any more: the file changed during the import."""


def parse_history_line(text: str, line: int) -> HistoryMessage:
    """The message of one line of a history file, or `FieldError` saying what is wrong with it."""
    data = json_object_line(text)
    reject_unknown(data, FIELDS)
    conversation_id = string_field(data, "conversation_id", required=True)
    channel_message_id = string_field(data, "channel_message_id", required=True)
    direction = data.get("direction")
    if direction is None:
        raise FieldError("direction is required", "direction")
    if direction not in DIRECTIONS:
        raise FieldError(f'direction must be "in" (from the customer) or "out" (from an agent), got {direction!r}',
                         "direction")
    customer = customer_field(data, required=direction == "in")
    author = string_field(data, "author", limit=AUTHOR_MAX_CHARS)
    message_text = string_field(data, "text", required=True, limit=MAX_TEXT_CHARS)
    sent_at = time_field(data, "sent_at", required=True)
    resolved_at = time_field(data, "resolved_at")
    assert conversation_id is not None and channel_message_id is not None and message_text is not None
    assert sent_at is not None
    if resolved_at is not None and resolved_at < sent_at:
        raise FieldError(f"resolved_at ({resolved_at.isoformat()}) is before sent_at ({sent_at.isoformat()}): "
                         "a ticket's messages are sent before it is resolved", "resolved_at")
    return HistoryMessage(
        line=line, conversation_id=conversation_id, channel_message_id=channel_message_id, customer=customer,
        direction=direction, author=author, text=message_text, sent_at=sent_at,
        order_id=string_field(data, "order_id", limit=128), sku=string_field(data, "sku", limit=128),
        marketplace=string_field(data, "marketplace", limit=64), resolved_at=resolved_at,
    )


def _decode(raw: bytes, line: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start + 1})") from None
    return text.removeprefix("\ufeff") if line == 1 else text  # a byte order mark, as some exporters write


@dataclass(frozen=True)
class HistoryFile:
    """A scanned history file: how many lines it has and which were bad, and where its good lines are."""

    path: Path
    lines: int  # lines read, blank lines left out
    bad: int  # lines reported and skipped
    _lines_in_order: np.ndarray  # line numbers of the good lines, in time order
    _offsets_in_order: np.ndarray  # their byte offsets

    @property
    def good(self) -> int:
        return len(self._lines_in_order)

    def batches(self, size: int) -> Iterator[list[HistoryMessage]]:
        """The good lines in time order, `size` at a time."""
        with self.path.open("rb") as stream:
            batch: list[HistoryMessage] = []
            for line, offset in zip(self._lines_in_order.tolist(), self._offsets_in_order.tolist(), strict=True):
                stream.seek(offset)
                try:
                    batch.append(parse_history_line(_decode(stream.readline(), line), line))
                except FieldError as exc:
                    raise HistoryFileChanged(f"{self.path} changed during the import: line {line}: {exc}") from None
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch


def scan_history(path: Path, report: Callable[[int, str], None]) -> HistoryFile:
    """Check every line of `path`; `report(line, reason)` for each bad one. OSError: the file cannot be read."""
    lines, bad = 0, 0
    numbers, offsets, times = array("q"), array("q"), array("q")
    offset = 0
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            lines += 1
            try:
                message = parse_history_line(_decode(raw, number), number)
            except FieldError as exc:
                report(number, str(exc))
                bad += 1
                continue
            numbers.append(number)
            offsets.append(start)
            times.append((message.sent_at - _EPOCH) // _MICROSECOND)
    line_numbers = np.asarray(numbers, dtype=np.int64)
    order = np.lexsort((line_numbers, np.asarray(times, dtype=np.int64)))  # by time, then by line
    return HistoryFile(path=path, lines=lines, bad=bad, _lines_in_order=line_numbers[order],
                       _offsets_in_order=np.asarray(offsets, dtype=np.int64)[order])
