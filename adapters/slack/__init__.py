"""Slack as a team channel: triage cards with buttons, slash commands, modals, threads and alerts.

`SlackTeamChannel` is one Bolt `AsyncApp` over kefu's core, on one of two transports:
- HTTP mode: `POST /slack/events` on kefu's own aiohttp server takes events, slash commands and interactivity
  (Bolt verifies the signature and the 5-minute window and answers `url_verification`);
- Socket Mode (when an app-level token is set): a websocket to the URL `apps.connections.open` hands out,
  reconnected on `disconnect` frames and dropped sockets by slack_sdk's client.
Outbound cards go through kefu's outbox (`adapters.slack.sender`); what Slack sends in is handled by
`adapters.slack.listeners`; Block Kit rendering lives in `adapters.slack.blocks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from zoneinfo import ZoneInfo

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.listeners import SlackListeners
from adapters.slack.sender import CHANNEL, SlackCardSender
from bot.settings import SlackSettings
from bot.team_channel import Capabilities, TeamCore
from models.tables import OutboxItem

log = logging.getLogger("kefu.slack")

EVENTS_PATH = "/slack/events"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
CAPABILITIES = Capabilities(buttons=True, modals=True, threads=True, slash_commands=True, image_upload=True,
                            ephemeral=True, markdown="slack-mrkdwn")


class SlackTeamChannel:
    """The "slack" team channel of one kefu process."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, settings: SlackSettings, core: TeamCore, *, timezone: str) -> None:
        assert settings.bot_token is not None, "SlackTeamChannel needs settings.slack.bot_token"
        self.settings = settings
        self.client = AsyncWebClient(token=settings.bot_token.get_secret_value(), base_url=settings.api_url,
                                     timeout=int(settings.request_timeout_seconds))
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
        self._verifier = SignatureVerifier(secret or "-")
        self.app = AsyncApp(client=self.client, signing_secret=secret, process_before_response=False,
                            request_verification_enabled=not settings.socket_mode, logger=log)
        SlackListeners(core, self.client, CAPABILITIES).register(self.app)
        self.sender = SlackCardSender(self.client, core.desk, default_channel=settings.channel,
                                      timezone=ZoneInfo(timezone))
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    def mount(self, app: web.Application) -> None:
        if not self.settings.socket_mode:
            app.router.add_post(EVENTS_PATH, self.events)

    async def events(self, request: web.Request) -> web.Response:
        """Slack's Request URL for events, slash commands and interactivity. The signature is checked on the raw
        body before anything parses it (Bolt parses first, and fails with a 500 on malformed headers or bodies);
        a signed body Bolt cannot read is answered 400."""
        body = await request.read()
        if not self._signed_by_slack(request, body):
            log.info("Slack request refused: missing, malformed or wrong signature, or outside the 5-minute window")
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            response = await self.app.async_dispatch(await to_bolt_request(request))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            log.warning("a signed Slack request could not be read: %s", type(exc).__name__)
            return web.json_response({"error": "not a Slack payload"}, status=400)
        if response.status >= 500:  # Bolt logged why; the payload's shape is not one it knows
            return web.json_response({"error": "not a Slack payload"}, status=400)
        return await to_aiohttp_response(response)

    def _signed_by_slack(self, request: web.Request, body: bytes) -> bool:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        try:
            text = body.decode("utf-8")  # Slack sends UTF-8; the verifier decodes and would raise on anything else
        except UnicodeDecodeError:
            return False
        return self._verifier.is_valid(text, timestamp, signature)  # 5-minute window, compare_digest

    async def start(self) -> None:
        if not self.settings.socket_mode:
            log.info("Slack: listening for events on %s", EVENTS_PATH)
            return
        assert self.settings.app_token is not None
        self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token.get_secret_value(),
                                              web_client=self.client, logger=log)
        self._connecting = asyncio.create_task(self._connect(self._socket), name="kefu-slack-socket")

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        """Open the Socket Mode connection in the background, so kefu serves meanwhile. slack_sdk's client retries
        a refused or failed connection by itself every ping interval (logging why on kefu's Slack logger) and, once
        connected, reconnects on disconnect frames and dropped sockets; this loop covers it giving up."""
        delay = 1.0
        while True:
            try:
                await handler.connect_async()
            except Exception as exc:  # a bad app token, Slack unreachable: say so and try again
                log.error("Slack Socket Mode could not connect (%s: %s); retrying in %.0f s",
                          type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            log.info("Slack: connected in Socket Mode")
            return

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()

    async def send(self, item: OutboxItem) -> str | None:
        return await self.sender.send(item)
