"""Filing a message where it belongs: the customer, the conversation's ticket and its SLA clocks, the message row.

`file_inbound` gets or creates the customer (race-safe, holding the row lock until commit), joins the
conversation's open ticket or opens one with the message's intent, kind, severity and SLA due times, and stores
the message; `file_agent_message` stores an agent's message and stamps the ticket's first response. Every time is
the caller's `at`: now for live traffic (bot.pipeline), the message's own time for the history import
(bot.history_import). Nothing here replies or posts: the pipeline decides that afterwards; the import never does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.messages import CustomerInfo, Inbound
from bot.settings import SlaSettings
from bot.sla_clock import stamp_first_response
from intents.catalogue import UNKNOWN_INTENT
from models.tables import Customer, Message, Ticket

if TYPE_CHECKING:
    from intents.classifier import Prediction
    from intents.language import LanguageGuess

log = logging.getLogger("kefu.pipeline")


@dataclass(frozen=True)
class Filed:
    """Where `file_inbound` put a customer's message; `opened`: the message opened the ticket."""

    customer: Customer
    ticket: Ticket
    message: Message
    opened: bool


def file_inbound(session: Session, sla: SlaSettings, inbound: Inbound, guess: LanguageGuess, language: str | None,
                 prediction: Prediction, at: datetime, *, history: bool = False, customer: Customer | None = None,
                 message_fields: Mapping[str, Any] | None = None) -> Filed:
    """Store a customer's message (understood as `language` and `prediction`) on its conversation's ticket.

    With `history` the message is from the past, filed in time order: it also joins a ticket that was resolved at
    or after `at` (the export recorded the resolution, the conversation had not ended yet at that message).
    `customer`: the customer as `lock_customer` returned it in this transaction (None: locked here);
    `message_fields`: more columns of the message row (its sentiment), written with it rather than updated after.
    IntegrityError on flush: the channel's message id is stored already.
    """
    conversation_id = inbound.conversation_id or inbound.customer.id
    if customer is None:
        customer = lock_customer(session, inbound.channel, inbound.customer, at)
    ticket = conversation_ticket(session, inbound.channel, conversation_id, resolved_after=at if history else None)
    opened = ticket is None
    if ticket is None:
        ticket = open_ticket(session, sla, inbound, customer, conversation_id, language, prediction, at)
    else:
        follow_up(sla, ticket, language, prediction, at)
    message = Message(
        ticket_id=ticket.id, channel=inbound.channel, channel_message_id=inbound.channel_message_id,
        direction="in", author_kind="customer", author=inbound.customer.id, text=inbound.text,
        language=language, language_confidence=guess.confidence, intent=prediction.intent,
        confidence=prediction.confidence, sent_at=inbound.sent_at, created_at=at, **(message_fields or {}),
    )
    session.add(message)
    session.flush()
    return Filed(customer, ticket, message, opened)


def file_agent_message(session: Session, sla: SlaSettings, ticket: Ticket, author: str | None, text: str,
                       at: datetime, *, channel_message_id: str | None = None,
                       sent_at: datetime | None = None) -> Message:
    """Store an agent's message on `ticket` at `at` (in the ticket's language). The first one is the ticket's first
    response; a ticket not resolved is open (a person is on it). `sent_at`: when it reached the customer, if it has
    (a live reply is sent later, by the outbox)."""
    message = Message(ticket_id=ticket.id, channel=ticket.channel, channel_message_id=channel_message_id,
                      direction="out", author_kind="agent", author=author, text=text, language=ticket.language,
                      sent_at=sent_at, created_at=at)
    session.add(message)
    session.flush()
    stamp_first_response(ticket, at, sla)
    if ticket.status != "resolved":
        ticket.status = "open"
    ticket.updated_at = max(ticket.updated_at, at)
    session.add(ticket)
    return message


def lock_customer(session: Session, channel: str, info: CustomerInfo, now: datetime) -> Customer:
    """Get or create the customer (race-safe), refresh what the channel states about them, and hold the row
    lock (the SQLite write lock) until commit, so one customer's messages open tickets one at a time.

    One statement: INSERT ... ON CONFLICT DO UPDATE (the update takes the row lock even when nothing is stated)
    RETURNING the row."""
    values = {"channel": channel, "external_id": info.id, "name": info.name, "language": info.language,
              "country": info.country, "email": info.email, "created_at": now}
    stated = tuple(key for key in _STATED if values[key])
    statement = _customer_upsert(session.get_bind().dialect.name, stated)
    return session.scalars(statement, values, execution_options={"populate_existing": True}).one()


_STATED = ("name", "language", "country", "email")  # what a channel may state about a customer


@functools.cache
def _customer_upsert(dialect: str, stated: tuple[str, ...]) -> Any:
    """The customer upsert that refreshes the `stated` columns, built once per dialect and set of columns (the
    values are bound at execution: building the statement costs more than running it)."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Customer)
    return statement.on_conflict_do_update(
        index_elements=["channel", "external_id"],
        set_={key: statement.excluded[key] for key in stated} or {"channel": statement.excluded.channel},
    ).returning(Customer)


def conversation_ticket(session: Session, channel: str, conversation_id: str, *,
                        resolved_after: datetime | None = None, lock: bool = False) -> Ticket | None:
    """The ticket a new message of the conversation joins: its latest unresolved ticket, or also (history) one
    resolved at or after `resolved_after`. None: the message opens a ticket. With `lock`, the ticket's row is
    locked until commit and read afresh (one writer at a time, as for a live agent reply)."""
    still_open: Any = Ticket.status != "resolved"
    if resolved_after is not None:
        still_open = or_(still_open, Ticket.resolved_at >= resolved_after)  # type: ignore[operator]
    query = (
        select(Ticket)
        .where(Ticket.channel == channel, Ticket.conversation_id == conversation_id, still_open)
        .order_by(Ticket.id.desc())  # type: ignore[union-attr]
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def due_times(sla: SlaSettings, severity: int, start: datetime, channel: str | None = None,
              marketplace: str | None = None) -> tuple[datetime, datetime]:
    """First-response and resolution deadlines under the SLA policy for this channel and marketplace."""
    return sla.policy_for(channel, marketplace).due_times(severity, start)


def open_ticket(session: Session, sla: SlaSettings, inbound: Inbound, customer: Customer, conversation_id: str,
                language: str | None, prediction: Prediction, at: datetime) -> Ticket:
    """A new ticket for the conversation, created at `at`, its SLA clocks starting then."""
    first_due, resolution_due = due_times(sla, prediction.severity, at, inbound.channel, inbound.marketplace)
    assert customer.id is not None
    ticket = Ticket(
        customer_id=customer.id, channel=inbound.channel, conversation_id=conversation_id, status="new",
        intent=prediction.intent, kind=prediction.kind, severity=prediction.severity,
        confidence=prediction.confidence, language=language, order_id=inbound.order_id, sku=inbound.sku,
        marketplace=inbound.marketplace, region=customer.country, created_at=at, updated_at=at,
        first_response_due=first_due, resolution_due=resolution_due,
    )
    session.add(ticket)
    session.flush()
    log.info("ticket %s opened: %s, severity %d", ticket.id, ticket.intent, ticket.severity,
             extra={"ticket_id": ticket.id})
    return ticket


def follow_up(sla: SlaSettings, ticket: Ticket, language: str | None, prediction: Prediction, at: datetime) -> None:
    """A further message on an open ticket: it keeps its first in-scope intent; a more severe message raises
    its severity and tightens its due times (from `at`, never later than they were)."""
    if ticket.intent == UNKNOWN_INTENT and prediction.intent != UNKNOWN_INTENT:
        ticket.intent, ticket.kind, ticket.confidence = prediction.intent, prediction.kind, prediction.confidence
    if prediction.severity < ticket.severity:
        first_due, resolution_due = due_times(sla, prediction.severity, at, ticket.channel, ticket.marketplace)
        ticket.severity = prediction.severity
        ticket.first_response_due = min(d for d in (ticket.first_response_due, first_due) if d is not None)
        ticket.resolution_due = min(d for d in (ticket.resolution_due, resolution_due) if d is not None)
        log.info("ticket %s escalated to severity %d", ticket.id, ticket.severity, extra={"ticket_id": ticket.id})
    if ticket.status == "pending":
        ticket.status = "open"  # the customer answered: the ticket needs attention again
        if ticket.first_response_at is None:
            # Only the bot answered so far: a person owes a first response from now on.
            ticket.first_response_due = min(
                d for d in (due_times(sla, ticket.severity, at, ticket.channel, ticket.marketplace)[0],
                            ticket.resolution_due) if d is not None
            )
    ticket.language = ticket.language or language
    ticket.updated_at = at
