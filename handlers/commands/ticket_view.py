"""A ticket as `/ticket ID` shows it, as data: its facts, its conversation and its timeline, read in one session.

`answers.answer_ticket` writes it as chat text for every platform; the web console's ticket page
(adapters/webchat/console.py) renders the same data as a page (facts as a list, the conversation as messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.tables import Agent, AuditEvent, Customer, Message, Ticket

MAX_MESSAGES = 20  # the newest ones; `message_count` says how many there are
MAX_EVENTS = 20


@dataclass(frozen=True)
class TicketMessage:
    at: datetime
    direction: str  # in (the customer's) | out (an agent's or kefu's)
    author_kind: str  # customer | agent | bot
    author: str  # the customer's name, the agent's name, or the author kind
    text: str
    language: str | None


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    action: str
    actor: str


@dataclass(frozen=True)
class TicketView:
    """Everything `/ticket ID` tells about a ticket."""

    id: int
    status: str
    intent: str
    kind: str
    severity: int
    channel: str
    marketplace: str | None
    region: str | None
    language: str | None
    owner: str  # the assignee's name, or "unassigned"
    customer: str  # the customer's name, or their id on the channel
    created_at: datetime
    order_id: str | None
    sku: str | None
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolved_at: datetime | None
    resolution_due: datetime | None
    messages: tuple[TicketMessage, ...]
    message_count: int
    timeline: tuple[TicketEvent, ...]
    assignee_id: int | None = None  # None: `owner` reads "unassigned"


def load_ticket_view(engine: Engine, ticket_id: int) -> TicketView | None:
    """The ticket `ticket_id` with its newest messages and events; None when there is no such ticket."""
    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.id is None:
            return None
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                                   .order_by(Message.created_at, Message.id)).all()  # type: ignore[arg-type]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "ticket", AuditEvent.subject_id == str(ticket.id))
            .order_by(AuditEvent.at, AuditEvent.id)).all()  # type: ignore[arg-type]
        owner = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
        customer = session.get(Customer, ticket.customer_id)
        customer_name = (customer.name or customer.external_id) if customer is not None else "?"
        return TicketView(
            id=ticket.id, status=ticket.status, intent=ticket.intent, kind=ticket.kind, severity=ticket.severity,
            channel=ticket.channel, marketplace=ticket.marketplace, region=ticket.region, language=ticket.language,
            owner=owner.name if owner is not None else "unassigned", customer=customer_name,
            created_at=ticket.created_at, order_id=ticket.order_id, sku=ticket.sku,
            first_response_at=ticket.first_response_at, first_response_due=ticket.first_response_due,
            resolved_at=ticket.resolved_at, resolution_due=ticket.resolution_due,
            messages=tuple(TicketMessage(m.created_at, m.direction, m.author_kind, m.author or m.author_kind,
                                         m.text, m.language) for m in messages[-MAX_MESSAGES:]),
            message_count=len(messages),
            timeline=tuple(TicketEvent(e.at, e.action, e.actor) for e in events[-MAX_EVENTS:]),
            assignee_id=owner.id if owner is not None else None,
        )
