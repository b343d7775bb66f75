"""Off-shift reassignment: with `[assignment] mode = "auto"`, the open tickets of an agent who went off shift move
to agents on shift (bot/assignment picks them as it does for new tickets), or, when nobody fits, become
unassigned and the queue's channel is asked — then the SLA watch escalates as usual.

A ticket moves when its assignee went off shift (their calendar's window ended, `/shift stop`, a hand-started
shift ran out) after they got it, or is deactivated; a ticket given to someone already off shift (by a manager,
or taken by hand) stays theirs until their next shift ends. Each move happens once: it holds the ticket's row
lock and checks that the assignee is still the one it saw, so a second replica's pass finds nothing to do. Every
move is an AuditEvent ("ticket.assign", how "off_shift", its reason in English) and updates the ticket's card in
place, written (like the queue's notice) in the language of the card's channel (`Settings.language_for`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.assignment.routing import (
    assigned_value,
    best_for,
    load_candidates,
    nobody_value,
    queue_notice,
    record_assignment,
)
from bot.assignment.shifts import shift_status
from bot.messages import CardField, card_to_payload
from bot.outbox import enqueue
from bot.pipeline import team_route
from bot.settings import Settings
from bot.wording import Wording
from handlers.actions import queue_card_update
from handlers.phrases import phrase_of, say, write_wording
from models.db import lock_row, session_scope, utcnow
from models.tables import Agent, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reassignment:
    """One ticket moved off an off-shift agent: to `to` (None: nobody fits, the queue was asked), and why."""

    ticket_id: int
    from_agent: str
    to: str | None
    why: str


class OffShiftReassignment:
    """The scheduler job (scheduler/runner.py): one pass per call, as of `now`."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def __call__(self, now: datetime) -> list[Reassignment]:
        return self.run_once(now)

    def run_once(self, now: datetime | None = None) -> list[Reassignment]:
        if self.settings.assignment.mode != "auto":
            return []
        now = now or self.clock()
        with Session(self.engine) as session:
            team = {c.id: c for c in load_candidates(session, now, self.settings.assignment)}
            on_shift = [agent_id for agent_id, c in team.items() if c.status.on]
            rows = session.execute(
                select(Ticket.id, Ticket.assignee_id, Ticket.assigned_at)
                .where(Ticket.assignee_id.is_not(None), Ticket.status != "resolved",  # type: ignore[union-attr]
                       Ticket.resolved_at.is_(None), Ticket.assignee_id.not_in(on_shift))  # type: ignore[union-attr]
                .order_by(Ticket.severity, Ticket.created_at, Ticket.id)  # type: ignore[arg-type]
            ).all()
        moved = []
        for ticket_id, assignee_id, assigned_at in rows:
            leaving = team.get(assignee_id)
            if leaving is not None:  # active and off shift: only if they went off after getting the ticket
                went_off = leaving.status.went_off_at
                if went_off is None or (assigned_at is not None and went_off < assigned_at):
                    continue
            result = self._move(ticket_id, assignee_id, now)
            if result is not None:
                moved.append(result)
                log.info("ticket %s: %s went off shift → %s (%s)", result.ticket_id, result.from_agent,
                         result.to or "nobody, the queue is asked", result.why, extra={"ticket_id": ticket_id})
        return moved

    def _move(self, ticket_id: int, from_id: int, now: datetime) -> Reassignment | None:
        with session_scope(self.engine) as session:
            ticket: Ticket | None = lock_row(session, Ticket, ticket_id)
            if ticket is None or ticket.assignee_id != from_id or ticket.status == "resolved":
                return None  # moved, reassigned or resolved meanwhile (another replica, an agent)
            leaving = session.get(Agent, from_id)
            name = leaving.name if leaving is not None else f"agent {from_id}"
            if leaving is not None and leaving.active and shift_status(leaving, now).on:
                return None  # back on shift meanwhile
            pick = best_for(session, self.settings, ticket, now, exclude=[from_id])
            still_active = leaving is not None and leaving.active
            gone = f"{name} went off shift" if still_active else f"{name} is deactivated"
            gone_wording = Wording("assignment.why.gone_off" if still_active else "assignment.why.deactivated",
                                   {"agent": name})
            clock = f"{now:%H:%M} UTC"
            card_channel = ticket.card_channel or self.settings.triage.channel
            card_language = self.settings.language_for(card_channel)
            if pick.agent is not None:
                target = session.get(Agent, pick.agent.id)
                audit = record_assignment(session, ticket, target, actor="system", how="off_shift",
                                          why=f"{gone}; {pick.why}", now=now)
                queue_card_update(session, ticket, audit,
                                  say("card.reassigned", old=name, gone=phrase_of(gone_wording),
                                      agent=pick.agent.name, time=clock),
                                  (CardField("Assignee", assigned_value(pick.agent.name, pick, card_language,
                                                                        write_wording)),),
                                  default_channel=self.settings.triage.channel,
                                  language_for=self.settings.language_for)
                return Reassignment(ticket_id, name, pick.agent.name, pick.why)
            audit = record_assignment(session, ticket, None, actor="system", how="off_shift",
                                      why=f"{gone}; {pick.why}", now=now)
            reason = Wording("assignment.why.and", {"gone": gone_wording, "why": pick.wording})
            queue_card_update(session, ticket, audit, say("card.unassigned", time=clock, why=phrase_of(reason)),
                              (CardField("Assignee", nobody_value(pick, card_language, write_wording)),),
                              default_channel=self.settings.triage.channel, language_for=self.settings.language_for)
            channel, target = team_route(self.settings, ticket)
            notice = queue_notice(ticket, f"{gone} and {pick.why}", reason,
                                  language=self.settings.language_for(channel), write=write_wording)
            enqueue(session, dedup_key=f"assign:queue:{ticket_id}:{audit.id}", kind="notice", channel=channel,
                    target=target, payload=card_to_payload(notice), ticket_id=ticket_id)
            return Reassignment(ticket_id, name, None, pick.why)
