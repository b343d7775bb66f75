"""The "webchat" customer channel: the chat widget a store embeds with one script tag, and its HTTP API.

Routes:
- `GET /widget.js`: the widget (vanilla JS, no build step); `GET /widget/demo`: a demo store page embedding it;
- `POST /widget/api/visitors`: a new anonymous visitor token (see `visitors`), kept by the browser;
- `POST /widget/api/messages` (header `X-Kefu-Visitor: <token>`, JSON {"id": client message id, "text",
  "language"?}): hands the message to the pipeline as `Inbound(channel="webchat", channel_message_id=
  "<visitor>:<id>")`, so a retry after a network drop is stored once. 202 {"id", "status": "received" |
  "duplicate"}; 400 {"error", "field"}; 401 unknown visitor; 403 another origin; 413; 415; 429 with Retry-After
  (over `[webchat] messages_per_minute`, counted in the database; new visitor ids over `visitors_per_hour` per
  client address); 503 with Retry-After while the model loads;
- `GET /widget/api/events?visitor=<token>`: server-sent events. A fresh connection gets the conversation so far
  (`history`, event id the newest reply's outbox id); then each reply as it is sent (`reply`, event id its outbox
  id). A reconnection with Last-Event-ID gets what was sent after that event (and, rarely, a line again, which the
  widget drops by its key).

As an outbox sender (channel "webchat") a reply is delivered by being marked sent: the feed reads sent replies
back from the outbox (`widget_conversation`). Nothing lives only in this process.

Cross-origin: only these widget routes answer CORS, for `[webchat] allowed_origins` (default any origin) and
kefu's own origin. They use no cookie and no ambient credential: a request is a visitor's because it carries that
visitor's signed token, which only the page that stored it can read. So "any origin" lets any site host the widget
and start conversations (rate-limited per visitor) but never read another visitor's; list the store's origins to
refuse other sites' POSTs (403) and deny them CORS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import deque
from datetime import timedelta
from importlib import resources
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from adapters.webchat.console_auth import same_origin
from adapters.webchat.visitors import VisitorTokens, webchat_secret
from adapters.webchat.widget_conversation import (
    CHANNEL,
    WidgetMessage,
    history,
    message_id,
    recent_messages,
    replies_since,
    reply_sent_at,
)
from adapters.webhook.requests import error_response, read_limited_body
from bot.logs import request_id_var
from bot.message_fields import FieldError, reject_unknown, string_field
from bot.messages import CustomerInfo, Inbound, IngestResult
from bot.outbox import SendError
from bot.settings import Settings
from models.db import utcnow
from models.tables import OutboxItem

log = logging.getLogger("kefu.webchat")

VISITOR_HEADER = "X-Kefu-Visitor"
MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 5
RATE_WINDOW = timedelta(minutes=1)
FEED_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,2}")
_FIELDS = ("id", "text", "language")


class Ingestor(Protocol):
    async def ingest(self, inbound: Inbound) -> IngestResult: ...


class WidgetCore(Protocol):
    """What the widget needs of kefu (bot.app.Kefu): settings, database, and the pipeline once it has loaded."""

    settings: Settings
    engine: Engine | None
    pipeline: Any


def _static(name: str) -> str:
    return resources.files("adapters.webchat").joinpath("static", name).read_text(encoding="utf-8")


def parse_widget_message(data: Any, max_chars: int) -> tuple[str, str, str | None]:
    """(client id, text, language) of a widget POST body, or `FieldError` naming the bad field."""
    if not isinstance(data, dict):
        raise FieldError(f"the body must be a JSON object, got {type(data).__name__}")
    reject_unknown(data, _FIELDS)
    client_id = string_field(data, "id", required=True, limit=64)
    assert client_id is not None
    if not _CLIENT_ID.fullmatch(client_id):
        raise FieldError("id must be 8 to 64 letters, digits, '-' or '_'", "id")
    text = string_field(data, "text", required=True, limit=max_chars)
    assert text is not None
    language = string_field(data, "language", limit=16)
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise FieldError(f"language must be a language tag like 'es' or 'pt-BR', got {language[:16]!r}", "language")
    return client_id, text.strip(), language.lower() if language else None


class WebchatChannel:
    """The "webchat" customer channel: outbox sender for its replies plus the widget's routes over `core`."""

    name = CHANNEL

    def __init__(self, core: WidgetCore) -> None:
        self.core = core
        self._tokens: VisitorTokens | None = None
        self._feeds: set[asyncio.Event] = set()
        self._issued: dict[str, deque[float]] = {}  # client address → when it was given new visitor ids

    # ---- channel contract --------------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/widget.js", self.script)
        app.router.add_get("/widget/demo", self.demo)
        app.router.add_post("/widget/api/visitors", self.new_visitor)
        app.router.add_post("/widget/api/messages", self.message)
        app.router.add_get("/widget/api/events", self.events)
        app.router.add_route("OPTIONS", "/widget/api/{tail:.*}", self.preflight)
        app.on_shutdown.append(self._shutdown)

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind != "reply":
            raise SendError(f"the webchat channel sends replies only, not {item.kind!r} items", transient=False)
        return f"{CHANNEL}:{item.id}"  # marked sent: the visitor's feed shows it now

    @property
    def open_feeds(self) -> int:
        """How many visitors' feeds this process is serving now."""
        return len(self._feeds)

    def close_feeds(self) -> None:
        """End every open feed (at shutdown; the widgets reconnect, to this or another replica)."""
        for closing in self._feeds:
            closing.set()

    async def _shutdown(self, _app: web.Application) -> None:
        self.close_feeds()

    # ---- helpers -----------------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        assert self.core.engine is not None, "kefu opens its database before serving"
        return self.core.engine

    @property
    def tokens(self) -> VisitorTokens:
        if self._tokens is None:
            self._tokens = VisitorTokens(webchat_secret(self.core.settings))
        return self._tokens

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser's cross-origin request (curl, a same-origin GET)
        allowed = self.core.settings.webchat.allowed_origins
        return "*" in allowed or origin in allowed or same_origin(request, self.core.settings.public_url)

    def _cors(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and self._origin_allowed(request):
            if "*" in self.core.settings.webchat.allowed_origins:
                response.headers["Access-Control-Allow-Origin"] = "*"
            else:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        return response

    def _refused(self, request: web.Request, status: int, message: str, field: str | None = None,
                 **headers: str) -> web.StreamResponse:
        return self._cors(request, error_response(status, message, field, **headers))

    # ---- pages -------------------------------------------------------------------------------------------

    async def script(self, _request: web.Request) -> web.Response:
        return web.Response(text=_static("widget.js"), content_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=300"})

    async def demo(self, _request: web.Request) -> web.Response:
        return web.Response(text=_static("widget-demo.html"), content_type="text/html")

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            return error_response(403, "this origin may not use the chat widget")
        response = web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": f"Content-Type, {VISITOR_HEADER}",
            "Access-Control-Max-Age": "600",
        })
        return self._cors(request, response)

    # ---- API ---------------------------------------------------------------------------------------------

    async def new_visitor(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            return error_response(403, "this origin may not use the chat widget")
        limit = self.core.settings.webchat.visitors_per_hour
        now = time.monotonic()
        issued = self._issued.setdefault(request.remote or "?", deque())
        while issued and issued[0] <= now - 3600:
            issued.popleft()
        if len(issued) >= limit:
            wait = max(1, int(issued[0] + 3600 - now) + 1)
            return self._refused(request, 429, f"at most {limit} new chats an hour from one address: try again "
                                                f"in {wait} s", **{"Retry-After": str(wait)})
        issued.append(now)
        return self._cors(request, web.json_response({"visitor": self.tokens.issue()}, status=201))

    async def message(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            return error_response(403, "this origin may not use the chat widget")
        visitor = self.tokens.visitor_id(request.headers.get(VISITOR_HEADER))
        if visitor is None:
            return self._refused(request, 401, f"unknown visitor: send the token from POST /widget/api/visitors in "
                                 f"{VISITOR_HEADER}")
        body = await read_limited_body(request, MAX_BODY_BYTES)
        if body is None:
            return self._refused(request, 413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
        if request.content_type != "application/json":
            return self._refused(request, 415, "Content-Type must be application/json, got "
                                 f"{request.content_type or 'none'!r}")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._refused(request, 400, "the body is not valid UTF-8 JSON")
        config = self.core.settings.webchat
        try:
            client_id, text, language = parse_widget_message(data, config.max_message_chars)
        except FieldError as exc:
            return self._refused(request, 400, str(exc), exc.field)
        channel_message_id = message_id(visitor, client_id)
        now = utcnow()
        recent = await asyncio.to_thread(recent_messages, self.engine, visitor, channel_message_id, now - RATE_WINDOW)
        if not recent.stored and recent.count >= config.messages_per_minute:
            wait = 1
            if recent.oldest is not None:
                wait = max(1, int((recent.oldest + RATE_WINDOW - now).total_seconds()) + 1)
            log.info("webchat visitor over %d messages a minute", config.messages_per_minute)
            return self._refused(request, 429, f"at most {config.messages_per_minute} messages a minute: "
                                 f"try again in {wait} s", **{"Retry-After": str(wait)})
        pipeline = self.core.pipeline
        if pipeline is None:
            return self._refused(request, 503, "kefu is starting; retry shortly",
                                 **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        inbound = Inbound(channel=CHANNEL, channel_message_id=channel_message_id,
                          customer=CustomerInfo(id=visitor, language=language), text=text,
                          conversation_id=visitor, request_id=request_id_var.get())
        try:
            result = await pipeline.ingest(inbound)
        except OperationalError as exc:
            log.error("database unavailable while storing a widget message: %s", type(exc.orig or exc).__name__)
            return self._refused(request, 503, "the database is unavailable; retry shortly",
                                 **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        status = "duplicate" if result.action == "duplicate" else "received"
        return self._cors(request, web.json_response({"id": client_id, "status": status}, status=202))

    # ---- the feed ----------------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            return error_response(403, "this origin may not use the chat widget")
        visitor = self.tokens.visitor_id(request.query.get("visitor"))
        if visitor is None:
            return self._refused(request, 401, "unknown visitor: pass the token from POST /widget/api/visitors as "
                                 "?visitor=")
        response = self._cors(request, web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}))
        closing = asyncio.Event()
        self._feeds.add(closing)
        try:
            await response.prepare(request)
            await self._feed(request, response, visitor, closing)
        except ConnectionResetError:  # the visitor went away
            pass
        finally:
            self._feeds.discard(closing)
        return response

    async def _feed(self, request: web.Request, response: web.StreamResponse, visitor: str,
                    closing: asyncio.Event) -> None:
        sent: set[int] = set()  # reply item ids written on this connection
        cursor, since = 0, None

        async def write(event: str, data: Any, event_id: int | None) -> None:
            head = f"id: {event_id}\n" if event_id is not None else ""
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            await response.write(f"{head}event: {event}\ndata: {body}\n\n".encode())

        await response.write(b"retry: 1000\n\n")
        resume = request.headers.get("Last-Event-ID", "")
        resumed_at = await asyncio.to_thread(reply_sent_at, self.engine, visitor, int(resume)) if (
            resume.isdigit() and len(resume) < 19) else None
        if resumed_at is not None:
            cursor, since = int(resume), resumed_at
            sent.add(cursor)
        else:
            lines = await asyncio.to_thread(history, self.engine, visitor)
            replies = [line for line in lines if line.item_id is not None]
            if replies:
                cursor = max(line.item_id for line in replies if line.item_id is not None)
                since = max(line.at for line in replies)
                sent.update(line.item_id for line in replies if line.item_id is not None)
            await write("history", {"messages": [line.event() for line in lines]}, cursor or None)
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while not closing.is_set():
            fresh: list[WidgetMessage] = [line for line in await asyncio.to_thread(
                replies_since, self.engine, visitor, cursor, since) if line.item_id not in sent]
            for line in fresh:
                assert line.item_id is not None
                await write("reply", line.event(), line.item_id)
                sent.add(line.item_id)
                cursor = max(cursor, line.item_id)
                since = line.at if since is None or line.at > since else since
            now = loop.time()
            if fresh:
                quiet_since = now
            elif now - quiet_since >= KEEPALIVE_SECONDS:
                await response.write(b": keep-alive\n\n")
                quiet_since = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), FEED_POLL_SECONDS)
