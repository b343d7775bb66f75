"""What kefu does when WeCom calls its callback URL (`/wecom/callback`).

GET is WeCom's URL check: the signed, encrypted `echostr` is verified and answered decrypted. POST carries an
encrypted message or event: its signature is checked here in constant time with a 5-minute timestamp window (a
replay is refused), then it is decrypted with wechatpy's `WeChatCrypto` (a bad signature or a message for another
corp is refused with 403 and nothing is done; XML declaring entities is refused with 400, never expanded),
answered at once with an empty 200 (WeCom waits 5 s, then retries up to three times), and handled afterwards,
once per MsgId or event (`TeamDesk.first_delivery`):
- a text message starting with "/" is a command, answered to its sender as a markdown app message (a chart as a
  link to kefu's server);
- `template_card_event` (a button on a card; parsed here, wechatpy 1.8 does not know it) becomes an `Action` on
  the ticket or an `AlertAction` on the alert its task id names, and its result is told to the presser; the
  click's response code is kept for the card's update.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import xmltodict
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from adapters.wecom.cards import APP_MARKDOWN_BYTES, cut_bytes, parse_button_key, parse_task_id
from adapters.wecom.client import WeComApi, send_error
from adapters.wecom.sender import CHANNEL, WeComCardSender
from adapters.wecom.texts import Language, text
from bot.messages import Action, AlertAction, CommandRequest
from bot.outbox import SendError
from bot.team_channel import Capabilities, TeamCore

if TYPE_CHECKING:
    pass

log = logging.getLogger("kefu.wecom")

SIGNATURE_WINDOW_SECONDS = 300  # WeCom retries a callback within seconds; anything older is a replay
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def delivery_id(message: dict[str, Any]) -> str:
    """What makes a callback unique across WeCom's retries: the MsgId of a message, the event's fields else."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    parts = [message.get(key) or "" for key in ("FromUserName", "CreateTime", "Event", "TaskId", "EventKey",
                                                 "ResponseCode")]
    return "event:" + ":".join(str(part) for part in parts)


def signature_problem(token: str, query: Mapping[str, str], encrypted: str, now: float | None = None,
                      window: int = SIGNATURE_WINDOW_SECONDS) -> str | None:
    """Why a callback's `msg_signature` (SHA-1 of the sorted token, timestamp, nonce and ciphertext) cannot be
    accepted, or None. Compared in constant time (wechatpy compares with `!=`), and the timestamp must be within
    `window` seconds of now: a callback captured and replayed later is refused."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    signature = query.get("msg_signature", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return f"timestamp outside the {window // 60}-minute window"
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8", "replace"))
    if not hmac.compare_digest(expected.hexdigest().encode(), signature.encode("utf-8", "replace")):
        return "bad msg_signature"
    return None


def check_url(crypto: WeChatCrypto, request: web.Request) -> web.Response:
    """WeCom's URL check (GET): the signed, encrypted echostr answered decrypted, or 403/400."""
    query = request.query
    problem = signature_problem(crypto.token, query, query.get("echostr", ""))
    if problem is not None:
        log.warning("WeCom URL check refused: %s", problem)
        return web.Response(status=403, text="bad signature")
    try:  # the signature is checked: wechatpy's own check compares it with itself
        echo = crypto.check_signature(query["msg_signature"], query["timestamp"], query.get("nonce", ""),
                                      query.get("echostr", ""))
    except (InvalidSignatureException, InvalidCorpIdException):
        log.warning("WeCom URL check refused: bad msg_signature or another corp's echostr")
        return web.Response(status=403, text="bad signature")
    except (ValueError, binascii.Error, IndexError):
        return web.Response(status=400, text="echostr is not a WeCom-encrypted value")
    return web.Response(text=echo, content_type="text/plain")


async def decrypt_callback(crypto: WeChatCrypto, request: web.Request) -> dict[str, Any] | web.Response:
    """The decrypted XML of a POSTed callback as a dict, or the refusal to answer (403 forged, 400 not WeCom's)."""
    body = await request.read()
    query = request.query
    try:  # xmltodict refuses entity declarations: no billion laughs, no external entities
        envelope = xmltodict.parse(body.decode("utf-8"))["xml"]
        encrypted = envelope["Encrypt"]
    except Exception as exc:  # not UTF-8, not XML, a DTD, no <xml><Encrypt>: not WeCom's
        log.warning("WeCom callback refused: %s", type(exc).__name__)
        return web.Response(status=400, text="not a WeCom-encrypted callback")
    if not isinstance(encrypted, str):
        return web.Response(status=400, text="not a WeCom-encrypted callback")
    problem = signature_problem(crypto.token, query, encrypted)
    if problem is not None:
        log.warning("WeCom callback refused: %s", problem)
        return web.Response(status=403, text="bad signature")
    try:
        plain = crypto.decrypt_message({"Encrypt": encrypted}, query["msg_signature"], query["timestamp"],
                                       query.get("nonce", ""))
    except (InvalidSignatureException, InvalidCorpIdException):
        log.warning("WeCom callback refused: a message for another corp")
        return web.Response(status=403, text="bad signature")
    except Exception as exc:  # not base64, bad padding: not WeCom's
        log.warning("WeCom callback refused: %s", type(exc).__name__)
        return web.Response(status=400, text="not a WeCom-encrypted callback")
    try:
        message = xmltodict.parse(plain)["xml"]
    except Exception:  # includes entity declarations, which xmltodict refuses
        return web.Response(status=400, text="the decrypted callback is not WeCom's XML")
    if not isinstance(message, dict):
        return web.Response(status=400, text="the decrypted callback is not WeCom's XML")
    return dict(message)


class AcknowledgedWork:
    """Callbacks WeCom was already answered for, handled in the background; `drain` lets them finish."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        """How many are still being handled."""
        return len(self._tasks)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class WeComCallback:
    """The callback URL's handlers; `api` answers users, `sender` keeps click response codes."""

    def __init__(self, core: TeamCore, crypto: WeChatCrypto, api: WeComApi, sender: WeComCardSender, *,
                 agent_id: int, language: Language, capabilities: Capabilities) -> None:
        self.core = core
        self.crypto = crypto
        self.api = api
        self.sender = sender
        self.agent_id = agent_id
        self.language = language
        self.capabilities = capabilities
        self._work = AcknowledgedWork()

    async def verify(self, request: web.Request) -> web.Response:
        return check_url(self.crypto, request)

    async def receive(self, request: web.Request) -> web.Response:
        message = await decrypt_callback(self.crypto, request)
        if isinstance(message, web.Response):
            return message
        self._work.start(self._handle(message), "kefu-wecom-callback")
        return web.Response(text="")  # at once: WeCom retries after 5 s

    async def close(self) -> None:
        """Let callbacks being handled finish (they were acknowledged to WeCom)."""
        await self._work.drain()

    async def _handle(self, message: dict[str, Any]) -> None:
        try:
            kind, event = message.get("MsgType"), message.get("Event")
            if kind == "text":
                handler = self._on_text
            elif kind == "event" and event == "template_card_event":
                handler = self._on_button
            else:
                return
            if not await self.core.desk.first_delivery(CHANNEL, delivery_id(message)):
                log.info("WeCom redelivered %s: already handled", delivery_id(message))
                return
            await handler(message)
        except Exception:
            log.exception("WeCom callback %s failed", delivery_id(message))

    # ---- commands ------------------------------------------------------------------------------------------

    async def _on_text(self, message: dict[str, Any]) -> None:
        user = str(message.get("FromUserName") or "")
        content = str(message.get("Content") or "").strip()
        if not user:
            return
        if not content.startswith("/"):
            await self.tell(user, text(self.language, "commands_only"))
            return
        try:
            actor = await self.core.desk.actor_for(CHANNEL, user, user)
            request = CommandRequest(text=content, platform=CHANNEL, actor_id=user, language=self.language)
            answer = await self.core.handle_command(request, actor, self.capabilities)
        except Exception:
            log.exception("command %r failed", content)
            await self.tell(user, text(self.language, "internal_error"))
            return
        reply = answer.text
        if answer.chart is not None:
            link = self.core.chart_link(answer.chart)
            note = text(self.language, "chart_link", link=link) if link else \
                text(self.language, "chart_saved", path=answer.chart)
            reply = f"{reply}\n\n{note}"
        await self.tell(user, reply)

    # ---- buttons -------------------------------------------------------------------------------------------

    async def _on_button(self, message: dict[str, Any]) -> None:
        user = str(message.get("FromUserName") or "")
        task = str(message.get("TaskId") or "")
        code = message.get("ResponseCode")
        if code:
            await asyncio.to_thread(self.sender.remember_code, task, str(code))
        pressed = parse_button_key(str(message.get("EventKey") or ""))
        ids = parse_task_id(task)
        if pressed is None or not ids:
            await self.tell(user, text(self.language, "unknown_button"))
            return
        name, suggestion = pressed
        if "alert" in ids:
            result = await self.core.handle_alert_action(AlertAction(name, ids["alert"], CHANNEL, user, user,
                                                                     language=self.language))
        elif name.startswith("alert_"):
            await self.tell(user, text(self.language, "unknown_button"))
            return
        else:
            values = {"suggestion_id": str(suggestion)} if suggestion is not None else {}
            result = await self.core.handle_action(Action(name, ids["ticket"], CHANNEL, user, values, user,
                                                          language=self.language))
        await self.tell(user, result.message)

    # ---- answers -------------------------------------------------------------------------------------------

    async def tell(self, user: str, content: str) -> None:
        """A markdown app message to one user (answers are not kept in the outbox: a lost one is asked again)."""
        body = {"touser": user, "agentid": self.agent_id, "msgtype": "markdown",
                "markdown": {"content": cut_bytes(content, APP_MARKDOWN_BYTES)}}
        try:
            await self.api.post("message/send", body)
        except Exception as exc:
            error: SendError = send_error(exc, "the answer (message/send)")
            log.warning("could not answer %s on WeCom: %s", user, error)
