"""Posting kefu's cards to DingTalk: the outbox sender of the "dingtalk" team channel.

Targets: an openConversationId (a group the app's robot is in; "" means `[dingtalk] open_conversation_id`) gets
the card through the robot OpenAPI as an ActionCard; "robot:<name>" gets it through that custom group robot's
webhook as markdown. References are "<openConversationId>:<processQueryKey>" and "robot:<name>:<n>".

DingTalk cannot edit a robot's message, so a card update is posted as a follow-up in the card's conversation
(headed "卡片已更新", with the buttons still open), and a later card of a ticket that has a card in DingTalk goes
to that card's conversation headed "跟进". The update keeps the original card's reference.
"""

from __future__ import annotations

from adapters.dingtalk.openapi import DingTalkOpenApi
from adapters.dingtalk.rendering import CHANNEL, RenderedCard, group_message, render_card, with_links
from adapters.dingtalk.robots import RobotMessage, RobotWebhook
from adapters.dingtalk.texts import Language, text
from bot.messages import card_from_payload
from bot.outbox import SendError
from bot.team_channel import TEAM_CARD_KINDS
from bot.team_desk import TeamDesk
from models.tables import OutboxItem

ROBOT_PREFIX = "robot:"


def conversation_of(ref: str) -> str | None:
    """Where a DingTalk reference was posted: "robot:<name>" or the openConversationId; None for other refs."""
    if ref.startswith(ROBOT_PREFIX):
        name = ref[len(ROBOT_PREFIX):].split(":", 1)[0]
        return f"{ROBOT_PREFIX}{name}" if name else None
    conversation, sep, key = ref.partition(":")
    return conversation if sep and conversation and key else None


class DingTalkCardSender:
    """Sends outbox items of the card kinds to DingTalk groups (`openapi`) and custom robots (`robots`)."""

    def __init__(self, openapi: DingTalkOpenApi, robots: dict[str, RobotWebhook], desk: TeamDesk, *,
                 robot_code: str, default_conversation: str | None, language: Language) -> None:
        self.openapi = openapi
        self.robots = robots
        self.desk = desk
        self.robot_code = robot_code
        self.default_conversation = default_conversation
        self.language = language

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in TEAM_CARD_KINDS:
            raise SendError(f"the DingTalk team channel takes cards, not {item.kind!r} items", transient=False)
        card = card_from_payload(item.payload)
        if item.kind == "card_update":
            where = conversation_of(item.target)
            if where is None:
                raise SendError(f"card update without a DingTalk card to follow (target {item.target!r})",
                                transient=False)
            await self._post(where, render_card(card, self.language, heading=text(self.language, "updated")))
            return item.target
        where = item.target or self.default_conversation
        heading = None
        if item.kind == "card" and item.ticket_id is not None:
            ticket = await self.desk.ticket(item.ticket_id)
            earlier = conversation_of(ticket.card_ref or "") if ticket and ticket.card_channel == CHANNEL else None
            if earlier is not None:
                where, heading = earlier, text(self.language, "follow_up")
        if not where:
            raise SendError("no DingTalk group for this card: set KEFU_DINGTALK_OPEN_CONVERSATION_ID or a route's "
                            "target", transient=False)
        return await self._post(where, render_card(card, self.language, heading=heading))

    async def _post(self, where: str, card: RenderedCard) -> str:
        if where.startswith(ROBOT_PREFIX):
            name = where[len(ROBOT_PREFIX):]
            robot = self.robots.get(name)
            if robot is None:
                known = ", ".join(sorted(self.robots)) or "none configured"
                raise SendError(f"no DingTalk robot named {name!r} in [dingtalk] robots ({known})", transient=False)
            return await robot.post(RobotMessage(card.title, with_links(card), card.at_user_ids, card.at_all))
        msg_key, param = group_message(card)
        key = await self.openapi.send_to_group(self.robot_code, where, msg_key, param)
        return f"{where}:{key or 'sent'}"
