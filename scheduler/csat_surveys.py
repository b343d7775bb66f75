"""The CSAT survey job: asks the customers of resolved tickets for a rating once their survey is due.

Each pass (every `[csat] interval_seconds`) takes the surveys due by now (bot/csat.py schedules them when a ticket
is resolved) and, for each, in one transaction: claims it (UPDATE … WHERE status = 'scheduled': a second replica
updates nothing and sends nothing) and queues the question through the outbox as a reply of kind "csat_survey" in
the customer's language (dedup key `csat_survey:<ticket>`: once per ticket). A survey is skipped, never asked, when
its channel cannot deliver replies or when the customer opened a new ticket on the conversation meanwhile (they
are back with a new problem: no time to ask how the last one went). Asked surveys nobody answered within
`[csat] window` expire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.csat import survey_question
from bot.messages import Reply
from bot.outbox import enqueue
from bot.settings import Settings
from models.db import session_scope
from models.tables import CsatSurvey, Ticket

log = logging.getLogger(__name__)

BATCH = 200  # surveys per pass: a backlog drains over a few passes


@dataclass(frozen=True)
class SurveyRound:
    asked: list[int]  # ticket ids
    skipped: list[int]
    expired: int


class CsatSurveyJob:
    """A scheduler job (see scheduler/runner.py); `reply_channels` are the customer channels that can deliver a
    reply in this deployment (None: all)."""

    def __init__(self, engine: Engine, settings: Settings, reply_channels: frozenset[str] | None = None,
                 on_enqueued: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.reply_channels = reply_channels
        self.on_enqueued = on_enqueued

    def __call__(self, now: datetime) -> SurveyRound:
        return self.run_once(now)

    def run_once(self, now: datetime) -> SurveyRound:
        with Session(self.engine) as session:
            due = session.scalars(
                select(CsatSurvey).where(CsatSurvey.status == "scheduled", CsatSurvey.due_at <= now)  # type: ignore[arg-type]
                .order_by(CsatSurvey.due_at).limit(BATCH)  # type: ignore[arg-type]
            ).all()
        asked: list[int] = []
        skipped: list[int] = []
        for survey in due:
            outcome = self._ask(survey, now)
            if outcome == "asked":
                asked.append(survey.ticket_id)
            elif outcome == "skipped":
                skipped.append(survey.ticket_id)
        expired = self._expire(now)
        if asked:
            log.info("asked %d customer(s) for a CSAT rating: tickets %s", len(asked), asked)
            if self.on_enqueued is not None:
                self.on_enqueued()
        return SurveyRound(asked, skipped, expired)

    def _ask(self, survey: CsatSurvey, now: datetime) -> str | None:
        """"asked", "skipped", or None when another replica took the survey first."""
        table = CsatSurvey.__table__  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            reason = self._skip_reason(session, survey)
            values = {"status": "skipped"} if reason else {"status": "asked", "asked_at": now}
            claimed = session.execute(update(table).where(table.c.id == survey.id, table.c.status == "scheduled")
                                      .values(**values))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            if reason:
                log.info("CSAT survey of ticket %s skipped: %s", survey.ticket_id, reason,
                         extra={"ticket_id": survey.ticket_id})
                return "skipped"
            text, language = survey_question(survey.ticket_id, survey.language,
                                             self.settings.replies.default_language)
            reply = Reply(ticket_id=survey.ticket_id, conversation_id=survey.conversation_id,
                          customer_id=survey.customer_id, text=text, language=language, kind="csat_survey")
            enqueue(session, dedup_key=f"csat_survey:{survey.ticket_id}", kind="reply", channel=survey.channel,
                    target=survey.conversation_id, payload=asdict(reply), ticket_id=survey.ticket_id)
        return "asked"

    def _skip_reason(self, session: Session, survey: CsatSurvey) -> str | None:
        if self.reply_channels is not None and survey.channel not in self.reply_channels:
            return f"channel {survey.channel} cannot deliver replies here"
        newer = session.scalars(
            select(Ticket.id).where(Ticket.channel == survey.channel,
                                    Ticket.conversation_id == survey.conversation_id,
                                    Ticket.id > survey.ticket_id, Ticket.status != "resolved")  # type: ignore[operator]
        ).first()
        if newer is not None:
            return f"the customer opened ticket #{newer} meanwhile"
        return None

    def _expire(self, now: datetime) -> int:
        cutoff = now - timedelta(seconds=self.settings.csat.window_seconds)
        table = CsatSurvey.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            result = connection.execute(update(table).where(table.c.status == "asked", table.c.asked_at < cutoff)
                                        .values(status="expired"))
        return int(result.rowcount or 0)
