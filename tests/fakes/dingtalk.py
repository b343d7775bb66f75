"""A fake DingTalk (钉钉) on 127.0.0.1 that speaks DingTalk's wire protocol, for driving kefu's DingTalk adapter
with the real dingtalk-stream SDK: the OpenAPI (access token, `groupMessages/send`), the Stream gateway
(`connections/open` and its websocket, which pushes SYSTEM and CALLBACK frames and records the ACKs), the
sessionWebhook a chatbot message carries, and custom group robot webhooks (signed, 20 messages a minute).

It runs an aiohttp server in its own thread with its own event loop: the SDK makes blocking HTTP calls inside its
own loop, so a fake in the same loop would deadlock (protocols.md §2f). State is read through copies that are safe
from any thread; tests wait on them with `tests.e2e.conftest.wait_until`.

    with FakeDingTalk() as fake:
        message = fake.push_bot_message("/指标 7天", sender="manager1")
        ...
        fake.session_replies(message.session)

See /work/shared/protocols.md §2 for the protocol notes this follows.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import WSMsgType, web

from tests.fakes.threaded_server import ThreadedServer

__all__ = ["BotMessage", "FakeDingTalk", "GroupMessage", "RobotPost", "SessionReply", "robot_sign"]

BOT_TOPIC = "/v1.0/im/bot/messages/get"
GROUP_MSG_KEYS = frozenset({"sampleText", "sampleMarkdown", "sampleLink", "sampleActionCard", "sampleActionCard2",
                            "sampleActionCard3", "sampleActionCard4", "sampleActionCard5", "sampleActionCard6"})
ROBOT_WINDOW_SECONDS = 60.0
SIGN_WINDOW_MS = 3600 * 1000


def robot_sign(secret: str, timestamp_ms: int) -> str:
    """The 加签 signature of a robot webhook call, before URL-encoding (protocols.md §2g)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class OpenApiCall:
    """One OpenAPI call as the fake received it, and what it answered."""

    path: str
    token: str | None
    body: dict[str, Any]
    status: int
    response: dict[str, Any]


@dataclass(frozen=True)
class GroupMessage:
    """A robot message `groupMessages/send` accepted, as the group shows it."""

    conversation_id: str
    msg_key: str
    param: dict[str, Any]
    process_query_key: str
    robot_code: str

    @property
    def text(self) -> str:
        """Everything readable in the message (title, text, button titles and URLs) as one string."""
        return "\n".join(str(value) for value in self.param.values())


@dataclass(frozen=True)
class RobotPost:
    """A POST to a custom group robot webhook and how the fake answered it."""

    robot: str
    body: dict[str, Any]
    errcode: int
    errmsg: str

    @property
    def text(self) -> str:
        content = self.body.get(self.body.get("msgtype", ""), {})
        return json.dumps(content, ensure_ascii=False) if isinstance(content, dict) else str(content)


@dataclass(frozen=True)
class SessionReply:
    """A reply posted to a chatbot message's sessionWebhook."""

    session: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        kind = self.body.get("msgtype", "")
        content = self.body.get(kind) or {}
        return str(content.get("text") or content.get("content") or "")


@dataclass(frozen=True)
class BotMessage:
    """A chatbot message pushed to the bot: the frame's messageId (what the ACK names), the message's msgId (the
    same on a redelivery) and its sessionWebhook's session."""

    frame_id: str
    msg_id: str
    session: str
    data: dict[str, Any]


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    retry_after: int | None = None


@dataclass
class _Frame:
    message_id: str
    frame: dict[str, Any]
    acks: list[dict[str, Any]] = field(default_factory=list)


class FakeDingTalk(ThreadedServer):
    thread_name = "fake-dingtalk"

    def __init__(
        self,
        *,
        client_id: str = "dingkefu0app",
        client_secret: str = "kefu-app-secret",
        groups: Iterable[str] = ("cidTRIAGE==", "cidMANAGERS=="),
        robots: Mapping[str, tuple[str, str | None]] | None = None,
        robot_limit: int = 20,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.groups = set(groups)
        # name → (access_token, secret or None for a robot without 加签)
        self.robots = dict(robots if robots is not None else {"alerts": ("robot-alerts-token", "SECkefu-alerts")})
        self.robot_limit = robot_limit
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._tokens: set[str] = set()
        self._tickets: set[str] = set()
        self._calls: list[OpenApiCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._group_messages: list[GroupMessage] = []
        self._robot_posts: list[RobotPost] = []
        self._robot_sent_at: dict[str, deque[float]] = {}
        self._sessions: set[str] = set()
        self._session_replies: list[SessionReply] = []
        self._frames: dict[str, _Frame] = {}
        self._pending: deque[str] = deque()  # frames waiting for a connection
        self._sockets: list[web.WebSocketResponse] = []
        self.connections_opened = 0
        super().__init__()

    def robot_url(self, name: str) -> str:
        """A robot's webhook address as DingTalk shows it in the group's robot settings."""
        return f"{self.base_url}/robot/send?access_token={self.robots[name][0]}"

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The OpenAPI and Stream gateway (kefu's `[dingtalk] api_url` is `base_url`), the robot webhooks."""
        app = web.Application()
        app.router.add_post("/v1.0/oauth2/accessToken", self._access_token)
        app.router.add_post("/v1.0/gateway/connections/open", self._open_connection)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/robot/sendBySession", self._session_reply)
        app.router.add_post("/robot/send", self._robot_send)
        return app

    async def before_shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    # --- OpenAPI -------------------------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"code": code, "message": message, "requestid": uuid.uuid4().hex}, status=status,
                                 headers=headers)

    async def _json(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads((await request.read()).decode("utf-8"))
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _access_token(self, request: web.Request) -> web.Response:
        body = await self._json(request) or {}
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
            return self._error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = f"tok-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._tokens.add(token)
        return web.json_response({"accessToken": token, "expireIn": 7200})

    def expire_tokens(self) -> None:
        """Every access token handed out so far stops working (as after its 2 hours)."""
        with self._lock:
            self._tokens.clear()

    async def _open_connection(self, request: web.Request) -> web.Response:
        body = await self._json(request) or {}
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            return self._error(401, "InvalidAuthentication", "clientId or clientSecret is invalid")
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
            self.connections_opened += 1
        return web.json_response({"endpoint": f"ws://127.0.0.1:{self.port}/connect", "ticket": ticket})

    def fail_next(self, path: str, status: int, code: str, message: str = "", *, times: int = 1,
                  retry_after: int | None = None) -> None:
        """The next `times` calls of OpenAPI `path` ("/v1.0/robot/groupMessages/send") answer this error."""
        with self._lock:
            self._faults.setdefault(path, deque()).extend(
                _Fault(status, code, message or code, retry_after) for _ in range(times))

    async def _group_send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        token = request.headers.get("x-acs-dingtalk-access-token")
        with self._lock:
            fault = self._faults.get(request.path)
            answer: tuple[int, dict[str, Any], dict[str, str]]
            if fault:
                scripted = fault.popleft()
                headers = {"Retry-After": str(scripted.retry_after)} if scripted.retry_after is not None else {}
                answer = (scripted.status, {"code": scripted.code, "message": scripted.message}, headers)
            elif not token or token not in self._tokens:
                answer = (401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}, {})
            elif body is None:
                answer = (400, {"code": "MissingParameter", "message": "body is not JSON"}, {})
            else:
                answer = self._accept_group_message(body)
            status, response, headers = answer
            self._calls.append(OpenApiCall(request.path, token, body or {}, status, response))
        if status != 200:
            return self._error(status, response["code"], response["message"], headers)
        return web.json_response(response)

    def _accept_group_message(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if body.get("robotCode") != self.client_id:
            return 400, {"code": "invalidParameter.robotCode", "message": "robotCode 无效"}, {}
        if body.get("openConversationId") not in self.groups:
            return 400, {"code": "resource.not.found", "message": "群不存在或机器人不在群内"}, {}
        if body.get("msgKey") not in GROUP_MSG_KEYS:
            return 400, {"code": "invalidParameter.msgKey", "message": f"msgKey {body.get('msgKey')!r} 无效"}, {}
        try:
            param = json.loads(body.get("msgParam") or "")
        except (TypeError, ValueError):
            return 400, {"code": "invalidParameter.msgParam", "message": "msgParam 必须是 JSON 字符串"}, {}
        key = f"pqk-{next(self._counter)}"
        self._group_messages.append(GroupMessage(body["openConversationId"], body["msgKey"], param, key,
                                                 body["robotCode"]))
        return 200, {"processQueryKey": key}, {}

    def calls(self, path: str | None = None) -> list[OpenApiCall]:
        with self._lock:
            return [call for call in self._calls if path is None or call.path == path]

    def group_messages(self, conversation_id: str | None = None) -> list[GroupMessage]:
        with self._lock:
            return [m for m in self._group_messages if conversation_id in (None, m.conversation_id)]

    # --- custom group robot webhooks -----------------------------------------------------------------------------

    async def _robot_send(self, request: web.Request) -> web.Response:
        # Parse the raw query: parse_qs would turn the '+' of an unencoded signature into a space.
        raw = dict(pair.split("=", 1) for pair in request.query_string.split("&") if "=" in pair)
        token = unquote_plus(raw.get("access_token", ""))
        robot = next((name for name, (known, _secret) in self.robots.items() if known == token), None)
        body = await self._json(request)
        errcode, errmsg = 0, "ok"
        with self._lock:
            if robot is None:
                errcode, errmsg = 300001, "token is not exist"
            else:
                errcode, errmsg = self._check_signature(robot, raw)
            if not errcode and body is None:
                errcode, errmsg = 40035, "缺少参数 json"
            if not errcode and robot is not None:
                sent = self._robot_sent_at.setdefault(robot, deque())
                now = time.monotonic()
                while sent and now - sent[0] >= ROBOT_WINDOW_SECONDS:
                    sent.popleft()
                if len(sent) >= self.robot_limit:
                    errcode, errmsg = 130101, "send too fast, exceed 20 times per minute"
                else:
                    sent.append(now)
            self._robot_posts.append(RobotPost(robot or "?", body or {}, errcode, errmsg))
        return web.json_response({"errcode": errcode, "errmsg": errmsg})

    def _check_signature(self, robot: str, raw: dict[str, str]) -> tuple[int, str]:
        secret = self.robots[robot][1]
        if secret is None:
            return 0, "ok"
        try:
            timestamp = int(raw.get("timestamp", ""))
        except ValueError:
            return 310000, "sign not match, more: [timestamp missing]"
        if abs(time.time() * 1000 - timestamp) > SIGN_WINDOW_MS:
            return 310000, "invalid timestamp"
        if unquote_plus(raw.get("sign", "")) != robot_sign(secret, timestamp):
            return 310000, "sign not match"
        return 0, "ok"

    def robot_posts(self, robot: str | None = None) -> list[RobotPost]:
        """Every POST to a robot webhook, accepted or not (errcode 0 = shown in the group)."""
        with self._lock:
            return [post for post in self._robot_posts if robot in (None, post.robot)]

    # --- sessionWebhook ------------------------------------------------------------------------------------------

    async def _session_reply(self, request: web.Request) -> web.Response:
        session = request.query.get("session", "")
        body = await self._json(request)
        with self._lock:
            if session not in self._sessions:
                return web.json_response({"errcode": 300001, "errmsg": "session is not exist"})
            if body is None or body.get("msgtype") not in ("text", "markdown", "actionCard", "link", "feedCard"):
                return web.json_response({"errcode": 40035, "errmsg": "缺少参数 msgtype"})
            self._session_replies.append(SessionReply(session, body))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def session_replies(self, session: str | None = None) -> list[SessionReply]:
        with self._lock:
            return [reply for reply in self._session_replies if session in (None, reply.session)]

    # --- Stream gateway ------------------------------------------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            if ticket not in self._tickets:
                return web.json_response({"code": "InvalidTicket", "message": "ticket is invalid"}, status=401)
            self._tickets.discard(ticket)  # a ticket opens one connection
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        while self._pending:
            await ws.send_str(json.dumps(self._frames[self._pending.popleft()].frame))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._record_ack(message.data)
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    def _record_ack(self, raw: str) -> None:
        try:
            ack = json.loads(raw)
        except ValueError:
            return
        message_id = (ack.get("headers") or {}).get("messageId") if isinstance(ack, dict) else None
        with self._lock:
            if message_id in self._frames:
                self._frames[message_id].acks.append(ack)

    @property
    def connected(self) -> int:
        """How many stream connections are open now."""
        return len(self._sockets)

    def push(self, kind: str, topic: str, data: dict[str, Any], *, message_id: str | None = None) -> str:
        """Push a frame (`data` goes as a JSON string, as DingTalk sends it) to the newest connection, or when one
        opens; returns the frame's messageId."""
        message_id = message_id or f"frame-{uuid.uuid4().hex[:16]}"
        frame = {"specVersion": "1.0", "type": kind,
                 "headers": {"appId": self.client_id, "connectionId": "conn-1", "contentType": "application/json",
                             "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": topic},
                 "data": json.dumps(data, ensure_ascii=False)}
        with self._lock:
            self._frames[message_id] = _Frame(message_id, frame)

        def deliver() -> None:
            if self._sockets:
                asyncio.ensure_future(self._sockets[-1].send_str(json.dumps(frame, ensure_ascii=False)))
            else:
                self._pending.append(message_id)

        self.in_loop(deliver)
        return message_id

    def ping(self) -> str:
        return self.push("SYSTEM", "ping", {"opaque": f"op-{uuid.uuid4().hex[:8]}"})

    def disconnect(self) -> str:
        """Tell the client to reconnect, as DingTalk does before it closes a connection."""
        return self.push("SYSTEM", "disconnect", {"reason": "connection is expired"})

    def acks(self, message_id: str) -> list[dict[str, Any]]:
        with self._lock:
            frame = self._frames.get(message_id)
            return [json.loads(json.dumps(ack)) for ack in frame.acks] if frame else []

    def push_bot_message(self, text: str, *, sender: str, nick: str | None = None, conversation_type: str = "2",
                         conversation_id: str = "cidTRIAGE==", msg_id: str | None = None,
                         at_bot: bool = True) -> BotMessage:
        """A person's text message to the robot (an @-mention in a group, conversationType "2", or a 1:1 message,
        "1") on topic /v1.0/im/bot/messages/get. The same `msg_id` again is a redelivery."""
        session = uuid.uuid4().hex
        with self._lock:
            self._sessions.add(session)
        now = int(time.time() * 1000)
        msg_id = msg_id or f"msg{uuid.uuid4().hex[:20]}"
        data: dict[str, Any] = {
            "conversationId": conversation_id, "conversationType": conversation_type,
            "conversationTitle": "客服工作群" if conversation_type == "2" else "", "msgId": msg_id,
            "msgtype": "text", "text": {"content": f" {text}"}, "senderId": f"$:LWCP_v1:${sender}",
            "senderStaffId": sender, "senderNick": nick or sender, "senderCorpId": "dingcorp",
            "isAdmin": False, "isInAtList": at_bot, "atUsers": [{"dingtalkId": "$:LWCP_v1:$bot"}] if at_bot else [],
            "chatbotUserId": "$:LWCP_v1:$bot", "chatbotCorpId": "dingcorp", "robotCode": self.client_id,
            "sessionWebhook": f"{self.base_url}/robot/sendBySession?session={session}",
            "sessionWebhookExpiredTime": now + 90 * 60 * 1000, "createAt": now,
        }
        frame_id = self.push("CALLBACK", BOT_TOPIC, data)
        return BotMessage(frame_id, msg_id, session, data)
