"""Tickets resolved after a quiet period: only when the team had the last word, once, and surveyed like any."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.settings import Settings
from models.tables import AuditEvent, CsatSurvey, Message, Ticket
from scheduler.auto_resolve import AutoResolveJob
from tests.csat.conftest import Clock, make_desk


def test_a_quiet_ticket_is_resolved_once_and_one_waiting_on_us_never(engine: Engine, clock: Clock) -> None:
    settings = Settings(tickets={"auto_resolve_after": "72h"}, csat={"delay": "0s"})
    desk = make_desk(engine, settings, clock)
    answered = desk.write("Where is my parcel?", "c-1").ticket_id
    desk.pipeline.record_agent_reply_sync(answered, "mei", "It arrives tomorrow.")
    waiting = desk.write("Where is my parcel?", "c-2").ticket_id
    later = clock.now + timedelta(hours=73)
    with engine.begin() as connection:  # everything happened 73 hours before the job runs
        for table in (Ticket.__table__, Message.__table__):  # type: ignore[attr-defined]
            connection.execute(update(table).values(created_at=clock.now - timedelta(hours=1)))
        connection.execute(update(Ticket.__table__).values(updated_at=clock.now - timedelta(hours=1)))  # type: ignore[attr-defined]

    job = AutoResolveJob(engine, settings, clock)
    assert job(clock.now + timedelta(hours=70)) == []  # not quiet long enough yet
    clock.now = later
    assert job(later) == [answered]
    assert job(later + timedelta(hours=1)) == []
    tickets = {t.id: t for t in desk.rows(Ticket)}
    assert tickets[answered].status == "resolved" and tickets[waiting].status != "resolved"
    [event] = desk.rows(AuditEvent, AuditEvent.action == "ticket.resolve")
    assert event.actor == "system" and "without a customer message" in event.details["why"]
    [survey] = desk.rows(CsatSurvey)
    assert (survey.ticket_id, survey.resolved_by) == (answered, "system")
    assert desk.job(later).asked == [answered]


def test_auto_resolve_is_off_by_default(engine: Engine, clock: Clock) -> None:
    assert Settings().tickets.auto_resolve_seconds is None
    assert AutoResolveJob(engine, Settings(), clock)(clock.now + timedelta(days=365)) == []
