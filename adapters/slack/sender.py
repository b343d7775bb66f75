"""Posting and updating kefu's cards in Slack: the outbox sender of the "slack" team channel.

A card goes to the item's target channel (or the configured default channel); a later card of a ticket whose
card is already in Slack goes into that card's thread; a card update edits the card in place (`chat.update`).
References are "<channel id>:<ts>". Slack's answers become outbox outcomes: 429 → retry after its Retry-After,
5xx and network errors → retry with backoff, anything else (channel_not_found, invalid_blocks, invalid_auth...)
fails the item at once with Slack's error in the outbox row and the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import card_blocks, card_text
from bot.messages import card_from_payload
from bot.outbox import SendError
from bot.team_channel import TEAM_CARD_KINDS
from bot.team_desk import TeamDesk
from models.tables import OutboxItem

log = logging.getLogger("kefu.slack")

CHANNEL = "slack"


def message_ref(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """(channel id, ts) of a "<channel>:<ts>" reference; None for anything else (e.g. a console ref)."""
    channel, _, ts = ref.partition(":")
    if not channel or not ts or not ts.replace(".", "").isdigit():
        return None
    return channel, ts


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code of a failed call ("channel_not_found"), or its HTTP status when it gave no JSON."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {exc.response.status_code}"


def send_error(exc: Exception, what: str) -> SendError:
    """An outbox outcome for a failed Slack call."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = slack_error(exc)
        if status == 429 or error == "ratelimited":
            retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
            try:
                delay = float(retry_after[0] if isinstance(retry_after, list) else retry_after)
            except (TypeError, ValueError):
                delay = None
            return SendError(f"Slack rate-limited {what}", transient=True, retry_after=delay)
        if status >= 500:
            return SendError(f"Slack answered HTTP {status} to {what}", transient=True)
        detail = ""
        messages = (exc.response.get("response_metadata") or {}).get("messages") if isinstance(
            exc.response.data, dict) else None
        if messages:
            detail = " (" + "; ".join(str(m) for m in messages[:3]) + ")"
        return SendError(f"Slack refused {what}: {error}{detail}", transient=False)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return SendError(f"Slack unreachable for {what}: {type(exc).__name__}: {exc}", transient=True)
    return SendError(f"{what} failed: {type(exc).__name__}: {exc}", transient=False)


class SlackCardSender:
    """Sends outbox items of the card kinds to Slack with `client`."""

    def __init__(self, client: AsyncWebClient, desk: TeamDesk, *, default_channel: str | None,
                 timezone: ZoneInfo) -> None:
        self.client = client
        self.desk = desk
        self.default_channel = default_channel
        self.timezone = timezone

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in TEAM_CARD_KINDS:
            raise SendError(f"the Slack team channel takes cards, not {item.kind!r} items", transient=False)
        card = card_from_payload(item.payload)
        if item.kind == "card_update":
            ref = parse_ref(item.target)
            if ref is None:
                raise SendError(f"card update without a Slack message to update (target {item.target!r})",
                                transient=False)
            channel, ts = ref
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=card_text(card),
                                              blocks=card_blocks(card, timezone=self.timezone))
            except Exception as exc:
                raise send_error(exc, "chat.update") from None
            return item.target
        channel = item.target or self.default_channel
        if not channel:
            raise SendError("no Slack channel for this card: set KEFU_SLACK_CHANNEL or a route's target",
                            transient=False)
        thread_ts: str | None = None
        if item.kind == "card" and item.ticket_id is not None:
            ticket = await self.desk.ticket(item.ticket_id)
            parent = parse_ref(ticket.card_ref or "") if ticket and ticket.card_channel == CHANNEL else None
            if parent is not None:
                channel, thread_ts = parent
        arguments: dict[str, Any] = {"channel": channel, "text": card_text(card), "unfurl_links": False,
                                     "unfurl_media": False,
                                     "blocks": card_blocks(card, timezone=self.timezone,
                                                           follow_up=thread_ts is not None)}
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
        try:
            response = await self.client.chat_postMessage(**arguments)
        except Exception as exc:
            raise send_error(exc, "chat.postMessage") from None
        return message_ref(str(response["channel"]), str(response["ts"]))
