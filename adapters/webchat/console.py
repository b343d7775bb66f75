"""The console team channel: where triage cards go when no team messenger (Slack, DingTalk, WeCom) is set up.

It is always active. Today it "posts" a card by leaving it where it already is: the card stays persisted in its
outbox item row (payload, status sent), and the reference returned is "console:<outbox item id>". Nothing is
pushed anywhere yet; the web console (a later issue) will list and render these cards and let agents act on them.
"""

from __future__ import annotations

from aiohttp import web

from bot.outbox import SendError
from bot.team_channel import TEAM_CARD_KINDS, Capabilities
from models.tables import OutboxItem

CHANNEL = "console"


class ConsoleTeamChannel:
    """Outbox sender for channel "console": accepts cards and returns "console:<outbox item id>"."""

    name = CHANNEL
    capabilities = Capabilities()

    def mount(self, app: web.Application) -> None:
        """No routes yet: the web console (a later issue) will add its pages here."""

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in TEAM_CARD_KINDS:
            raise SendError(f"the console team channel takes cards, not {item.kind!r} items", transient=False)
        return f"{CHANNEL}:{item.id}"
