"""WeCom group robots (群机器人): alert-only group chats reached by webhook (`webhook/send?key=`), at most 20
messages a minute per robot.

Each robot's posts are paced by `bot.webhook_pacing`: a sliding one-minute window of what kefu sent it, counted in
the database so that every replica's posts count (in memory without a database); once half of it is used, a
message waits a moment (`gather_seconds`) so that the alerts the outbox hands over meanwhile go out merged into one
message, as many as fit in WeCom's 4096 bytes. Nothing is dropped: every outbox item waits for the message that
carries it, and a full window (or WeCom's own 45009, when something else used the robot too) fails the items as
transient with the seconds until the window frees, so the outbox sends them again then.
This module owns what is WeCom's: the robots by name and key, the markdown body, merging under a bold title within
4096 bytes, and WeCom's answers. Robots do not edit messages: an update of a card posted by a robot is posted as a
new message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final

import aiohttp
from sqlalchemy.engine import Engine

from adapters.wecom.cards import ROBOT_MARKDOWN_BYTES, cut_bytes
from adapters.wecom.client import RATE_LIMIT_BACKOFF_SECONDS, RATE_LIMITED
from bot.outbox import SendError
from bot.webhook_pacing import RateLimited, SharedSendWindow, WebhookPacer

SEPARATOR: Final = "\n\n"
TOO_FAST: Final = 45009  # the robot's 20 messages a minute are used up
WINDOW_SCOPE: Final = "wecom_robot"  # the robots' shared minutes (RateWindow rows), one per robot name


class GroupRobots:
    """The configured robots by name (`keys`: name → webhook key) behind `webhook_url` (…/cgi-bin/webhook/send).
    With `engine` each robot's minute is shared by every replica on that database (on `clock`, the wall clock by
    default); without, it counts this process's posts (on `clock`, monotonic by default)."""

    def __init__(self, keys: dict[str, str], *, webhook_url: str, per_minute: int, timeout: float,
                 merged_title: Callable[[int], str], gather_seconds: float = 1.0, engine: Engine | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.robots: dict[str, WebhookPacer[str, None]] = {
            name: WebhookPacer(f"WeCom robot {name!r}", send=partial(self._send, name, key), combine=self._combined,
                               per_minute=per_minute, gather_seconds=gather_seconds, clock=clock or time.monotonic,
                               window=None if engine is None else SharedSendWindow(
                                   engine, WINDOW_SCOPE, name, per_minute, clock or time.time))
            for name, key in keys.items()}
        self.webhook_url = webhook_url
        self.per_minute = per_minute
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.merged_title = merged_title
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
        await robot.post(content)

    def _combined(self, contents: Sequence[str]) -> str | None:
        """The contents as one robot message under a bold title, or None when they do not fit in one."""
        if len(contents) == 1:
            return cut_bytes(contents[0], ROBOT_MARKDOWN_BYTES)
        content = SEPARATOR.join([f"**{self.merged_title(len(contents))}**", *contents])
        return content if len(content.encode()) <= ROBOT_MARKDOWN_BYTES else None

    async def _send(self, name: str, key: str, content: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        what = f"the message to WeCom robot {name!r}"
        try:
            async with self._session.post(self.webhook_url, params={"key": key}, json=body) as response:
                if response.status >= 400:
                    raise SendError(f"WeCom answered HTTP {response.status} to {what}",
                                    transient=response.status >= 500 or response.status in (408, 429))
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SendError(f"WeCom unreachable for {what}: {type(exc).__name__}", transient=True) from None
        code = data.get("errcode", 0) if isinstance(data, dict) else None
        if code == 0:
            return
        if code == TOO_FAST:
            raise RateLimited(f"WeCom rate-limited {what} (errcode {code})")
        if code in RATE_LIMITED:
            raise SendError(f"WeCom rate-limited {what} (errcode {code})", transient=True,
                            retry_after=RATE_LIMIT_BACKOFF_SECONDS)
        message = data.get("errmsg", "") if isinstance(data, dict) else repr(data)
        raise SendError(f"WeCom refused {what}: errcode {code} {message}", transient=False)

    async def close(self) -> None:
        for robot in self.robots.values():
            await robot.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
