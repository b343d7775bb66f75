"""CSAT surveys: one per resolved ticket, asked once in the customer's language, answered in the conversation.

The life of a survey (models.tables.CsatSurvey):

1. `schedule_survey` — whoever resolves a ticket (the Resolve button and `/resolve` in handlers/actions, the quiet
   period in scheduler/auto_resolve) calls it in the same transaction: a row due `[csat] delay` later. The row is
   unique per ticket (INSERT … ON CONFLICT DO NOTHING), so resolving twice, or a redelivered button press, never
   schedules a second survey.
2. scheduler/csat_surveys sends the due ones: the question (`survey_question`) goes through the outbox as a reply
   of kind "csat_survey" (the HTTP API's callback carries that kind; the chat widget shows 1-5 buttons).
3. `SurveyAnswers.answer(inbound)` — the pipeline asks it before classifying a customer's message: on a
   conversation with a survey asked within `[csat] window`, a message that reads as a rating (intents.ratings:
   "5", "⭐⭐⭐⭐", "très bien", "不满意" …) is stored on the surveyed ticket as a CsatResponse with its comment, and
   the customer is thanked. Anything else is a new message. A rating at or below `[csat] low_score` opens one
   follow-up card for the agent's lead on the managers' route, mentioning the ticket's agent and the managers.
"""

from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Card, CardField, Inbound, IngestResult, Reply, card_to_payload
from bot.outbox import enqueue
from bot.settings import PLATFORM_SECTIONS, Settings
from intents.ratings import Rating, parse_rating
from knowledge.language_chain import language_chain
from models.db import session_scope, utcnow
from models.tables import Agent, AuditEvent, CsatResponse, CsatSurvey, Customer, Message, Ticket

log = logging.getLogger("kefu.csat")

CSAT_INTENT = "csat_answer"  # the intent recorded on a customer's message that answered a survey


@lru_cache(maxsize=1)
def survey_texts() -> dict[str, dict[str, str]]:
    """The shipped question and thanks per language (bot/defaults/csat.yaml)."""
    text = importlib.resources.files("bot.defaults").joinpath("csat.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {kind: {str(lang): str(value) for lang, value in data[kind].items()} for kind in ("question", "thanks")}


def _in_language(kind: str, language: str | None, default_language: str) -> tuple[str, str]:
    """(text, language) of the survey's `kind` text in the first language of the fallback chain that has it."""
    texts = survey_texts()[kind]
    for code in [*language_chain(language, default_language), "en"]:
        if code in texts:
            return texts[code], code
    raise LookupError(f"bot/defaults/csat.yaml has no {kind} text in English")


def survey_question(ticket_id: int, language: str | None, default_language: str = "en") -> tuple[str, str]:
    """(question, language) asking the customer of `ticket_id` for a 1-5 rating."""
    text, code = _in_language("question", language, default_language)
    return text.replace("{ticket_id}", str(ticket_id)), code


def schedule_survey(session: Session, settings: Settings, ticket: Ticket, now: datetime,
                    resolved_by: str) -> bool:
    """Schedule the survey of `ticket`, just resolved, `[csat] delay` from `now`; False when CSAT is off or the
    ticket has (had) one already. Runs in the caller's transaction."""
    if not settings.csat.enabled or ticket.id is None:
        return False
    customer = session.get(Customer, ticket.customer_id)
    values = {
        "ticket_id": ticket.id, "channel": ticket.channel, "conversation_id": ticket.conversation_id,
        "customer_id": customer.external_id if customer is not None else ticket.conversation_id,
        "language": ticket.language or (customer.language if customer is not None else None),
        "status": "scheduled", "due_at": now + timedelta(seconds=settings.csat.delay_seconds),
        "resolved_by": resolved_by[:128], "created_at": now,
    }
    table = CsatSurvey.__table__  # type: ignore[attr-defined]
    insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(values).on_conflict_do_nothing(index_elements=["ticket_id"])
    created = session.execute(statement.returning(table.c.id)).first() is not None
    if created:
        log.info("CSAT survey of ticket %s due %s", ticket.id, values["due_at"].isoformat(timespec="seconds"),
                 extra={"ticket_id": ticket.id})
    return created


class SurveyAnswers:
    """Recognises a customer's answer to an open survey (see the module docstring); `clock` gives "now"."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def open_survey(self, channel: str, conversation_id: str, now: datetime) -> CsatSurvey | None:
        """The conversation's survey asked within the survey window and not answered yet (the latest)."""
        window_start = now - timedelta(seconds=self.settings.csat.window_seconds)
        with Session(self.engine, expire_on_commit=False) as session:
            return session.scalars(
                select(CsatSurvey).where(
                    CsatSurvey.channel == channel, CsatSurvey.conversation_id == conversation_id,
                    CsatSurvey.status == "asked", CsatSurvey.asked_at >= window_start,  # type: ignore[operator]
                ).order_by(CsatSurvey.asked_at.desc())  # type: ignore[union-attr]
            ).first()

    def answer(self, inbound: Inbound) -> IngestResult | None:
        """The answer recorded when `inbound` rates an open survey of its conversation; None when it is not an
        answer (no open survey, or not a rating): the pipeline then treats it as a new message. IntegrityError
        when the message was stored meanwhile (a concurrent redelivery), as for any message."""
        if not self.settings.csat.enabled:
            return None
        rating = parse_rating(inbound.text)  # first: most messages are no rating, and this costs no query
        if rating is None:
            return None
        now = self.clock()
        survey = self.open_survey(inbound.channel, inbound.conversation_id or inbound.customer.id, now)
        if survey is None:
            return None
        with session_scope(self.engine) as session:
            result = self._record(session, survey, inbound, rating, now)
        if result is not None:
            log.info("CSAT %d for ticket %s", rating.score, survey.ticket_id,
                     extra={"ticket_id": survey.ticket_id, "message_id": result.message_id})
        return result

    def _record(self, session: Session, survey: CsatSurvey, inbound: Inbound, rating: Rating,
                now: datetime) -> IngestResult | None:
        table = CsatSurvey.__table__  # type: ignore[attr-defined]
        claimed = session.execute(update(table).where(table.c.id == survey.id, table.c.status == "asked")
                                  .values(status="answered", answered_at=now))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # answered a moment ago by another message: this one is a new message
        ticket = session.get(Ticket, survey.ticket_id)
        assert ticket is not None and ticket.id is not None
        message = Message(
            ticket_id=ticket.id, channel=inbound.channel, channel_message_id=inbound.channel_message_id,
            direction="in", author_kind="customer", author=inbound.customer.id, text=inbound.text,
            language=survey.language, intent=CSAT_INTENT, confidence=1.0, sent_at=inbound.sent_at, created_at=now,
        )
        session.add(message)
        session.flush()  # IntegrityError: the channel message id is stored already
        assert message.id is not None
        response = CsatResponse(ticket_id=ticket.id, score=rating.score, comment=rating.comment,
                                survey_id=survey.id, message_id=message.id, created_at=now)
        session.add(response)
        session.add(AuditEvent(actor=f"customer:{inbound.customer.id}"[:128], action="csat.answered",
                               subject_type="ticket", subject_id=str(ticket.id), at=now,
                               details={"score": rating.score, "comment": rating.comment, "survey_id": survey.id}))
        thanks, language = _in_language("thanks", survey.language, self.settings.replies.default_language)
        reply = Reply(ticket_id=ticket.id, conversation_id=survey.conversation_id, customer_id=survey.customer_id,
                      text=thanks, language=language, kind="csat_thanks")
        enqueue(session, dedup_key=f"csat_thanks:{survey.id}", kind="reply", channel=survey.channel,
                target=survey.conversation_id, payload=asdict(reply), ticket_id=ticket.id)
        if rating.score <= self.settings.csat.low_score:
            self._follow_up(session, survey, ticket, rating, now)
        return IngestResult(ticket_id=ticket.id, message_id=message.id, intent=CSAT_INTENT, confidence=1.0,
                            language=survey.language, action="csat_answered")

    def _follow_up(self, session: Session, survey: CsatSurvey, ticket: Ticket, rating: Rating,
                   now: datetime) -> None:
        """One card for the agent's lead about a low rating (claimed on the survey row: once)."""
        table = CsatSurvey.__table__  # type: ignore[attr-defined]
        claimed = session.execute(update(table).where(table.c.id == survey.id, table.c.follow_up_at.is_(None))
                                  .values(follow_up_at=now))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
        card = follow_up_card(session, self.settings, ticket, rating)
        managers = self.settings.sla.managers
        # No ticket_id on the outbox row: this card is about the ticket, it is not the ticket's triage card.
        enqueue(session, dedup_key=f"csat_follow_up:{survey.id}", kind="card", channel=managers.channel,
                target=managers.target, payload=card_to_payload(card))


def follow_up_card(session: Session, settings: Settings, ticket: Ticket, rating: Rating) -> Card:
    """The card that tells the agent's lead a customer rated the ticket low, mentioning the agent and managers."""
    owner = session.get(Agent, ticket.assignee_id) if ticket.assignee_id is not None else None
    mentions: list[tuple[str, str, str]] = []
    managers = session.scalars(select(Agent).where(Agent.role.in_(("manager", "admin")),  # type: ignore[attr-defined]
                                                   Agent.active.is_(True))  # type: ignore[attr-defined]
                               .order_by(Agent.name)).all()
    for person in ([owner] if owner is not None else []) + list(managers):
        identities = sorted((person.identities or {}).items())
        mentions += [(f"@{person.name}", platform, user) for platform, user in identities]
    for platform in PLATFORM_SECTIONS:
        for user in sorted(settings.platform_managers(platform)):
            mentions.append((f"@{user}", platform, user))
    mentions = list(dict.fromkeys(mentions))
    stars = "★" * rating.score + "☆" * (5 - rating.score)
    who = f"@{owner.name}" if owner is not None else "Unassigned"
    body = (f"The customer of ticket #{ticket.id} rated it {rating.score}/5 {stars}. {who}'s ticket: a lead should "
            "follow up with the customer.")
    fields = [
        CardField("Rating", f"{rating.score}/5 {stars}"),
        CardField("Comment", rating.comment or "(none)"),
        CardField("Ticket", f"#{ticket.id} · {ticket.intent} · {ticket.channel}"),
        CardField("Agent", owner.name if owner is not None else "unassigned"),
    ]
    if ticket.language:
        fields.append(CardField("Language", ticket.language))
    return Card(kind="notice", title=f"Low CSAT · ticket #{ticket.id}: {rating.score}/5", body=body,
                severity=ticket.severity, fields=tuple(fields), ticket_id=ticket.id, language=ticket.language,
                mentions=tuple(mentions))
