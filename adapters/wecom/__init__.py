"""WeCom (企业微信) as a team channel: triage cards with buttons, commands and alerts, Chinese first.

`WeComTeamChannel` assembles a self-built app's pieces over kefu's core:
- `adapters.wecom.callback`: the callback URL `GET/POST /wecom/callback` on kefu's own aiohttp server (URL check,
  encrypted messages and card button events, answered at once and handled after);
- `adapters.wecom.sender`: the outbox sender (template cards, card updates, markdown, group robots);
- `adapters.wecom.client`: wechatpy's client on `api_url` with one token refresh per call;
- `adapters.wecom.robots`: group robot webhooks within their 20 messages a minute;
- `adapters.wecom.cards` / `texts`: rendering and kefu's own zh-CN / English words.
The 微信客服 customer channel "wecom_kf" is `adapters.wecom.kf` (its own callback path and kf secret; bot.app wires it).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from adapters.wecom.callback import WeComCallback
from adapters.wecom.client import WeComApi
from adapters.wecom.robots import GroupRobots
from adapters.wecom.sender import CHANNEL, Recipients, WeComCardSender
from adapters.wecom.texts import text
from bot.card_update_codes import CardUpdateCodes
from bot.settings import WeComSettings
from bot.team_channel import Capabilities, TeamCore
from models.tables import OutboxItem

log = logging.getLogger("kefu.wecom")

CALLBACK_PATH = "/wecom/callback"
CAPABILITIES = Capabilities(buttons=True, modals=False, threads=False, slash_commands=False, image_upload=False,
                            ephemeral=False, markdown="markdown")


class WeComTeamChannel:
    """The "wecom" team channel of one kefu process."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, settings: WeComSettings, core: TeamCore, *, timezone: str) -> None:
        assert settings.enabled and settings.corp_id and settings.agent_id and settings.secret, \
            "WeComTeamChannel needs corp_id, agent_id and secret"
        assert settings.token is not None and settings.aes_key is not None
        self.settings = settings
        self.api = WeComApi(settings.corp_id, settings.secret.get_secret_value(), api_url=settings.api_url,
                            timeout=settings.request_timeout_seconds)
        language = settings.language
        self.robots = GroupRobots({name: key.get_secret_value() for name, key in settings.robots.items()},
                                  webhook_url=settings.api_url + "webhook/send",
                                  per_minute=settings.robot_messages_per_minute,
                                  timeout=settings.request_timeout_seconds,
                                  merged_title=lambda count: text(language, "alerts_merged", count=count),
                                  engine=core.desk.engine)
        self.sender = WeComCardSender(self.api, self.robots, agent_id=settings.agent_id,
                                      default=Recipients(settings.to_user, settings.to_party), language=language,
                                      timezone=ZoneInfo(timezone), codes=CardUpdateCodes(core.desk.engine, CHANNEL))
        crypto = WeChatCrypto(settings.token.get_secret_value(), settings.aes_key.get_secret_value(),
                              settings.corp_id)
        self.callback = WeComCallback(core, crypto, self.api, self.sender, agent_id=settings.agent_id,
                                      language=language, capabilities=CAPABILITIES)

    def mount(self, app: web.Application) -> None:
        app.router.add_get(CALLBACK_PATH, self.callback.verify)
        app.router.add_post(CALLBACK_PATH, self.callback.receive)

    async def start(self) -> None:
        log.info("WeCom: listening for callbacks on %s", CALLBACK_PATH)

    async def stop(self) -> None:
        await self.callback.close()
        await self.robots.close()
        self.api.close()

    async def send(self, item: OutboxItem) -> str | None:
        return await self.sender.send(item)
