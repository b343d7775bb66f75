"""What kefu does when WeCom calls its callback URL (`/wecom/callback`).

GET is WeCom's URL check: the signed, encrypted `echostr` is verified and answered decrypted. POST carries an
encrypted message or event: it is verified and decrypted with wechatpy's `WeChatCrypto` (a bad signature or a
message for another corp is refused with 403 and nothing is done), answered at once with an empty 200 (WeCom
waits 5 s, then retries up to three times), and handled afterwards, once per MsgId or event
(`TeamDesk.first_delivery`):
- a text message starting with "/" is a command, answered to its sender as a markdown app message (a chart as a
  link to kefu's server);
- `template_card_event` (a button on a card; parsed here, wechatpy 1.8 does not know it) becomes an `Action` on
  the ticket or an `AlertAction` on the alert its task id names, and its result is told to the presser; the
  click's response code is kept for the card's update.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
from collections.abc import Coroutine
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


def delivery_id(message: dict[str, Any]) -> str:
    """What makes a callback unique across WeCom's retries: the MsgId of a message, the event's fields else."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    parts = [message.get(key) or "" for key in ("FromUserName", "CreateTime", "Event", "TaskId", "EventKey",
                                                 "ResponseCode")]
    return "event:" + ":".join(str(part) for part in parts)


def check_url(crypto: WeChatCrypto, request: web.Request) -> web.Response:
    """WeCom's URL check (GET): the signed, encrypted echostr answered decrypted, or 403/400."""
    query = request.query
    try:
        echo = crypto.check_signature(query.get("msg_signature", ""), query.get("timestamp", ""),
                                      query.get("nonce", ""), query.get("echostr", ""))
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
    try:
        plain = crypto.decrypt_message(body.decode("utf-8"), query.get("msg_signature", ""),
                                       query.get("timestamp", ""), query.get("nonce", ""))
    except (InvalidSignatureException, InvalidCorpIdException):
        log.warning("WeCom callback refused: bad msg_signature or a message for another corp")
        return web.Response(status=403, text="bad signature")
    except Exception as exc:  # not XML, no <Encrypt>, not base64, bad padding: not WeCom's
        log.warning("WeCom callback refused: %s", type(exc).__name__)
        return web.Response(status=400, text="not a WeCom-encrypted callback")
    try:
        message = xmltodict.parse(plain)["xml"]
    except Exception:
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
            answer = await self.core.handle_command(CommandRequest(text=content, platform=CHANNEL, actor_id=user),
                                                    actor, self.capabilities)
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
            self.sender.remember_code(task, str(code))
        pressed = parse_button_key(str(message.get("EventKey") or ""))
        ids = parse_task_id(task)
        if pressed is None or not ids:
            await self.tell(user, text(self.language, "unknown_button"))
            return
        name, suggestion = pressed
        if "alert" in ids:
            result = await self.core.handle_alert_action(AlertAction(name, ids["alert"], CHANNEL, user, user))
        elif name.startswith("alert_"):
            await self.tell(user, text(self.language, "unknown_button"))
            return
        else:
            values = {"suggestion_id": str(suggestion)} if suggestion is not None else {}
            result = await self.core.handle_action(Action(name, ids["ticket"], CHANNEL, user, values, user))
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
