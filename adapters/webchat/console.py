"""The web console team channel (`/console`): where agents work when no team messenger is set up, or beside one.

As an outbox sender (channel "console") it "posts" a card by leaving it where it already is: the card stays in
its outbox row and its reference is "console:<outbox item id>"; a card update is a later row aimed at that
reference. The console's pages read those rows back (`bot.team_feed`), so nothing new is stored and a reload
shows the same feed.

Routes (every one but the login page and the stylesheet needs a session, see `console_auth`):
- `GET/POST /console/login`, `POST /console/logout`, `GET/POST /console/password` (current and new password; the
  agent's other sessions end, this one gets a new cookie; wrong current passwords count as failed logins);
- `GET /console`: the page; `GET /console/state`: who is logged in and the catalogue's intents;
- `GET /console/events`: server-sent events, one per card state (event id = outbox item id), resumable with
  Last-Event-ID; a fresh connection first gets the newest state of the recent cards;
- `POST /console/actions`: a card's button → `Kefu.handle_action` / `handle_alert_action`, answering {ok, message}
  (the card's update then arrives through the feed);
- `POST /console/commands`: the command box → `Kefu.handle_command`, answering {ok, text, chart};
- `GET /console/tickets/{id}`: a ticket's facts and conversation, as `/ticket ID` tells them.
Page routes without a session redirect (303) to the login page; the API routes answer 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
from datetime import UTC, datetime
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.engine import Engine

from adapters.webchat.console_auth import COOKIE, ConsoleSessions, LoginThrottle, console_secret, same_origin
from bot.agent_accounts import MIN_PASSWORD_LENGTH, AccountError, ConsoleAgent, agent_named, set_password, verify_login
from bot.message_fields import lone_surrogate
from bot.messages import Action, AlertAction, CommandRequest
from bot.outbox import SendError
from bot.settings import Settings
from bot.team_channel import TEAM_CARD_KINDS, Capabilities, TeamCore
from bot.team_feed import FeedCard, card_state, latest_cards, sent_since
from models.tables import OutboxItem

if TYPE_CHECKING:
    from handlers.commands import Actor
    from handlers.commands.ticket_view import TicketView

log = logging.getLogger("kefu.console")

CHANNEL = "console"
CAPABILITIES = Capabilities(buttons=True, modals=True, slash_commands=True, image_upload=True, markdown="plain")
TICKET_ACTIONS = ("send", "edit", "assign", "escalate", "resolve", "wrong_intent")
ALERT_ACTION_PREFIX = "alert_"
FEED_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 30.0
MAX_COMMAND_LENGTH = 2000
MAX_REPLY_LENGTH = 4000
STATIC_FILES = {"console.js": "application/javascript", "console.css": "text/css"}
PUBLIC_STATIC = frozenset({"console.css"})


class ConsoleCore(TeamCore, Protocol):
    """What the console needs of kefu besides a team channel's calls: its settings and database (bot.app.Kefu)."""

    settings: Settings
    engine: Engine | None


def _static(name: str) -> str:
    return resources.files("adapters.webchat").joinpath("static", name).read_text(encoding="utf-8")


def _see_other(location: str) -> web.Response:
    # Returned, not raised: kefu's middleware turns raised HTTP errors into JSON bodies.
    return web.Response(status=303, headers={"Location": location})


def _refused(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "message": message}, status=status)


def _actor(agent: ConsoleAgent) -> Actor:
    from handlers.commands import Actor

    role = agent.role if agent.role in ("agent", "manager", "admin") else "agent"
    return Actor(name=agent.name, role=role, identities=frozenset({agent.name, f"{CHANNEL}:{agent.name}"}))  # type: ignore[arg-type]


class ConsoleTeamChannel:
    """The "console" team channel: outbox sender plus the console's web pages over `core`."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, core: ConsoleCore | None = None) -> None:
        self.core = core
        self._throttle: LoginThrottle | None = None
        self._sessions: ConsoleSessions | None = None
        self._closing = asyncio.Event()

    # ---- team channel contract ---------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        if self.core is None:  # a bare sender (tests of the outbox): no pages
            return
        app.router.add_get("/console/login", self.login_page)
        app.router.add_post("/console/login", self.login)
        app.router.add_post("/console/logout", self.logout)
        app.router.add_get("/console/password", self.password_page)
        app.router.add_post("/console/password", self.change_password)
        app.router.add_get("/console", self.page)
        app.router.add_get("/console/static/{name}", self.static)
        app.router.add_get("/console/state", self.state)
        app.router.add_get("/console/events", self.events)
        app.router.add_post("/console/actions", self.action)
        app.router.add_post("/console/commands", self.command)
        app.router.add_get("/console/tickets/{id}", self.ticket)
        app.on_shutdown.append(self._shutdown)

    async def start(self) -> None:
        self._closing.clear()

    async def stop(self) -> None:
        self._closing.set()

    async def _shutdown(self, _app: web.Application) -> None:
        self._closing.set()  # open feeds end now, so that the server's shutdown does not wait for them

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in TEAM_CARD_KINDS:
            raise SendError(f"the console team channel takes cards, not {item.kind!r} items", transient=False)
        if item.kind == "card_update":
            if not item.target.startswith(f"{CHANNEL}:"):
                raise SendError(f"card update without a console card to update (target {item.target!r})",
                                transient=False)
            return item.target
        return f"{CHANNEL}:{item.id}"

    # ---- sessions ----------------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        assert self.core is not None and self.core.engine is not None, "kefu opens its database before serving"
        return self.core.engine

    @property
    def throttle(self) -> LoginThrottle:
        """The failed logins, counted in the database for every replica."""
        if self._throttle is None:
            self._throttle = LoginThrottle(self.engine)
        return self._throttle

    @property
    def sessions(self) -> ConsoleSessions:
        if self._sessions is None:
            assert self.core is not None
            self._sessions = ConsoleSessions(console_secret(self.core.settings))
        return self._sessions

    async def _agent(self, request: web.Request) -> ConsoleAgent | None:
        """The logged-in agent of a request; None without a valid session."""
        found = self.sessions.name_in(request.cookies.get(COOKIE))
        if found is None:
            return None
        name, fingerprint = found
        agent = await asyncio.to_thread(agent_named, self.engine, name)
        return agent if agent is not None and self.sessions.matches(agent, fingerprint) else None

    def _origin_ok(self, request: web.Request) -> bool:
        assert self.core is not None
        return same_origin(request, self.core.settings.public_url)

    # ---- login -------------------------------------------------------------------------------------------

    def _login_html(self, error: str = "", name: str = "") -> str:
        message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return Template(_static("login.html")).substitute(error=message, name=html.escape(name, quote=True))

    async def login_page(self, request: web.Request) -> web.Response:
        if await self._agent(request) is not None:
            return _see_other("/console")
        return web.Response(text=self._login_html(), content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        if not self._origin_ok(request):
            return web.Response(status=403, text=self._login_html("This form must be sent from kefu's own page."),
                                content_type="text/html")
        form = await request.post()
        name = str(form.get("name") or "").strip()
        password = str(form.get("password") or "")
        address = request.remote or "?"
        wait = await self.throttle.attempt(address, name)  # counted as failed until the password proves right
        if wait is not None:
            return web.Response(status=429, headers={"Retry-After": str(int(wait) + 1)}, content_type="text/html",
                                text=self._login_html(f"Too many failed logins: try again in {int(wait) + 1} s.",
                                                      name))
        # NUL (PostgreSQL refuses it in text) and lone surrogates (not UTF-8) are in nobody's name or password.
        usable = name and password and "\x00" not in name and lone_surrogate(name + password) is None
        agent = await asyncio.to_thread(verify_login, self.engine, name, password) if usable else None
        if agent is None:
            log.info("console login refused for %r from %s", name[:64], address)
            return web.Response(status=401, text=self._login_html("Wrong name or password.", name),
                                content_type="text/html")
        await self.throttle.succeeded(address, name)
        log.info("console login: %s", agent.name)
        response = _see_other("/console")
        self.sessions.set_cookie(response, agent, secure=request.secure)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        if not self._origin_ok(request):
            return _refused(403, "this request must come from kefu's own page")
        response = _see_other("/console/login")
        ConsoleSessions.clear_cookie(response)
        return response

    # ---- password ----------------------------------------------------------------------------------------

    @staticmethod
    def _password_html(agent: ConsoleAgent, message: str = "", *, error: bool = True) -> str:
        role = "alert" if error else "status"
        css = "error" if error else "notice"
        shown = f'<p class="{css}" role="{role}">{html.escape(message)}</p>' if message else ""
        return Template(_static("password.html")).substitute(name=html.escape(agent.name, quote=True),
                                                             message=shown, min=MIN_PASSWORD_LENGTH)

    async def password_page(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        if agent is None:
            return _see_other("/console/login")
        return web.Response(text=self._password_html(agent), content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def change_password(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        if agent is None:
            return _see_other("/console/login")

        def page(status: int, message: str, *, error: bool = True) -> web.Response:
            return web.Response(status=status, text=self._password_html(agent, message, error=error),
                                content_type="text/html", headers={"Cache-Control": "no-store"})

        if not self._origin_ok(request):
            return page(403, "This form must be sent from kefu's own page.")
        form = await request.post()
        current, new, again = (str(form.get(key) or "") for key in ("current", "new", "again"))
        address = request.remote or "?"
        wait = await self.throttle.attempt(address, agent.name)  # counted as failed unless it proves otherwise
        if wait is not None:
            return page(429, f"Too many wrong passwords: try again in {int(wait) + 1} s.")
        if new != again:
            await self.throttle.withdraw(address, agent.name)
            return page(400, "The two new passwords differ; nothing was changed.")
        try:
            changed = await asyncio.to_thread(set_password, self.engine, agent.name, new, current=current,
                                              actor=f"agent:{agent.name}")
        except AccountError as exc:
            if str(exc).startswith("current password"):
                return page(401, "The current password is wrong; nothing was changed.")
            await self.throttle.withdraw(address, agent.name)
            return page(400, str(exc).replace("password: ", "New password: ", 1))
        await self.throttle.withdraw(address, agent.name)
        log.info("console: %s changed their password", agent.name)
        response = page(200, "Password changed. Your other console sessions have ended.", error=False)
        self.sessions.set_cookie(response, changed, secure=request.secure)
        return response

    # ---- pages -------------------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        if await self._agent(request) is None:
            return _see_other("/console/login")
        return web.Response(text=_static("console.html"), content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            return _refused(404, "no such file")
        if name not in PUBLIC_STATIC and await self._agent(request) is None:
            return _refused(401, "log in first")
        return web.Response(text=_static(name), content_type=STATIC_FILES[name],
                            headers={"Cache-Control": "no-cache"})

    async def state(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        if agent is None:
            return _refused(401, "log in first")
        assert self.core is not None
        return web.json_response({"agent": {"name": agent.name, "role": agent.role},
                                  "intents": self.core.intent_names()})

    async def ticket(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        if agent is None:
            return _see_other("/console/login")
        ticket_id = request.match_info["id"]
        if not ticket_id.isdigit() or len(ticket_id) > 18:
            return web.Response(status=404, text=self._ticket_html(ticket_id, "There is no such ticket."),
                                content_type="text/html")
        assert self.core is not None
        answer = await self.core.handle_command(CommandRequest(f"/ticket {ticket_id}", CHANNEL, agent.name),
                                                _actor(agent), CAPABILITIES)
        if answer.ticket is None:
            return web.Response(status=200 if answer.ok else 404, text=self._ticket_html(ticket_id, answer.text),
                                content_type="text/html")
        return web.Response(text=self._ticket_page(answer.ticket), content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    @staticmethod
    def _ticket_html(ticket_id: str, text: str) -> str:
        """A page with a command's text answer (no such ticket, not allowed)."""
        lines = []
        for line in text.splitlines():
            escaped = html.escape(line)
            lines.append(re.sub(r"\*([^*\n]+)\*", r"<strong>\1</strong>", escaped))
        body = '<pre class="ticket-facts" id="ticket-facts">' + "\n".join(lines) + "</pre>"
        return Template(_static("ticket.html")).substitute(ticket=html.escape(ticket_id), title="", body=body)

    def _ticket_page(self, view: TicketView) -> str:
        """The ticket's facts as a description list, its conversation as messages (customer's on the left, the
        team's on the right, each in its language and direction) and its timeline."""
        from handlers.commands.answers import local_time, ticket_facts

        assert self.core is not None
        tz = ZoneInfo(self.core.settings.timezone)
        esc = html.escape
        facts = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>"
                        for label, value in ticket_facts(view, datetime.now(UTC), tz))
        messages = []
        for message in view.messages:
            side = "in" if message.direction == "in" else "out"
            lang = f' lang="{esc(message.language)}"' if message.language else ""
            messages.append(
                f'<li class="message {side} by-{esc(message.author_kind)}">'
                f'<p class="message-meta">{esc(message.author)} <span class="message-kind">'
                f'({esc(message.author_kind)})</span> · <time datetime="{message.at.isoformat()}">'
                f'{esc(local_time(message.at, tz))}</time></p>'
                f'<p class="message-text"{lang} dir="auto">{esc(message.text)}</p></li>')
        earlier = view.message_count - len(view.messages)
        note = f'<p class="notice">The last {len(view.messages)} of {view.message_count} messages.</p>' \
            if earlier else ""
        conversation = "".join(messages) or '<li class="empty">No messages.</li>'
        timeline = "".join(f"<li>{esc(local_time(event.at, tz))} {esc(event.action)} by {esc(event.actor)}</li>"
                           for event in view.timeline)
        body = (f'<section aria-labelledby="facts-heading"><h2 id="facts-heading">Facts</h2>'
                f'<dl class="card-fields ticket-fields">{facts}</dl></section>'
                f'<section aria-labelledby="conversation-heading"><h2 id="conversation-heading">Conversation '
                f'({view.message_count})</h2>{note}<ol class="conversation">{conversation}</ol></section>')
        if timeline:
            body += (f'<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>'
                     f'<ol class="timeline">{timeline}</ol></section>')
        title = f" · {view.status} · {view.intent}"
        return Template(_static("ticket.html")).substitute(ticket=str(view.id), title=esc(title), body=body)

    # ---- the feed ----------------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        agent = await self._agent(request)
        if agent is None:
            return _refused(401, "log in first")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        newest: dict[str, int] = {}  # card ref → the newest item id sent on this connection

        async def emit(cards: list[FeedCard]) -> datetime | None:
            last = None
            for card in cards:
                last = card.sent_at if last is None or card.sent_at > last else last
                if newest.get(card.ref, 0) >= card.item_id:
                    continue
                newest[card.ref] = card.item_id
                data = json.dumps(card.event(), ensure_ascii=False, separators=(",", ":"))
                await response.write(f"id: {card.item_id}\nevent: card\ndata: {data}\n\n".encode())
            return last

        try:
            await response.write(b"retry: 2000\n\n")
            resume = request.headers.get("Last-Event-ID", "")
            had = await asyncio.to_thread(card_state, self.engine, CHANNEL, int(resume)) if (
                resume.isdigit() and len(resume) < 19) else None
            if had is not None:  # a reconnection: what was sent after that event (and, rarely, again a bit before)
                newest[had.ref] = had.item_id
                since = had.sent_at
            else:  # a fresh page: the newest state of the recent cards first
                snapshot = await asyncio.to_thread(latest_cards, self.engine, CHANNEL)
                since = await emit(snapshot) or datetime(1970, 1, 1, tzinfo=UTC)
            await response.write(b"event: ready\ndata: {}\n\n")
            await self._follow(request, response, agent, since, emit)
        except ConnectionResetError:  # the browser went away (a reload, a closed tab)
            pass
        return response

    async def _follow(self, request: web.Request, response: web.StreamResponse, agent: ConsoleAgent,
                      since: datetime, emit: Any) -> None:
        loop = asyncio.get_running_loop()
        quiet_since = checked_at = loop.time()
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), FEED_POLL_SECONDS)
            if self._closing.is_set():
                return
            last = await emit(await asyncio.to_thread(sent_since, self.engine, CHANNEL, since))
            now = loop.time()
            if last is not None and last > since:
                since, quiet_since = last, now
            elif now - quiet_since >= KEEPALIVE_SECONDS:
                await response.write(b": keep-alive\n\n")
                quiet_since = now
            if now - checked_at >= SESSION_CHECK_SECONDS:
                checked_at = now
                if await self._agent(request) is None:  # logged out elsewhere, password changed, deactivated
                    await response.write(b"event: logout\ndata: {}\n\n")
                    return

    # ---- buttons and commands ----------------------------------------------------------------------------

    async def _api_request(self, request: web.Request) -> tuple[ConsoleAgent, dict[str, Any]] | web.Response:
        """The agent and JSON body of a console POST, or the answer refusing it (no session, another origin,
        no JSON object)."""
        agent = await self._agent(request)
        if agent is None:
            return _refused(401, "log in first")
        if not self._origin_ok(request):
            return _refused(403, "this request must come from kefu's own page (Origin or Referer)")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _refused(400, "body: a JSON object expected")
        return agent, body

    async def action(self, request: web.Request) -> web.Response:
        checked = await self._api_request(request)
        if isinstance(checked, web.Response):
            return checked
        agent, body = checked
        assert self.core is not None
        name = body.get("action")
        if not isinstance(name, str) or not name:
            return _refused(400, "action: the button's action is required")
        if name.startswith(ALERT_ACTION_PREFIX):
            alert_id = body.get("alert_id")
            if not isinstance(alert_id, int) or isinstance(alert_id, bool):
                return _refused(400, "alert_id: the alert's number is required")
            result = await self.core.handle_alert_action(AlertAction(name, alert_id, CHANNEL, agent.name,
                                                                     agent.name))
            return web.json_response({"ok": result.ok, "message": result.message})
        if name not in TICKET_ACTIONS:
            return _refused(400, f"action: {name[:40]!r} is not one of {', '.join(TICKET_ACTIONS)}")
        ticket_id = body.get("ticket_id")
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            return _refused(400, "ticket_id: the ticket's number is required")
        values: dict[str, str] = {}
        suggestion = body.get("suggestion_id")
        if name in ("send", "edit") and isinstance(suggestion, int) and not isinstance(suggestion, bool):
            values["suggestion_id"] = str(suggestion)
        if name == "edit":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return _refused(400, "text: write the reply to send")
            if len(text) > MAX_REPLY_LENGTH:
                return _refused(400, f"text: at most {MAX_REPLY_LENGTH} characters, got {len(text)}")
            values["text"] = text
        if name == "wrong_intent":
            intent = body.get("intent")
            if not isinstance(intent, str) or not intent:
                return _refused(400, "intent: choose the right intent")
            values["intent"] = intent
        result = await self.core.handle_action(Action(name, ticket_id, CHANNEL, agent.name, values, agent.name))
        return web.json_response({"ok": result.ok, "message": result.message})

    async def command(self, request: web.Request) -> web.Response:
        checked = await self._api_request(request)
        if isinstance(checked, web.Response):
            return checked
        agent, body = checked
        assert self.core is not None
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _refused(400, "text: type a command, e.g. /metrics 7d chart")
        if len(text) > MAX_COMMAND_LENGTH:
            return _refused(400, f"text: at most {MAX_COMMAND_LENGTH} characters, got {len(text)}")
        text = text.strip() if text.strip().startswith("/") else f"/kefu {text.strip()}"
        answer = await self.core.handle_command(CommandRequest(text, CHANNEL, agent.name), _actor(agent),
                                                CAPABILITIES)
        chart = None
        if answer.chart is not None and answer.chart.parent.resolve() == self.core.charts_dir().resolve():
            chart = f"/charts/{answer.chart.name}"
        return web.json_response({"ok": answer.ok, "text": answer.text, "chart": chart})
