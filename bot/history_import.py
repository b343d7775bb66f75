"""`kefu import history`: past conversations filed the way live messages are, at their own times, with no reply
and no alert, so that metrics and alert baselines have history from the first day.

The messages of a history file (bot/history_file.py) are filed in time order, `batch_size` lines per transaction:

- a customer's message ("in") is understood as a live one is (language detection, then the intent classifier, a
  batch at a time) and filed by bot.intake at its `sent_at`: the customer, the conversation's ticket (opened by its
  first message: created then, SLA due times from then; later messages join it and may raise its severity), the
  message (created_at = sent_at);
- an agent's message ("out") is filed on the conversation's ticket at its `sent_at`; the first is the ticket's
  first response (bot.sla_clock stamps it). Its author becomes an Agent (role agent, with an audit event) when
  no agent has that name. An "out" line with no ticket to go on (before any customer message of its conversation,
  or after the ticket was resolved) is reported and skipped: kefu keeps an agent's messages on tickets;
- `resolved_at` resolves the line's ticket at that time; a later message of the conversation opens a new ticket,
  as it would live.

Nothing is queued in the outbox and no Suggestion is recorded. A ticket the import opens carries `imported_at`, so
its SLA clocks that ran out before the import are history that the metrics count and the SLA watch leaves alone
(bot/sla_clock.py); a live message that joins it later is handled as any live message.

Idempotent: a message already stored (the same channel and channel_message_id) is counted as present and left
alone, so importing a file again changes nothing and an interrupted import is completed by running it again.
Messages newer than what is stored extend their conversations; older ones cannot be slotted in before them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.history_file import HistoryFile, HistoryMessage
from bot.intake import conversation_ticket, file_agent_message, file_inbound
from bot.messages import Inbound
from bot.pipeline import choose_language
from bot.settings import Settings
from bot.sla_clock import stamp_resolution
from models.db import session_scope, utcnow
from models.tables import Agent, AuditEvent, Message, Ticket

if TYPE_CHECKING:
    from intents.classifier import Prediction
    from intents.language import LanguageGuess

log = logging.getLogger("kefu.history_import")

ATTEMPTS = 3  # a batch that collides with a concurrent writer is filed again, this many times at most


class BatchClassifier(Protocol):
    def predict_batch(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass
class ImportSummary:
    """What an import did; lines = imported + present + skipped."""

    lines: int = 0  # lines read (blank lines left out)
    imported: int = 0  # messages stored
    present: int = 0  # messages stored before (an earlier import, or twice in the file)
    skipped: int = 0  # bad lines, and "out" lines with no ticket to go on
    tickets_opened: int = 0
    tickets_resolved: int = 0
    agents_created: int = 0


@dataclass
class _BatchOutcome:
    imported: int = 0
    present: int = 0
    tickets_opened: int = 0
    tickets_resolved: int = 0
    agents: set[str] = field(default_factory=set)  # agents created
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


_Understood = tuple["LanguageGuess", str | None, "Prediction"]


class HistoryImport:
    """Files history files into the database of `engine` on `channel`; see the module docstring.

    `report(line, reason)` hears of each line skipped while filing (bad lines are reported by `scan_history`);
    `progress(done, total)` is called every `progress_every` lines."""

    def __init__(
        self,
        engine: Engine,
        classifier: BatchClassifier,
        settings: Settings,
        *,
        channel: str,
        detect_language: Callable[[str], LanguageGuess] | None = None,
        report: Callable[[int, str], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        progress_every: int = 5000,
        batch_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if detect_language is None:
            from intents.language import detect_language as detect_language_default

            detect_language = detect_language_default
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.engine = engine
        self.classifier = classifier
        self.settings = settings
        self.channel = channel
        self.detect_language = detect_language
        self.report = report or (lambda _line, _reason: None)
        self.progress = progress
        self.progress_every = progress_every
        self.batch_size = batch_size
        self.clock = clock
        self._agents: set[str] = set()  # names known to exist

    def run(self, history: HistoryFile) -> ImportSummary:
        summary = ImportSummary(lines=history.lines, skipped=history.bad)
        done = 0
        for batch in history.batches(self.batch_size):
            outcome = self._import(batch)
            for line, reason in outcome.skipped:
                self.report(line, reason)
            summary.imported += outcome.imported
            summary.present += outcome.present
            summary.skipped += len(outcome.skipped)
            summary.tickets_opened += outcome.tickets_opened
            summary.tickets_resolved += outcome.tickets_resolved
            summary.agents_created += len(outcome.agents)
            self._agents |= outcome.agents
            if self.progress is not None and (done + len(batch)) // self.progress_every > done // self.progress_every:
                self.progress(done + len(batch), history.good)
            done += len(batch)
        log.info("history import on %s: %d imported, %d present, %d skipped", self.channel, summary.imported,
                 summary.present, summary.skipped)
        return summary

    def _import(self, batch: list[HistoryMessage]) -> _BatchOutcome:
        """File one batch in one transaction. Only messages not stored yet are classified."""
        with Session(self.engine) as session:
            stored = self._stored(session, batch)
        understood = self._understand([m for m in batch if m.direction == "in" and m.channel_message_id not in stored])
        attempt = 1
        while True:
            try:
                return self._file(batch, understood)
            except IntegrityError:
                # Another writer stored one of these messages (or created one of these agents) meanwhile: the
                # batch was rolled back; filed again, it finds them stored.
                if attempt == ATTEMPTS:
                    raise
                attempt += 1
                log.info("history import: a batch collided with another writer, filing it again (attempt %d)",
                         attempt)

    def _stored(self, session: Session, batch: list[HistoryMessage]) -> set[str]:
        ids = [m.channel_message_id for m in batch]
        return set(session.scalars(select(Message.channel_message_id).where(
            Message.channel == self.channel, Message.channel_message_id.in_(ids),  # type: ignore[union-attr]
        )))

    def _understand(self, messages: list[HistoryMessage]) -> dict[int, _Understood]:
        """Language and prediction of each customer message, by line, as the live pipeline makes them."""
        if not messages:
            return {}
        predictions = self.classifier.predict_batch([m.text for m in messages])
        understood: dict[int, _Understood] = {}
        for message, prediction in zip(messages, predictions, strict=True):
            guess = self.detect_language(message.text)
            stated = message.customer.language if message.customer is not None else None
            understood[message.line] = (guess, choose_language(guess, stated), prediction)
        return understood

    def _file(self, batch: list[HistoryMessage], understood: dict[int, _Understood]) -> _BatchOutcome:
        outcome = _BatchOutcome()
        now = self.clock()
        with session_scope(self.engine) as session:
            stored = self._stored(session, batch)
            for message in batch:
                if message.channel_message_id in stored:
                    outcome.present += 1
                    continue
                if message.direction == "in":
                    ticket = self._file_inbound(session, message, understood[message.line], now, outcome)
                else:
                    found = self._file_outbound(session, message, outcome)
                    if found is None:
                        outcome.skipped.append((message.line, (
                            f"an agent's message with no ticket to go on: conversation {message.conversation_id!r} "
                            f"has no ticket open at {message.sent_at.isoformat()} (a customer's message opens one)")))
                        continue
                    ticket = found
                stored.add(message.channel_message_id)
                outcome.imported += 1
                if message.resolved_at is not None and ticket.resolved_at is None:
                    stamp_resolution(ticket, message.resolved_at, self.settings.sla)
                    ticket.status = "resolved"
                    ticket.updated_at = max(ticket.updated_at, message.resolved_at)
                    outcome.tickets_resolved += 1
        return outcome

    def _file_inbound(self, session: Session, message: HistoryMessage, understood: _Understood, now: datetime,
                      outcome: _BatchOutcome) -> Ticket:
        guess, language, prediction = understood
        assert message.customer is not None
        inbound = Inbound(channel=self.channel, channel_message_id=message.channel_message_id,
                          customer=message.customer, text=message.text, conversation_id=message.conversation_id,
                          sent_at=message.sent_at, order_id=message.order_id, sku=message.sku,
                          marketplace=message.marketplace)
        filed = file_inbound(session, self.settings.sla, inbound, guess, language, prediction, message.sent_at,
                             history=True)
        if filed.opened:
            filed.ticket.imported_at = now
            outcome.tickets_opened += 1
        return filed.ticket

    def _file_outbound(self, session: Session, message: HistoryMessage, outcome: _BatchOutcome) -> Ticket | None:
        ticket = conversation_ticket(session, self.channel, message.conversation_id, resolved_after=message.sent_at,
                                     lock=True)
        if ticket is None:
            return None
        if message.author is not None:
            self._ensure_agent(session, message.author, outcome)
        file_agent_message(session, self.settings.sla, ticket, message.author, message.text, message.sent_at,
                           channel_message_id=message.channel_message_id, sent_at=message.sent_at)
        return ticket

    def _ensure_agent(self, session: Session, name: str, outcome: _BatchOutcome) -> None:
        """An author no agent is named after becomes an agent (role agent), with an audit event."""
        if name in self._agents or name in outcome.agents:
            return
        if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
            self._agents.add(name)
            return
        agent = Agent(name=name, role="agent")
        session.add(agent)
        session.flush()
        session.add(AuditEvent(actor="import", action="agent.created", subject_type="agent", subject_id=str(agent.id),
                               at=self.clock(), details={"name": name, "role": "agent",
                                                         "why": "author of imported history messages"}))
        outcome.agents.add(name)
        log.info("agent %s created: the author of imported messages", name)
