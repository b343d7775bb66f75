"""A small follow-the-sun team for the assignment tests, and a pipeline whose assignment clock is injected.

Monday 2026-11-23 02:00 UTC is 03:00 in Berlin (night) and 10:00 in Shenzhen (day shift 09:00-18:00).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.assignment.routing import TicketAssigner
from bot.messages import CustomerInfo, Inbound
from bot.pipeline import Pipeline
from bot.settings import AssignmentSettings, ReplySettings, Settings
from models.tables import Agent, Customer, Ticket
from tests.test_pipeline import FixedClassifier, FixedTemplates

BERLIN_NIGHT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Mon 03:00 Europe/Berlin, 10:00 Asia/Shanghai
SHENZHEN_DAY = "mon-fri 09:00-18:00 Asia/Shanghai"
BERLIN_DAY = "mon-fri 09:00-18:00 Europe/Berlin"


class Clock:
    """A settable "now" for the assignment code."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def add_agent(engine: Engine, name: str, **fields: Any) -> int:
    with Session(engine) as session:
        agent = Agent(name=name, **fields)
        session.add(agent)
        session.commit()
        assert agent.id is not None
        return agent.id


def settings_for(mode: str = "auto", **assignment: Any) -> Settings:
    return Settings(replies=ReplySettings(auto_reply_min_confidence=0.6),
                    assignment=AssignmentSettings(mode=mode, **assignment))


@pytest.fixture
def clock() -> Clock:
    return Clock(BERLIN_NIGHT)


@pytest.fixture
def classifier() -> FixedClassifier:
    return FixedClassifier()


@pytest.fixture
def make_pipeline(engine: Engine, classifier: FixedClassifier, clock: Clock) -> Callable[[Settings], Pipeline]:
    def make(settings: Settings) -> Pipeline:
        return Pipeline(engine, classifier, FixedTemplates(), settings, assigner=TicketAssigner(settings, clock))
    return make


_ids = iter(range(1, 100_000))


def message(text: str, customer: str = "c-1", language: str | None = None, **kwargs: Any) -> Inbound:
    return Inbound(channel="webhook", channel_message_id=f"am-{next(_ids)}", text=text,
                   customer=CustomerInfo(id=customer, name="Kunde", language=language, country="DE"), **kwargs)


def ticket(engine: Engine, ticket_id: int) -> Ticket:
    with Session(engine) as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def agent_name(engine: Engine, agent_id: int | None) -> str | None:
    if agent_id is None:
        return None
    with Session(engine) as session:
        agent = session.get(Agent, agent_id)
        return agent.name if agent is not None else None


def set_tier(engine: Engine, customer: str, tier: str) -> None:
    with Session(engine) as session:
        row = session.scalars(select(Customer).where(Customer.external_id == customer)).first()
        if row is None:
            row = Customer(channel="webhook", external_id=customer)
        row.tier = tier
        session.add(row)
        session.commit()
