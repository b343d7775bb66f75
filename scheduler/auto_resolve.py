"""Resolving tickets after a quiet period (`[tickets] auto_resolve_after`, off by default).

A ticket is resolved automatically when it is not resolved, its last message is the team's (an agent's or kefu's
reply: the ball is in the customer's court) and that message is older than the quiet period. A ticket whose last
word is the customer's is never resolved this way: someone owes them an answer. Each resolution goes through
`TicketActions.resolve_as_system` (handlers/actions.py): the same audit event, card update ("Resolved
automatically …") and CSAT survey as the Resolve button, re-checked under the ticket's row lock so that a customer
message arriving meanwhile, or another replica resolving first, wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import Settings
from handlers.actions import TicketActions
from models.db import utcnow
from models.tables import Message, Ticket

log = logging.getLogger(__name__)

BATCH = 200


def quiet_since(session: Session, ticket: Ticket) -> datetime | None:
    """When the team's last message on `ticket` was written, or None when the customer has the last word."""
    last = session.execute(
        select(Message.direction, Message.created_at).where(Message.ticket_id == ticket.id)
        .order_by(Message.created_at.desc(), Message.id.desc())  # type: ignore[attr-defined,union-attr]
    ).first()
    if last is None or last.direction != "out":
        return None
    return last.created_at  # type: ignore[no-any-return]


class AutoResolveJob:
    """A scheduler job (see scheduler/runner.py); does nothing while `[tickets] auto_resolve_after` is off."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.actions = TicketActions.without_model(engine, settings, clock=clock)

    def __call__(self, now: datetime) -> list[int]:
        return self.run_once(now)

    def run_once(self, now: datetime) -> list[int]:
        """The ids of the tickets resolved in this pass."""
        seconds = self.settings.tickets.auto_resolve_seconds
        if seconds is None:
            return []
        quiet = timedelta(seconds=seconds)
        cutoff = now - quiet
        with Session(self.engine) as session:
            # updated_at moves with every message: a ticket touched since the cutoff cannot be quiet yet.
            candidates = session.scalars(
                select(Ticket).where(Ticket.status != "resolved", Ticket.updated_at <= cutoff)  # type: ignore[arg-type]
                .order_by(Ticket.updated_at).limit(BATCH)  # type: ignore[arg-type]
            ).all()
            due = [t.id for t in candidates if (since := quiet_since(session, t)) is not None and since <= cutoff]

        def still_quiet(session: Session, ticket: Ticket) -> bool:
            since = quiet_since(session, ticket)
            return since is not None and since <= cutoff

        resolved: list[int] = []
        why = f"automatically after {self.settings.tickets.auto_resolve_after} without a customer message"
        for ticket_id in due:
            assert ticket_id is not None
            result = self.actions.resolve_as_system(ticket_id, "system", why, still_due=still_quiet)
            if result.ok and result.changed:
                resolved.append(ticket_id)
        if resolved:
            log.info("resolved %d quiet ticket(s): %s", len(resolved), resolved)
        return resolved
