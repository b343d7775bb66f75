"""The SLA watch: warns before a ticket's first-response or resolution deadline, escalates a breach, and
updates those cards in place once the clock stops ("met" or "breached by 37 min").

One `SlaWatch.run_once(now)` pass (the scheduler runs it every `sla.watch_interval_seconds`; `kefu sla check`
runs it by hand):

- pending tickets whose policy pauses the resolution clock are marked paused; when they leave pending, their
  resolution deadline moves later by the working time they spent paused;
- an open clock with at most `pre_breach_fraction` of its target left (in the policy's working time; the
  definition lives in bot/sla_clock.py, shared with the `/sla` command) gets a *warning* card on the triage
  route mentioning the assignee (or the queue when unassigned);
- a clock past due gets a *breach* card on the triage route and an *escalation* card on the managers' route;
- warning and breach cards of an unassigned ticket carry the ticket action *Assign to me* (handlers/actions);
- a warned or breached clock that has stopped (first response given, ticket resolved) gets its cards updated
  in place with the outcome, measured in working time.

Each (ticket, clock, stage) notifies once: an `SlaNotice` row, unique on those three, is inserted in the same
transaction as the outbox items (INSERT ... ON CONFLICT DO NOTHING); a second watcher (another replica) inserts
nothing and posts nothing. Database work is synchronous; the scheduler runs it in a thread.

Cards are written in the language of the channel they go to (`Settings.language_for`: Chinese on DingTalk and WeCom
by default, else English); the events, notices and dedup keys stay the same in every language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.messages import Card, CardField, card_from_payload, card_to_payload
from bot.outbox import enqueue
from bot.pipeline import TRIAGE_BUTTONS, team_route
from bot.settings import ResolvedSlaPolicy, Settings
from bot.sla_clock import clock_states
from handlers.phrases import phrase
from models.db import utcnow
from models.tables import Agent, OutboxItem, SlaNotice, Ticket

log = logging.getLogger(__name__)

CLOCKS = ("first_response", "resolution")
CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution"}
CARD_STAGES = ("warning", "breach", "escalation")
ASSIGN_BUTTON = next(button for button in TRIAGE_BUTTONS if button.action == "assign")


@dataclass(frozen=True)
class SlaEvent:
    """What one pass did (or, in a dry run, would do) for one ticket clock."""

    ticket_id: int
    clock: str  # first_response | resolution
    stage: str  # warning | breach | warning_outcome | breach_outcome | escalation_outcome | paused | resumed
    due: datetime
    detail: str  # one line for people: "due in 25 min", "overdue by 5 min", "met", "breached by 37 min"
    posted: bool  # False in a dry run

    def line(self) -> str:
        verb = "posted" if self.posted else "would post"
        if self.stage in ("paused", "resumed"):
            verb = "done" if self.posted else "would do"
        return (f"ticket #{self.ticket_id} {CLOCK_LABELS[self.clock]} {self.stage}: {self.detail} "
                f"(due {self.due.isoformat(timespec='minutes')}) [{verb}]")


def format_duration(value: timedelta, language: str = "en") -> str:
    """A short human duration in `language`: "37 min", "2 h 5 min", "1 d 3 h" ("2 小时 5 分钟" in Chinese)."""
    minutes = max(0, round(value.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [("d", days), ("h", hours)] if hours else [("d", days)]
    elif hours:
        parts = [("h", hours), ("min", mins)] if mins else [("h", hours)]
    else:
        parts = [("min", mins)]
    return " ".join(phrase(f"duration.{unit}", language, amount=amount) for unit, amount in parts)


class SlaWatch:
    """Runs SLA passes over the database of `engine` with `settings`; `clock` gives "now" when none is passed."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._zone = ZoneInfo(settings.timezone)
        self._policies: dict[tuple[str, str | None], ResolvedSlaPolicy] = {}
        self._identities: dict[str, dict[str, str]] = {}  # agent name → platform identities, for mentions

    def __call__(self, now: datetime) -> list[SlaEvent]:
        """The scheduler's entry point (see scheduler/runner.py)."""
        return self.run_once(now)

    def run_once(self, now: datetime | None = None, *, dry_run: bool = False) -> list[SlaEvent]:
        """One pass as of `now`: pause bookkeeping, warnings, breaches, outcome updates. Returns what it did (or,
        with `dry_run`, what it would do, writing nothing)."""
        now = now or self.clock()
        if now.tzinfo is None:
            raise ValueError(f"the SLA watch needs a timezone-aware time, got {now.isoformat()}")
        events: list[SlaEvent] = []
        events += self._pauses(now, dry_run)
        events += self._deadlines(now, dry_run)
        events += self._outcomes(now, dry_run)
        for event in events:
            if event.posted:
                log.info("SLA %s", event.line(), extra={"ticket_id": event.ticket_id})
        return events

    # ---- pending pauses the resolution clock -----------------------------------------------------------

    def _pauses(self, now: datetime, dry_run: bool) -> list[SlaEvent]:
        events: list[SlaEvent] = []
        with Session(self.engine) as session:
            tickets = session.scalars(select(Ticket).where(or_(
                Ticket.status == "pending", Ticket.resolution_paused_at.is_not(None),  # type: ignore[union-attr]
            ))).all()
            for ticket in tickets:
                assert ticket.id is not None
                policy = self._policy(ticket)
                if ticket.resolution_due is None:
                    continue
                if ticket.status == "pending" and ticket.resolution_paused_at is None:
                    if not policy.pause_resolution_when_pending or ticket.resolved_at is not None:
                        continue
                    since = min(ticket.updated_at, now)
                    done = dry_run or self._conditional(session, ticket.id, None, {"resolution_paused_at": since})
                    if done:
                        events.append(SlaEvent(ticket.id, "resolution", "paused", ticket.resolution_due,
                                               "waiting on the customer: resolution clock paused", not dry_run))
                elif ticket.status != "pending" and ticket.resolution_paused_at is not None:
                    paused = ticket.resolution_paused_at
                    resumed = max(paused, min(ticket.resolved_at or ticket.updated_at, now))
                    spent = policy.calendar.working_time(paused, resumed)
                    due = policy.calendar.add(ticket.resolution_due, spent) if spent > timedelta(0) \
                        else ticket.resolution_due
                    values = {"resolution_paused_at": None, "resolution_due": due}
                    if dry_run or self._conditional(session, ticket.id, paused, values):
                        events.append(SlaEvent(ticket.id, "resolution", "resumed", due,
                                               f"clock resumed, {format_duration(spent)} paused", not dry_run))
            if not dry_run:
                session.commit()
        return events

    @staticmethod
    def _conditional(session: Session, ticket_id: int, paused_at: datetime | None, values: dict[str, Any]) -> bool:
        """Update the ticket only if its pause mark is still what this pass saw (another replica may be first)."""
        table = Ticket.__table__  # type: ignore[attr-defined]
        seen = table.c.resolution_paused_at.is_(None) if paused_at is None \
            else table.c.resolution_paused_at == paused_at
        result = session.execute(update(table).where(table.c.id == ticket_id, seen).values(**values))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # ---- warnings and breaches -------------------------------------------------------------------------

    def _deadlines(self, now: datetime, dry_run: bool) -> list[SlaEvent]:
        with Session(self.engine) as session:
            tickets = session.scalars(
                select(Ticket).where(Ticket.resolved_at.is_(None), Ticket.status != "resolved")  # type: ignore[union-attr]
                .where(or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None)))  # type: ignore[union-attr]
                .order_by(Ticket.id)  # type: ignore[arg-type]
            ).all()
            notified = {(n.ticket_id, n.clock, n.stage) for n in session.scalars(
                select(SlaNotice).where(SlaNotice.ticket_id.in_([t.id for t in tickets]))  # type: ignore[attr-defined]
            )} if tickets else set()
            agents = list(session.scalars(select(Agent)))
            owners = {a.id: a.name for a in agents}
            self._identities = {a.name: dict(a.identities or {}) for a in agents}
        events: list[SlaEvent] = []
        for ticket in tickets:
            assert ticket.id is not None
            policy = self._policy(ticket)
            for state in clock_states(ticket, policy, now, self.settings.sla.pre_breach_fraction):
                clock, due, stage = state.clock, state.due, state.stage
                if stage == "breach":
                    late: timedelta | None = state.overdue
                elif stage == "warning":
                    late = None
                else:
                    continue
                detail = _detail(state.left, late, "en")
                if (ticket.id, clock, stage) in notified:
                    continue
                owner = owners.get(ticket.assignee_id) if ticket.assignee_id is not None else None
                if dry_run or self._notify(ticket, clock, stage, due, (state.left, late), owner, policy):
                    events.append(SlaEvent(ticket.id, clock, stage, due, detail, not dry_run))
        return events

    def _notify(self, ticket: Ticket, clock: str, stage: str, due: datetime,
                left_late: tuple[timedelta, timedelta | None], owner: str | None, policy: ResolvedSlaPolicy) -> bool:
        """Insert the notice(s) and enqueue the card(s) in one transaction, each card in its channel's language;
        False when another watcher did. `left_late`: the time left and, for a breach, the time overdue."""
        assert ticket.id is not None
        channel, target = team_route(self.settings, ticket)
        managers = self.settings.sla.managers
        with Session(self.engine) as session:
            if not self._claim_notice(session, ticket.id, clock, stage, due):
                session.rollback()
                return False
            card = self._card(ticket, clock, stage, due, left_late, owner, policy, self.settings.language_for(channel))
            item = enqueue(session, dedup_key=f"sla:{ticket.id}:{clock}:{stage}", kind="alert",
                           channel=channel, target=target, payload=card_to_payload(card),
                           ticket_id=ticket.id)
            self._link(session, ticket.id, clock, stage, item.id)
            if stage == "breach" and self._claim_notice(session, ticket.id, clock, "escalation", due):
                escalation = self._card(ticket, clock, "escalation", due, left_late, owner, policy,
                                        self.settings.language_for(managers.channel))
                item = enqueue(session, dedup_key=f"sla:{ticket.id}:{clock}:escalation", kind="alert",
                               channel=managers.channel, target=managers.target,
                               payload=card_to_payload(escalation), ticket_id=ticket.id)
                self._link(session, ticket.id, clock, "escalation", item.id)
            session.commit()
        return True

    @staticmethod
    def _claim_notice(session: Session, ticket_id: int, clock: str, stage: str, due: datetime) -> bool:
        values = {"ticket_id": ticket_id, "clock": clock, "stage": stage, "due_at": due, "created_at": utcnow()}
        table = SlaNotice.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(values).on_conflict_do_nothing(
            index_elements=["ticket_id", "clock", "stage"]).returning(table.c.id)
        return session.execute(statement).scalar_one_or_none() is not None

    @staticmethod
    def _link(session: Session, ticket_id: int, clock: str, stage: str, item_id: int | None) -> None:
        table = SlaNotice.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.ticket_id == ticket_id, table.c.clock == clock,
                                            table.c.stage == stage).values(outbox_item_id=item_id))

    def _card(self, ticket: Ticket, clock: str, stage: str, due: datetime,
              left_late: tuple[timedelta, timedelta | None], owner: str | None, policy: ResolvedSlaPolicy,
              language: str = "en") -> Card:
        label = phrase(f"sla_card.clock.{clock}", language)
        detail = _detail(*left_late, language)
        heading = phrase(f"sla_card.{stage}", language)
        mention = f"@{owner}" if owner else phrase("sla_card.queue", language)
        nobody = phrase("owner.unassigned", language)
        body = phrase(f"sla_card.body.{stage}", language, mention=mention, clock=label, ticket=ticket.id,
                      detail=detail, owner=owner or nobody)
        fields = (
            CardField(phrase("sla_card.field.ticket", language), f"#{ticket.id} · {ticket.intent} · {ticket.channel}"),
            CardField(phrase("sla_card.field.due", language), self._local(due, language)),
            CardField(phrase("sla_card.field.assignee", language), owner or nobody),
            CardField(phrase("sla_card.field.policy", language), policy.name),
        )
        # Someone must take an unassigned ticket before its deadline: the triage card's Assign to me, on the card
        # that says so (a ticket action: adapters send it as they send the triage card's).
        buttons = (ASSIGN_BUTTON,) if owner is None and stage in ("warning", "breach") else ()
        if owner:
            mentions = tuple((mention, platform, user) for platform, user in
                             sorted(self._identities.get(owner, {}).items()))
        else:
            mentions = ((mention, "*", "here"),) if stage != "escalation" else ()
        return Card(kind="sla_alert", title=phrase("sla_card.title", language, heading=heading, ticket=ticket.id,
                                                   clock=label, detail=detail), body=body,
                    severity=ticket.severity, fields=fields, ticket_id=ticket.id, language=None, buttons=buttons,
                    mentions=mentions)

    def _local(self, when: datetime, language: str = "en") -> str:
        local = when.astimezone(self._zone)
        return f"{phrase(f'weekday.{local.weekday()}', language)} {local:%Y-%m-%d %H:%M %Z}"

    # ---- outcomes: update the cards in place -----------------------------------------------------------

    def _outcomes(self, now: datetime, dry_run: bool) -> list[SlaEvent]:
        events: list[SlaEvent] = []
        with Session(self.engine) as session:
            outcome = aliased(SlaNotice)
            settled = exists().where(
                outcome.ticket_id == SlaNotice.ticket_id, outcome.clock == SlaNotice.clock,
                outcome.stage == SlaNotice.stage + "_outcome",  # type: ignore[operator]
            )
            pending = list(session.scalars(select(SlaNotice).where(
                SlaNotice.stage.in_(CARD_STAGES), ~settled,  # type: ignore[attr-defined]
            ).order_by(SlaNotice.id)))  # type: ignore[arg-type]
            tickets = {t.id: t for t in session.scalars(select(Ticket).where(
                Ticket.id.in_({n.ticket_id for n in pending})))} if pending else {}  # type: ignore[union-attr]
            items = {i.id: i for i in session.scalars(select(OutboxItem).where(
                OutboxItem.id.in_({n.outbox_item_id for n in pending})))} if pending else {}  # type: ignore[union-attr]
        for notice in pending:
            ticket = tickets[notice.ticket_id]
            stopped, due = self._stopped(ticket, notice.clock)
            if stopped is None or due is None or stopped > now:
                continue
            item = items.get(notice.outbox_item_id)
            if item is not None and item.status == "pending":
                continue  # the card is not posted yet: update it once its reference is known
            policy = self._policy(ticket)
            late = policy.calendar.working_time(due, stopped) if stopped > due else timedelta(0)
            outcome = "met" if stopped <= due else f"breached by {format_duration(late)}"
            stage = f"{notice.stage}_outcome"
            if dry_run or self._update(ticket, notice, stage, due, None if stopped <= due else late, item):
                events.append(SlaEvent(notice.ticket_id, notice.clock, stage, due, outcome, not dry_run))
        return events

    @staticmethod
    def _stopped(ticket: Ticket, clock: str) -> tuple[datetime | None, datetime | None]:
        """When the clock stopped (None while it runs) and the deadline it is measured against."""
        if clock == "first_response":
            return ticket.first_response_at or ticket.resolved_at, ticket.first_response_due
        return ticket.resolved_at, ticket.resolution_due

    def _update(self, ticket: Ticket, notice: SlaNotice, stage: str, due: datetime, late: timedelta | None,
                item: OutboxItem | None) -> bool:
        """Record the outcome (`late`: None when the deadline was met) and update the posted card in place, in
        the language of the channel it was posted to."""
        assert ticket.id is not None
        with Session(self.engine) as session:
            if not self._claim_notice(session, ticket.id, notice.clock, stage, due):
                session.rollback()
                return False
            if item is not None and item.status == "sent" and item.result_ref:
                card = card_from_payload(item.payload)
                language = self.settings.language_for(item.channel)
                label = phrase(f"sla_card.clock.{notice.clock}", language)
                outcome = phrase("sla_card.met", language) if late is None else \
                    phrase("sla_card.breached_by", language, amount=format_duration(late, language))
                mark = "✅" if late is None else "❌"
                title = phrase("sla_card.outcome_title", language, mark=mark, clock=label, outcome=outcome,
                               ticket=ticket.id)
                card = replace(card, title=title, buttons=(),
                               fields=(*card.fields, CardField(phrase("sla_card.field.outcome", language), outcome)))
                update_item = enqueue(session, dedup_key=f"sla:{ticket.id}:{notice.clock}:{stage}",
                                      kind="card_update", channel=item.channel, target=item.result_ref,
                                      payload=card_to_payload(card), ticket_id=ticket.id)
                self._link(session, ticket.id, notice.clock, stage, update_item.id)
            # A card that never went out (failed) has nothing to update: the outcome is recorded all the same.
            session.commit()
        return True

    def _policy(self, ticket: Ticket) -> ResolvedSlaPolicy:
        key = (ticket.channel, ticket.marketplace)
        if key not in self._policies:
            self._policies[key] = self.settings.sla.policy_for(*key)
        return self._policies[key]


def _detail(left: timedelta, late: timedelta | None, language: str) -> str:
    """ "due in 25 min" (`late` None: a warning) or "overdue by 5 min" (a breach), in `language`."""
    if late is not None:
        return phrase("sla_card.overdue", language, amount=format_duration(late, language))
    return phrase("sla_card.due_in", language, amount=format_duration(left, language))
