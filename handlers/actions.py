"""The actions behind a triage card's buttons, whatever platform they were pressed on: send, edit, assign,
escalate, resolve, wrong intent (with live learning).

`TicketActions.perform(action)` resolves who pressed the button (an `Agent` by platform identity; an unknown user
becomes a new agent), does what the button says to the ticket, writes one `AuditEvent`, and queues the ticket's
card, rebuilt from its last posted version, as an outbox `card_update` with a new History line and the buttons
that still make sense. Every outcome is an `ActionResult`: bad input or a ticket in the wrong state is a result
with `ok=False` and a precise message, never an exception for the adapter. Messages are written in the action's
`language` ("en" unless DingTalk or WeCom ask for "zh"; handlers.phrases); History lines are written in the
language of the card's channel.

Each action holds the ticket's row lock (an UPDATE first, so SQLite takes its write lock too) for its whole
transaction, so two agents pressing buttons on one ticket at once, on one replica or two, take turns. Replies go
through `Pipeline.record_agent_reply_sync` (its own transaction): a Send or Edit first claims the reply in a
transaction of its own (the audit event), so a double click or a resubmitted form never reaches the customer twice.

The work is synchronous (sqlmodel); `perform` runs it in a thread and wakes the outbox afterwards.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.after_sales.flow import opening_buttons
from bot.csat import schedule_survey
from bot.messages import Action, Card, CardButton, CardField, card_from_payload, card_to_payload
from bot.outbox import enqueue
from bot.pipeline import TRIAGE_BUTTONS, Pipeline, TicketNotFound, ticket_title
from bot.sla_clock import stamp_resolution
from handlers.phrases import Phrase, say, text_in, write_wording
from models.db import MAX_ROW_ID, is_row_id, lock_row, session_scope, utcnow
from models.tables import Agent, AuditEvent, Feedback, IntentExample, Message, OutboxItem, Suggestion, Ticket

if TYPE_CHECKING:
    from bot.settings import Settings
    from intents.catalogue import IntentCatalogue

log = logging.getLogger("kefu.actions")

ACTION_NAMES: Final[tuple[str, ...]] = ("send", "edit", "assign", "escalate", "resolve", "wrong_intent")
ALLOWED_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "send": ("suggestion_id",),
    "edit": ("text", "suggestion_id"),
    "assign": ("agent",),
    "escalate": ("reason",),
    "resolve": ("note",),
    "wrong_intent": ("intent",),
}
NAME_PLATFORMS: Final[frozenset[str]] = frozenset({"console", "cli"})  # where the actor id is the agent's name
MAX_REPLY_CHARS: Final[int] = 10_000
MAX_REASON_CHARS: Final[int] = 500
MAX_EXAMPLE_CHARS: Final[int] = 2000  # IntentExample.text
MANAGER_ROLES: Final[frozenset[str]] = frozenset({"manager", "admin"})
_BUTTONS: Final[dict[str, CardButton]] = {button.action: button for button in TRIAGE_BUTTONS}


@dataclass(frozen=True)
class ActionResult:
    """What became of a button press: `message` is for the person who pressed it; `card` is the ticket's card
    as it now reads (None when the action failed)."""

    ok: bool
    message: str
    card: Card | None = None
    changed: bool = True  # False: nothing needed doing (e.g. the ticket was resolved already)


class ActionError(Exception):
    """The action cannot be performed; str() is the answer for the person who pressed the button (in English),
    `text(language)` the same answer in their language where kefu has the words."""

    def __init__(self, message: str | Phrase) -> None:
        super().__init__(str(message))
        self.phrase = message if isinstance(message, Phrase) else None

    def text(self, language: str | None = "en") -> str:
        return text_in(self.phrase or str(self), language)


class LearningClassifier(Protocol):
    """What `wrong_intent` needs of the classifier: the live catalogue and live learning."""

    @property
    def catalogue(self) -> IntentCatalogue: ...

    def add_examples(self, intent: str, texts: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class _Done:
    """The outcome of an action inside its transaction: the answer, the History line, the audit details."""

    message: Phrase
    history: str | Phrase  # a Phrase is written in the language of the card's channel
    details: dict[str, Any]
    field_updates: tuple[CardField, ...] = ()
    changed: bool = True  # False: nothing to do (no audit event, no card update)


class TicketActions:
    """Performs triage-card actions on tickets; see the module docstring."""

    def __init__(self, engine: Engine, pipeline: Pipeline, classifier: LearningClassifier | Any,
                 *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.classifier = classifier
        self.settings = pipeline.settings
        self.clock = clock

    @classmethod
    def without_model(cls, engine: Engine, settings: Settings,
                      *, clock: Callable[[], datetime] = utcnow) -> TicketActions:
        """Actions for a process or job without the intent model (`kefu command`, the scheduler): everything but
        live learning and replies that need the classifier works the same (the reply policy is the settings')."""
        return cls(engine, Pipeline(engine, _NoModel(), _NoTemplates(), settings), _NoModel(), clock=clock)

    # ---- entry points ------------------------------------------------------------------------------------

    async def perform(self, action: Action) -> ActionResult:
        result = await asyncio.to_thread(self.perform_sync, action)
        if result.ok and self.pipeline.on_enqueued is not None:
            self.pipeline.on_enqueued()
        return result

    def perform_sync(self, action: Action) -> ActionResult:
        from handlers.after_sales_actions import is_after_sales_action, perform_after_sales_action

        if is_after_sales_action(getattr(action, "name", None)):  # Open refund, Approve, … (after-sales cards)
            return perform_after_sales_action(self.engine, self.settings, action)
        try:
            values = _check_action(action)
            if action.name in ("send", "edit"):
                return self._reply(action, values)
            return self._in_one_transaction(action, values)
        except ActionError as exc:
            log.info("action %s on ticket %s refused: %s", getattr(action, "name", "?"),
                     getattr(action, "ticket_id", "?"), exc)
            return ActionResult(False, exc.text(getattr(action, "language", "en")))
        except Exception:
            log.exception("action %r on ticket %r failed", getattr(action, "name", "?"),
                          getattr(action, "ticket_id", "?"))
            name = getattr(action, "name", "perform the action")
            internal = say("action.internal", action=say(f"action.name.{name}") if name in ACTION_NAMES else name,
                           ticket=getattr(action, "ticket_id", "?"))
            return ActionResult(False, internal.text(getattr(action, "language", "en")))

    # ---- send and edit (the reply goes through the pipeline) ---------------------------------------------

    def _reply(self, action: Action, values: dict[str, str]) -> ActionResult:
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = _lock_ticket(session, action.ticket_id)
            _refuse_if_resolved(session, ticket, action.name)
            agent = self._actor(session, action)
            suggestion = self._suggestion_for_reply(session, ticket, action.name, values)
            if action.name == "send":
                if suggestion is None or suggestion.text is None:
                    raise ActionError(_nothing_to_send(session, ticket))
                text = suggestion.text
            else:
                text = values["text"]
            self._refuse_repeat(session, ticket, action.name, agent, suggestion, text)
            details: dict[str, Any] = {"suggestion_id": suggestion.id if suggestion else None}
            if action.name == "edit":
                details["text"] = text
            claim = _audit(session, agent, f"ticket.{action.name}", ticket, details, now)
            claim_id = claim.id
        try:
            message = self.pipeline.record_agent_reply_sync(
                action.ticket_id, agent.name, text, suggestion.id if suggestion else None)
        except BaseException as exc:
            with session_scope(self.engine) as session:  # the reply did not go out: release the claim
                session.execute(delete(AuditEvent).where(AuditEvent.id == claim_id))  # type: ignore[arg-type]
            if isinstance(exc, TicketNotFound | ValueError):
                raise ActionError(str(exc)) from None
            raise
        with session_scope(self.engine) as session:
            ticket = _lock_ticket(session, action.ticket_id)
            outcome = session.get(Suggestion, suggestion.id) if suggestion else None
            if action.name == "send":
                line = say("card.sent_suggested", agent=agent.name, time=_clock(now))
                answer = say("action.sent", ticket=ticket.id)
            elif outcome is not None and outcome.outcome == "accepted":
                line = say("card.sent_unchanged", agent=agent.name, time=_clock(now))
                answer = say("action.sent_unchanged", ticket=ticket.id)
            else:
                line = say("card.sent_own", agent=agent.name, time=_clock(now))
                answer = say("action.sent_own", ticket=ticket.id)
            audit = session.get(AuditEvent, claim_id)
            assert audit is not None
            audit.details = {**audit.details, "message_id": message.id,
                             "outcome": outcome.outcome if outcome else None}
            session.add(audit)
            card = self._update_card(session, ticket, audit, agent, line, ())
        return ActionResult(True, answer.text(action.language), card)

    def _suggestion_for_reply(self, session: Session, ticket: Ticket, name: str,
                              values: dict[str, str]) -> Suggestion | None:
        if "suggestion_id" in values:
            suggestion = session.get(Suggestion, _positive_int(values["suggestion_id"], "suggestion_id"))
            if suggestion is None or suggestion.ticket_id != ticket.id:
                raise ActionError(f"suggestion {values['suggestion_id']} is not a suggestion of ticket #{ticket.id}")
            if suggestion.outcome != "pending":
                if name == "send":
                    raise ActionError(_nothing_to_send(session, ticket, suggestion))
                return None  # an edited reply from an older card: sent as a plain reply
            return suggestion
        pending = _pending_suggestions(session, ticket)
        return pending[0] if pending else None

    def _refuse_repeat(self, session: Session, ticket: Ticket, name: str, agent: Agent,
                       suggestion: Suggestion | None, text: str) -> None:
        """A double click on Send, or the same edited reply submitted twice, reaches the customer once."""
        since = session.scalar(
            select(Message.created_at).where(Message.ticket_id == ticket.id, Message.direction == "in")
            .order_by(Message.id.desc())  # type: ignore[union-attr]
        )
        claims = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "ticket", AuditEvent.subject_id == str(ticket.id),
                                     AuditEvent.action.in_(("ticket.send", "ticket.edit")))  # type: ignore[attr-defined]
            .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        ).all()
        for claim in claims:
            who = claim.actor
            if suggestion is not None and claim.details.get("suggestion_id") == suggestion.id:
                raise ActionError(say("action.already_sent", ticket=ticket.id, who=say(
                    "action.sent_by", author=_claim_author(session, who), time=_clock(claim.at))))
            if (name == "edit" and who == actor_key(agent) and claim.details.get("text") == text
                    and (since is None or claim.at >= since)):
                raise ActionError(say("action.reply_repeat", ticket=ticket.id, time=_clock(claim.at)))

    # ---- the other actions (one transaction each) --------------------------------------------------------

    def _in_one_transaction(self, action: Action, values: dict[str, str]) -> ActionResult:
        now = self.clock()
        learn: tuple[str, str] | None = None
        with session_scope(self.engine) as session:
            ticket = _lock_ticket(session, action.ticket_id)
            if ticket.status == "resolved" and action.name == "resolve":
                return ActionResult(True, _already_resolved(ticket).text(action.language),
                                    self._current_card(session, ticket))
            _refuse_if_resolved(session, ticket, action.name)
            agent = self._actor(session, action)
            done: _Done
            if action.name == "assign":
                done = self._assign(session, ticket, agent, values, now)
            elif action.name == "escalate":
                done = self._escalate(ticket, agent, values, now)
            elif action.name == "resolve":
                done = self._resolve(session, ticket, agent, now, values.get("note"))
            else:
                done, learn = self._wrong_intent(session, ticket, agent, values, now)
            if not done.changed:
                return ActionResult(True, done.message.text(action.language), self._current_card(session, ticket))
            ticket.updated_at = now
            session.add(ticket)
            audit = _audit(session, agent, f"ticket.{action.name}", ticket, done.details, now)
            card = self._update_card(session, ticket, audit, agent, done.history, done.field_updates)
        message = done.message.text(action.language)
        if learn is not None:
            message += self._learn(*learn).text(action.language)
        return ActionResult(True, message, card)

    def _assign(self, session: Session, ticket: Ticket, actor: Agent, values: dict[str, str],
                now: datetime) -> _Done:
        target = actor if "agent" not in values else _agent_named(session, values["agent"])
        if target.id != actor.id and actor.role not in MANAGER_ROLES:
            raise ActionError(say("action.manager_assigns", ticket=ticket.id, agent=target.name))
        if ticket.assignee_id == target.id:
            return _Done(say("action.already_assigned", ticket=ticket.id, agent=target.name), "", {}, changed=False)
        previous = session.get(Agent, ticket.assignee_id) if ticket.assignee_id is not None else None
        ticket.assignee_id = target.id
        ticket.assigned_at = now
        if ticket.status == "new":
            ticket.status = "open"
        by = "" if target.id == actor.id else say("card.assigned_by", actor=actor.name)
        return _Done(
            say("action.assigned", ticket=ticket.id, agent=target.name),
            say("card.assigned", agent=target.name, by=by, time=_clock(now)),
            {"assignee": target.name, "previous": previous.name if previous else None},
            (CardField("Assignee", target.name),),
        )

    def _escalate(self, ticket: Ticket, actor: Agent, values: dict[str, str], now: datetime) -> _Done:
        reason = values.get("reason", "").strip()
        old = ticket.severity
        ticket.severity = max(1, ticket.severity - 1)
        self._tighten_due_times(ticket, now)
        ticket.status = "open"
        because = f": {reason}" if reason else ""
        return _Done(
            say("action.escalated", ticket=ticket.id, severity=ticket.severity, due=_iso(ticket.first_response_due)),
            say("card.escalated_because", severity=ticket.severity, agent=actor.name, time=_clock(now), reason=reason)
            if reason else say("card.escalated", severity=ticket.severity, agent=actor.name, time=_clock(now)),
            {"from_severity": old, "to_severity": ticket.severity, "reason": reason or None},
            (CardField("Escalated", f"by {actor.name} at {_clock(now)}{because}"),),
        )

    def _resolve(self, session: Session, ticket: Ticket, actor: Agent | str, now: datetime, note: str | None,
                 why: str | None = None) -> _Done:
        """Resolve the ticket and schedule its CSAT survey (bot/csat.py, once per ticket); `actor` is an agent or
        a system actor's audit name ("system", "cli"), `why` the History line's words for a system actor."""
        stamp_resolution(ticket, now, self.settings.sla)
        ticket.status = "resolved"
        rejected = self._reject_pending(session, ticket, actor)
        key = actor_key(actor) if isinstance(actor, Agent) else actor
        surveyed = schedule_survey(session, self.settings, ticket, now, key)
        note = (note or "").strip() or None
        by = f"by {actor.name}" if isinstance(actor, Agent) else (why or f"by {actor}")
        survey: Phrase | str = ""
        if surveyed:
            survey = say("action.survey_now") if self.settings.csat.delay_seconds == 0 \
                else say("action.survey_later", delay=self.settings.csat.delay)
        history: str | Phrase = f"Resolved {by} at {_clock(now)}" + (f": {note}" if note else "")
        if isinstance(actor, Agent):  # a system actor's words (`why`) are the caller's, in English
            history = say("card.resolved_by_note", agent=actor.name, time=_clock(now), note=note) if note \
                else say("card.resolved_by", agent=actor.name, time=_clock(now))
        return _Done(say("action.resolved", ticket=ticket.id, survey=survey), history,
                     {"suggestions_rejected": rejected, "note": note, "csat_survey": surveyed},
                     (CardField("Resolution note", note),) if note else ())

    def resolve_as_system(self, ticket_id: int, actor: str, why: str, *, note: str | None = None,
                          still_due: Callable[[Session, Ticket], bool] | None = None,
                          language: str = "en") -> ActionResult:
        """Resolve a ticket for someone who is not an agent (the quiet-period job "system", the terminal "cli"):
        the same resolution, audit event and card update as the Resolve button. `still_due`, checked under the
        ticket's lock, may refuse at the last moment (the customer wrote meanwhile): ok=False, nothing changed.
        The result's message is in `language`."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = lock_row(session, Ticket, ticket_id)
            if ticket is None:
                return ActionResult(False, say("action.no_ticket", ticket=ticket_id).text(language))
            if ticket.status == "resolved":
                return ActionResult(True, _already_resolved(ticket).text(language),
                                    self._current_card(session, ticket), changed=False)
            if still_due is not None and not still_due(session, ticket):
                return ActionResult(False, say("action.not_due", ticket=ticket.id).text(language), changed=False)
            done = self._resolve(session, ticket, actor, now, note, why)
            ticket.updated_at = now
            session.add(ticket)
            audit = AuditEvent(actor=actor[:128], action="ticket.resolve", subject_type="ticket",
                               subject_id=str(ticket.id), details={**done.details, "why": why}, at=now)
            session.add(audit)
            session.flush()
            card = queue_card_update(session, ticket, audit, done.history, done.field_updates,
                                     default_channel=self.settings.triage.channel,
                                     language_for=self.settings.language_for)
        if self.pipeline.on_enqueued is not None:
            self.pipeline.on_enqueued()
        return ActionResult(True, done.message.text(language), card)

    def _wrong_intent(self, session: Session, ticket: Ticket, actor: Agent, values: dict[str, str],
                      now: datetime) -> tuple[_Done, tuple[str, str] | None]:
        catalogue = getattr(self.classifier, "catalogue", None)
        if catalogue is None or not hasattr(self.classifier, "add_examples"):
            raise ActionError("this kefu's classifier cannot learn corrections (it has no live catalogue)")
        wanted = values["intent"].strip()
        if wanted not in catalogue:
            raise ActionError(_unknown_intent(wanted, list(catalogue.names())))
        intent = catalogue[wanted]
        message = session.scalars(
            select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in",
                                  Message.author_kind == "customer")
            .order_by(Message.id.desc())  # type: ignore[union-attr]
        ).first()
        if message is None or message.id is None:
            raise ActionError(f"ticket #{ticket.id} has no customer message to correct")
        predicted = message.intent or "unknown"
        already = session.scalars(
            select(Feedback).where(Feedback.message_id == message.id, Feedback.corrected_intent == wanted)
        ).first()
        if already is not None:
            return _Done(say("action.already_corrected", ticket=ticket.id, intent=wanted), "", {},
                         changed=False), None
        if predicted == wanted and ticket.intent == wanted:
            return _Done(say("action.already_intent", ticket=ticket.id, intent=wanted), "", {},
                         changed=False), None
        feedback = Feedback(message_id=message.id, agent_id=actor.id, predicted_intent=predicted,
                            corrected_intent=wanted, created_at=now)
        session.add(feedback)
        session.flush()
        text = message.text.strip()
        learnable = 0 < len(text) <= MAX_EXAMPLE_CHARS
        if learnable:
            self._store_example(session, wanted, text, feedback.id, now)
        old = (ticket.intent, ticket.severity)
        ticket.intent, ticket.kind = wanted, intent.kind
        if intent.severity < ticket.severity:
            ticket.severity = intent.severity
            self._tighten_due_times(ticket, now)
        rejected = self._reject_pending(session, ticket, actor)
        confidence = f" ({message.confidence:.2f})" if message.confidence is not None else ""
        severity_note = say("action.severity_changed", old=old[1], new=ticket.severity) \
            if ticket.severity != old[1] else ""
        done = _Done(
            say("action.intent_corrected", ticket=ticket.id, intent=wanted, old=old[0], severity=severity_note),
            say("card.intent_corrected", predicted=predicted, wanted=wanted, agent=actor.name, time=_clock(now)),
            {"message_id": message.id, "predicted": predicted, "corrected": wanted, "feedback_id": feedback.id,
             "learnt": learnable, "suggestions_rejected": rejected},
            (CardField("Intent", f"{wanted} (corrected by {actor.name}; kefu said {predicted}{confidence})"),),
        )
        return done, ((wanted, text) if learnable else None)

    def _store_example(self, session: Session, intent: str, text: str, feedback_id: int | None,
                       now: datetime) -> None:
        """The learnt example, kept for restarts; the same text learnt as another intent before is superseded."""
        session.execute(delete(IntentExample).where(IntentExample.text == text,  # type: ignore[arg-type]
                                                    IntentExample.intent != intent))  # type: ignore[arg-type]
        exists = session.scalars(
            select(IntentExample).where(IntentExample.intent == intent, IntentExample.text == text)
        ).first()
        if exists is not None:
            return
        try:
            with session.begin_nested():
                session.add(IntentExample(intent=intent, text=text, source="feedback", feedback_id=feedback_id,
                                          created_at=now))
        except IntegrityError:  # the same example was learnt from another ticket a moment ago
            log.info("example of %s already learnt meanwhile", intent)

    def _learn(self, intent: str, text: str) -> Phrase:
        """Teach the live classifier (after the commit: the database row is what survives a restart)."""
        try:
            self.classifier.add_examples(intent, [text])
        except Exception as exc:  # the correction is stored; the live model just did not take it
            log.warning("live learning of %s failed: %s", intent, exc)
            return say("action.not_learnt", error=exc)
        return say("action.learnt", intent=intent)

    # ---- helpers -----------------------------------------------------------------------------------------

    def _tighten_due_times(self, ticket: Ticket, now: datetime) -> None:
        """Due times for the ticket's severity from now, never later than they were."""
        policy = self.settings.sla.policy_for(ticket.channel, ticket.marketplace)
        first_due, resolution_due = policy.due_times(ticket.severity, now)
        if ticket.first_response_at is None:
            ticket.first_response_due = min(d for d in (ticket.first_response_due, first_due) if d is not None)
        ticket.resolution_due = min(d for d in (ticket.resolution_due, resolution_due) if d is not None)

    def _reject_pending(self, session: Session, ticket: Ticket, actor: Agent | str) -> list[int]:
        """Suggestions never used on this ticket are rejected (counted by the reply policy)."""
        rejected = []
        key = actor_key(actor) if isinstance(actor, Agent) else actor
        for suggestion in _pending_suggestions(session, ticket):
            assert suggestion.id is not None
            change = self.pipeline.policy.record_outcome(session, suggestion.id, None, actor=key)
            if change is not None:
                self.pipeline.announce_pair_change(session, change)
            rejected.append(suggestion.id)
        return rejected

    def _actor(self, session: Session, action: Action) -> Agent:
        return acting_agent(session, action.actor_platform, action.actor_id, self.clock(),
                            display_name=action.actor_name,
                            managers=self.settings.platform_managers(action.actor_platform))

    def _current_card(self, session: Session, ticket: Ticket) -> Card:
        return last_card(session, ticket)

    def _update_card(self, session: Session, ticket: Ticket, audit: AuditEvent, actor: Agent,
                     history: str | Phrase, updates: Sequence[CardField]) -> Card:
        return queue_card_update(session, ticket, audit, history, updates,
                                 default_channel=self.settings.triage.channel,
                                 language_for=self.settings.language_for)


def queue_card_update(session: Session, ticket: Ticket, audit: AuditEvent, history: str | Phrase,
                      updates: Sequence[CardField], *, default_channel: str,
                      language_for: Callable[[str], str] | None = None) -> Card:
    """The ticket's card, rebuilt from its last version with the ticket's state, `updates` and a new History
    line, queued as a card update (keyed by the audit event behind it); `default_channel` is where it goes while
    the ticket's card has not been posted. A History line given as a Phrase is written in the language of the
    card's channel (`language_for`, e.g. `Settings.language_for`; English without it). Button actions, commands
    and scheduled jobs share it."""
    channel = ticket.card_channel or default_channel
    history = text_in(history, language_for(channel) if language_for is not None else "en")
    card = last_card(session, ticket)
    pending = None
    if card.suggestion_id is not None:
        suggestion = session.get(Suggestion, card.suggestion_id)
        pending = suggestion if suggestion is not None and suggestion.outcome == "pending" else None
    fields = list(card.fields)
    if pending is None:
        fields = [f for f in fields if not f.label.startswith("Suggested reply")]
    for update_field in updates:
        _set_field(fields, update_field.label, update_field.value)
    _set_field(fields, "Severity", str(ticket.severity))
    _set_field(fields, "First response due", _iso(ticket.first_response_due))
    _set_field(fields, "Resolution due", _iso(ticket.resolution_due))
    _set_field(fields, "Status", ticket.status)
    history_field = next((f for f in fields if f.label == "History"), None)
    lines = (history_field.value + "\n" + history) if history_field else history
    fields = [f for f in fields if f.label != "History"] + [CardField("History", lines)]
    escalated = any(f.label == "Escalated" for f in fields)
    title = ticket_title(ticket, "resolved" if ticket.status == "resolved" else "escalated" if escalated else None)
    card = replace(
        card, title=write_wording(title, "en"), title_wording=title, severity=ticket.severity, fields=tuple(fields),
        ticket_id=ticket.id,
        buttons=_buttons(ticket, pending is not None, escalated),
        suggested_reply=card.suggested_reply if pending is not None else None,
        suggestion_id=card.suggestion_id if pending is not None else None,
        footer=card.footer if pending is not None and ticket.status != "resolved" else None,
    )
    assert ticket.id is not None
    enqueue(session, dedup_key=f"card_update:{ticket.id}:{audit.id}", kind="card_update",
            channel=channel, target=ticket.card_ref or "",
            payload=card_to_payload(card), ticket_id=ticket.id)
    return card


# ---- module helpers --------------------------------------------------------------------------------------


class _NoModel:
    """The intent model of `TicketActions.without_model`: not loaded in this process."""

    def predict(self, text: str) -> Any:
        raise RuntimeError("the intent model is not loaded in this process")


class _NoTemplates:
    def render(self, intent: str, language: str, variables: dict[str, Any],
               marketplace: str | None = None) -> None:
        return None



def _check_action(action: Action) -> dict[str, str]:
    """The action's values, checked for its name: a precise ActionError names the bad field."""
    if action.name not in ACTION_NAMES:
        raise ActionError(f"unknown action {action.name!r}: expected one of {', '.join(ACTION_NAMES)}")
    if not is_row_id(action.ticket_id):
        if isinstance(action.ticket_id, int) and action.ticket_id > MAX_ROW_ID:  # bigger than any id: a forged button
            raise ActionError(say("action.missing", ticket=action.ticket_id))
        raise ActionError(f"ticket_id must be a positive whole number, got {action.ticket_id!r}")
    check_actor(action.actor_platform, action.actor_id)
    if not isinstance(action.values, dict):
        raise ActionError(f"values must be a mapping of names to text, got {type(action.values).__name__}")
    allowed = ALLOWED_VALUES[action.name]
    for key, value in action.values.items():
        if key not in allowed:
            expected = f"expected {', '.join(allowed)}" if allowed else "it takes none"
            raise ActionError(f"unknown value {key!r} for action {action.name}: {expected}")
        if not isinstance(value, str):
            raise ActionError(f"value {key!r} must be text, got {type(value).__name__}")
    values = dict(action.values)
    if action.name == "edit":
        text = values.get("text")
        if text is None or not text.strip():
            raise ActionError("edit needs the reply's text (value 'text'), and it is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise ActionError(f"value 'text' is {len(text):,} characters; a reply may have at most "
                              f"{MAX_REPLY_CHARS:,}")
    if action.name == "wrong_intent" and not values.get("intent", "").strip():
        raise ActionError("wrong_intent needs the right intent (value 'intent')")
    if action.name == "assign" and "agent" in values and not values["agent"].strip():
        raise ActionError("value 'agent' is empty: name the agent to assign, or leave it out to assign yourself")
    for key in ("reason", "note"):
        if len(values.get(key, "")) > MAX_REASON_CHARS:
            raise ActionError(f"value {key!r} is {len(values[key])} characters; at most {MAX_REASON_CHARS}")
    if "suggestion_id" in values:
        _positive_int(values["suggestion_id"], "suggestion_id")
    return values


def _positive_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ActionError(f"value {name!r} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ActionError(f"value {name!r} must be positive, got {value!r}")
    return number


def _lock_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, row-locked for the transaction (an UPDATE first: on SQLite it takes the write lock at once)."""
    ticket: Ticket | None = lock_row(session, Ticket, ticket_id)
    if ticket is None:
        raise ActionError(say("action.missing", ticket=ticket_id))
    return ticket


def _resolved_when(ticket: Ticket) -> Phrase | str:
    return say("action.at", time=_clock(ticket.resolved_at)) if ticket.resolved_at else ""


def _already_resolved(ticket: Ticket) -> Phrase:
    return say("action.already_resolved", ticket=ticket.id, when=_resolved_when(ticket))


def _refuse_if_resolved(session: Session, ticket: Ticket, name: str) -> None:
    if ticket.status == "resolved":
        action = say(f"action.name.{name}") if name in ACTION_NAMES else name
        raise ActionError(say("action.closed", ticket=ticket.id, when=_resolved_when(ticket), action=action))


def _pending_suggestions(session: Session, ticket: Ticket) -> list[Suggestion]:
    """The ticket's unused suggestions, newest first."""
    return list(session.scalars(
        select(Suggestion).where(Suggestion.ticket_id == ticket.id, Suggestion.outcome == "pending")
        .order_by(Suggestion.id.desc())  # type: ignore[union-attr]
    ))


def _nothing_to_send(session: Session, ticket: Ticket, suggestion: Suggestion | None = None) -> Phrase:
    """Why Send has nothing to send: the suggestion was used or dismissed already, or there never was one."""
    if suggestion is None:
        suggestion = session.scalars(
            select(Suggestion).where(Suggestion.ticket_id == ticket.id, Suggestion.text.is_not(None))  # type: ignore[union-attr]
            .order_by(Suggestion.id.desc())  # type: ignore[union-attr]
        ).first()
    if suggestion is None or suggestion.outcome == "pending":
        return say("action.no_suggestion", ticket=ticket.id)
    claim = next((event for event in session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "ticket", AuditEvent.subject_id == str(ticket.id),
                                 AuditEvent.action.in_(("ticket.send", "ticket.edit")))  # type: ignore[attr-defined]
    ) if event.details.get("suggestion_id") == suggestion.id), None)
    if suggestion.outcome == "rejected":
        return say("action.dismissed", ticket=ticket.id)
    who = say("action.sent_by", author=_claim_author(session, claim.actor), time=_clock(claim.at)) \
        if claim is not None else ""
    return say("action.already_sent", ticket=ticket.id, who=who)


def _agent_named(session: Session, name: str) -> Agent:
    wanted = name.strip().lstrip("@")
    agents = [a for a in session.scalars(select(Agent).order_by(Agent.name)) if a.active]
    found = next((a for a in agents if a.name.casefold() == wanted.casefold()), None)
    if found is None:
        found = next((a for a in agents if wanted in (a.identities or {}).values()), None)
    if found is None:
        names = [a.name for a in agents]
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
        hint = say("action.agents_close", names=", ".join(close)) if close else \
            say("action.agents_all", names=", ".join(names[:20]) or say("action.no_agents"))
        raise ActionError(say("action.no_agent", name=wanted, hint=hint))
    return found


def _unknown_intent(wanted: str, names: list[str]) -> Phrase:
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    if close:
        return say("action.unknown_intent_close", intent=wanted, names=", ".join(close))
    return say("action.unknown_intent", intent=wanted, names=", ".join(sorted(names)))


def check_actor(actor_platform: object, actor_id: object) -> None:
    """ActionError naming the field when a button press does not say who pressed it (or says it too long)."""
    for field_name, value in (("actor_platform", actor_platform), ("actor_id", actor_id)):
        if not isinstance(value, str) or not value.strip():
            raise ActionError(f"{field_name} is required: who pressed the button?")
    assert isinstance(actor_platform, str) and isinstance(actor_id, str)
    if len(actor_platform) + len(actor_id) > 120:
        raise ActionError(f"actor_id is too long ({len(actor_id)} characters)")


def acting_agent(session: Session, platform: str, user: str, now: datetime, *, display_name: str | None = None,
                 managers: frozenset[str] = frozenset()) -> Agent:
    """The agent who pressed a button (by platform identity; by name on the console and the CLI); an unknown
    user becomes a new agent, named after their display name on the platform when that name is free. A user
    listed in `managers` (settings: the platform's manager ids) has the manager role. ActionError when the agent
    is deactivated."""
    agents = session.scalars(select(Agent).order_by(Agent.id)).all()  # type: ignore[arg-type]
    generated = f"{platform}:{user}"
    agent = next((a for a in agents if (a.identities or {}).get(platform) == user), None)
    if agent is None and platform in NAME_PLATFORMS:
        agent = next((a for a in agents if a.name == user), None)
    if agent is None:
        agent = next((a for a in agents if a.name == generated), None)
    role = "manager" if user in managers else "agent"
    if agent is None:
        taken = {a.name.casefold() for a in agents}
        name = display_name.strip()[:128] if display_name and display_name.strip() else generated
        agent = _new_agent(session, platform, user, generated if name.casefold() in taken else name, role, now)
    if not agent.active:
        raise ActionError(say("action.deactivated", agent=agent.name))
    if role == "manager" and agent.role == "agent":  # settings name this user a manager: the table follows
        agent.role = "manager"
        session.add(agent)
        session.add(AuditEvent(actor="system", action="agent.role_changed", subject_type="agent",
                               subject_id=str(agent.id), at=now,
                               details={"role": "manager", "why": f"listed as a {platform} manager in settings"}))
    return agent


def _new_agent(session: Session, platform: str, user: str, name: str, role: str, now: datetime) -> Agent:
    try:
        with session.begin_nested():
            agent = Agent(name=name, role=role, identities={platform: user})
            session.add(agent)
    except IntegrityError:  # created by a concurrent action a moment ago
        return session.scalars(select(Agent).where(Agent.name == name)).one()
    session.add(AuditEvent(actor="system", action="agent.created", subject_type="agent",
                           subject_id=str(agent.id), at=now,
                           details={"name": name, "platform": platform, "user_id": user, "role": role,
                                    "why": "first button press by an unknown user"}))
    log.info("agent %s created on their first action", name)
    return agent


def actor_key(agent: Agent) -> str:
    """How audit events name an agent as their actor."""
    return f"agent:{agent.id}"


def _claim_author(session: Session, actor: str) -> str:
    """The name of an audit event's actor: the agent's name, else the actor as recorded."""
    if actor.startswith("agent:") and actor[6:].isdigit():
        agent = session.get(Agent, int(actor[6:]))
        if agent is not None:
            return agent.name
    return actor


def _audit(session: Session, agent: Agent, name: str, ticket: Ticket, details: dict[str, Any],
           now: datetime) -> AuditEvent:
    event = AuditEvent(actor=actor_key(agent), action=name, subject_type="ticket", subject_id=str(ticket.id),
                       details=details, at=now)
    session.add(event)
    session.flush()
    return event


def last_card(session: Session, ticket: Ticket) -> Card:
    """The ticket's card as last queued (card or card update); a plain one when it never had a card. The SLA
    watch's cards about the ticket (their in-place outcome updates are card updates too) are not its card."""
    item = next((found for found in session.scalars(
        select(OutboxItem).where(OutboxItem.ticket_id == ticket.id,
                                 OutboxItem.kind.in_(("card", "card_update")))  # type: ignore[attr-defined]
        .order_by(OutboxItem.id.desc())  # type: ignore[union-attr]
    ) if found.payload.get("kind") != "sla_alert"), None)
    if item is not None:
        try:
            return card_from_payload(item.payload)
        except (TypeError, ValueError):
            log.warning("outbox item %s holds no readable card: the ticket's card is rebuilt", item.id)
    latest = session.scalars(
        select(Message.text).where(Message.ticket_id == ticket.id, Message.direction == "in")
        .order_by(Message.id.desc())  # type: ignore[union-attr]
    ).first()
    return Card(kind="triage", title=f"Ticket #{ticket.id}: {ticket.intent} · severity {ticket.severity}",
                body=latest or "", severity=ticket.severity, ticket_id=ticket.id, language=ticket.language,
                fields=(CardField("Intent", ticket.intent),))


def _buttons(ticket: Ticket, suggestion_pending: bool, escalated: bool) -> tuple[CardButton, ...]:
    if ticket.status == "resolved":
        return ()
    buttons = []
    if suggestion_pending:
        buttons.append(_BUTTONS["send"])
        buttons.append(_BUTTONS["edit"])
    else:
        buttons.append(CardButton("edit", "Write a reply", "primary"))
    buttons.append(_BUTTONS["assign"])
    if not (escalated and ticket.severity == 1):
        buttons.append(_BUTTONS["escalate"])
    buttons.extend((_BUTTONS["resolve"], _BUTTONS["wrong_intent"]))
    buttons.extend(opening_buttons(ticket.intent))
    return tuple(buttons)


def _set_field(fields: list[CardField], label: str, value: str) -> None:
    for index, current in enumerate(fields):
        if current.label == label:
            fields[index] = CardField(label, value)
            return
    fields.append(CardField(label, value))


def _clock(value: datetime) -> str:
    return value.strftime("%H:%M UTC")


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "—"
