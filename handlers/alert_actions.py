"""The actions behind a metric alert card's buttons, whatever platform they were pressed on: Acknowledge,
Silence 2h and Show tickets (issue 7; the cards come from scheduler/alerts/dispatch.py).

`AlertActions(engine, settings).perform(action)` resolves who pressed the button as ticket actions do
(`handlers.actions.acting_agent`: an unknown user becomes a new agent) and then:

- alert_acknowledge records who and when on the alert, writes an `AuditEvent` and edits the alert's card:
  "Acknowledged by X at HH:MM (team timezone)", without the Acknowledge button. An acknowledged alert no longer
  repeats its notification every repeat interval; a warning that turns critical notifies again and clears the
  acknowledgement (dispatch). Pressed twice, it answers with the first acknowledgement and writes nothing.
- alert_silence_2h needs the manager role, as `/alerts silence` does (handlers/commands/permissions.py decides
  both): it creates a silence of the alert's rule and group labels (`bot.alert_silences.add_silence`, the function
  behind `/alerts silence`) ending in 2 hours, audited, and edits the card: "Silenced until HH:MM by X". While a
  silence covering the alert is active, the answer names that one and nothing is created.
- alert_show_tickets answers, for the presser only, with the tickets behind the alert's number, newest first, at
  most `MAX_TICKET_LINES` lines; it writes nothing. Which tickets (the rule's filters and the alert's group
  labels always apply, through bot.metrics' own `filter_clause`):
  - a metric of the tickets created in the window (volume, rates, response and resolution times, SLA
    compliance, CSAT, suggestion rates): the tickets created in the rule's window that ended when the alert
    last notified, the population the metric is computed over (its denominator, for a rate). For response and
    resolution times this includes the tickets still waiting, which the mean does not count yet but which are
    the ones to act on;
  - inbound_messages: the tickets that received a customer message in that window;
  - backlog (and its age buckets): the tickets open at that moment, whenever created (within the bucket's ages).

The card edit goes where the resolved notice goes: a `card_update` of the alert's last posted card (its channel
and message reference, recorded by the outbox). A card not posted yet (it cannot have been pressed) is not
edited; the acknowledgement or silence is recorded all the same. The edited card is rebuilt from the posted one
and the alert's state, so an acknowledgement and a silence both show whatever their order.

Every outcome is an `ActionResult` (handlers.actions): bad input, an unknown or resolved alert, or a refused
role is `ok=False` with a precise message, never an exception. Each action holds the alert's row lock for its
transaction (an UPDATE first, so SQLite takes its write lock too): two presses on one alert, on one replica or
two, take turns, and the second sees what the first did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from bot.alert_silences import add_silence, matching_silence
from bot.messages import AlertAction, Card, CardButton, CardField, card_from_payload, card_to_payload
from bot.metrics import BACKLOG_BUCKETS, METRICS, MetricError
from bot.metrics.queries import AGENT, MESSAGE, TICKET, filter_clause, moment
from bot.outbox import enqueue
from bot.settings import Settings
from handlers.actions import ActionError, ActionResult, acting_agent, actor_key, check_actor
from handlers.commands.parsed import AlertsSilenceCommand
from handlers.commands.permissions import ROLES, Actor, PermissionDenied, authorize
from handlers.commands.time_windows import format_duration
from handlers.phrases import Phrase, say
from models.db import MAX_ROW_ID, is_row_id, lock_row, session_scope, utcnow
from models.tables import Agent, Alert, AuditEvent, Message, OutboxItem, Ticket

log = logging.getLogger("kefu.alert_actions")

ALERT_BUTTONS: Final[tuple[CardButton, ...]] = (
    CardButton("alert_acknowledge", "Acknowledge", "primary"),
    CardButton("alert_silence_2h", "Silence 2h"),
    CardButton("alert_show_tickets", "Show tickets"),
)
ACTION_NAMES: Final[tuple[str, ...]] = tuple(button.action for button in ALERT_BUTTONS)
SILENCE_FOR: Final[timedelta] = timedelta(hours=2)
SILENCE_COMMENT: Final[str] = "silenced from the alert card"
MAX_TICKET_LINES: Final[int] = 10
SNIPPET_WORDS: Final[int] = 8
SNIPPET_CHARS: Final[int] = 60
METRICS_BY: Final[frozenset[str]] = frozenset({"intent", "channel", "region", "agent", "language", "marketplace",
                                               "sku"})  # what `/metrics … by` accepts
tickets = TICKET.c


@dataclass(frozen=True)
class _Population:
    """The tickets behind an alert's number: the rule's metric over [start, end) within `filters`."""

    metric: str
    start: datetime
    end: datetime
    filters: dict[str, str]  # the rule's filters and every label of the alert's group
    group_by: str | None  # a group label `/metrics … by` accepts, for the "to see all" hint


class AlertActions:
    """Performs metric alert card actions; see the module docstring."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow, *,
                 on_enqueued: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.on_enqueued = on_enqueued  # wakes the outbox worker after a card update was queued
        self.zone = ZoneInfo(settings.timezone)

    # ---- entry points ------------------------------------------------------------------------------------

    async def perform(self, action: AlertAction) -> ActionResult:
        result = await asyncio.to_thread(self.perform_sync, action)
        if result.ok and self.on_enqueued is not None:
            self.on_enqueued()
        return result

    def perform_sync(self, action: AlertAction) -> ActionResult:
        name, alert_id = getattr(action, "name", "?"), getattr(action, "alert_id", "?")
        language = getattr(action, "language", "en")
        try:
            _check_action(action)
            with session_scope(self.engine) as session:
                alert = _lock_alert(session, action.alert_id)
                agent = acting_agent(session, action.actor_platform, action.actor_id, self.clock(),
                                     display_name=action.actor_name,
                                     managers=self.settings.platform_managers(action.actor_platform))
                if action.name == "alert_acknowledge":
                    return self._acknowledge(session, alert, agent, language)
                if action.name == "alert_silence_2h":
                    return self._silence(session, alert, agent, language)
                return self._show_tickets(session, alert)
        except ActionError as exc:
            log.info("alert action %s on alert %s refused: %s", name, alert_id, exc)
            return ActionResult(False, exc.text(language))
        except Exception:
            log.exception("alert action %r on alert %r failed", name, alert_id)
            return ActionResult(False, say("alert.internal", action=name, alert=alert_id).text(language))

    # ---- acknowledge -------------------------------------------------------------------------------------

    def _acknowledge(self, session: Session, alert: Alert, agent: Agent, language: str) -> ActionResult:
        _refuse_if_resolved(alert, "acknowledge", self._time)
        if alert.acknowledged_at is not None:
            already = say("alert.already_acknowledged", alert=alert.id, name=_name(alert), who=alert.acknowledged_by,
                          time=self._time(alert.acknowledged_at))
            return ActionResult(True, already.text(language), self._current_card(session, alert))
        now = self.clock()
        alert.acknowledged_by, alert.acknowledged_at = agent.name, now
        session.add(alert)
        audit = _audit(session, agent, "alert.acknowledge", alert, {"level": alert.level}, now)
        card = self._edit_card(session, alert, audit, now)
        again = say("alert.again_warning") if alert.level == "warning" else say("alert.again")
        done = say("alert.acknowledged", alert=alert.id, name=_name(alert), again=again)
        return ActionResult(True, done.text(language), card)

    # ---- silence 2h --------------------------------------------------------------------------------------

    def _silence(self, session: Session, alert: Alert, agent: Agent, language: str) -> ActionResult:
        _refuse_if_resolved(alert, "silence", self._time)
        labels = {key: str(value) for key, value in dict(alert.details.get("labels", {})).items()}
        command = AlertsSilenceCommand(rule=alert.rule, matchers=labels, duration=SILENCE_FOR, reason=SILENCE_COMMENT)
        try:
            authorize(command, Actor(name=agent.name, role=agent.role if agent.role in ROLES else "agent"))
        except PermissionDenied as exc:
            raise ActionError(say("alert.silence_denied", reason=exc.phrase or str(exc))) from None
        now = self.clock()
        existing = matching_silence(session, alert, now)
        if existing is not None:
            already = say("alert.already_silenced", alert=alert.id, name=_name(alert),
                          until=self._time(existing.ends_at), who=existing.created_by, silence=existing.id)
            return ActionResult(True, already.text(language), self._current_card(session, alert))
        matchers = {"rule": alert.rule, **labels}
        silence = add_silence(session, matchers, now, now + SILENCE_FOR, agent.name, SILENCE_COMMENT)
        audit = _audit(session, agent, "alert.silence", alert,
                       {"silence_id": silence.id, "matchers": matchers, "ends_at": silence.ends_at.isoformat()}, now)
        card = self._edit_card(session, alert, audit, now)
        text = " ".join(f"{key}={value}" for key, value in matchers.items())
        done = say("alert.silenced", matchers=text, until=self._time(silence.ends_at), silence=silence.id)
        return ActionResult(True, done.text(language), card)

    # ---- show tickets ------------------------------------------------------------------------------------

    def _show_tickets(self, session: Session, alert: Alert) -> ActionResult:
        population = self._population(alert)
        source, where, described = self._selection(population)
        total = session.scalar(select(func.count()).select_from(source).where(*where)) or 0
        found = list(session.scalars(
            select(Ticket).select_from(source).where(*where)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())  # type: ignore[attr-defined, union-attr]
            .limit(MAX_TICKET_LINES)
        ))
        scope = " ".join(f"{key}={value}" for key, value in population.filters.items())
        head = f"Alert #{alert.id} ({_name(alert)}): {total} ticket{'s' if total != 1 else ''} {described}"
        head += f" with {scope}" if scope else ""
        if not found:
            return ActionResult(True, head + ".")
        now = self.clock()
        firsts = _first_messages(session, [t.id for t in found if t.id is not None])
        lines = [head + ", newest first:"]
        for ticket in found:
            age = format_duration(_coarse(now - ticket.created_at))
            lines.append(f"#{ticket.id} · {ticket.intent} · {ticket.status} · severity {ticket.severity} · {age} · "
                         f"{_snippet(firsts.get(ticket.id, ''))}")
        if total > len(found):
            lines.append(f"and {total - len(found)} more — {self._metrics_command(population)} to see all "
                         "(/ticket ID opens one)")
        return ActionResult(True, "\n".join(lines))

    def _population(self, alert: Alert) -> _Population:
        """The window and filters of the number the card shows: those stored when the alert last notified, else
        the rule's window ending at the alert's last evaluation."""
        details = alert.details
        rule = next((r for r in self.settings.alerts.rules if r.name == alert.rule), None)
        metric = details.get("metric") or (rule.metric if rule is not None else None)
        labels = {key: str(value) for key, value in dict(details.get("labels", {})).items()}
        group_by = next((label for label in labels if label in METRICS_BY), None)  # one of them, for /metrics
        stored = details.get("tickets")
        if metric in METRICS and isinstance(stored, dict):
            return _Population(metric, datetime.fromisoformat(stored["start"]), datetime.fromisoformat(stored["end"]),
                               {key: str(value) for key, value in stored["filters"].items()}, group_by)
        evaluated = details.get("evaluated_at")
        if rule is None or metric not in METRICS or not evaluated:
            raise ActionError(f"alert #{alert.id} ({_name(alert)}) has no window to list tickets from: its rule is "
                              "no longer configured and it never notified")
        end = datetime.fromisoformat(evaluated)
        return _Population(metric, end - timedelta(seconds=rule.window_seconds), end, {**rule.filters, **labels},
                           group_by)

    def _selection(self, population: _Population) -> tuple[FromClause, list[ColumnElement[bool]], str]:
        """The tickets of `population` (see the module docstring): the FROM, the WHERE, and words for them."""
        source: FromClause = TICKET
        if "agent" in population.filters:
            source = TICKET.outerjoin(AGENT, tickets.assignee_id == AGENT.c.id)
        try:
            where = [filter_clause(key, value) for key, value in population.filters.items()]
        except MetricError as exc:
            raise ActionError(f"the alert's labels cannot select tickets: {exc}") from None
        start, end = population.start, population.end
        span = f"between {self._time(start, zone=False)} and {self._time(end)}"
        kind = METRICS[population.metric].source
        if kind == "backlog":
            where += [tickets.created_at < moment(end),
                      or_(tickets.resolved_at.is_(None), tickets.resolved_at >= moment(end))]
            minimum, maximum = BACKLOG_BUCKETS.get(population.metric, (None, None))
            if minimum is not None:
                where.append(tickets.created_at <= moment(end - minimum))
            if maximum is not None:
                where.append(tickets.created_at > moment(end - maximum))
            return source, where, f"open at {self._time(end)}"
        if kind == "messages":
            where.append(exists().where(MESSAGE.c.ticket_id == tickets.id, MESSAGE.c.direction == "in",
                                        MESSAGE.c.created_at >= moment(start),
                                        MESSAGE.c.created_at < moment(end)))
            return source, where, f"with a customer message {span}"
        where += [tickets.created_at >= moment(start), tickets.created_at < moment(end)]
        return source, where, f"created {span}"

    def _metrics_command(self, population: _Population) -> str:
        first, last = (moment.astimezone(self.zone).date() for moment in (population.start, population.end))
        dates = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
        by = f" by {population.group_by}" if population.group_by in METRICS_BY else ""
        return f"/metrics {dates}{by}"

    # ---- the card ----------------------------------------------------------------------------------------

    def _posted_card(self, session: Session, alert: Alert) -> OutboxItem | None:
        """The outbox item of the alert's last card (what the resolved notice edits too)."""
        key = alert.details.get("card_item")
        if not key:
            return None
        return session.scalars(select(OutboxItem).where(OutboxItem.dedup_key == key)).first()  # type: ignore[arg-type]

    def _current_card(self, session: Session, alert: Alert) -> Card | None:
        item = self._posted_card(session, alert)
        return None if item is None else self._card_now(session, alert, card_from_payload(item.payload), self.clock())

    def _card_now(self, session: Session, alert: Alert, card: Card, now: datetime) -> Card:
        """`card` (as posted) with the alert's acknowledgement and active silence."""
        history: list[tuple[datetime, str]] = []
        if alert.acknowledged_at is not None:
            history.append((alert.acknowledged_at,
                            f"Acknowledged by {alert.acknowledged_by} at {self._time(alert.acknowledged_at)}"))
        silence = matching_silence(session, alert, now)
        if silence is not None:
            history.append((silence.starts_at, f"Silenced until {self._time(silence.ends_at)} by {silence.created_by}"))
        fields = [f for f in card.fields if f.label != "History"]
        if history:
            fields.append(CardField("History", "\n".join(line for _, line in sorted(history))))
        buttons = tuple(b for b in card.buttons
                        if not (b.action == "alert_acknowledge" and alert.acknowledged_at is not None))
        return replace(card, fields=tuple(fields), buttons=buttons, alert_id=alert.id)

    def _edit_card(self, session: Session, alert: Alert, audit: AuditEvent, now: datetime) -> Card | None:
        """Queue the card as it now reads as an update of the posted card (see the module docstring)."""
        item = self._posted_card(session, alert)
        if item is None:
            return None
        card = self._card_now(session, alert, card_from_payload(item.payload), now)
        if not item.result_ref:
            log.info("alert #%s: its card is not posted yet (outbox item %s), so it is not edited", alert.id, item.id)
            return card
        alert.card_ref = item.result_ref
        enqueue(session, dedup_key=f"alert:{alert.id}:edit:{audit.id}", kind="card_update", channel=item.channel,
                target=item.result_ref, payload=card_to_payload(card))
        return card

    def _time(self, moment: datetime, *, zone: bool = True) -> str:
        """"14:05 (Asia/Shanghai)" in the team's timezone; with the date when it is not today's."""
        local = moment.astimezone(self.zone)
        shown = local.strftime("%H:%M") if local.date() == self.clock().astimezone(self.zone).date() \
            else local.strftime("%Y-%m-%d %H:%M")
        return f"{shown} ({self.settings.timezone})" if zone else shown


# ---- module helpers --------------------------------------------------------------------------------------


def _check_action(action: AlertAction) -> None:
    """A precise ActionError naming the bad field of a button press."""
    if getattr(action, "name", None) not in ACTION_NAMES:
        raise ActionError(f"unknown alert action {getattr(action, 'name', None)!r}: expected one of "
                          f"{', '.join(ACTION_NAMES)}")
    alert_id = action.alert_id
    if not is_row_id(alert_id):
        if isinstance(alert_id, int) and alert_id > MAX_ROW_ID:  # bigger than any id: a forged or mangled button
            raise ActionError(say("alert.missing", alert=alert_id))
        raise ActionError(f"alert_id must be a positive whole number, got {alert_id!r}")
    check_actor(action.actor_platform, action.actor_id)


def _lock_alert(session: Session, alert_id: int) -> Alert:
    """The alert, row-locked for the transaction (an UPDATE first: on SQLite it takes the write lock at once)."""
    alert: Alert | None = lock_row(session, Alert, alert_id)
    if alert is None:
        raise ActionError(say("alert.missing_here", alert=alert_id))
    return alert


def _refuse_if_resolved(alert: Alert, what: str, time_text: Callable[[datetime], str]) -> None:
    if alert.state == "resolved":
        when: Phrase | str = say("action.at", time=time_text(alert.resolved_at)) if alert.resolved_at is not None \
            else ""
        raise ActionError(say("alert.resolved", alert=alert.id, name=_name(alert), when=when,
                              what=say(f"alert.what.{what}")))


def _name(alert: Alert) -> str:
    group = f" [{alert.group_key}]" if alert.group_key else ""
    return f"{alert.level} {alert.rule}{group}"


def _audit(session: Session, agent: Agent, action: str, alert: Alert, details: dict[str, Any],
           now: datetime) -> AuditEvent:
    event = AuditEvent(actor=actor_key(agent), action=action, subject_type="alert", subject_id=str(alert.id),
                       details={"rule": alert.rule, "group": alert.group_key, **details}, at=now)
    session.add(event)
    session.flush()
    return event


def _first_messages(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """Each ticket's first customer message."""
    first = (select(Message.ticket_id, func.min(Message.id).label("first_id"))
             .where(Message.ticket_id.in_(ticket_ids), Message.direction == "in")  # type: ignore[union-attr]
             .group_by(Message.ticket_id).subquery())  # type: ignore[arg-type]
    rows = session.execute(select(Message.ticket_id, Message.text)
                           .join(first, Message.id == first.c.first_id))  # type: ignore[arg-type]
    return {ticket_id: text for ticket_id, text in rows}


def _snippet(text: str) -> str:
    """The first words of a message, quoted."""
    words = text.split()
    if not words:
        return "(no customer message)"
    shown = " ".join(words[:SNIPPET_WORDS])
    if len(shown) > SNIPPET_CHARS:
        shown = shown[:SNIPPET_CHARS - 1].rstrip()
    return f"“{shown}…”" if shown != " ".join(words) else f"“{shown}”"


def _coarse(age: timedelta) -> timedelta:
    """An age as people say it: minutes under an hour, hours under a day, then days."""
    if age < timedelta(hours=1):
        return timedelta(minutes=max(1, round(age / timedelta(minutes=1))))
    if age < timedelta(days=1):
        return timedelta(hours=round(age / timedelta(hours=1)))
    return timedelta(days=round(age / timedelta(days=1)))
