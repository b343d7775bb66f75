"""DingTalk custom group robots (自定义机器人) for alert-only groups: signed webhook posts within the robot's limit of
20 messages a minute.

A robot set to 加签 needs `timestamp` (ms) and `sign` = URL-encoded base64(HMAC-SHA256(secret, timestamp + "\\n" +
secret)) on every call. The limit is kept by `bot.webhook_pacing` (a sliding minute of the robot's posts counted
in the database, so that every replica's posts count, sends that arrive together merged into one message, a full
minute putting a send off as a transient `SendError` rather than dropping it or sending it into errcode 130101);
this module owns the post itself: the signed URL, the markdown body, merging messages under one title, and
DingTalk's answers. Should DingTalk answer 130101 all the same (something else posting through the same robot),
the minute counts as used up and the send is retried after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import aiohttp
from sqlalchemy.engine import Engine

from bot.outbox import SendError
from bot.webhook_pacing import PostWindow, RateLimited, SharedSendWindow, WebhookPacer

TOO_FAST = 130101
WINDOW_SCOPE = "dingtalk_robot"  # the robots' shared minutes (RateWindow rows), one per robot name
GATHER_SECONDS = 0.05  # how long a post to a busy robot waits for sends arriving with it, to go out as one message


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


class RobotWebhook:
    """One robot's webhook (`name` in settings). `merged_title(count)` titles a merged message. With `engine` the
    robot's minute is shared by every replica on that database (on `clock`, the wall clock by default); without,
    it counts this process's posts (on `clock`, monotonic by default)."""

    def __init__(self, name: str, url: str, secret: str | None, session: Callable[[], aiohttp.ClientSession], *,
                 per_minute: int, merged_title: Callable[[int], str], engine: Engine | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._session = session
        self.per_minute = per_minute
        self._merged_title = merged_title
        window: PostWindow | None = None
        if engine is not None:
            window = SharedSendWindow(engine, WINDOW_SCOPE, name, per_minute, clock or time.time)
        self._pacer: WebhookPacer[RobotMessage, str] = WebhookPacer(
            f"DingTalk robot {name!r}", send=self._send, combine=self._combined, per_minute=per_minute,
            gather_seconds=GATHER_SECONDS, clock=clock or time.monotonic, window=window)
        self._posts = 0

    async def post(self, message: RobotMessage) -> str:
        """Post `message` (alone or merged with others sent meanwhile); returns a reference "robot:<name>:<n>"."""
        return await self._pacer.post(message)

    def _combined(self, messages: Sequence[RobotMessage]) -> RobotMessage:
        return merged(list(messages), self._merged_title(len(messages)))

    async def _send(self, message: RobotMessage) -> str:
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown},
                                "at": {"atUserIds": list(message.at_user_ids), "isAtAll": message.at_all}}
        url = signed_url(self._url, self._secret, int(time.time() * 1000))
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
            raise RateLimited(f"DingTalk robot {self.name!r} is sending too fast (130101: {errmsg})")
        hint = " (check the robot's secret, or the server clock)" if errcode == 310000 else ""
        raise SendError(f"DingTalk refused {what}: errcode {errcode}: {errmsg}{hint}", transient=False)
