"""A fake Slack on 127.0.0.1 that speaks Slack's wire protocol, for driving kefu's Slack adapter with the real
slack_sdk / slack_bolt clients: the Web API (`POST /api/{method}`), the v2 file upload URL, response_urls and the
Socket Mode websocket (`GET /link/?ticket=…`).

It runs an aiohttp server in its own thread with its own event loop, so it keeps answering whether the code under
test is sync or async and even while a test's loop is blocked. Every Web API call is recorded (`calls`,
`wait_for`); faults are scripted per method (`rate_limit`, `fail`). Each blocking `wait_for…` has an `…_async` twin
to use from a test whose event loop also runs kefu (a blocking wait would starve it).

    with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        ...
        fake.wait_for("chat.postMessage", where=lambda call: call.body["channel"] == "C0TRIAGE")

Method semantics, payload shapes and error codes live in `tests/fakes/slack_workspace.py`; Block Kit limits in
`tests/fakes/slack_blocks.py`; the driver that sends Slack's events, commands and interactions to kefu in
`tests/fakes/slack_driver.py`. See /work/shared/protocols.md §1 for the protocol notes this follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.slack_workspace import (
    DEFAULT_CHANNELS,
    DEFAULT_USERS,
    EphemeralMessage,
    ResponsePost,
    SlackFile,
    SlackMessage,
    SlackWorkspace,
)
from tests.fakes.threaded_server import ThreadedServer

__all__ = ["FakeSlack", "SlackCall", "SlackEnvelope", "SlackMessage", "EphemeralMessage", "ResponsePost", "SlackFile"]

T = TypeVar("T")
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class SlackCall:
    """One Web API call as the fake received it, and what it answered."""

    method: str
    token: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class SlackEnvelope:
    """A Socket Mode envelope pushed to the app, and the acks the app sent for it."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    deliveries: int = 0
    acks: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> dict[str, Any]:
        return {"envelope_id": self.envelope_id, "type": self.type, "payload": self.payload,
                "accepts_response_payload": self.accepts_response_payload,
                "retry_attempt": self.retry_attempt, "retry_reason": self.retry_reason}


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int | None = None


@dataclass
class _Socket:
    number: int
    ws: web.WebSocketResponse
    request: web.Request


class FakeSlack(ThreadedServer):
    thread_name = "fake-slack"

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-kefu-test",
        app_token: str = "xapp-kefu-test",
        signing_secret: str = "kefu-test-signing-secret",
        team_id: str = "T0KEFU",
        bot_user_id: str = "UKEFUBOT",
        bot_id: str = "BKEFUBOT",
        app_id: str = "A0KEFU",
        channels: Iterable[str] | Mapping[str, str] = DEFAULT_CHANNELS,
        users: Mapping[str, Mapping[str, str]] | None = None,
        uploads_allowed: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.workspace = SlackWorkspace(
            team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id, channels=channels,
            users=DEFAULT_USERS if users is None else users, uploads_allowed=uploads_allowed)
        self._lock = threading.RLock()
        self._calls: list[SlackCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._envelopes: dict[str, SlackEnvelope] = {}
        self._pending: deque[str] = deque()  # envelope ids waiting for a connection
        self._sockets: list[_Socket] = []
        self._socket_total = 0
        self._stray_frames: list[str] = []
        super().__init__()

    # --- identity ------------------------------------------------------------------------------------------------

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.workspace.bot_id

    @property
    def app_id(self) -> str:
        return self.workspace.app_id

    @property
    def api_url(self) -> str:
        """The Web API base URL for `AsyncWebClient(base_url=...)` (with the trailing slash slack_sdk expects)."""
        return f"{self.base_url}/api/"

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk's async client GETs the methods declared GET
        app.router.add_post("/upload/v1/{token}", self._upload)
        app.router.add_post("/hooks/{tail:.+}", self._response_url)
        app.router.add_get("/link/", self._link)
        app.router.add_get("/link", self._link)
        return app

    async def after_start(self) -> None:
        self.workspace.base_url = self.base_url

    async def before_shutdown(self) -> None:
        for socket in list(self._sockets):
            if socket.request.transport is not None:
                socket.request.transport.abort()

    # --- Web API -------------------------------------------------------------------------------------------------

    async def _parse_args(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        """The call's arguments (JSON or form, whatever the Content-Type claims) and the token it carries."""
        args: dict[str, Any] = dict(request.query)
        form_token: str | None = request.query.get("token")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            for name, value in form.items():
                args[name] = value.file.read() if isinstance(value, web.FileField) else value
            form_token = form_token or (str(args["token"]) if "token" in args else None)
        else:
            text = (await request.read()).decode("utf-8", "replace")
            stripped = text.strip()
            if stripped.startswith("{"):
                try:
                    parsed = json.loads(stripped)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    args.update(parsed)
            elif stripped:
                form = dict(parse_qsl(stripped, keep_blank_values=True))
                args.update(form)
                form_token = form_token or form.get("token")
        args.pop("token", None)
        return args, form_token

    def _check_token(self, method: str, header_token: str | None, form_token: str | None) -> str | None:
        """The auth error for this call, or None. apps.connections.open takes the app token, in the header only."""
        token = header_token if method == "apps.connections.open" else (header_token or form_token)
        if not token:
            return "not_authed"
        if token not in (self.bot_token, self.app_token):
            return "invalid_auth"
        wants_app_token = method == "apps.connections.open"
        if (token == self.app_token) != wants_app_token:
            return "not_allowed_token_type"
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, form_token = await self._parse_args(request)
        authorization = request.headers.get("Authorization", "")
        header_token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        headers: dict[str, str] = {}
        with self._lock:
            fault = self._faults.get(method)
            if fault:
                scripted = fault.popleft()
                status, answer = scripted.status, {"ok": False, "error": scripted.error}
                if scripted.retry_after is not None:
                    headers["Retry-After"] = str(scripted.retry_after)
            elif error := self._check_token(method, header_token, form_token):
                status, answer = 200, {"ok": False, "error": error}
            elif method not in self.workspace.methods:
                status, answer = 404, {"ok": False, "error": "unknown_method", "req_method": method}
            else:
                status, answer = self.workspace.methods[method](args)
            self._calls.append(SlackCall(method=method, token=header_token or form_token, body=args,
                                         headers=dict(request.headers), at=time.time(), status=status,
                                         response=answer))
        if method == "auth.test" and answer.get("ok"):
            headers["x-oauth-scopes"] = "chat:write,commands,files:write,users:read,channels:read"
        return web.json_response(answer, status=status, headers=headers)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429, `Retry-After: retry_after`, error `ratelimited`."""
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(_Fault(429, "ratelimited", retry_after) for _ in range(times))

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` with HTTP `status`."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(_Fault(status, error) for _ in range(times))

    def calls(self, method: str | None = None) -> list[SlackCall]:
        with self._lock:
            return [call for call in self._calls if method is None or call.method == method]

    # --- workspace views (copies, safe to read from any thread) ---------------------------------------------------

    def channel_messages(self, channel: str) -> list[SlackMessage]:
        """The channel's messages as they now read, oldest first; thread replies are listed with their thread_ts."""
        with self._lock:
            return [replace(m, blocks=json.loads(json.dumps(m.blocks)), files=list(m.files))
                    for m in self.workspace.messages.get(channel, [])]

    def thread_replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.channel_messages(channel) if m.thread_ts == thread_ts and m.ts != thread_ts]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.channel_messages(channel) if m.ts == ts), None)

    def ephemeral_messages(self, channel: str | None = None, user: str | None = None) -> list[EphemeralMessage]:
        with self._lock:
            return [replace(e) for e in self.workspace.ephemerals
                    if (channel is None or e.channel == channel) and (user is None or e.user == user)]

    def file(self, file_id: str) -> SlackFile | None:
        with self._lock:
            found = self.workspace.files.get(file_id)
            return replace(found, channels=list(found.channels)) if found else None

    def views(self) -> list[dict[str, Any]]:
        """Every view opened, pushed or updated (the latest version of each), oldest first."""
        with self._lock:
            return json.loads(json.dumps(list(self.workspace.views.values())))

    def add_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None,
                    blocks: list[dict[str, Any]] | None = None, ts: str | None = None) -> SlackMessage:
        """A message a person posted (the driver adds one before it sends the `message` event)."""
        with self._lock:
            return replace(self.workspace.add_message(channel, user=user, text=text, blocks=blocks,
                                                      thread_ts=thread_ts, ts=ts))

    def next_ts(self) -> str:
        with self._lock:
            return self.workspace.next_ts()

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """A trigger_id for an interaction payload; views.open accepts it once, within 3 s by the fake's clock."""
        with self._lock:
            return self.workspace.new_trigger_id(user_id)

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward (expires trigger_ids and response_urls without sleeping)."""
        with self._lock:
            self.workspace.advance(seconds)

    def set_uploads_allowed(self, allowed: bool) -> None:
        with self._lock:
            self.workspace.uploads_allowed = allowed

    # --- file upload URL and response_url ------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            parts = [v.file.read() for v in form.values() if isinstance(v, web.FileField)]
            content = parts[0] if parts else b""
        else:
            content = await request.read()
        with self._lock:
            status, text = self.workspace.receive_upload(request.match_info["token"], content)
        return web.Response(status=status, text=text, content_type="text/plain")

    def new_response_url(self, *, channel: str | None = None, user_id: str | None = None,
                         message_ts: str | None = None, kind: str = "commands") -> str:
        """A loopback response_url. Posts to it land as Slack would show them: `replace_original` edits the
        message at `message_ts`, `response_type: in_channel` posts to `channel`, anything else is ephemeral."""
        with self._lock:
            return self.workspace.new_response_url(channel=channel, user=user_id, message_ts=message_ts, kind=kind)

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        url = f"{self.base_url}{request.path}"
        with self._lock:
            status, text = self.workspace.post_to_response_url(url, raw)
        return web.Response(status=status, text=text, content_type="text/plain")

    def response_posts(self, url: str | None = None) -> list[ResponsePost]:
        """Every POST to response_urls (or to one), accepted or not."""
        with self._lock:
            return [replace(p) for p in self.workspace.response_posts if url is None or p.url == url]

    def responses(self, url: str) -> list[Any]:
        """The JSON bodies a response_url accepted, in order."""
        return [p.body for p in self.response_posts(url) if p.status == 200]

    # --- Socket Mode ---------------------------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            accepted = self.workspace.claim_socket_ticket(request.query.get("ticket"))
        if not accepted:
            return web.Response(status=401, text="invalid or used ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._lock:
            self._socket_total += 1
            socket = _Socket(self._socket_total, ws, request)
            self._sockets.append(socket)
            open_count = len(self._sockets)
        await ws.send_json({"type": "hello", "num_connections": open_count,
                            "debug_info": {"host": "applink-fake", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}})
        await self._flush_pending()
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._on_client_frame(frame.data)
        finally:
            with self._lock:
                self._sockets.remove(socket)
        return ws

    def _on_client_frame(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            frame = None
        with self._lock:
            envelope = self._envelopes.get(frame.get("envelope_id", "")) if isinstance(frame, dict) else None
            if envelope is None:
                self._stray_frames.append(data)
            else:
                envelope.acks.append(frame)

    async def _flush_pending(self) -> None:
        while True:
            with self._lock:
                if not self._pending or not self._sockets:
                    return
                envelope_id = self._pending.popleft()
            await self._deliver(envelope_id)

    async def _deliver(self, envelope_id: str) -> None:
        with self._lock:
            envelope = self._envelopes[envelope_id]
            socket = next((s for s in reversed(self._sockets) if not s.ws.closed), None)
            if socket is None:
                self._pending.append(envelope_id)
                return
            frame = envelope.frame()
            envelope.deliveries += 1
        try:
            await socket.ws.send_json(frame)
        except (ConnectionError, RuntimeError):
            with self._lock:
                envelope.deliveries -= 1
                self._pending.append(envelope_id)

    def socket_send(self, type: str, payload: dict[str, Any], retry_attempt: int = 0,
                    accepts_response_payload: bool | None = None, retry_reason: str = "") -> str:
        """Push an envelope (`events_api`, `slash_commands`, `interactive`) to the app; returns its envelope_id.
        Sent on the newest open connection, or as soon as one opens."""
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in ("view_submission", "block_suggestion"))
        envelope = SlackEnvelope(str(uuid.uuid4()), type, payload, accepts_response_payload, retry_attempt,
                                 retry_reason)
        with self._lock:
            self._envelopes[envelope.envelope_id] = envelope
        self.in_loop(lambda: asyncio.ensure_future(self._deliver(envelope.envelope_id)))
        return envelope.envelope_id

    def redeliver(self, envelope_id: str, retry_reason: str = "timeout") -> None:
        """Send the envelope again with retry_attempt + 1, as Slack does when an ack is late."""
        with self._lock:
            envelope = self._envelopes[envelope_id]
            envelope.retry_attempt += 1
            envelope.retry_reason = retry_reason
        self.in_loop(lambda: asyncio.ensure_future(self._deliver(envelope_id)))

    def envelope(self, envelope_id: str) -> SlackEnvelope:
        with self._lock:
            envelope = self._envelopes[envelope_id]
            return replace(envelope, acks=list(envelope.acks))

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        return self.envelope(envelope_id).acks

    def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send a `disconnect` frame on every open connection; the client should reconnect with a fresh ticket."""
        frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}

        async def send() -> None:
            with self._lock:
                sockets = [s for s in self._sockets if not s.ws.closed]
            for socket in sockets:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await socket.ws.send_json(frame)

        self.in_loop(lambda: asyncio.ensure_future(send()))

    def socket_drop(self) -> None:
        """Cut every open connection without a close frame (a network failure, as the client sees it)."""

        def drop() -> None:
            with self._lock:
                sockets = list(self._sockets)
            for socket in sockets:
                if socket.request.transport is not None:
                    socket.request.transport.abort()

        self.in_loop(drop)

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections were accepted so far (a reconnect makes it grow)."""
        with self._lock:
            return self._socket_total

    @property
    def open_sockets(self) -> int:
        with self._lock:
            return sum(1 for s in self._sockets if not s.ws.closed)

    # --- waiting -------------------------------------------------------------------------------------------------

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0,
                 where: Callable[[SlackCall], bool] | None = None) -> list[SlackCall]:
        """Poll until `count` calls of `method` (matching `where`) arrived; return them all. On timeout, fail with
        the calls that did arrive."""
        return _poll(lambda: self._matching_calls(method, count, where), timeout,
                     lambda: self._calls_report(method, count))

    async def wait_for_async(self, method: str, count: int = 1, timeout: float = 10.0,
                             where: Callable[[SlackCall], bool] | None = None) -> list[SlackCall]:
        return await _poll_async(lambda: self._matching_calls(method, count, where), timeout,
                                 lambda: self._calls_report(method, count))

    def _matching_calls(self, method: str, count: int,
                        where: Callable[[SlackCall], bool] | None) -> list[SlackCall] | None:
        found = [c for c in self.calls(method) if where is None or where(c)]
        return found if len(found) >= count else None

    def _calls_report(self, method: str, count: int) -> str:
        arrived = "\n".join(f"  {c.method} {c.status} {json.dumps(c.body, default=str)[:300]} -> "
                            f"{json.dumps(c.response)[:200]}" for c in self.calls())
        return f"expected {count} matching {method} call(s); calls that arrived:\n{arrived or '  (none)'}"

    def wait_for_message(self, channel: str, where: Callable[[SlackMessage], bool], timeout: float = 10.0
                         ) -> SlackMessage:
        """Poll until a message in `channel` (as it now reads) matches `where`; return it."""
        return _poll(lambda: self._matching_message(channel, where), timeout,
                     lambda: self._messages_report(channel))

    async def wait_for_message_async(self, channel: str, where: Callable[[SlackMessage], bool],
                                     timeout: float = 10.0) -> SlackMessage:
        return await _poll_async(lambda: self._matching_message(channel, where), timeout,
                                 lambda: self._messages_report(channel))

    def _matching_message(self, channel: str, where: Callable[[SlackMessage], bool]) -> SlackMessage | None:
        return next((m for m in self.channel_messages(channel) if where(m)), None)

    def _messages_report(self, channel: str) -> str:
        lines = "\n".join(f"  {m.ts} thread={m.thread_ts} user={m.user} text={m.text[:200]!r}"
                          for m in self.channel_messages(channel))
        return f"no matching message in {channel}; it holds:\n{lines or '  (none)'}"

    def wait_for_response(self, url: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """Poll until `url` accepted `count` posts; return their bodies."""
        return _poll(lambda: self._responses_if(url, count), timeout, lambda: self._responses_report(url, count))

    async def wait_for_response_async(self, url: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        return await _poll_async(lambda: self._responses_if(url, count), timeout,
                                 lambda: self._responses_report(url, count))

    def _responses_if(self, url: str, count: int) -> list[Any] | None:
        bodies = self.responses(url)
        return bodies if len(bodies) >= count else None

    def _responses_report(self, url: str, count: int) -> str:
        posts = "\n".join(f"  {p.status} {p.answer} {json.dumps(p.body, default=str)[:300]}"
                          for p in self.response_posts(url))
        return f"expected {count} accepted post(s) to {url}; posts:\n{posts or '  (none)'}"

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll until the app acked the envelope; return the (first) ack it sent."""
        return _poll(lambda: self._first_ack(envelope_id), timeout, lambda: self._ack_report(envelope_id))

    async def wait_for_ack_async(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return await _poll_async(lambda: self._first_ack(envelope_id), timeout,
                                 lambda: self._ack_report(envelope_id))

    def _first_ack(self, envelope_id: str) -> dict[str, Any] | None:
        acks = self.acks(envelope_id)
        return acks[0] if acks else None

    def _ack_report(self, envelope_id: str) -> str:
        envelope = self.envelope(envelope_id)
        with self._lock:
            stray = list(self._stray_frames)
        return (f"no ack for envelope {envelope_id} ({envelope.type}, delivered {envelope.deliveries} time(s), "
                f"{self.open_sockets} open connection(s)); other client frames: {stray[-5:]}")

    def wait_for_socket_connections(self, count: int, timeout: float = 10.0) -> int:
        """Poll until `count` Socket Mode connections were accepted in all (and one is open)."""
        return _poll(lambda: self._connections_if(count), timeout, lambda: self._connections_report(count))

    async def wait_for_socket_connections_async(self, count: int, timeout: float = 10.0) -> int:
        return await _poll_async(lambda: self._connections_if(count), timeout,
                                 lambda: self._connections_report(count))

    def _connections_if(self, count: int) -> int | None:
        total = self.socket_connections
        return total if total >= count and self.open_sockets else None

    def _connections_report(self, count: int) -> str:
        opened = len(self.calls("apps.connections.open"))
        return (f"expected {count} Socket Mode connection(s); {self.socket_connections} accepted, "
                f"{self.open_sockets} open, apps.connections.open called {opened} time(s)")


def _poll(probe: Callable[[], T | None], timeout: float, report: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s: {report()}")
        time.sleep(POLL_SECONDS)


async def _poll_async(probe: Callable[[], T | None], timeout: float, report: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s: {report()}")
        await asyncio.sleep(POLL_SECONDS)
