"""A fake WeCom (企业微信) API on 127.0.0.1, for driving kefu's WeCom adapter with the real wechatpy client.

Endpoints (under /cgi-bin/), as protocols.md §3 describes them:
- `GET gettoken?corpid&corpsecret` → access_token; 40013 (unknown corp id), 40001 (wrong secret);
- `POST message/send?access_token=` (markdown, textcard, text, template_card of card_type button_interaction or
  text_notice, shapes validated) → msgid and, for a button card, a response_code;
- `POST message/update_template_card` (spends a response code: each is good for one update);
- `POST webhook/send?key=` group robots, 20 messages a minute per key → 45009, an unknown key → 93000.
- 微信客服: `POST kf/sync_msg` (opaque cursors, `limit`, `has_more`; a callback Token from `customer_writes` is
  checked: 95007 when unknown or older than 10 minutes; 95000 for an unknown open_kfid) and `POST kf/send_msg`
  (text only, 1-2048 bytes; within 48 h of the customer's last message, else 95002; at most 5 messages in that
  window, else 95001; a repeated `msgid` is answered as sent without delivering again). These kf errcodes are
  the fake's reading of WeCom's error code list (95000 invalid open_kfid, 95001 send count limit, 95002 send time
  limit, 95007 invalid msg token), not verified against WeCom. kf endpoints need a token of the kf secret
  (`kf_secret`); an app token there, or a kf token on the app's endpoints, answers 48002 (api forbidden).
  `POST kf/customer/batchget` names the customers who wrote (nicknames from `customer_writes`); other ids come
  back in `invalid_external_userid`.
Every API call checks the token: 41001 (missing), 40014 (not issued), 42001 (expired with `expire_tokens`).
Faults are scripted per endpoint with `fail(endpoint, errcode, times)` (45009, -1, ...). Bodies are parsed as JSON
whatever the Content-Type (wechatpy sends none). A malformed body or card answers 40058 (invalid parameter) with
the reason in errmsg; WeCom's own code for a spent response code was not verified and is faked as 40058 too.

It runs an aiohttp server in its own thread and loop, so it answers whether the caller is sync (wechatpy) or
async. The driver acting as WeCom toward kefu (encrypted callbacks) is tests/fakes/wecom_driver.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.threaded_server import ThreadedServer

T = TypeVar("T")
TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")
ROBOT_LIMIT_PER_MINUTE = 20
KF_WINDOW_SECONDS = 48 * 3600
KF_WINDOW_MESSAGES = 5
KF_TOKEN_SECONDS = 600
KF_TEXT_BYTES = 2048


@dataclass(frozen=True)
class WeComCall:
    endpoint: str
    query: dict[str, str]
    body: Any
    response: dict[str, Any]
    at: float

    @property
    def errcode(self) -> int:
        return int(self.response.get("errcode", 0))


@dataclass
class SentCard:
    """A template card as WeCom shows it: its latest version and every update."""

    task_id: str
    touser: str
    toparty: str
    card: dict[str, Any]
    msgid: str
    versions: list[dict[str, Any]] = field(default_factory=list)


class BadRequest(Exception):
    pass


class FakeWeCom(ThreadedServer):
    thread_name = "fake-wecom"

    def __init__(self, *, corp_id: str = "wwkefu0123456789", secret: str = "kefu-app-secret",
                 agent_id: int = 1000002, robot_keys: tuple[str, ...] = ("robot-key-alerts-0001",),
                 kf_secret: str = "kefu-kf-secret", open_kfid: str = "wkkefu0000000001") -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.kf_secret = kf_secret
        self.open_kfid = open_kfid
        self._token_secrets: dict[str, str] = {}  # token → "app" or "kf"
        self._kf_log: list[dict[str, Any]] = []  # every kf message, in order (sync_msg reads it)
        self._kf_tokens: dict[str, float] = {}  # callback Token → when issued
        self._kf_windows: dict[tuple[str, str], list[float]] = {}  # (open_kfid, user) → [last message, sent]
        self._kf_msgids: set[str] = set()
        self.kf_sent: list[dict[str, Any]] = []  # every kf/send_msg delivered to a customer
        self.kf_nicknames: dict[str, str] = {}  # external_userid → WeChat nickname (kf/customer/batchget)
        self.agent_id = agent_id
        self.robot_keys = set(robot_keys)
        self._lock = threading.RLock()
        self._tokens: dict[str, bool] = {}  # token → still valid
        self._codes: dict[str, str] = {}  # unspent response code → task id
        self._calls: list[WeComCall] = []
        self._faults: dict[str, deque[int]] = {}
        self._robot_sent: dict[str, deque[float]] = {}
        self.cards: dict[str, SentCard] = {}
        self.messages: list[dict[str, Any]] = []  # every accepted message/send body
        self.robot_messages: list[dict[str, Any]] = []  # every accepted webhook/send: {"key", "body"}
        self._msgids = itertools.count(1)
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/cgi-bin/"

    # ---- lifecycle ---------------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook)
        app.router.add_post("/cgi-bin/{endpoint:.+}", self._api)
        return app

    # ---- scripting ---------------------------------------------------------------------------------------------

    def fail(self, endpoint: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `endpoint` ("message/send", "gettoken", "webhook/send") answer `errcode`."""
        with self._lock:
            self._faults.setdefault(endpoint, deque()).extend([errcode] * times)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, False)

    def forget_tokens(self) -> None:
        """Tokens issued so far become unknown (40014), as after a secret reset."""
        with self._lock:
            self._tokens.clear()

    def click_code(self, task_id: str) -> str:
        """A fresh response code, as WeCom puts in a click's callback on the card `task_id`."""
        code = "rc-" + uuid.uuid4().hex
        with self._lock:
            self._codes[code] = task_id
        return code

    def calls(self, endpoint: str | None = None) -> list[WeComCall]:
        with self._lock:
            return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def card_for_ticket(self, ticket_id: int) -> SentCard | None:
        with self._lock:
            return next((c for c in self.cards.values() if c.task_id.startswith(f"kefu-t{ticket_id}-")), None)

    def markdown_to(self, user: str) -> list[str]:
        with self._lock:
            return [m["markdown"]["content"] for m in self.messages
                    if m.get("msgtype") == "markdown" and user in str(m.get("touser", "")).split("|")]

    async def wait_for_async(self, probe: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            found = probe()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; calls: "
                                     f"{[(c.endpoint, c.errcode) for c in self.calls()]}")
            await asyncio.sleep(0.02)

    # ---- handlers ----------------------------------------------------------------------------------------------

    def _record(self, endpoint: str, request: web.Request, body: Any, response: dict[str, Any]) -> web.Response:
        with self._lock:
            self._calls.append(WeComCall(endpoint, dict(request.query), body, response, time.time()))
        return web.json_response(response)

    def _fault(self, endpoint: str) -> int | None:
        with self._lock:
            faults = self._faults.get(endpoint)
            return faults.popleft() if faults else None

    async def _gettoken(self, request: web.Request) -> web.Response:
        fault = self._fault("gettoken")
        if fault is not None:
            return self._record("gettoken", request, None, {"errcode": fault, "errmsg": "scripted fault"})
        if request.query.get("corpid") != self.corp_id:
            return self._record("gettoken", request, None, {"errcode": 40013, "errmsg": "invalid corpid"})
        secret = request.query.get("corpsecret")
        if secret not in (self.secret, self.kf_secret):
            return self._record("gettoken", request, None, {"errcode": 40001, "errmsg": "invalid credential"})
        token = "tok-" + uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = True
            self._token_secrets[token] = "kf" if secret == self.kf_secret else "app"
        return self._record("gettoken", request, None, {"errcode": 0, "errmsg": "ok", "access_token": token,
                                                        "expires_in": 7200})

    def _token_error(self, request: web.Request) -> dict[str, Any] | None:
        token = request.query.get("access_token")
        with self._lock:
            valid = self._tokens.get(token or "")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if valid is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if not valid:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    async def _api(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"]
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            return self._record(endpoint, request, raw, {"errcode": 47001, "errmsg": "data format error"})
        error = self._token_error(request)
        if error is not None:
            return self._record(endpoint, request, body, error)
        with self._lock:
            kind = self._token_secrets.get(request.query.get("access_token", ""))
        if kind != ("kf" if endpoint.startswith("kf/") else "app"):
            return self._record(endpoint, request, body, {"errcode": 48002, "errmsg": "api forbidden"})
        fault = self._fault(endpoint)
        if fault is not None:
            return self._record(endpoint, request, body, {"errcode": fault, "errmsg": "scripted fault"})
        try:
            if endpoint == "kf/sync_msg":
                response = self._kf_sync(body)
            elif endpoint == "kf/send_msg":
                response = self._kf_send(body)
            elif endpoint == "kf/customer/batchget":
                response = self._kf_customers(body)
            elif endpoint == "message/send":
                response = self._send(body)
            elif endpoint == "message/update_template_card":
                response = self._update(body)
            else:
                response = {"errcode": 404, "errmsg": f"the fake has no {endpoint}"}
        except BadRequest as exc:
            response = {"errcode": 40058, "errmsg": f"invalid parameter: {exc}"}
        return self._record(endpoint, request, body, response)

    # ---- 微信客服 ------------------------------------------------------------------------------------------

    def customer_writes(self, user: str, content: str = "", *, msgtype: str = "text", ago_seconds: float = 0,
                        open_kfid: str | None = None, nickname: str | None = None) -> tuple[str, str]:
        """A WeChat customer's message to the kf account: (its msgid, the callback Token to announce it with).
        `nickname`: the customer's WeChat nickname, as kf/customer/batchget gives it."""
        open_kfid = open_kfid or self.open_kfid
        if nickname is not None:
            with self._lock:
                self.kf_nicknames[user] = nickname
        sent = time.time() - ago_seconds
        msgid = "kfmsg-" + uuid.uuid4().hex[:16]
        entry: dict[str, Any] = {"msgid": msgid, "open_kfid": open_kfid, "external_userid": user,
                                 "send_time": int(sent), "origin": 3, "msgtype": msgtype}
        if msgtype == "text":
            entry["text"] = {"content": content}
        elif msgtype == "image":
            entry["image"] = {"media_id": "media-" + uuid.uuid4().hex[:8]}
        token = "ENCkf" + uuid.uuid4().hex
        with self._lock:
            self._kf_log.append(entry)
            self._kf_windows[(open_kfid, user)] = [sent, 0]
            self._kf_tokens[token] = time.time()
        return msgid, token

    def kf_event(self, user: str, event_type: str = "enter_session", *, open_kfid: str | None = None) -> str:
        """A system event (origin 4) in the kf log; returns a callback Token."""
        open_kfid = open_kfid or self.open_kfid
        token = "ENCkf" + uuid.uuid4().hex
        with self._lock:
            self._kf_log.append({"msgid": "kfevt-" + uuid.uuid4().hex[:16], "open_kfid": open_kfid,
                                 "send_time": int(time.time()), "origin": 4, "msgtype": "event",
                                 "event": {"event_type": event_type, "open_kfid": open_kfid,
                                           "external_userid": user}})
            self._kf_tokens[token] = time.time()
        return token

    def kf_texts_to(self, user: str) -> list[str]:
        with self._lock:
            return [m["text"]["content"] for m in self.kf_sent if m.get("touser") == user]

    def _kf_sync(self, body: dict[str, Any]) -> dict[str, Any]:
        open_kfid = body.get("open_kfid")
        if open_kfid != self.open_kfid:
            return {"errcode": 95000, "errmsg": "invalid open_kfid"}
        token = body.get("token")
        with self._lock:
            issued = self._kf_tokens.get(str(token)) if token else None
        if token and (issued is None or time.time() - issued > KF_TOKEN_SECONDS):
            return {"errcode": 95007, "errmsg": "invalid msg token"}
        limit = body.get("limit", 1000)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise BadRequest("limit: 1 to 1000")
        cursor = body.get("cursor") or ""
        if cursor and not re.fullmatch(r"cur-\d+", str(cursor)):
            raise BadRequest(f"cursor {cursor!r} was not issued")
        start = int(str(cursor).removeprefix("cur-")) if cursor else 0
        with self._lock:
            entries = [e for e in self._kf_log if e["open_kfid"] == open_kfid]
        page = entries[start:start + limit]
        end = start + len(page)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": f"cur-{end}", "has_more": int(end < len(entries)),
                "msg_list": page}

    def _kf_customers(self, body: dict[str, Any]) -> dict[str, Any]:
        users = body.get("external_userid_list")
        if not isinstance(users, list) or not 1 <= len(users) <= 100 or not all(isinstance(u, str) for u in users):
            raise BadRequest("external_userid_list: 1 to 100 ids")
        with self._lock:
            known = {user: self.kf_nicknames[user] for user in users if user in self.kf_nicknames}
            writers = {e["external_userid"] for e in self._kf_log if "external_userid" in e}
        customers = [{"external_userid": user, "nickname": known.get(user, ""), "avatar": "", "gender": 0,
                      "unionid": ""} for user in users if user in writers]
        return {"errcode": 0, "errmsg": "ok", "customer_list": customers,
                "invalid_external_userid": [user for user in users if user not in writers]}

    def _kf_send(self, body: dict[str, Any]) -> dict[str, Any]:
        open_kfid, user = body.get("open_kfid"), body.get("touser")
        if open_kfid != self.open_kfid:
            return {"errcode": 95000, "errmsg": "invalid open_kfid"}
        if body.get("msgtype") != "text":
            raise BadRequest(f"msgtype {body.get('msgtype')!r} is not faked")
        content = (body.get("text") or {}).get("content")
        if not isinstance(content, str) or not 1 <= len(content.encode()) <= KF_TEXT_BYTES:
            raise BadRequest(f"text.content: 1 to {KF_TEXT_BYTES} bytes")
        msgid = str(body.get("msgid") or "") or "kfsent-" + uuid.uuid4().hex[:16]
        with self._lock:
            if msgid in self._kf_msgids:
                return {"errcode": 0, "errmsg": "ok", "msgid": msgid}
            window = self._kf_windows.get((str(open_kfid), str(user)))
            if window is None or time.time() - window[0] > KF_WINDOW_SECONDS:
                return {"errcode": 95002, "errmsg": "send msg time limit: 48 hours after the customer's message"}
            if window[1] >= KF_WINDOW_MESSAGES:
                return {"errcode": 95001, "errmsg": "send msg count limit: 5 messages"}
            window[1] += 1
            self._kf_msgids.add(msgid)
            self.kf_sent.append(body)
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _check_card(self, card: Any) -> None:
        if not isinstance(card, dict):
            raise BadRequest("template_card must be an object")
        kind = card.get("card_type")
        if kind not in ("button_interaction", "text_notice"):
            raise BadRequest(f"card_type {kind!r} is not button_interaction or text_notice")
        title = (card.get("main_title") or {}).get("title")
        if not isinstance(title, str) or not title:
            raise BadRequest("main_title.title is required")
        if not TASK_ID.fullmatch(str(card.get("task_id", ""))) and kind == "button_interaction":
            raise BadRequest(f"task_id {card.get('task_id')!r}: 1-128 of letters, digits, _-@")
        lines = card.get("horizontal_content_list", [])
        if len(lines) > 6 or any(not line.get("keyname") for line in lines):
            raise BadRequest("horizontal_content_list: at most 6 lines, each with a keyname")
        if kind == "button_interaction":
            buttons = card.get("button_list") or []
            if not 1 <= len(buttons) <= 6:
                raise BadRequest("button_list: 1 to 6 buttons")
            keys = [b.get("key") for b in buttons]
            if any(not b.get("text") or not isinstance(b.get("key"), str) or len(b["key"]) > 1024 for b in buttons) \
                    or len(set(keys)) != len(keys):
                raise BadRequest("button_list: each button has a text and a unique key of at most 1024 bytes")
        elif not card.get("card_action"):
            raise BadRequest("text_notice needs card_action")

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id:
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        if not body.get("touser") and not body.get("toparty") and not body.get("totag"):
            raise BadRequest("touser, toparty and totag are all empty")
        kind = body.get("msgtype")
        msgid = f"msg-{next(self._msgids)}"
        response: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "invaliduser": "", "invalidparty": "",
                                    "invalidtag": "", "unlicenseduser": "", "msgid": msgid}
        if kind == "markdown":
            content = (body.get("markdown") or {}).get("content")
            if not content or len(content.encode()) > 2048:
                raise BadRequest("markdown.content: 1 to 2048 bytes")
        elif kind == "textcard":
            card = body.get("textcard") or {}
            if not all(card.get(key) for key in ("title", "description", "url")):
                raise BadRequest("textcard needs title, description and url")
        elif kind == "text":
            if not (body.get("text") or {}).get("content"):
                raise BadRequest("text.content is required")
        elif kind == "template_card":
            card = body.get("template_card")
            self._check_card(card)
            task = card["task_id"]
            with self._lock:
                if task in self.cards:
                    raise BadRequest(f"task_id {task!r} was used before")
                self.cards[task] = SentCard(task, str(body.get("touser", "")), str(body.get("toparty", "")),
                                            card, msgid, [card])
                if card["card_type"] == "button_interaction":
                    code = "rc-" + uuid.uuid4().hex
                    self._codes[code] = task
                    response["response_code"] = code
        else:
            raise BadRequest(f"msgtype {kind!r} is not faked")
        with self._lock:
            self.messages.append(body)
        return response

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id:
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        code = body.get("response_code")
        with self._lock:
            task = self._codes.pop(str(code), None)
        if task is None:
            raise BadRequest("response_code unknown or spent")
        if not (body.get("userids") or body.get("partyids") or body.get("tagids") or body.get("atall")):
            raise BadRequest("no userids, partyids, tagids or atall")
        card = body.get("template_card")
        with self._lock:
            sent = self.cards[task]
            if card is not None:
                self._check_card(card)
                sent.card = card
            elif (body.get("button") or {}).get("replace_name"):
                sent.card = {**sent.card, "replace_text": body["button"]["replace_name"]}
            else:
                raise BadRequest("template_card or button.replace_name is required")
            sent.versions.append(sent.card)
        return {"errcode": 0, "errmsg": "ok"}

    async def _webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return self._record("webhook/send", request, raw, {"errcode": 40008, "errmsg": "invalid message type"})
        key = request.query.get("key", "")
        fault = self._fault("webhook/send")
        if fault is not None:
            return self._record("webhook/send", request, body, {"errcode": fault, "errmsg": "scripted fault"})
        if key not in self.robot_keys:
            return self._record("webhook/send", request, body, {"errcode": 93000, "errmsg": "invalid webhook url"})
        now = time.monotonic()
        with self._lock:
            sent = self._robot_sent.setdefault(key, deque())
            while sent and now - sent[0] >= 60:
                sent.popleft()
            if len(sent) >= ROBOT_LIMIT_PER_MINUTE:
                return self._record("webhook/send", request, body, {
                    "errcode": 45009, "errmsg": "api freq out of limit"})
            kind = body.get("msgtype")
            content = (body.get(kind) or {}).get("content") if isinstance(body.get(kind), dict) else None
            if kind not in ("text", "markdown") or not content or len(content.encode()) > 4096:
                return self._record("webhook/send", request, body, {
                    "errcode": 40008, "errmsg": "text or markdown with content of at most 4096 bytes"})
            sent.append(now)
            self.robot_messages.append({"key": key, "body": body})
        return self._record("webhook/send", request, body, {"errcode": 0, "errmsg": "ok"})
