"""Fixtures for the CSAT tests: a pipeline with a fixed intent classifier, ticket actions and the survey job, all
on one movable clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.csat import SurveyAnswers
from bot.messages import Action, CustomerInfo, Inbound, IngestResult
from bot.pipeline import Pipeline
from bot.settings import Settings
from handlers.actions import ActionResult, TicketActions
from intents.classifier import Prediction
from models.db import utcnow
from scheduler.csat_surveys import CsatSurveyJob


class AlwaysOrderStatus:
    """Every message is a question about an order (suggested to agents: no template renders here)."""

    def predict(self, text: str) -> Prediction:
        return Prediction(intent="order_status", kind="faq", severity=3, confidence=0.9, runner_up=None,
                          runner_up_confidence=None, best_guess="order_status")


class NoTemplates:
    def render(self, intent: str, language: str, variables: dict[str, Any], marketplace: str | None = None) -> None:
        return None


@dataclass
class Clock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


_ids = itertools.count(1)


@dataclass
class Desk:
    """The pieces a CSAT scenario drives: customers write (pipeline), agents resolve, the job asks."""

    engine: Engine
    settings: Settings
    clock: Clock
    pipeline: Pipeline
    actions: TicketActions
    job: CsatSurveyJob

    def write(self, text: str, customer: str = "c-1", *, language: str | None = None,
              message_id: str | None = None, channel: str = "webhook") -> IngestResult:
        info = CustomerInfo(id=customer, name="Ana", language=language)
        return self.pipeline.ingest_sync(Inbound(channel=channel, channel_message_id=message_id or f"m-{next(_ids)}",
                                                 customer=info, text=text))

    def resolve(self, ticket_id: int, agent: str = "mei", note: str | None = None) -> ActionResult:
        values = {"note": note} if note else {}
        return self.actions.perform_sync(Action("resolve", ticket_id, "console", agent, values=values))

    def rows(self, table: type, *where: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.scalars(select(table).where(*where).order_by(table.id)))  # type: ignore[attr-defined]


def make_desk(engine: Engine, settings: Settings, clock: Clock) -> Desk:
    pipeline = Pipeline(engine, AlwaysOrderStatus(), NoTemplates(), settings,
                        csat=SurveyAnswers(engine, settings, clock))
    return Desk(engine, settings, clock, pipeline, TicketActions(engine, pipeline, None, clock=clock),
                CsatSurveyJob(engine, settings))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Settings:
    return Settings(csat={"delay": "1h", "window": "7d"})


@pytest.fixture
def desk(engine: Engine, settings: Settings, clock: Clock) -> Desk:
    return make_desk(engine, settings, clock)
