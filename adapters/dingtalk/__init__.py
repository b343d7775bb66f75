"""DingTalk (钉钉) as a team channel: triage cards, text actions, commands and alerts for teams in China.

`DingTalkTeamChannel` is an internal app's robot in Stream mode plus custom group robots:
- inbound: the dingtalk-stream client (on its own thread, `adapters.dingtalk.stream`) receives @-mentions and 1:1
  messages; `adapters.dingtalk.listeners` turns them into actions and commands and answers through the message's
  sessionWebhook;
- outbound: kefu's outbox posts cards to groups through the robot OpenAPI and alerts through custom robot webhooks
  (`adapters.dingtalk.sender`, `.openapi`, `.robots`), rendered by `adapters.dingtalk.rendering` with the
  adapter's own words (`adapters.dingtalk.texts`, Chinese unless `[dingtalk] language = "en"`).
Buttons are dtmd links that send the text action as the presser's message (DingTalk's interactive cards need a
card template made in DingTalk's console, which kefu does not assume): in a group, DingTalk passes a message to
the robot only when it @-mentions it, so there the typed form ("@kefu /发送 42") is the dependable one.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from dingtalk_stream import ChatbotMessage, Credential, DingTalkStreamClient

from adapters.dingtalk.listeners import DingTalkListeners
from adapters.dingtalk.openapi import DingTalkOpenApi
from adapters.dingtalk.rendering import CHANNEL
from adapters.dingtalk.robots import RobotWebhook
from adapters.dingtalk.sender import DingTalkCardSender
from adapters.dingtalk.stream import KefuChatbotHandler, StreamThread, point_sdk_at
from adapters.dingtalk.texts import text
from bot.settings import DingTalkSettings
from bot.team_channel import Capabilities, TeamCore
from models.tables import OutboxItem

log = logging.getLogger("kefu.dingtalk")

CAPABILITIES = Capabilities(buttons=True, modals=False, threads=False, slash_commands=False, image_upload=False,
                            ephemeral=False, markdown="markdown")


class DingTalkTeamChannel:
    """The "dingtalk" team channel of one kefu process."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, settings: DingTalkSettings, core: TeamCore) -> None:
        assert settings.client_id and settings.client_secret is not None, "DingTalkTeamChannel needs client_id/secret"
        self.settings = settings
        self.core = core
        self._session: aiohttp.ClientSession | None = None
        secret = settings.client_secret.get_secret_value()
        self.openapi = DingTalkOpenApi(settings.api_url, settings.client_id, secret, self.session)
        language = settings.language
        robots = {name: RobotWebhook(name, robot.url, robot.secret.get_secret_value() if robot.secret else None,
                                     self.session, per_minute=settings.robot_messages_per_minute,
                                     merged_title=lambda count: text(language, "merged", count=count),
                                     engine=core.desk.engine)
                  for name, robot in settings.robots.items()}
        self.sender = DingTalkCardSender(self.openapi, robots, core.desk, robot_code=settings.app_robot_code,
                                         default_conversation=settings.open_conversation_id, language=language)
        self.listeners = DingTalkListeners(core, CAPABILITIES, language)
        self._stream: StreamThread | None = None

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session for the OpenAPI and robot webhooks (opened on first use, on kefu's loop)."""
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.request_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def mount(self, app: web.Application) -> None:
        """Stream mode needs no HTTP route."""

    async def start(self) -> None:
        assert self.settings.client_id and self.settings.client_secret is not None
        point_sdk_at(self.settings.api_url)
        client = DingTalkStreamClient(Credential(self.settings.client_id,
                                                 self.settings.client_secret.get_secret_value()),
                                      logger=logging.getLogger("kefu.dingtalk.stream"))
        client.register_callback_handler(ChatbotMessage.TOPIC,
                                         KefuChatbotHandler(self.listeners.on_message, asyncio.get_running_loop()))
        self._stream = StreamThread(client)
        self._stream.start()
        log.info("DingTalk: stream client started (gateway %s)", self.settings.api_url)

    async def stop(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, item: OutboxItem) -> str | None:
        return await self.sender.send(item)
