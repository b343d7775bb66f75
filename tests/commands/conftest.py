"""A small seeded support team: agents, tickets with hand-countable numbers, messages, CSAT, suggestions.

NOW is 2026-11-20 12:00 UTC. In the last 7 days there are 10 tickets:
- 6 by ana (intent order_status, language es, marketplace amazon, region ES), 4 by bo (damaged_item, complaint,
  language de, marketplace amazon, region DE), created 2-5 days ago;
- 1 unassigned complaint (item_not_received) breached 2 h ago, 1 sizing ticket of bo due in 60 min,
  1 fresh unassigned sizing ticket;
- ana answers in 30 min every time (first response SLA met), resolves all six, one agent message each;
- bo answers in 3 h, within his 4 h first-response target; resolves two of four, two agent messages each.
The previous 7 days hold 5 tickets (order_status by ana): 13 now vs 5 before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.commands import Actor
from handlers.commands.executor import CommandExecutor
from models.tables import Agent, CsatResponse, Customer, Message, Suggestion, Ticket

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MANAGER = Actor(name="mei", role="manager", identities=frozenset({"U_MEI"}))
ANA = Actor(name="ana", role="agent", identities=frozenset({"U_ANA"}))


@dataclass
class Seeded:
    ana_id: int
    bo_id: int
    open_ticket_id: int
    at_risk_ticket_id: int
    first_ana_ticket_id: int


def _ticket(session: Session, customer: Customer, agent: Agent, created: datetime, **fields: object) -> Ticket:
    ticket = Ticket(customer_id=customer.id, channel="webhook", conversation_id=f"c{created.timestamp()}",
                    assignee_id=agent.id, created_at=created, updated_at=created, **fields)
    session.add(ticket)
    session.flush()
    return ticket


def seed(engine: Engine) -> Seeded:
    with Session(engine) as session:
        ana = Agent(name="ana", role="agent", languages=["es"], identities={"slack": "U_ANA"})
        bo = Agent(name="bo", role="agent", languages=["de"], identities={"slack": "U_BO"})
        mei = Agent(name="mei", role="manager", identities={"slack": "U_MEI"})
        customer = Customer(channel="webhook", external_id="cust-1", name="Lucía")
        session.add_all([ana, bo, mei, customer])
        session.flush()
        first_ana = None
        for i in range(6):
            created = NOW - timedelta(days=1 + i, hours=2)
            t = _ticket(session, customer, ana, created, intent="order_status", kind="faq", severity=3,
                        language="es", marketplace="amazon", region="ES", status="resolved",
                        first_response_at=created + timedelta(minutes=30),
                        first_response_due=created + timedelta(hours=8),
                        resolved_at=created + timedelta(hours=1), resolution_due=created + timedelta(hours=72))
            first_ana = first_ana or t.id
            inbound = Message(ticket_id=t.id, channel="webhook", channel_message_id=f"a-in-{i}", direction="in",
                              author_kind="customer", author="Lucía", text="¿Dónde está mi pedido?",
                              created_at=created)
            session.add(inbound)
            session.flush()
            session.add(Message(ticket_id=t.id, channel="webhook", channel_message_id=f"a-out-{i}",
                                direction="out", author_kind="agent", author="ana", text="Está en camino.",
                                created_at=created + timedelta(minutes=30)))
            session.add(CsatResponse(ticket_id=t.id, score=5, created_at=created + timedelta(hours=2)))
            session.add(Suggestion(ticket_id=t.id, message_id=inbound.id, intent="order_status", language="es",
                                   mode="suggest", outcome="accepted" if i < 3 else "edited",
                                   created_at=created))
        for i in range(4):
            created = NOW - timedelta(days=2 + i, hours=5)
            resolved = i < 2
            t = _ticket(session, customer, bo, created, intent="damaged_item", kind="complaint", severity=2,
                        language="de", marketplace="amazon", region="DE",
                        status="resolved" if resolved else "open",
                        first_response_at=created + timedelta(hours=3),
                        first_response_due=created + timedelta(hours=4),
                        resolved_at=created + timedelta(hours=30) if resolved else None,
                        resolution_due=created + timedelta(hours=48))
            for j in range(2):
                session.add(Message(ticket_id=t.id, channel="webhook", channel_message_id=f"b-{i}-{j}",
                                    direction="out", author_kind="agent", author="bo", text="Es tut uns leid.",
                                    created_at=created + timedelta(hours=3 + j)))
            if resolved:
                session.add(CsatResponse(ticket_id=t.id, score=3, created_at=created + timedelta(hours=31)))
        for i in range(5):
            created = NOW - timedelta(days=8 + i)
            _ticket(session, customer, ana, created, intent="order_status", kind="faq", severity=3,
                    language="es", marketplace="amazon", region="ES", status="resolved",
                    first_response_at=created + timedelta(minutes=10), resolved_at=created + timedelta(hours=1))
        # Open, unassigned, created 4 h ago: its first response was due 2 h after creation, so breached 2 h ago.
        overdue = Ticket(customer_id=customer.id, channel="webhook", conversation_id="late", intent="item_not_received",
                         kind="complaint", severity=1, status="open", created_at=NOW - timedelta(hours=4),
                         updated_at=NOW - timedelta(hours=4), first_response_due=NOW - timedelta(hours=2),
                         resolution_due=NOW + timedelta(hours=20))
        # Open, assigned to bo, 8 h target of which 7 h passed: due in 60 min (inside the last 25%).
        risky = Ticket(customer_id=customer.id, channel="webhook", conversation_id="risky", intent="sizing",
                       kind="faq", severity=3, status="new", assignee_id=bo.id, created_at=NOW - timedelta(hours=7),
                       updated_at=NOW - timedelta(hours=7), first_response_due=NOW + timedelta(hours=1),
                       resolution_due=NOW + timedelta(hours=65))
        # Open, 1 h into an 8 h target: not at risk yet.
        calm = Ticket(customer_id=customer.id, channel="webhook", conversation_id="calm", intent="sizing",
                      kind="faq", severity=3, status="new", created_at=NOW - timedelta(hours=1),
                      updated_at=NOW - timedelta(hours=1), first_response_due=NOW + timedelta(hours=7),
                      resolution_due=NOW + timedelta(hours=71))
        session.add_all([overdue, risky, calm])
        session.commit()
        return Seeded(ana.id, bo.id, overdue.id, risky.id, first_ana)  # type: ignore[arg-type]


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


@pytest.fixture
def executor(engine: Engine, tmp_path: Path) -> CommandExecutor:
    return CommandExecutor(engine, timezone="UTC", clock=lambda: NOW, charts_dir=tmp_path / "charts")
