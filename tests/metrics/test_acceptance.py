"""Auto-reply acceptance and suggestion edit rates (bot.metrics) on hand-built suggestions (SQLite, PostgreSQL),
alert rules on them, and /metrics showing them next to the auto-reply rate.

The window is 1 March 00:00 to 8 March 00:00 2026 UTC. Suggestions by ticket (outcome, decided):

  ticket region agent  created   suggestions
  T1     EU     alice  2 10:00   accepted 2 10:05 · edited 3 09:00 · rejected 3 12:00
  T2     US     bob    4 10:00   accepted 4 10:30 · pending · accepted 9 08:00 (after the end)
  T3     US     bob    5 10:00   edited, decided_at missing (dated by its creation, 5 10:00)
  T4     EU     alice  Feb 27    accepted 2 09:00 (its ticket is not in the window's population)
  T5     EU     -      6 10:00   none

Decided before the end, on the window's tickets: T1 3, T2 1, T3 1 = 5; accepted 2 (T1, T2), edited 2 (T1, T3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.metrics import compute_metric, compute_metrics
from bot.settings import AlertRule
from handlers.commands import Actor
from handlers.commands.executor import CommandExecutor
from models import session_scope
from models.tables import Agent, Customer, Message, Suggestion, Ticket
from scheduler.alerts.evaluation import evaluate_rule

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 8, tzinfo=UTC)
NAMES = ["auto_reply_acceptance_rate", "suggestion_edit_rate"]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


TICKETS = {  # key: (region, agent, created, [(outcome, decided_at)])
    "T1": ("EU", "alice", at(2, 10), [("accepted", at(2, 10, 5)), ("edited", at(3, 9)), ("rejected", at(3, 12))]),
    "T2": ("US", "bob", at(4, 10), [("accepted", at(4, 10, 30)), ("pending", None), ("accepted", at(9, 8))]),
    "T3": ("US", "bob", at(5, 10), [("edited", None)]),
    "T4": ("EU", "alice", at(27, 10, month=2), [("accepted", at(2, 9))]),
    "T5": ("EU", None, at(6, 10), []),
}


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    with session_scope(engine) as session:
        agents = {name: Agent(name=name) for name in ("alice", "bob")}
        customer = Customer(channel="webchat", external_id="c-1")
        session.add_all([*agents.values(), customer])
        session.flush()
        for key, (region, agent, created, suggestions) in TICKETS.items():
            ticket = Ticket(customer_id=customer.id, channel="webchat", conversation_id=key, intent="shipping_time",
                            kind="faq", region=region, assignee_id=agents[agent].id if agent else None,
                            created_at=created, updated_at=created)
            session.add(ticket)
            session.flush()
            message = Message(ticket_id=ticket.id, channel="webchat", channel_message_id=f"in-{key}", direction="in",
                              author_kind="customer", text="¿Cuánto tarda el envío?", created_at=created)
            session.add(message)
            session.flush()
            for outcome, decided_at in suggestions:
                session.add(Suggestion(ticket_id=ticket.id, message_id=message.id, intent="shipping_time",
                                       language="es", mode="shadow", text="De 7 a 12 días.", outcome=outcome,
                                       decided_at=decided_at, created_at=created))
    yield engine


def test_acceptance_and_edit_rates(db: Engine) -> None:
    total = compute_metrics(db, START, END, names=NAMES).total
    assert total.values["auto_reply_acceptance_rate"] == pytest.approx(40.0)  # 2 accepted of 5 decided
    assert total.values["suggestion_edit_rate"] == pytest.approx(40.0)  # 2 edited of 5
    assert (total.counts["suggestions_decided"], total.counts["suggestions_accepted"]) == (5, 2)


def test_acceptance_by_region_and_agent(db: Engine) -> None:
    by_region = compute_metrics(db, START, END, group_by="region", names=NAMES)
    eu, us = by_region.row("EU").values, by_region.row("US").values
    # EU: T1's three (T4's ticket is outside the window) -> 1 accepted, 1 edited of 3; US: T2 accepted, T3 edited
    assert (eu["auto_reply_acceptance_rate"], eu["suggestion_edit_rate"]) == pytest.approx((100 / 3, 100 / 3))
    assert (us["auto_reply_acceptance_rate"], us["suggestion_edit_rate"]) == pytest.approx((50, 50))
    by_agent = compute_metrics(db, START, END, group_by="agent", names=NAMES)
    assert [r.group for r in by_agent.rows] == ["bob", "alice", "(none)"]  # T2 T3, T1, T5 by volume
    assert by_agent.row("(none)").values["auto_reply_acceptance_rate"] is None  # T5 had no suggestion
    assert compute_metric(db, "auto_reply_acceptance_rate", START, END, {"agent": "bob"}) == pytest.approx(50)


def test_acceptance_is_taken_as_of_the_end(db: Engine) -> None:
    # until 10 March, T2's third suggestion (accepted 9 08:00) is decided too: 3 accepted of 6
    assert compute_metric(db, "auto_reply_acceptance_rate", START, at(10, 0)) == pytest.approx(50)
    # until 3 March 10:00, only T1's first two were decided: 1 accepted, 1 edited
    early = compute_metrics(db, START, at(3, 10), names=NAMES).total.values
    assert (early["auto_reply_acceptance_rate"], early["suggestion_edit_rate"]) == pytest.approx((50, 50))
    # a window without decided suggestions has no rate, not 0 %
    assert compute_metric(db, "auto_reply_acceptance_rate", at(6, 0), END) is None


def test_an_alert_rule_judges_acceptance_on_the_decided_suggestions(db: Engine) -> None:
    rule = AlertRule(name="acceptance_low", metric="auto_reply_acceptance_rate", window="7d", warning="< 50",
                     group_by=["region"], min_count=3)
    with Session(db) as session:
        observations = {o.labels["region"]: o for o in evaluate_rule(session, rule, END)}
    # EU: 33 % over 3 decided suggestions -> warning; US: 2 decided, fewer than min_count -> not judged
    assert (observations["EU"].level, observations["EU"].population) == ("warning", 3)
    assert (observations["US"].level, observations["US"].population) == (None, 2)


def test_metrics_command_shows_acceptance_after_the_auto_reply_rate(db: Engine, tmp_path: Path) -> None:
    executor = CommandExecutor(db, timezone="UTC", clock=lambda: END, charts_dir=tmp_path)
    answer = executor.execute("/metrics 7d", Actor(name="mei", role="manager"), platform="slack", channel_id="C1")
    assert answer.ok, answer.text
    lines = answer.text.splitlines()
    at_rate = next(i for i, line in enumerate(lines) if line.startswith("Auto-reply rate"))
    assert lines[at_rate + 1:at_rate + 3] == ["Auto-reply acceptance: 40.0%", "Suggestion edit rate: 40.0%"]
