"""The console team channel: where triage cards go when no team messenger (Slack, DingTalk, WeCom) is set up.

It is always active. Today it "posts" a card by leaving it where it already is: the card stays persisted in its
outbox item row (payload, status sent), and the reference returned is "console:<outbox item id>". Nothing is
pushed anywhere yet; the web console (a later issue) will list and render these cards and let agents act on them.
"""

from __future__ import annotations

from bot.outbox import SendError
from models.tables import OutboxItem

CHANNEL = "console"
CARD_KINDS = ("card", "card_update", "alert")


class ConsoleTeamChannel:
    """Outbox sender for channel "console": accepts cards and returns "console:<outbox item id>"."""

    name = CHANNEL

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in CARD_KINDS:
            raise SendError(f"the console team channel takes cards, not {item.kind!r} items", transient=False)
        return f"{CHANNEL}:{item.id}"
