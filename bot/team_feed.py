"""The cards a team channel has shown, read back from the outbox (for the web console's feed).

A card posted to a team channel stays in its outbox row (its payload, status "sent", `result_ref` the reference
the channel gave it); an update of that card is a later row of kind "card_update" whose `target` is that
reference. So a card's current state is the newest sent row of its reference, and the feed is nothing but reads
of the outbox: nothing new is stored, and a reload shows what was shown before.

Rows are read in the order they were recorded as sent (`sent_at`, then id). Two workers may record sends a moment
out of order, so `sent_since` looks back a few seconds before its cursor; readers drop what they already have by
item id (the newest item id of a reference wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.team_channel import TEAM_CARD_KINDS
from models.tables import OutboxItem

LOOKBACK = timedelta(seconds=5)
SCAN_LIMIT = 2000


@dataclass(frozen=True)
class FeedCard:
    """One state of one card: `item_id` orders states (higher is newer), `ref` names the card."""

    item_id: int
    ref: str
    kind: str
    card: dict[str, Any]
    sent_at: datetime

    def event(self) -> dict[str, Any]:
        return {"id": self.item_id, "ref": self.ref, "kind": self.kind, "card": self.card,
                "sent_at": self.sent_at.isoformat()}


def _feed_card(item: OutboxItem) -> FeedCard | None:
    ref = item.target if item.kind == "card_update" else item.result_ref
    if not ref or item.id is None or item.sent_at is None:
        return None
    return FeedCard(item.id, ref, item.kind, dict(item.payload), item.sent_at)


def _sent(channel: str) -> Any:
    return select(OutboxItem).where(OutboxItem.channel == channel, OutboxItem.status == "sent",  # type: ignore[arg-type]
                                    OutboxItem.kind.in_(TEAM_CARD_KINDS))  # type: ignore[attr-defined]


def latest_cards(engine: Engine, channel: str, limit: int = 100) -> list[FeedCard]:
    """The newest state of the `limit` most recently changed cards of `channel`, oldest change first."""
    with Session(engine) as session:
        items = session.scalars(_sent(channel).order_by(OutboxItem.id.desc()).limit(SCAN_LIMIT)).all()  # type: ignore[union-attr]
    newest: dict[str, FeedCard] = {}
    for item in items:
        card = _feed_card(item)
        if card is not None and card.ref not in newest:
            newest[card.ref] = card
            if len(newest) >= limit:
                break
    return sorted(newest.values(), key=lambda card: card.item_id)


def sent_since(engine: Engine, channel: str, since: datetime) -> list[FeedCard]:
    """Card states of `channel` recorded as sent from `since` minus the look-back on, in the order sent."""
    with Session(engine) as session:
        items = session.scalars(
            _sent(channel).where(OutboxItem.sent_at >= since - LOOKBACK)  # type: ignore[operator]
            .order_by(OutboxItem.sent_at, OutboxItem.id).limit(SCAN_LIMIT)  # type: ignore[arg-type]
        ).all()
    return [card for card in map(_feed_card, items) if card is not None]


def card_state(engine: Engine, channel: str, item_id: int) -> FeedCard | None:
    """The card state sent as item `item_id` of `channel` (where a feed resumes after it); None if unknown."""
    with Session(engine) as session:
        item = session.get(OutboxItem, item_id)
        if item is None or item.channel != channel or item.status != "sent" or item.kind not in TEAM_CARD_KINDS:
            return None
        return _feed_card(item)
