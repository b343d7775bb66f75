"""Pacing of robot webhooks (DingTalk custom group robots, WeCom group robots): at most `per_minute` messages in
any sliding minute per robot, sends handed over meanwhile merged into one message, nothing dropped.

This module owns the platform-neutral part; an adapter gives a `WebhookPacer` what is its platform's: `send` (the
URL, signature, message body and error codes of one post) and `combine` (several messages as one within the
platform's size limit). The pacer asks a sliding one-minute window per robot: `SharedSendWindow`, counted in the
database so that every replica posting through the robot counts against the same minute (what `kefu serve`
uses), or the in-memory `SendWindow` of one process (unit tests, a robot without a database). A message goes out
when it claims a place in the window; once half of it is used, a lone message first waits `gather_seconds` so
that the messages handed over meanwhile go out with it, as many as `combine` fits in one. Every caller waits for
the message that carries its own and gets that post's result or error. A full window fails the waiting messages
as transient `SendError`s with the seconds until it frees (the outbox sends them again then), and so does the
platform's own limit error (`send` raises `RateLimited`: something else posts through the same robot), which also
counts the window full for the next minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

from sqlalchemy.engine import Engine

from bot.outbox import SendError
from bot.shared_windows import SharedWindows

WINDOW_SECONDS: Final = 60.0
MIN_RETRY_SECONDS: Final = 0.5  # never ask the outbox to come back sooner than this

MessageT = TypeVar("MessageT")
ResultT = TypeVar("ResultT")
WindowAnswerT = TypeVar("WindowAnswerT")


class RateLimited(Exception):
    """Raised by a platform's `send` when the platform refused the post for exceeding the robot's limit; the
    message says so in the platform's words (error code included)."""


class PostWindow(Protocol):
    """A robot's sliding minute as the pacer asks it; `blocking`: its methods wait for I/O (the database), so the
    pacer runs them in a thread."""

    per_minute: int
    blocking: bool

    def room(self) -> int:
        """How many posts the window still allows now."""
        ...

    def claim(self) -> float:
        """Count a post made now if the window allows one and return 0; otherwise count nothing and return the
        seconds until it does (at least MIN_RETRY_SECONDS)."""
        ...

    def fill(self) -> float:
        """Count the window full for a whole minute from now (the platform said so); returns that minute."""
        ...


class SendWindow:
    """When one robot posted within the last minute, as this process saw it, on `clock` (seconds, monotonic)."""

    blocking = False

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

    def claim(self) -> float:
        """Count a post made now if the window allows one (0), else the seconds until it does."""
        wait = self.wait_seconds()
        if wait == 0:
            self.record()
        return wait

    def fill(self) -> float:
        """Count the window full for a whole minute from now (the platform said so); returns that minute."""
        self._sent = deque([self.clock()] * self.per_minute)
        return WINDOW_SECONDS


class SharedSendWindow:
    """The sliding minute of robot `key` in `scope` ("dingtalk_robot", "wecom_robot"), counted in the database
    (`bot.shared_windows`): the posts of every replica count, and two replicas never take the same last place.
    `clock` is the wall clock in seconds (replicas compare their times)."""

    blocking = True

    def __init__(self, engine: Engine, scope: str, key: str, per_minute: int,
                 clock: Callable[[], float] = time.time) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.per_minute = per_minute
        self.key = key
        self.windows = SharedWindows(engine, scope, limit=per_minute, seconds=WINDOW_SECONDS, clock=clock)

    def room(self) -> int:
        return self.windows.room(self.key)

    def claim(self) -> float:
        wait = self.windows.claim(self.key)
        return 0.0 if wait == 0 else max(MIN_RETRY_SECONDS, wait)

    def fill(self) -> float:
        return self.windows.fill(self.key)


@dataclass
class _Waiting(Generic[MessageT, ResultT]):
    message: MessageT
    done: asyncio.Future[ResultT]


class WebhookPacer(Generic[MessageT, ResultT]):
    """One robot's posts within `per_minute`. `label` names the robot in errors ("DingTalk robot 'alerts'").

    `send(message)` posts one message and returns the post's result (a reference, or None); it raises `SendError`
    for a failed post and `RateLimited` for the platform's own limit error. `combine(messages)` returns the
    messages as one message, or None when they do not fit in one; a single message it returns cut to fit.
    `window`: the robot's minute (a `SharedSendWindow` when replicas share the robot); without one, an in-memory
    `SendWindow` of `per_minute` on `clock`.
    """

    def __init__(self, label: str, *, send: Callable[[MessageT], Awaitable[ResultT]],
                 combine: Callable[[Sequence[MessageT]], MessageT | None], per_minute: int, gather_seconds: float,
                 clock: Callable[[], float] = time.monotonic, window: PostWindow | None = None) -> None:
        self.label = label
        self.window: PostWindow = window if window is not None else SendWindow(per_minute, clock)
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

    async def _ask(self, question: Callable[[], WindowAnswerT]) -> WindowAnswerT:
        """`question` of the window: in a thread when it waits for the database."""
        return await asyncio.to_thread(question) if self.window.blocking else question()

    async def _flush(self) -> None:
        while self._pending():
            try:
                room = await self._ask(self.window.room) if len(self._waiting) < 2 else self.window.per_minute
                if 0 < room <= self.window.per_minute // 2:
                    await asyncio.sleep(self.gather_seconds)  # busy robot: let the burst gather, send it as one
                    if not self._pending():
                        return
                wait = await self._ask(self.window.claim)
            except Exception as exc:  # the database is unreachable: nothing is sent uncounted, the outbox retries
                self._fail(self._waiting, SendError(f"{self.label}: could not count its posts of the last minute "
                                                    f"({type(exc).__name__})", transient=True))
                self._waiting = []
                return
            if wait > 0:
                full = SendError(f"{self.label} has sent {self.window.per_minute} messages in the last minute; "
                                 f"waiting {wait:.0f} s", transient=True, retry_after=wait)
                self._fail(self._waiting, full)
                self._waiting = []
                return
            batch, message = self._batch()
            self._waiting = self._waiting[len(batch):]
            try:
                result = await self._send(message)
            except RateLimited as exc:
                try:
                    retry_after = await self._ask(self.window.fill)
                except Exception:  # the platform's word stands without the database: wait out the minute
                    retry_after = WINDOW_SECONDS
                self._fail(batch, SendError(str(exc), transient=True, retry_after=retry_after))
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
