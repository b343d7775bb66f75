"""Pacing of robot webhooks (DingTalk custom group robots, WeCom group robots): at most `per_minute` messages in
any sliding minute per robot, sends handed over meanwhile merged into one message, nothing dropped.

This module owns the platform-neutral part; an adapter gives a `WebhookPacer` what is its platform's: `send` (the
URL, signature, message body and error codes of one post) and `combine` (several messages as one within the
platform's size limit). The pacer keeps a sliding one-minute `SendWindow` per robot. A message goes out at once
while the window has room; once half of it is used, a lone message waits `gather_seconds` so that the messages
handed over meanwhile go out with it, as many as `combine` fits in one. Every caller waits for the message that
carries its own and gets that post's result or error. A full window fails the waiting messages as transient
`SendError`s with the seconds until it frees (the outbox sends them again then), and so does the platform's own
limit error (`send` raises `RateLimited`: another process posts through the same robot), which also counts the
window full for the next minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from bot.outbox import SendError

WINDOW_SECONDS: Final = 60.0
MIN_RETRY_SECONDS: Final = 0.5  # never ask the outbox to come back sooner than this

MessageT = TypeVar("MessageT")
ResultT = TypeVar("ResultT")


class RateLimited(Exception):
    """Raised by a platform's `send` when the platform refused the post for exceeding the robot's limit; the
    message says so in the platform's words (error code included)."""


class SendWindow:
    """When one robot posted within the last minute, on `clock` (seconds, monotonic)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.per_minute = per_minute
        self.clock = clock
        self._sent: deque[float] = deque()

    def room(self) -> int:
        """How many posts the window still allows now."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
            self._sent.popleft()
        return self.per_minute - len(self._sent)

    def wait_seconds(self) -> float:
        """Seconds until the window allows a post (0: now)."""
        if self.room() > 0:
            return 0.0
        return max(MIN_RETRY_SECONDS, WINDOW_SECONDS - (self.clock() - self._sent[0]))

    def record(self) -> None:
        """Count a post made now."""
        self._sent.append(self.clock())

    def fill(self) -> float:
        """Count the window full for a whole minute from now (the platform said so); returns that minute."""
        self._sent = deque([self.clock()] * self.per_minute)
        return WINDOW_SECONDS


@dataclass
class _Waiting(Generic[MessageT, ResultT]):
    message: MessageT
    done: asyncio.Future[ResultT]


class WebhookPacer(Generic[MessageT, ResultT]):
    """One robot's posts within `per_minute`. `label` names the robot in errors ("DingTalk robot 'alerts'").

    `send(message)` posts one message and returns the post's result (a reference, or None); it raises `SendError`
    for a failed post and `RateLimited` for the platform's own limit error. `combine(messages)` returns the
    messages as one message, or None when they do not fit in one; a single message it returns cut to fit.
    """

    def __init__(self, label: str, *, send: Callable[[MessageT], Awaitable[ResultT]],
                 combine: Callable[[Sequence[MessageT]], MessageT | None], per_minute: int, gather_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.window = SendWindow(per_minute, clock)
        self.gather_seconds = gather_seconds
        self._send = send
        self._combine = combine
        self._waiting: list[_Waiting[MessageT, ResultT]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def post(self, message: MessageT) -> ResultT:
        """Post `message`, alone or merged with others handed over meanwhile; returns the result of the post that
        carried it, or raises `SendError` when it did not go out."""
        done: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(message, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name=f"kefu-webhook-pacer {self.label}")
        return await done  # a caller that gives up (cancelled) cancels `done`: its message is then not sent

    async def close(self) -> None:
        """Stop sending; messages still waiting fail as transient (the outbox sends them again after a restart)."""
        if self._flushing is not None and not self._flushing.done():
            self._flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flushing
        self._fail(self._waiting, SendError(f"{self.label}: kefu is stopping", transient=True))
        self._waiting = []

    async def _flush(self) -> None:
        while self._pending():
            wait = self.window.wait_seconds()
            if wait > 0:
                full = SendError(f"{self.label} has sent {self.window.per_minute} messages in the last minute; "
                                 f"waiting {wait:.0f} s", transient=True, retry_after=wait)
                self._fail(self._waiting, full)
                self._waiting = []
                return
            if len(self._waiting) < 2 and self.window.room() <= self.window.per_minute // 2:
                await asyncio.sleep(self.gather_seconds)  # busy robot: let the burst gather, send it as one
                if not self._pending():
                    return
            batch, message = self._batch()
            self._waiting = self._waiting[len(batch):]
            self.window.record()
            try:
                result = await self._send(message)
            except RateLimited as exc:
                self._fail(batch, SendError(str(exc), transient=True, retry_after=self.window.fill()))
                continue
            except SendError as exc:
                self._fail(batch, exc)
                continue
            except BaseException as exc:
                self._fail(batch, SendError(f"{self.label}: {type(exc).__name__}: {exc}", transient=True))
                if not isinstance(exc, Exception):
                    raise
                continue
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_result(result)

    def _pending(self) -> bool:
        """Whether messages are waiting, after dropping those whose callers gave up."""
        self._waiting = [waiting for waiting in self._waiting if not waiting.done.done()]
        return bool(self._waiting)

    def _batch(self) -> tuple[list[_Waiting[MessageT, ResultT]], MessageT]:
        """The first waiting messages that fit in one message, and that message."""
        first = self._waiting[0].message
        message = self._combine([first])
        if message is None:
            message = first
        count = 1
        for more in range(2, len(self._waiting) + 1):
            combined = self._combine([waiting.message for waiting in self._waiting[:more]])
            if combined is None:
                break
            message, count = combined, more
        return self._waiting[:count], message

    @staticmethod
    def _fail(batch: list[_Waiting[MessageT, ResultT]], error: SendError) -> None:
        for waiting in batch:
            if not waiting.done.done():
                waiting.done.set_exception(error)
