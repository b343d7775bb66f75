"""What team channel adapters may ask of the core besides actions and commands: who a platform user is, which
ticket a posted card belongs to, what a ticket's card and intent are, and whether an event was seen before.

Adapters never touch the database themselves; these small reads (and the one insert of a delivery receipt) run in
worker threads and are shared by every platform (Slack, DingTalk, WeCom, the web console).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import is_row_id, utcnow
from models.tables import Agent, DeliveryReceipt, Suggestion, Ticket

if TYPE_CHECKING:
    from handlers.commands import Actor

@dataclass(frozen=True)
class TicketBrief:
    id: int
    intent: str
    status: str
    language: str | None
    card_channel: str | None
    card_ref: str | None


class TeamDesk:
    """Reads and receipts for team channel adapters over `engine`; `managers` maps a platform to the user ids
    that have the manager role there (from settings)."""

    def __init__(self, engine: Engine, managers: dict[str, frozenset[str]] | None = None) -> None:
        self.engine = engine
        self.managers = managers or {}

    # ---- identity ------------------------------------------------------------------------------------------

    def actor_for_sync(self, platform: str, user_id: str, display_name: str | None = None) -> Actor:
        """The kefu actor behind a platform user: the agent with that identity (by role), else a new face with
        role agent; a user listed as a manager of the platform is a manager whatever the table says."""
        from handlers.commands import Actor
        from handlers.commands.permissions import ROLES

        with Session(self.engine) as session:
            agents = session.scalars(select(Agent).where(Agent.active.is_(True))).all()  # type: ignore[attr-defined]
        agent = next((a for a in agents if (a.identities or {}).get(platform) == user_id), None)
        role = agent.role if agent is not None and agent.role in ROLES else "agent"
        if user_id in self.managers.get(platform, frozenset()) and role == "agent":
            role = "manager"
        name = agent.name if agent is not None else (display_name or f"{platform}:{user_id}")
        identities = {user_id, f"{platform}:{user_id}"} | ({display_name} if display_name else set())
        return Actor(name=name, role=role, identities=frozenset(identities))  # type: ignore[arg-type]

    async def actor_for(self, platform: str, user_id: str, display_name: str | None = None) -> Actor:
        return await asyncio.to_thread(self.actor_for_sync, platform, user_id, display_name)

    # ---- tickets and their cards ---------------------------------------------------------------------------

    def _brief(self, ticket: Ticket | None) -> TicketBrief | None:
        if ticket is None or ticket.id is None:
            return None
        return TicketBrief(ticket.id, ticket.intent, ticket.status, ticket.language, ticket.card_channel,
                           ticket.card_ref)

    def ticket_sync(self, ticket_id: int) -> TicketBrief | None:
        if not is_row_id(ticket_id):
            return None
        with Session(self.engine) as session:
            return self._brief(session.get(Ticket, ticket_id))

    async def ticket(self, ticket_id: int) -> TicketBrief | None:
        return await asyncio.to_thread(self.ticket_sync, ticket_id)

    def ticket_for_card_sync(self, channel: str, ref: str) -> TicketBrief | None:
        """The ticket whose card was posted on `channel` as `ref` (e.g. a Slack thread's parent)."""
        with Session(self.engine) as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.card_channel == channel, Ticket.card_ref == ref).order_by(Ticket.id)  # type: ignore[arg-type]
            ).first()
            return self._brief(ticket)

    async def ticket_for_card(self, channel: str, ref: str) -> TicketBrief | None:
        return await asyncio.to_thread(self.ticket_for_card_sync, channel, ref)

    def suggestion_text_sync(self, suggestion_id: int) -> str | None:
        if not is_row_id(suggestion_id):
            return None
        with Session(self.engine) as session:
            suggestion = session.get(Suggestion, suggestion_id)
            return suggestion.text if suggestion is not None else None

    async def suggestion_text(self, suggestion_id: int) -> str | None:
        return await asyncio.to_thread(self.suggestion_text_sync, suggestion_id)

    # ---- redeliveries --------------------------------------------------------------------------------------

    def first_delivery_sync(self, platform: str, delivery_id: str, at: datetime | None = None) -> bool:
        """Record a platform event; False when it was recorded before (a retry or a redelivery)."""
        table = DeliveryReceipt.__table__  # type: ignore[attr-defined]
        # A platform's ids are text it chose: NUL (PostgreSQL refuses it) and lone surrogates are spelt out.
        delivery_id = delivery_id.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
        values = {"platform": platform, "delivery_id": delivery_id[:255], "received_at": at or utcnow()}
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["platform", "delivery_id"]).returning(table.c.id)
        with self.engine.begin() as connection:  # rowcount is unreliable here on PostgreSQL: ask for the new id
            return connection.execute(statement).first() is not None

    async def first_delivery(self, platform: str, delivery_id: str) -> bool:
        return await asyncio.to_thread(self.first_delivery_sync, platform, delivery_id)
