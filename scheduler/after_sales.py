"""Overdue reminders of after-sales requests: a request that stays in a status longer than `[after_sales]
reminders` allows for it gets one reminder card, next to its request card, with the buttons of its next step.

One `AfterSalesReminders.run_once(now)` pass (the scheduler runs it every `after_sales.reminder_interval_seconds`)
finds the requests overdue in their status and, for each, takes the request's row lock, checks it is still in
that status, and queues the card under the dedup key `after_sales:<id>:remind:<status>` with an AuditEvent in the
same transaction. A request enters each status at most once, so the key makes it once per request and status:
another replica running the same pass waits for the lock, then finds the card queued and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.after_sales.desk import SUBJECT, describe, request_card, request_route
from bot.messages import card_to_payload
from bot.outbox import enqueue
from bot.settings import Settings
from models.db import lock_row, session_scope, utcnow
from models.tables import AfterSalesRequest, AuditEvent, OutboxItem, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    request_id: int
    status: str
    overdue_since: datetime


def format_age(seconds: float) -> str:
    """"26 h", "3 d 4 h", "45 min"."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h" if hours else f"{mins} min"


class AfterSalesReminders:
    """Posts overdue reminders; see the module docstring."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def __call__(self, now: datetime) -> list[Reminder]:
        return self.run_once(now)

    def run_once(self, now: datetime | None = None) -> list[Reminder]:
        """One pass as of `now`; the reminders it queued."""
        now = now or self.clock()
        limits = {status: after for status in self.settings.after_sales.reminders
                  if (after := self.settings.after_sales.reminder_after(status)) is not None}
        if not limits:
            return []
        with Session(self.engine) as session:
            due = list(session.execute(
                select(AfterSalesRequest.id, AfterSalesRequest.status).where(or_(*(
                    (AfterSalesRequest.status == status) & (AfterSalesRequest.status_changed_at <= now - after)
                    for status, after in limits.items())))  # type: ignore[operator]
                .order_by(AfterSalesRequest.id)  # type: ignore[arg-type]
            ).all())
        posted = []
        for request_id, status in due:  # type: ignore[misc]
            reminder = self._remind(request_id, status, now, limits[status].total_seconds())
            if reminder is not None:
                posted.append(reminder)
        return posted

    def _remind(self, request_id: int, status: str, now: datetime, limit_seconds: float) -> Reminder | None:
        key = f"after_sales:{request_id}:remind:{status}"
        with session_scope(self.engine) as session:
            request: AfterSalesRequest | None = lock_row(session, AfterSalesRequest, request_id)
            if request is None or request.status != status:
                return None  # moved on meanwhile
            if session.scalars(select(OutboxItem.id).where(OutboxItem.dedup_key == key)).first() is not None:  # type: ignore[arg-type]
                return None
            ticket = session.get(Ticket, request.ticket_id)
            assert ticket is not None
            age = (now - request.status_changed_at).total_seconds()
            title = (f"Reminder: {request.type} #{request.id} on ticket #{ticket.id} has been {status} for "
                     f"{format_age(age)} (reminder after {format_age(limit_seconds)})")
            card = request_card(session, request, ticket, title=title, body=describe(request))
            channel, target = request_route(self.settings, ticket)
            enqueue(session, dedup_key=key, kind="card", channel=channel, target=target,
                    payload=card_to_payload(card))
            session.add(AuditEvent(actor="system", action="after_sales.reminder", subject_type=SUBJECT,
                                   subject_id=str(request.id), at=now,
                                   details={"status": status, "age_seconds": int(age), "by": "kefu"}))
            log.info("after-sales reminder: %s overdue in %s", describe(request), status,
                     extra={"ticket_id": ticket.id})
            return Reminder(request_id, status, request.status_changed_at)
