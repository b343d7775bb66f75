"""Helpers for the metric alert tests: a settings object with given rules, tickets seeded at explicit times,
and readers for what the evaluator queued in the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Card, card_from_payload
from bot.settings import Settings
from models.tables import Alert, Customer, Message, OutboxItem, Ticket

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def settings_with(*rules: dict[str, Any], **alerts: Any) -> Settings:
    return Settings(alerts={"rules": list(rules), **alerts})


_counter: Iterator[int] = iter(range(10**9))


def add_tickets(engine: Engine, times: list[datetime], *, text: str | None = None, **fields: Any) -> None:
    """One ticket per time (with one customer message saying `text` when given)."""
    fields = {"intent": "order_status", "kind": "faq", "severity": 3, "channel": "webchat", **fields}
    with Session(engine) as session:
        customer = Customer(channel="webchat", external_id=f"c{next(_counter)}")
        session.add(customer)
        session.flush()
        tickets = []
        for created in times:
            ticket = Ticket(customer_id=customer.id, conversation_id=f"conv{next(_counter)}", created_at=created,
                            updated_at=created, **fields)
            tickets.append(ticket)
        session.add_all(tickets)
        session.flush()
        if text is not None:
            session.add_all([Message(ticket_id=t.id, channel=t.channel, channel_message_id=f"m{next(_counter)}",
                                     direction="in", author_kind="customer", text=text, created_at=t.created_at)
                             for t in tickets])
        session.commit()


def alert_items(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.dedup_key.startswith("alert:"))  # type: ignore
                                    .order_by(OutboxItem.id)))  # type: ignore[arg-type]


def cards(engine: Engine) -> list[Card]:
    return [card_from_payload(item.payload) for item in alert_items(engine)]


def alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))  # type: ignore[arg-type]
