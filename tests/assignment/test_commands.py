"""/assign, /queue and /shift through the command executor (as every platform and `kefu command` run them):
permissions (an agent may only assign themselves), the audit trail, the card update, English and Chinese."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import card_from_payload
from bot.settings import AssignmentSettings
from handlers.commands import LOCAL_ADMIN, Actor
from handlers.commands.executor import CommandExecutor
from models.tables import AuditEvent, Customer, OutboxItem, Ticket
from tests.assignment.conftest import BERLIN_DAY, BERLIN_NIGHT, SHENZHEN_DAY, add_agent, agent_name, ticket

MANAGER = Actor(name="mei", role="manager", identities=frozenset({"U_MEI"}))
LI = Actor(name="li", role="agent", identities=frozenset({"U_LI"}))


@pytest.fixture
def executor(engine: Engine, tmp_path: Path) -> CommandExecutor:
    return CommandExecutor(engine, timezone="Asia/Shanghai", clock=lambda: BERLIN_NIGHT, charts_dir=tmp_path,
                           assignment=AssignmentSettings(mode="auto"))


def _tickets(engine: Engine) -> list[int]:
    """Three open unassigned tickets: #1 severity 3 (oldest), #2 severity 1 in German, #3 severity 2 in German."""
    with Session(engine) as session:
        customer = Customer(channel="webhook", external_id="c-1")
        session.add(customer)
        session.flush()
        rows = [Ticket(customer_id=customer.id, channel="webhook", conversation_id=f"c{i}", intent=intent,
                       kind="complaint", severity=severity, language=language,
                       created_at=BERLIN_NIGHT - timedelta(hours=hours), status="new")
                for i, (intent, severity, language, hours) in enumerate(
                    [("order_status", 3, "en", 5), ("item_not_received", 1, "de", 1), ("damaged_item", 2, "de", 3)])]
        session.add_all(rows)
        session.commit()
        return [t.id for t in rows if t.id is not None]


def test_a_manager_assigns_anyone_and_the_card_and_the_audit_log_say_so(
        engine: Engine, executor: CommandExecutor) -> None:
    add_agent(engine, "mei", role="manager", identities={"slack": "U_MEI"})
    add_agent(engine, "li", languages=["de"], identities={"slack": "U_LI"})
    first, _, _ = _tickets(engine)

    answer = executor.execute(f"/assign {first} @li", MANAGER, platform="slack")

    assert answer.ok and answer.text == f"Ticket #{first} is assigned to li."
    assert agent_name(engine, ticket(engine, first).assignee_id) == "li"
    assert ticket(engine, first).status == "open"
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.assign")).one()
        update = session.scalars(select(OutboxItem).where(OutboxItem.kind == "card_update")).one()
    assert (event.details["how"], event.details["assignee"], event.details["why"]) == \
        ("command", "li", "/assign by mei")
    fields = {f.label: f.value for f in card_from_payload(update.payload).fields}
    assert fields["Assignee"] == "li" and "Assigned to li by mei" in fields["History"]
    assert executor.execute(f"/分配 {first} @li", MANAGER, platform="dingtalk").text == \
        f"Ticket #{first} is already assigned to li."


def test_an_agent_may_assign_themselves_but_not_someone_else(engine: Engine, executor: CommandExecutor) -> None:
    add_agent(engine, "li", identities={"slack": "U_LI"})
    add_agent(engine, "bo")
    first, second, _ = _tickets(engine)

    refused = executor.execute(f"/assign {first} @bo", LI, platform="slack")
    mine = executor.execute(f"/assign {second}", LI, platform="slack")

    assert not refused.ok
    assert refused.text == "Sorry — Only a manager can assign tickets to bo; you are signed in as an agent."
    assert ticket(engine, first).assignee_id is None
    assert mine.ok and agent_name(engine, ticket(engine, second).assignee_id) == "li"
    assert executor.execute("/assign 999 @bo", LOCAL_ADMIN, platform="cli").text == "There is no ticket #999."
    assert executor.execute(f"/assign {first} @nobody", LOCAL_ADMIN, platform="cli").text == \
        "There is no agent called nobody."


def test_queue_lists_unassigned_tickets_most_urgent_first_and_filters(
        engine: Engine, executor: CommandExecutor) -> None:
    first, second, third = _tickets(engine)

    everything = executor.execute("/queue", LI, platform="slack").text.splitlines()
    german = executor.execute("/队列 de", LI, platform="wecom").text.splitlines()
    refunds = executor.execute("/queue damaged_item", LI, platform="slack").text.splitlines()

    assert [line.split()[1] for line in everything[1:4]] == [f"#{second}", f"#{third}", f"#{first}"]
    assert [line.split()[1] for line in german[1:3]] == [f"#{second}", f"#{third}"] and len(german) == 4
    assert refunds[0].startswith("*Queue · damaged_item* · 1 open ticket")
    assert "waiting 3 h" in refunds[1]


def test_shift_shows_who_is_on_and_an_agent_stops_and_starts_their_own(
        engine: Engine, executor: CommandExecutor) -> None:
    li = add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY, identities={"slack": "U_LI"}, capacity=5)
    add_agent(engine, "klaus", languages=["de"], shift=BERLIN_DAY)
    _, second, _ = _tickets(engine)
    executor.execute(f"/assign {second}", LI, platform="slack")

    shown = executor.execute("/shift", LI, platform="slack").text
    assert shown.splitlines()[:2] == ["*On shift now* (1)", "• li — until 18:00 Asia/Shanghai, de, 1 open of 5"]
    assert "• klaus — back 09:00 Europe/Berlin, de, 0 open" in shown

    stopped = executor.execute("/值班 下班", LI, platform="dingtalk")
    assert stopped.text == ("Your shift is stopped until Tue 09:00 Asia/Shanghai. 1 open ticket moves to agents on "
                            "shift at the next check (within a minute).")
    assert executor.execute("/shift", LI, platform="slack").text.startswith("*On shift now* (0)")
    started = executor.execute("/shift start", LI, platform="slack")
    assert started.text == "Your shift is on until 18:00 Asia/Shanghai (your calendar)."
    denied = executor.execute("/shift stop @klaus", LI, platform="slack")
    assert denied.text.startswith("Sorry — Only a manager can stop the shift of klaus")
    with Session(engine) as session:
        shifts = session.scalars(select(AuditEvent).where(AuditEvent.action == "agent.shift")).all()
    assert [(e.subject_id, e.details["action"], e.details["on"]) for e in shifts] == \
        [(str(li), "stop", False), (str(li), "start", True)]
