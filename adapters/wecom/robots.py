"""WeCom group robots (群机器人): alert-only group chats reached by webhook (`webhook/send?key=`), at most 20
messages a minute per robot.

Each robot has a sliding one-minute window of what kefu sent it. A message goes out at once while the window has
room; once half of it is used, a message waits a moment (`gather_seconds`) so that the alerts the outbox hands over
meanwhile go out merged into one message, as many as fit in WeCom's 4096 bytes. Nothing is dropped: every outbox
item waits for the message that carries it, and a full window (or WeCom's own 45009, when another kefu replica
used the robot too) fails the items as transient with the seconds until the window frees, so the outbox sends them
again then. Robots do not edit messages: an update of a card posted by a robot is posted as a new message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import aiohttp

from adapters.wecom.cards import ROBOT_MARKDOWN_BYTES, cut_bytes
from adapters.wecom.client import RATE_LIMIT_BACKOFF_SECONDS, RATE_LIMITED
from bot.outbox import SendError

log = logging.getLogger("kefu.wecom")

WINDOW_SECONDS: Final = 60.0
SEPARATOR: Final = "\n\n"


@dataclass
class _Waiting:
    content: str
    done: asyncio.Future[None]


@dataclass
class _Robot:
    name: str
    key: str
    sent: deque[float] = field(default_factory=deque)
    waiting: list[_Waiting] = field(default_factory=list)
    flushing: asyncio.Task[None] | None = None


class GroupRobots:
    """The configured robots by name (`keys`: name → webhook key) behind `webhook_url` (…/cgi-bin/webhook/send)."""

    def __init__(self, keys: dict[str, str], *, webhook_url: str, per_minute: int, timeout: float,
                 merged_title: Callable[[int], str], gather_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.robots = {name: _Robot(name, key) for name, key in keys.items()}
        self.webhook_url = webhook_url
        self.per_minute = per_minute
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.merged_title = merged_title
        self.gather_seconds = gather_seconds
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None

    def __contains__(self, name: str) -> bool:
        return name in self.robots

    async def post(self, name: str, content: str) -> None:
        """Send markdown `content` through robot `name`, alone or merged with others; raise SendError when it
        did not go out."""
        robot = self.robots.get(name)
        if robot is None:
            known = ", ".join(sorted(self.robots)) or "none configured"
            raise SendError(f"no WeCom robot named {name!r} (robots: {known}); set [wecom] robots", transient=False)
        waiting = _Waiting(content, asyncio.get_running_loop().create_future())
        robot.waiting.append(waiting)
        if robot.flushing is None or robot.flushing.done():
            robot.flushing = asyncio.create_task(self._flush(robot), name=f"kefu-wecom-robot-{name}")
        await asyncio.shield(waiting.done)

    def _room(self, robot: _Robot) -> int:
        now = self.clock()
        while robot.sent and now - robot.sent[0] >= WINDOW_SECONDS:
            robot.sent.popleft()
        return self.per_minute - len(robot.sent)

    async def _flush(self, robot: _Robot) -> None:
        while robot.waiting:
            room = self._room(robot)
            if room <= 0:
                retry_after = max(0.5, WINDOW_SECONDS - (self.clock() - robot.sent[0]))
                self._fail(robot.waiting, SendError(
                    f"WeCom robot {robot.name!r} sent {self.per_minute} messages in the last minute",
                    transient=True, retry_after=retry_after))
                robot.waiting = []
                return
            if room <= self.per_minute // 2 and len(robot.waiting) < 2:
                await asyncio.sleep(self.gather_seconds)  # busy robot: let the burst gather, send it as one
            batch, content = self._batch(robot.waiting)
            robot.waiting = robot.waiting[len(batch):]
            robot.sent.append(self.clock())
            try:
                await self._send(robot, content)
            except SendError as exc:
                self._fail(batch, exc)
                continue
            for item in batch:
                if not item.done.done():
                    item.done.set_result(None)

    def _batch(self, waiting: list[_Waiting]) -> tuple[list[_Waiting], str]:
        """The first waiting messages that fit in one robot message, and that message."""
        if len(waiting) == 1:
            return waiting[:1], cut_bytes(waiting[0].content, ROBOT_MARKDOWN_BYTES)
        batch: list[_Waiting] = []
        for count in range(1, len(waiting) + 1):
            content = SEPARATOR.join([f"**{self.merged_title(count)}**", *(w.content for w in waiting[:count])])
            if len(content.encode()) > ROBOT_MARKDOWN_BYTES and batch:
                break
            batch = waiting[:count]
        content = SEPARATOR.join([f"**{self.merged_title(len(batch))}**", *(w.content for w in batch)]) \
            if len(batch) > 1 else batch[0].content
        return batch, cut_bytes(content, ROBOT_MARKDOWN_BYTES)

    @staticmethod
    def _fail(items: list[_Waiting], error: SendError) -> None:
        for item in items:
            if not item.done.done():
                item.done.set_exception(error)

    async def _send(self, robot: _Robot, content: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        what = f"the message to WeCom robot {robot.name!r}"
        try:
            async with self._session.post(self.webhook_url, params={"key": robot.key}, json=body) as response:
                if response.status >= 400:
                    raise SendError(f"WeCom answered HTTP {response.status} to {what}",
                                    transient=response.status >= 500 or response.status in (408, 429))
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SendError(f"WeCom unreachable for {what}: {type(exc).__name__}", transient=True) from None
        code = data.get("errcode", 0) if isinstance(data, dict) else None
        if code == 0:
            return
        if code in RATE_LIMITED:
            raise SendError(f"WeCom rate-limited {what} (errcode {code})", transient=True,
                            retry_after=RATE_LIMIT_BACKOFF_SECONDS)
        message = data.get("errmsg", "") if isinstance(data, dict) else repr(data)
        raise SendError(f"WeCom refused {what}: errcode {code} {message}", transient=False)

    async def close(self) -> None:
        for robot in self.robots.values():
            if robot.flushing is not None and not robot.flushing.done():
                robot.flushing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await robot.flushing
        if self._session is not None and not self._session.closed:
            await self._session.close()
