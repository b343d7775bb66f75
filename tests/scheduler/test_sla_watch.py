"""The SLA watch on SQLite and PostgreSQL: warning → breach (+ escalation) → outcome, each posted once; business
hours; pending pauses the resolution clock; two watchers on one database post once; dry runs write nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.webchat.console import ConsoleTeamChannel
from bot.messages import card_from_payload
from bot.outbox import OutboxWorker
from bot.settings import OutboxSettings, Settings
from models.db import create_db_engine, session_scope
from models.tables import Agent, Customer, OutboxItem, SlaNotice, Ticket
from scheduler.sla import SlaWatch

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def make_settings(**sla: Any) -> Settings:
    return Settings(triage={"channel": "console", "target": "triage-room"},
                    sla={"managers": {"channel": "console", "target": "managers-room"}, **sla})


def new_ticket(engine: Engine, settings: Settings, *, created: datetime = T0, severity: int = 1,
               assignee: str | None = None, conversation: str = "conv-1", channel: str = "webhook",
               marketplace: str | None = None) -> int:
    policy = settings.sla.policy_for(channel, marketplace)
    first_due, resolution_due = policy.due_times(severity, created)
    with session_scope(engine) as session:
        customer = Customer(channel=channel, external_id=f"cust-{conversation}")
        session.add(customer)
        agent_id = None
        if assignee:
            agent = Agent(name=assignee, identities={"slack": f"U-{assignee}"})
            session.add(agent)
            session.flush()
            agent_id = agent.id
        session.flush()
        assert customer.id is not None
        ticket = Ticket(customer_id=customer.id, channel=channel, conversation_id=conversation, status="open",
                        intent="item_not_received", kind="complaint", severity=severity, assignee_id=agent_id,
                        marketplace=marketplace, created_at=created, updated_at=created,
                        first_response_due=first_due, resolution_due=resolution_due)
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        return ticket.id


def change_ticket(engine: Engine, ticket_id: int, **values: Any) -> None:
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        for key, value in values.items():
            setattr(ticket, key, value)


def load_ticket(engine: Engine, ticket_id: int) -> Ticket:
    with Session(engine, expire_on_commit=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def items(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))  # type: ignore[arg-type]


def stages(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.clock, e.stage) for e in events]


async def post_everything(engine: Engine) -> None:
    worker = OutboxWorker(engine, {"console": ConsoleTeamChannel()}, OutboxSettings(), "test-worker")
    while await worker.drain_once():
        pass


async def test_warning_breach_and_outcome_are_posted_once_each(engine: Engine) -> None:
    settings = make_settings()
    ticket_id = new_ticket(engine, settings, assignee="alice")  # severity 1: first response due T0 + 2 h
    watch = SlaWatch(engine, settings)

    assert watch.run_once(T0 + timedelta(minutes=89)) == []  # 31 min left of 120: outside the 25 % window
    warned = watch.run_once(T0 + timedelta(minutes=91))
    assert stages(warned) == [("first_response", "warning")]
    assert watch.run_once(T0 + timedelta(minutes=100)) == []
    [warning] = items(engine)
    assert (warning.kind, warning.channel, warning.target) == ("alert", "console", "triage-room")
    assert warning.payload["kind"] == "sla_alert"
    assert "@alice" in warning.payload["body"] and "due in 29 min" in warning.payload["title"]
    assert card_from_payload(warning.payload).mentions == (("@alice", "slack", "U-alice"),)  # <@U-alice> in Slack

    breached = watch.run_once(T0 + timedelta(minutes=125))
    assert stages(breached) == [("first_response", "breach")]
    assert watch.run_once(T0 + timedelta(minutes=130)) == []
    _, breach, escalation = items(engine)
    assert breach.target == "triage-room" and "overdue by 5 min" in breach.payload["title"]
    assert (escalation.channel, escalation.target) == ("console", "managers-room")
    assert "SLA escalation" in escalation.payload["title"] and "alice" in escalation.payload["body"]

    await post_everything(engine)
    change_ticket(engine, ticket_id, first_response_at=T0 + timedelta(minutes=157), status="open")
    outcome = watch.run_once(T0 + timedelta(minutes=158))
    assert sorted(e.stage for e in outcome) == ["breach_outcome", "escalation_outcome", "warning_outcome"]
    assert {e.detail for e in outcome} == {"breached by 37 min"}
    assert watch.run_once(T0 + timedelta(minutes=200)) == []
    updates = [i for i in items(engine) if i.kind == "card_update"]
    assert len(updates) == 3
    posted = {i.id: i.result_ref for i in items(engine) if i.kind == "alert"}
    assert {u.target for u in updates} == set(posted.values())  # each card is edited in place
    assert all("breached by 37 min" in u.payload["title"] for u in updates)
    # The triage card reference of the ticket is not taken over by the alert cards.
    assert load_ticket(engine, ticket_id).card_ref is None


async def test_a_response_inside_the_window_updates_the_warning_to_met(engine: Engine) -> None:
    settings = make_settings()
    ticket_id = new_ticket(engine, settings)  # unassigned
    watch = SlaWatch(engine, settings)
    watch.run_once(T0 + timedelta(minutes=100))
    [warning] = items(engine)
    assert "the queue" in warning.payload["body"]
    change_ticket(engine, ticket_id, first_response_at=T0 + timedelta(minutes=110))
    # Not posted yet: nothing to edit, so the outcome waits for the card's reference.
    assert watch.run_once(T0 + timedelta(minutes=111)) == []
    await post_everything(engine)
    outcome = watch.run_once(T0 + timedelta(minutes=112))
    assert [(e.stage, e.detail) for e in outcome] == [("warning_outcome", "met")]
    assert watch.run_once(T0 + timedelta(hours=10)) == []  # no breach of a stopped clock, no second update
    update = items(engine)[-1]
    assert update.kind == "card_update" and update.payload["title"].startswith("✅")


def test_business_hours_ticket_from_berlin_friday_evening_waits_for_the_shenzhen_team(engine: Engine) -> None:
    settings = make_settings(business_hours={"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00"}})
    berlin_friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    ticket_id = new_ticket(engine, settings, created=berlin_friday_evening)
    shanghai = ZoneInfo("Asia/Shanghai")
    assert load_ticket(engine, ticket_id).first_response_due == datetime(2026, 11, 30, 11, 0, tzinfo=shanghai)
    watch = SlaWatch(engine, settings)
    # Sunday night in Shenzhen: 2 working hours are left, the wall clock says 11 h — no warning yet.
    assert watch.run_once(datetime(2026, 11, 29, 23, 59, tzinfo=shanghai)) == []
    warned = watch.run_once(datetime(2026, 11, 30, 10, 31, tzinfo=shanghai))
    assert stages(warned) == [("first_response", "warning")]


def test_pending_pauses_the_resolution_clock(engine: Engine) -> None:
    settings = make_settings()
    ticket_id = new_ticket(engine, settings)  # resolution due T0 + 24 h
    change_ticket(engine, ticket_id, first_response_at=T0 + timedelta(hours=1), status="pending",
                  updated_at=T0 + timedelta(hours=1))
    watch = SlaWatch(engine, settings)
    assert stages(watch.run_once(T0 + timedelta(hours=2))) == [("resolution", "paused")]
    assert watch.run_once(T0 + timedelta(hours=30)) == []  # past the old deadline, but paused: no breach
    change_ticket(engine, ticket_id, status="open", updated_at=T0 + timedelta(hours=31))  # the customer answers
    resumed = watch.run_once(T0 + timedelta(hours=31, minutes=1))
    assert stages(resumed) == [("resolution", "resumed")]
    assert load_ticket(engine, ticket_id).resolution_due == T0 + timedelta(hours=54)  # 30 h paused
    assert watch.run_once(T0 + timedelta(hours=40)) == []
    assert stages(watch.run_once(T0 + timedelta(hours=49))) == [("resolution", "warning")]


def test_a_policy_that_does_not_pause_lets_the_resolution_clock_run(engine: Engine) -> None:
    settings = make_settings(pause_resolution_when_pending=False)
    ticket_id = new_ticket(engine, settings)
    change_ticket(engine, ticket_id, first_response_at=T0 + timedelta(hours=1), status="pending")
    watch = SlaWatch(engine, settings)
    assert stages(watch.run_once(T0 + timedelta(hours=25))) == [("resolution", "breach")]


def test_channel_policy_applies_its_own_targets(engine: Engine) -> None:
    settings = make_settings(policies=[{"name": "amazon-de", "marketplace": "amazon.de",
                                        "severity": {1: {"first_response_hours": 1, "resolution_hours": 12}}}])
    amazon = new_ticket(engine, settings, marketplace="amazon.de", conversation="a")
    other = new_ticket(engine, settings, conversation="b")
    events = SlaWatch(engine, settings).run_once(T0 + timedelta(minutes=61))
    assert [(e.ticket_id, e.stage) for e in events] == [(amazon, "breach")]
    assert other != amazon
    assert "amazon-de" in str(items(engine)[0].payload["fields"])


def test_dry_run_writes_nothing(engine: Engine) -> None:
    settings = make_settings()
    new_ticket(engine, settings)
    events = SlaWatch(engine, settings).run_once(T0 + timedelta(hours=3), dry_run=True)
    assert stages(events) == [("first_response", "breach")] and not events[0].posted
    assert items(engine) == []
    with Session(engine) as session:
        assert list(session.scalars(select(SlaNotice))) == []


def test_two_watchers_on_one_database_post_each_notice_once(engine: Engine, migrated_url: str) -> None:
    settings = make_settings()
    tickets = [new_ticket(engine, settings, conversation=f"c{n}") for n in range(12)]
    second_engine = create_db_engine(migrated_url)
    watchers = [SlaWatch(engine, settings), SlaWatch(second_engine, settings)]
    barrier = threading.Barrier(2)
    results: list[list[Any]] = [[], []]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            for minutes in (95, 100, 125, 126):
                results[index] += watchers[index].run_once(T0 + timedelta(minutes=minutes))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second_engine.dispose()
    assert errors == []
    posted = sorted((e.ticket_id, e.stage) for e in results[0] + results[1])
    assert posted == sorted((t, s) for t in tickets for s in ("warning", "breach"))
    kinds = sorted(i.dedup_key.rsplit(":", 1)[1] for i in items(engine))
    assert kinds == sorted(["warning", "breach", "escalation"] * len(tickets))
