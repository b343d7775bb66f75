"""Who gets a ticket: the on-shift agent who speaks the customer's language and handles the intent (or the
ticket's queue), with the lightest load — open tickets weighted by severity — below their capacity; high-value
customers go to senior agents when `[assignment] senior_tiers` names their tier and a senior fits.

`pick_assignee` is the pure choice over `Candidate`s (with the reason, or why nobody fits, in English for the
audit log and as a `Wording` for cards in the team channel's language); `load_candidates`
reads the team and their loads; `record_assignment` sets the ticket's assignee and writes the AuditEvent that
every assignment gets (auto, by command, reassignment); `TicketAssigner.on_intake` is what the pipeline calls
for a ticket that needs a human: it assigns (auto) or names (suggest) someone on the triage card, or says nobody
fits and asks the queue's channel with a notice that calls on everyone there. Its card texts are written in the
language of the card's channel (`Settings.language_for`) by the `WordingWriter` its caller gives (English without).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from bot.assignment.shifts import ShiftStatus, calendar_of, shift_status
from bot.messages import Card, CardField, card_to_payload
from bot.outbox import enqueue
from bot.settings import AssignmentSettings, Settings, TriageSettings
from bot.wording import Wording, WordingWriter
from models.db import lock_row, utcnow
from models.tables import Agent, AuditEvent, Customer, Ticket

QUEUE_MENTION = "Unassigned: the queue"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """An active agent as assignment sees them at one instant."""

    id: int
    name: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int | None
    senior: bool
    status: ShiftStatus
    timezone: str  # their shift calendar's (UTC without one): how "on shift until" is written
    open_tickets: int = 0
    load: float = 0.0
    last_assigned_at: datetime | None = None
    identities: tuple[tuple[str, str], ...] = ()

    def speaks(self, language: str | None) -> bool:
        """Whether they answer in `language` ("pt" covers "pt-BR"); no languages listed: any."""
        if not language or not self.languages:
            return True
        return _base(language) in {_base(code) for code in self.languages}

    def handles(self, intent: str, queue: str | None) -> bool:
        """Whether the intent or the queue is among their skills; no skills listed (or "*"): everything."""
        skills = {skill.casefold() for skill in self.skills}
        return not skills or "*" in skills or intent.casefold() in skills or \
            (queue is not None and queue.casefold() in skills)

    def has_room(self) -> bool:
        return self.capacity is None or self.open_tickets < self.capacity

    def mentions(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((f"@{self.name}", platform, user) for platform, user in self.identities)


@dataclass(frozen=True)
class Pick:
    """The chosen agent and why, or None and why nobody fits: `why` in English (the audit log's), `wording` the
    same for a card in another language."""

    agent: Candidate | None
    why: str
    wording: Wording


def _base(language: str) -> str:
    return language.split("-")[0].casefold()


def pick_assignee(candidates: Iterable[Candidate], *, language: str | None, intent: str, queue: str | None = None,
                  senior_wanted: bool = False, exclude: Iterable[int] = ()) -> Pick:
    """The best agent for a ticket among `candidates` (minus `exclude`): on shift, speaks `language`, handles
    `intent` or `queue`, has room; the lightest load wins, then the fewest open tickets, then whoever waited
    longest since their last assignment. With `senior_wanted`, a senior agent who fits goes first."""
    skipped = set(exclude)
    on_shift = [c for c in candidates if c.id not in skipped and c.status.on]
    if not on_shift:
        return Pick(None, "nobody is on shift", Wording("assignment.why.nobody_on_shift"))
    speaking = [c for c in on_shift if c.speaks(language)]
    if not speaking:
        return Pick(None, f"nobody on shift speaks {language}",
                    Wording("assignment.why.nobody_speaks", {"language": language}))
    handling = [c for c in speaking if c.handles(intent, queue)]
    if not handling:
        subject = queue or intent
        if language:
            return Pick(None, f"nobody on shift who speaks {language} handles {subject}",
                        Wording("assignment.why.nobody_speaking_handles", {"language": language, "subject": subject}))
        return Pick(None, f"nobody on shift handles {subject}",
                    Wording("assignment.why.nobody_handles", {"subject": subject}))
    free = [c for c in handling if c.has_room()]
    if not free:
        full = ", ".join(f"{c.name} {c.open_tickets}/{c.capacity}" for c in handling)
        return Pick(None, f"everyone on shift who fits is at capacity ({full})",
                    Wording("assignment.why.at_capacity", {"full": full}))
    seniors = [c for c in free if c.senior]
    pool = seniors if senior_wanted and seniors else free
    best = min(pool, key=lambda c: (c.load, c.open_tickets, c.last_assigned_at or _EPOCH, c.id))
    reasons: list[tuple[str, Wording]] = []
    if language and best.languages:
        reasons.append((f"speaks {language}", Wording("assignment.why.speaks", {"language": language})))
    if best.skills and "*" not in best.skills:
        skill = intent if intent.casefold() in {s.casefold() for s in best.skills} else queue
        reasons.append((f"handles {skill}", Wording("assignment.why.handles", {"subject": skill})))
    if senior_wanted:
        reasons.append(("senior, for a high-value customer", Wording("assignment.why.senior")) if best.senior
                       else ("no senior agent free for this high-value customer", Wording("assignment.why.no_senior")))
    tickets = Wording("assignment.why.open_ticket" if best.open_tickets == 1 else "assignment.why.open_tickets",
                      {"count": best.open_tickets})
    tickets_text = f"{best.open_tickets} open ticket{'s' if best.open_tickets != 1 else ''}"
    reasons.append((f"{tickets_text}, the lightest load of {len(pool)}",
                    Wording("assignment.why.lightest", {"tickets": tickets, "count": len(pool)}))
                   if len(pool) > 1 else (tickets_text, tickets))
    if best.status.until is not None:
        local = best.status.until.astimezone(ZoneInfo(best.timezone))
        reasons.append((f"on shift until {local:%H:%M} {best.timezone}",
                        Wording("assignment.why.until", {"time": f"{local:%H:%M}", "timezone": best.timezone})))
    return Pick(best, ", ".join(text for text, _ in reasons),
                Wording("assignment.why.reasons", {"reasons": tuple(wording for _, wording in reasons)}))


def load_candidates(session: Session, now: datetime, settings: AssignmentSettings,
                    only: Sequence[int] | None = None) -> list[Candidate]:
    """The active agents (or those of `only`) with their shift state at `now` and their open tickets' load."""
    query = select(Agent).where(Agent.active.is_(True))  # type: ignore[attr-defined]
    if only is not None:
        query = query.where(Agent.id.in_(list(only)))  # type: ignore[union-attr]
    agents = list(session.scalars(query.order_by(Agent.id)))  # type: ignore[arg-type]
    if not agents:
        return []
    ids = [a.id for a in agents]
    counts: dict[int, int] = {}
    loads: dict[int, float] = {}
    for assignee_id, severity, count in session.execute(
        select(Ticket.assignee_id, Ticket.severity, func.count())
        .where(Ticket.assignee_id.in_(ids), Ticket.status != "resolved",  # type: ignore[union-attr]
               Ticket.resolved_at.is_(None))  # type: ignore[union-attr]
        .group_by(Ticket.assignee_id, Ticket.severity)
    ):
        counts[assignee_id] = counts.get(assignee_id, 0) + count
        loads[assignee_id] = loads.get(assignee_id, 0.0) + count * settings.severity_weights.get(severity, 1.0)
    last = dict(session.execute(  # type: ignore[arg-type]
        select(Ticket.assignee_id, func.max(Ticket.assigned_at))
        .where(Ticket.assignee_id.in_(ids)).group_by(Ticket.assignee_id)  # type: ignore[union-attr]
    ).all())
    result = []
    for agent in agents:
        assert agent.id is not None
        calendar = calendar_of(agent)
        result.append(Candidate(
            id=agent.id, name=agent.name, languages=tuple(agent.languages or ()), skills=tuple(agent.skills or ()),
            capacity=agent.capacity, senior=bool(agent.senior), status=shift_status(agent, now),
            timezone=calendar.timezone if calendar is not None else "UTC", open_tickets=counts.get(agent.id, 0),
            load=loads.get(agent.id, 0.0), last_assigned_at=_aware(last.get(agent.id)),
            identities=tuple(sorted((agent.identities or {}).items())),
        ))
    return result


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # an aggregate comes back without the column type's conversion


def ticket_queue(triage: TriageSettings, ticket: Ticket) -> str | None:
    """The name of the ticket's queue: the first triage route it matches, when that route has a name."""
    for route in triage.routes:
        if route.matches(marketplace=ticket.marketplace, region=ticket.region, language=ticket.language,
                         severity=ticket.severity, intent=ticket.intent, customer_channel=ticket.channel):
            return route.name
    return None


def best_for(session: Session, settings: Settings, ticket: Ticket, now: datetime, *,
             exclude: Iterable[int] = ()) -> Pick:
    """The pick for `ticket` as of `now`. The chosen agent's row is locked and their load counted again under
    the lock, so two tickets picked at once (two replicas) cannot both take an agent's last free place."""
    skipped = set(exclude)
    customer = session.get(Customer, ticket.customer_id)
    senior_wanted = customer is not None and customer.tier is not None and \
        customer.tier.casefold() in {tier.casefold() for tier in settings.assignment.senior_tiers}
    queue = ticket_queue(settings.triage, ticket)
    candidates = load_candidates(session, now, settings.assignment)
    for _ in range(3):
        pick = pick_assignee(candidates, language=ticket.language, intent=ticket.intent, queue=queue,
                             senior_wanted=senior_wanted, exclude=skipped)
        if pick.agent is None or pick.agent.capacity is None:
            return pick
        lock_row(session, Agent, pick.agent.id)
        fresh = load_candidates(session, now, settings.assignment, only=[pick.agent.id])
        if fresh and fresh[0].has_room():
            return pick
        candidates = [c for c in candidates if c.id != pick.agent.id] + fresh
    return pick_assignee(candidates, language=ticket.language, intent=ticket.intent, queue=queue,
                         senior_wanted=senior_wanted, exclude=skipped)


def record_assignment(session: Session, ticket: Ticket, target: Agent | None, *, actor: str, how: str, why: str,
                      now: datetime) -> AuditEvent:
    """Give `ticket` to `target` (None: nobody) and write the AuditEvent "ticket.assign" with the previous and
    new assignee, `how` (auto | command | button | off_shift) and `why`."""
    previous = session.get(Agent, ticket.assignee_id) if ticket.assignee_id is not None else None
    ticket.assignee_id = target.id if target is not None else None
    ticket.assigned_at = now if target is not None else None
    session.add(ticket)
    event = AuditEvent(actor=actor, action="ticket.assign", subject_type="ticket", subject_id=str(ticket.id), at=now,
                       details={"assignee": target.name if target is not None else None,
                                "previous": previous.name if previous is not None else None,
                                "how": how, "why": why})
    session.add(event)
    session.flush()
    return event


def written(english: str, wording: Wording, language: str, write: WordingWriter | None) -> str:
    """A card text: `english` as it is, or (another language, with a writer) `wording` written in `language`."""
    return english if write is None or language == "en" else write(wording, language)


def queue_notice(ticket: Ticket, reason: str, reason_wording: Wording, *, language: str = "en",
                 write: WordingWriter | None = None) -> Card:
    """The notice asking the queue's channel to take a ticket nobody fits, calling on everyone there; `reason`
    (its `reason_wording` in another language) says why nobody fits. Written in `language` by `write` (the
    channel's language, `Settings.language_for`); English without a writer."""
    from bot.pipeline import TRIAGE_BUTTONS  # the pipeline imports this module

    assign = next(button for button in TRIAGE_BUTTONS if button.action == "assign")
    assert ticket.id is not None
    mention = written(QUEUE_MENTION, Wording("assignment.queue_mention"), language, write)
    severity = written(f"severity {ticket.severity}", Wording("assignment.notice.severity",
                                                              {"severity": ticket.severity}), language, write)
    comma = written(", ", Wording("list.comma"), language, write)
    facts = comma.join(x for x in (ticket.intent, ticket.language, severity) if x)
    title = written(f"Ticket #{ticket.id} needs an owner", Wording("assignment.notice.title", {"ticket": ticket.id}),
                    language, write)
    body = written(f"{mention}, {reason}: who takes ticket #{ticket.id} ({facts})?",
                   Wording("assignment.notice.body", {"mention": mention, "reason": reason_wording,
                                                      "ticket": ticket.id, "facts": facts}), language, write)
    label = written("Ticket", Wording("sla_card.field.ticket"), language, write)
    return Card(kind="notice", title=title, body=body, severity=ticket.severity, ticket_id=ticket.id,
                buttons=(assign,), fields=(CardField(label, f"#{ticket.id} · {ticket.intent} · {ticket.channel}"),),
                mentions=((mention, "*", "here"),))


def assigned_value(agent: str, pick: Pick, language: str = "en", write: WordingWriter | None = None) -> str:
    """The Assignee field of a ticket given to `agent` by `pick`: "Assigned to mei (speaks de, …)"."""
    return written(f"Assigned to {agent} ({pick.why})",
                   Wording("assignment.card.assigned", {"agent": agent, "why": pick.wording}), language, write)


def nobody_value(pick: Pick, language: str = "en", write: WordingWriter | None = None) -> str:
    """The Assignee field of a ticket nobody fits: "Nobody fits (nobody is on shift): the queue is asked"."""
    return written(f"Nobody fits ({pick.why}): the queue is asked",
                   Wording("assignment.card.nobody", {"why": pick.wording}), language, write)


def with_field(card: Card, label: str, value: str) -> Card:
    fields = [f for f in card.fields if f.label != label]
    return replace(card, fields=(*fields, CardField(label, value)))


class TicketAssigner:
    """Assignment at intake (the pipeline's suggest path), under `settings.assignment.mode`; `clock` is "now";
    `write` writes its card texts in the language of the card's channel (None: English everywhere)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow,
                 write: WordingWriter | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.write = write

    def on_intake(self, session: Session, ticket: Ticket, card: Card, channel: str, target: str) -> Card:
        """The triage card with its assignment line: the assignee, or (a ticket without one) the agent assigned
        (auto) or suggested (suggest), or that nobody fits — then the queue's channel (`channel`, `target`) is
        asked, once per ticket. Mode off: the card as it is."""
        mode = self.settings.assignment.mode
        if mode == "off":
            return card
        if ticket.assignee_id is not None:
            owner = session.get(Agent, ticket.assignee_id)
            return with_field(card, "Assignee", owner.name) if owner is not None else card
        now = self.clock()
        pick = best_for(session, self.settings, ticket, now)
        language = self.settings.language_for(channel)
        if pick.agent is None:
            assert ticket.id is not None
            # A "notice", not a "card": the ticket's card stays the triage card (updated in place by its actions).
            notice = queue_notice(ticket, pick.why, pick.wording, language=language, write=self.write)
            enqueue(session, dedup_key=f"assign:queue:{ticket.id}", kind="notice", channel=channel, target=target,
                    payload=card_to_payload(notice), ticket_id=ticket.id)
            return with_field(card, "Assignee", nobody_value(pick, language, self.write))
        if mode == "suggest":
            return with_field(card, "Suggested assignee", written(
                f"{pick.agent.name} ({pick.why})",
                Wording("assignment.card.suggested", {"agent": pick.agent.name, "why": pick.wording}),
                language, self.write))
        agent = session.get(Agent, pick.agent.id)
        record_assignment(session, ticket, agent, actor="system", how="auto", why=pick.why, now=now)
        card = with_field(card, "Assignee", assigned_value(pick.agent.name, pick, language, self.write))
        return replace(card, mentions=pick.agent.mentions())
