"""A widget visitor's conversation, read back from the database (for the widget's feed and its rate limit).

The visitor's id is both the customer's external id and the conversation id on channel "webchat". What the visitor
wrote are the conversation's inbound `Message` rows; what kefu and agents answered are the outbox's reply rows to
that conversation, shown once the outbox has sent them (the webchat sender marks them deliverable). Nothing else is
stored for the widget: a reload or another replica reads the same conversation.

Replies are read by outbox id; two workers may record sends a moment out of id order, so `replies_since` also
looks back a few seconds by send time, and the reader drops ids it already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.tables import Message, OutboxItem, Ticket

CHANNEL = "webchat"
LOOKBACK = timedelta(seconds=5)
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class WidgetMessage:
    """One line of the widget's conversation. `key` is stable across reads: "in:<client id>" or "out:<item id>"."""

    key: str
    author: str  # "visitor" | "kefu" (an automatic reply) | "agent"
    text: str
    at: datetime
    item_id: int | None = None  # the outbox row of a reply (its SSE event id)
    kind: str | None = None  # a reply's kind: "csat_survey" makes the widget offer 1-5 buttons

    def event(self) -> dict[str, Any]:
        event = {"key": self.key, "author": self.author, "text": self.text, "at": self.at.isoformat()}
        if self.kind == "csat_survey":
            event["kind"] = self.kind
        return event


def message_id(visitor_id: str, client_id: str) -> str:
    """The channel message id of a visitor's message: the client's id, scoped to the visitor."""
    return f"{visitor_id}:{client_id}"


def _reply(item: OutboxItem) -> WidgetMessage | None:
    payload = item.payload if isinstance(item.payload, dict) else {}
    text = payload.get("text")
    if item.id is None or item.sent_at is None or not isinstance(text, str):
        return None
    author = "agent" if payload.get("kind") == "agent_reply" else "kefu"
    kind = payload.get("kind")
    return WidgetMessage(f"out:{item.id}", author, text, item.sent_at, item.id, kind if isinstance(kind, str) else None)


def _replies(visitor_id: str) -> Any:
    return select(OutboxItem).where(OutboxItem.channel == CHANNEL, OutboxItem.kind == "reply",  # type: ignore[arg-type]
                                    OutboxItem.target == visitor_id, OutboxItem.status == "sent")


def history(engine: Engine, visitor_id: str) -> list[WidgetMessage]:
    """The conversation so far (its last `HISTORY_LIMIT` lines), oldest first."""
    with Session(engine) as session:
        written = session.execute(
            select(Message.channel_message_id, Message.text, Message.created_at)
            .join(Ticket, Message.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(Ticket.channel == CHANNEL, Ticket.conversation_id == visitor_id,  # type: ignore[arg-type]
                   Message.direction == "in")
            .order_by(Message.id.desc()).limit(HISTORY_LIMIT)  # type: ignore[union-attr]
        ).all()
        answered = session.scalars(_replies(visitor_id).order_by(OutboxItem.id.desc()).limit(HISTORY_LIMIT)).all()  # type: ignore[union-attr]
    prefix = f"{visitor_id}:"
    lines = [WidgetMessage("in:" + (cmid or "").removeprefix(prefix), "visitor", text, at)
             for cmid, text, at in written]
    lines += [line for line in map(_reply, answered) if line is not None]
    return sorted(lines, key=lambda line: line.at)[-HISTORY_LIMIT:]


def replies_since(engine: Engine, visitor_id: str, after_id: int, since: datetime | None) -> list[WidgetMessage]:
    """Replies sent after outbox item `after_id`, and those sent from `since` minus the look-back on, by id."""
    condition = OutboxItem.id > after_id  # type: ignore[operator]
    if since is not None:
        condition = or_(condition, OutboxItem.sent_at >= since - LOOKBACK)  # type: ignore[operator]
    with Session(engine) as session:
        items = session.scalars(_replies(visitor_id).where(condition).order_by(OutboxItem.id)  # type: ignore[arg-type]
                                .limit(HISTORY_LIMIT)).all()
    return [line for line in map(_reply, items) if line is not None]


def reply_sent_at(engine: Engine, visitor_id: str, item_id: int) -> datetime | None:
    """When reply `item_id` of this visitor's conversation was sent; None when it is not one."""
    with Session(engine) as session:
        return session.scalar(select(OutboxItem.sent_at).where(_replies(visitor_id).whereclause,  # type: ignore[arg-type]
                                                               OutboxItem.id == item_id))


@dataclass(frozen=True)
class RecentMessages:
    stored: bool  # this message id is stored already (a retry): accepted again whatever the limit
    count: int  # the visitor's messages since the window began
    oldest: datetime | None  # the oldest of them


def recent_messages(engine: Engine, visitor_id: str, channel_message_id: str, since: datetime) -> RecentMessages:
    """What the rate limit needs to know about a visitor's messages from `since` on."""
    with Session(engine) as session:
        stored = session.scalar(select(Message.id).where(Message.channel == CHANNEL,  # type: ignore[arg-type]
                                                         Message.channel_message_id == channel_message_id))
        count, oldest = session.execute(
            select(func.count(Message.id), func.min(Message.created_at))  # type: ignore[arg-type]
            .join(Ticket, Message.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(Ticket.channel == CHANNEL, Ticket.conversation_id == visitor_id,  # type: ignore[arg-type]
                   Message.direction == "in", Message.created_at >= since)  # type: ignore[operator]
        ).one()
    return RecentMessages(stored is not None, int(count or 0), oldest)
