"""The answers of the team-workflow commands `/assign`, `/queue` and `/shift` (the executor parses, authorizes
and audits the command; these run it against the database and write the chat text).

`/assign` and `/shift start|stop` change state: the ticket's assignee (with its AuditEvent and the card updated in
place, as the card's Assign button does) or the agent's shift override (AuditEvent "agent.shift"). Moving an
off-shift agent's open tickets is the scheduler's job (scheduler/assignment.py); `/shift stop` only says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from bot.assignment.routing import record_assignment
from bot.assignment.shifts import ShiftStatus, calendar_of, shift_status, start_shift, stop_shift
from bot.messages import CardField
from handlers.actions import queue_card_update
from handlers.commands.answers import AnswerContext, CommandAnswer, coarse_duration, relative_due
from handlers.commands.parsed import AssignCommand, QueueCommand, ShiftCommand
from handlers.phrases import phrase, say
from handlers.scorecards import find_agent
from models.db import lock_row
from models.tables import Agent, AuditEvent, Ticket

MAX_QUEUE_LINES = 20
OPEN_UNTOUCHED = ("new", "open")  # pending tickets wait on the customer, not on an agent


def _agent_for(ctx: AnswerContext, who: str | None) -> Agent | None:
    """The agent `who` names, or (None) the one running the command, by name or platform identity."""
    if who is not None:
        return find_agent(ctx.engine, who)
    for name in (ctx.actor.name, *sorted(ctx.actor.identities)):
        if name:
            agent = find_agent(ctx.engine, name)
            if agent is not None:
                return agent
    return None


def _actor_key(ctx: AnswerContext, actor_agent: Agent | None) -> str:
    if actor_agent is not None:
        return f"agent:{actor_agent.id}"
    return (ctx.actor.name or "local-admin")[:128]


def _when(moment: datetime, agent: Agent, ctx: AnswerContext) -> str:
    """A time in the agent's shift timezone (the team's without a calendar): "Mon 09:00 Asia/Shanghai" ("周一 09:00
    Asia/Shanghai" in Chinese)."""
    calendar = calendar_of(agent)
    zone = ZoneInfo(calendar.timezone) if calendar is not None else ctx.timezone
    name = calendar.timezone if calendar is not None else str(getattr(ctx.timezone, "key", ctx.timezone))
    local = moment.astimezone(zone)
    day = "" if local.date() == ctx.now.astimezone(zone).date() else \
        f"{phrase(f'weekday.{local.weekday()}', ctx.language)} "
    return f"{day}{local:%H:%M} {name}"


# ---- /assign -----------------------------------------------------------------------------------------------


def answer_assign(command: AssignCommand, ctx: AnswerContext) -> CommandAnswer:
    target_found = _agent_for(ctx, command.agent)
    if target_found is None:
        if command.agent is None:
            return CommandAnswer(phrase("assign.who", ctx.language, ticket=command.ticket_id), ok=False,
                                 details={"error": "unknown agent"})
        return CommandAnswer(phrase("agent.unknown", ctx.language, agent=command.agent), ok=False,
                             details={"error": "unknown agent"})
    actor_found = _agent_for(ctx, None)
    now = ctx.now
    with Session(ctx.engine, expire_on_commit=False) as session, session.begin():
        ticket: Ticket | None = lock_row(session, Ticket, command.ticket_id)
        if ticket is None:
            return CommandAnswer(phrase("ticket.unknown", ctx.language, ticket=command.ticket_id), ok=False,
                                 details={"error": "unknown ticket"})
        if ticket.status == "resolved":
            return CommandAnswer(phrase("assign.resolved", ctx.language, ticket=ticket.id), ok=False,
                                 details={"error": "resolved ticket"})
        target = session.get(Agent, target_found.id)
        if target is None or not target.active:
            return CommandAnswer(phrase("assign.deactivated", ctx.language, agent=target_found.name),
                                 ok=False, details={"error": "inactive agent"})
        if ticket.assignee_id == target.id:
            return CommandAnswer(phrase("action.already_assigned", ctx.language, ticket=ticket.id, agent=target.name))
        by_name = actor_found.name if actor_found is not None else (ctx.actor.name or "the administrator")
        previous = session.get(Agent, ticket.assignee_id) if ticket.assignee_id is not None else None
        audit = record_assignment(session, ticket, target, actor=_actor_key(ctx, actor_found), how="command",
                                  why=f"/assign by {by_name}", now=now)
        if ticket.status == "new":
            ticket.status = "open"
        ticket.updated_at = now
        session.add(ticket)
        by_whom = by_name if actor_found is not None or ctx.actor.name else say("card.the_administrator")
        by = "" if actor_found is not None and actor_found.id == target.id else say("card.assigned_by", actor=by_whom)
        history = say("card.assigned", agent=target.name, by=by, time=f"{now:%H:%M} UTC")
        queue_card_update(session, ticket, audit, history, (CardField("Assignee", target.name),),
                          default_channel=ctx.triage_channel, language_for=ctx.language_for)
    moved = say("assign.was", agent=previous.name) if previous is not None else ""
    return CommandAnswer(phrase("assign.done", ctx.language, ticket=command.ticket_id, agent=target.name, moved=moved),
                         details={"ticket": command.ticket_id, "assignee": target.name})


# ---- /queue ------------------------------------------------------------------------------------------------


def answer_queue(command: QueueCommand, ctx: AnswerContext) -> CommandAnswer:
    with Session(ctx.engine) as session:
        query = select(Ticket).where(Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_UNTOUCHED),  # type: ignore[union-attr,attr-defined]
                                     Ticket.resolved_at.is_(None))  # type: ignore[union-attr]
        if command.intent is not None:
            query = query.where(Ticket.intent == command.intent)
        tickets = list(session.scalars(query.order_by(Ticket.severity, Ticket.created_at, Ticket.id)))  # type: ignore[arg-type]
    if command.language is not None:
        base = command.language.split("-")[0]
        tickets = [t for t in tickets if t.language and t.language.casefold().split("-")[0] == base]
    lang = ctx.language
    only = f" · {command.intent or command.language}" if command.intent or command.language else ""
    title = say("queue.title", only=only)
    if not tickets:
        return CommandAnswer(phrase("queue.empty", lang, title=title), details={"unassigned": 0})
    lines = [phrase("queue.head.1" if len(tickets) == 1 else "queue.head.n", lang, title=title, count=len(tickets))]
    for ticket in tickets[:MAX_QUEUE_LINES]:
        facts = " · ".join(x for x in (ticket.language, ticket.marketplace) if x)
        waited = say("clock.waiting", amount=coarse_duration(abs((ctx.now - ticket.created_at).total_seconds()), lang))
        due = say("queue.first_response", due=relative_due(ticket.first_response_due, ctx.now, lang)) \
            if ticket.first_response_due is not None and ticket.first_response_at is None else ""
        lines.append(phrase("queue.item", lang, ticket=ticket.id, severity=ticket.severity, intent=ticket.intent,
                            facts=f" · {facts}" if facts else "", waited=waited, due=due))
    if len(tickets) > MAX_QUEUE_LINES:
        lines.append(phrase("queue.more", lang, count=len(tickets) - MAX_QUEUE_LINES))
    lines.append(phrase("queue.take", lang))
    return CommandAnswer("\n".join(lines), details={"unassigned": len(tickets)})


# ---- /shift ------------------------------------------------------------------------------------------------


def answer_shift(command: ShiftCommand, ctx: AnswerContext) -> CommandAnswer:
    if command.action == "show":
        return _who_is_on_shift(ctx)
    lang = ctx.language
    agent = _agent_for(ctx, command.agent)
    if agent is None:
        who = command.agent or ctx.actor.name or say("shift.you")
        return CommandAnswer(phrase("shift.unknown", lang, agent=who), ok=False, details={"error": "unknown agent"})
    actor_found = _agent_for(ctx, None)
    now = ctx.now
    with Session(ctx.engine, expire_on_commit=False) as session, session.begin():
        row: Agent = lock_row(session, Agent, agent.id)  # type: ignore[arg-type]
        change = start_shift(row, now, ctx.assignment.manual_shift_hours) if command.action == "start" \
            else stop_shift(row, now)
        row.shift_override, row.shift_override_at, row.shift_override_until = change.state, change.at, change.until
        session.add(row)
        status = shift_status(row, now)
        open_tickets = len(session.scalars(select(Ticket.id).where(
            Ticket.assignee_id == row.id, Ticket.status != "resolved", Ticket.resolved_at.is_(None))).all())  # type: ignore[union-attr]
        session.add(AuditEvent(actor=_actor_key(ctx, actor_found), action="agent.shift", subject_type="agent",
                               subject_id=str(row.id), at=now,
                               details={"action": command.action, "on": status.on,
                                        "until": status.until.isoformat() if status.until else None}))
    yours = command.agent is None or (actor_found is not None and actor_found.id == row.id)
    whose = say("shift.yours") if yours else say("shift.theirs", agent=row.name)
    until = say("shift.until", when=_when(status.until, row, ctx)) if status.until is not None else ""
    if command.action == "start":
        calendar = say("shift.your_calendar") if status.source == "calendar" and yours else ""
        text = phrase("shift.started", lang, whose=whose, until=until, calendar=calendar)
    else:
        text = phrase("shift.stopped", lang, whose=whose, until=until or say("shift.until_started"))
        count = "1" if open_tickets == 1 else "n"
        if open_tickets and ctx.assignment.mode == "auto":
            text += phrase(f"shift.moves.{count}", lang, count=open_tickets)
        elif open_tickets:
            text += phrase(f"shift.stays.{count}", lang, count=open_tickets)
    return CommandAnswer(text, details={"agent": row.name, "on": status.on})


def _who_is_on_shift(ctx: AnswerContext) -> CommandAnswer:
    with Session(ctx.engine) as session:
        agents = list(session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))  # type: ignore[attr-defined]
        open_counts: dict[int, int] = {}
        for assignee_id in session.scalars(select(Ticket.assignee_id).where(
                Ticket.assignee_id.is_not(None), Ticket.status != "resolved", Ticket.resolved_at.is_(None))):  # type: ignore[union-attr]
            open_counts[assignee_id] = open_counts.get(assignee_id, 0) + 1  # type: ignore[index]
    states: list[tuple[Agent, ShiftStatus]] = [(a, shift_status(a, ctx.now)) for a in agents]
    on = [(a, s) for a, s in states if s.on]
    off = [(a, s) for a, s in states if not s.on and (a.shift or s.source == "stopped by hand")]
    lang = ctx.language
    lines = [phrase("shift.on_now", lang, count=len(on))]
    lines += [_line(a, s, open_counts.get(a.id or 0, 0), ctx) for a, s in on] or [phrase("shift.nobody", lang)]
    if off:
        lines.append(phrase("shift.off", lang, count=len(off)))
        lines += [_line(a, s, open_counts.get(a.id or 0, 0), ctx) for a, s in off]
    lines.append(phrase("shift.change", lang))
    return CommandAnswer("\n".join(lines), details={"on_shift": len(on)})


def _line(agent: Agent, status: ShiftStatus, open_tickets: int, ctx: AnswerContext) -> str:
    lang = ctx.language
    parts = []
    if status.until is not None:
        parts.append(phrase("shift.on_until" if status.on else "shift.back", lang,
                            when=_when(status.until, agent, ctx)))
    if status.source in ("started by hand", "stopped by hand"):
        parts.append(phrase(f"shift.{status.source}", lang))
    if agent.languages:
        parts.append("/".join(agent.languages))
    parts.append(phrase("shift.open", lang, count=open_tickets) if agent.capacity is None
                 else phrase("shift.open_of", lang, count=open_tickets, capacity=agent.capacity))
    senior = say("shift.senior") if agent.senior else ""
    return phrase("shift.line", lang, agent=agent.name, senior=senior, parts=phrase("list.comma", lang).join(parts))


ASSIGNMENT_ANSWERS: dict[type, Callable[..., CommandAnswer]] = {
    AssignCommand: answer_assign,
    QueueCommand: answer_queue,
    ShiftCommand: answer_shift,
}
