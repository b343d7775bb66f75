"""DingTalk custom group robots (自定义机器人) for alert-only groups: signed webhook posts within the robot's limit of
20 messages a minute.

A robot set to 加签 needs `timestamp` (ms) and `sign` = URL-encoded base64(HMAC-SHA256(secret, timestamp + "\\n" +
secret)) on every call. The limit is kept by counting this process's posts in a sliding minute; sends that
arrive together (the outbox sends a few items at once) are merged into one message, and when the minute is used
up a send is put off (a transient `SendError` with the seconds until a post is free) rather than dropped or sent
into errcode 130101. Should DingTalk answer 130101 all the same (another process posting through the same robot),
the minute counts as used up and the send is retried after it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from bot.outbox import SendError

WINDOW_SECONDS = 60.0
TOO_FAST = 130101
GATHER_SECONDS = 0.05  # how long a post waits for sends arriving with it, to go out as one message


def signed_url(url: str, secret: str | None, now_ms: int) -> str:
    """The webhook address with `timestamp` and `sign` for a robot set to 加签 (unchanged without a secret)."""
    if not secret:
        return url
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return f"{url}&timestamp={now_ms}&sign={quote_plus(base64.b64encode(digest).decode())}"


@dataclass(frozen=True)
class RobotMessage:
    title: str
    markdown: str
    at_user_ids: tuple[str, ...] = ()
    at_all: bool = False


def merged(messages: list[RobotMessage], title: str) -> RobotMessage:
    """Several messages as one: each under a rule, everyone they mention mentioned once."""
    if len(messages) == 1:
        return messages[0]
    return RobotMessage(title=title, markdown="\n\n---\n\n".join(m.markdown for m in messages),
                        at_user_ids=tuple(dict.fromkeys(u for m in messages for u in m.at_user_ids)),
                        at_all=any(m.at_all for m in messages))


@dataclass
class _Waiting:
    message: RobotMessage
    done: asyncio.Future[str]


class RobotWebhook:
    """One robot's webhook (`name` in settings). `merged_title(count)` titles a merged message."""

    def __init__(self, name: str, url: str, secret: str | None, session: Callable[[], aiohttp.ClientSession], *,
                 per_minute: int, merged_title: Callable[[int], str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._session = session
        self.per_minute = per_minute
        self._merged_title = merged_title
        self._clock = clock
        self._sent: deque[float] = deque()  # when this process posted, on `clock`, within the last minute
        self._waiting: list[_Waiting] = []
        self._flushing: asyncio.Task[None] | None = None
        self._posts = 0

    def wait_seconds(self) -> float:
        """Seconds until the robot may post again (0: now)."""
        now = self._clock()
        while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
            self._sent.popleft()
        if len(self._sent) < self.per_minute:
            return 0.0
        return max(WINDOW_SECONDS - (now - self._sent[0]), 0.01)

    async def post(self, message: RobotMessage) -> str:
        """Post `message` (alone or merged with others sent meanwhile); returns a reference "robot:<name>:<n>"."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(message, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name=f"kefu-dingtalk-robot-{self.name}")
        return await done

    async def _flush(self) -> None:
        await asyncio.sleep(GATHER_SECONDS)
        while self._waiting:
            batch, self._waiting = self._waiting, []
            batch = [waiting for waiting in batch if not waiting.done.done()]  # a send that timed out meanwhile
            if not batch:
                continue
            wait = self.wait_seconds()
            try:
                if wait > 0:
                    raise SendError(f"DingTalk robot {self.name!r} has posted {self.per_minute} messages this "
                                    f"minute; waiting {wait:.0f} s", transient=True, retry_after=wait)
                ref = await self._send(merged([w.message for w in batch], self._merged_title(len(batch))))
            except BaseException as exc:
                for waiting in batch:
                    if not waiting.done.done():
                        waiting.done.set_exception(exc if isinstance(exc, SendError) else SendError(
                            f"DingTalk robot {self.name!r}: {type(exc).__name__}: {exc}", transient=True))
                if not isinstance(exc, Exception):
                    raise
                continue
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_result(ref)

    async def _send(self, message: RobotMessage) -> str:
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown},
                                "at": {"atUserIds": list(message.at_user_ids), "isAtAll": message.at_all}}
        url = signed_url(self._url, self._secret, int(time.time() * 1000))
        self._sent.append(self._clock())
        what = f"the post to DingTalk robot {self.name!r}"
        try:
            async with self._session().post(url, data=json.dumps(body, ensure_ascii=False),
                                            headers={"Content-Type": "application/json; charset=utf-8"}) as answer:
                if answer.status >= 500 or answer.status == 429:
                    raise SendError(f"DingTalk answered HTTP {answer.status} to {what}", transient=True)
                try:
                    data = json.loads(await answer.read())
                except ValueError:
                    data = {}
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SendError(f"DingTalk unreachable for {what}: {type(exc).__name__}: {exc}", transient=True) from None
        errcode = data.get("errcode") if isinstance(data, dict) else None
        if errcode == 0:
            self._posts += 1
            return f"robot:{self.name}:{self._posts}"
        errmsg = data.get("errmsg", "") if isinstance(data, dict) else ""
        if errcode == TOO_FAST:  # someone else posts through this robot too: the minute is used up
            now = self._clock()
            self._sent.extend([now] * max(self.per_minute - len(self._sent), 0))
            raise SendError(f"DingTalk robot {self.name!r} is sending too fast (130101: {errmsg})", transient=True,
                            retry_after=WINDOW_SECONDS)
        hint = " (check the robot's secret, or the server clock)" if errcode == 310000 else ""
        raise SendError(f"DingTalk refused {what}: errcode {errcode}: {errmsg}{hint}", transient=False)
