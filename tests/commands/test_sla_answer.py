"""`/sla` lists what the SLA watch would warn about: working time left against the policy's target, in the
policy's business hours (Mon-Fri 09:00-18:00 UTC here), so a weekend does not count as time running out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import SlaSettings
from handlers.commands.executor import CommandExecutor
from models.tables import Agent, Customer, Ticket
from scheduler.sla import SlaWatch
from tests.commands.conftest import MANAGER

FRIDAY_1100 = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
FRIDAY_1300 = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MONDAY_0930 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
MONDAY_1015 = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
BUSINESS = SlaSettings.model_validate({"business_hours": {"timezone": "UTC", "hours": {"mon-fri": "09:00-18:00"}}})


def _seed(engine: Engine, sla: SlaSettings) -> tuple[int, int]:
    """Two severity-3 tickets (8 h first-response target) opened on Friday, with deadlines from `sla`'s
    calendar: one opened 11:00 (7 h on Friday, due Monday 10:00), one opened 13:00 (due Monday 12:00)."""
    with Session(engine) as session:
        bo = Agent(name="bo", role="agent")
        customer = Customer(channel="webhook", external_id="c-1")
        session.add_all([bo, customer])
        session.flush()
        ids = []
        for created in (FRIDAY_1100, FRIDAY_1300):
            first_due, resolution_due = sla.policy_for("webhook").due_times(3, created)
            ticket = Ticket(customer_id=customer.id, channel="webhook", conversation_id=f"c{created.hour}",
                            intent="sizing", kind="faq", severity=3, status="open", assignee_id=bo.id,
                            created_at=created, updated_at=created, first_response_due=first_due,
                            resolution_due=resolution_due)
            session.add(ticket)
            session.flush()
            ids.append(ticket.id)
        session.commit()
    return ids[0], ids[1]


def _sla(engine: Engine, tmp_path: Path, sla: SlaSettings | None, now: datetime) -> str:
    executor = CommandExecutor(engine, clock=lambda: now, charts_dir=tmp_path, sla=sla)
    answer = executor.execute("/sla", MANAGER, platform="slack", channel_id="C1")
    assert answer.ok, answer.text
    return answer.text


def test_deadlines_are_computed_in_business_hours(engine: Engine) -> None:
    early, late = _seed(engine, BUSINESS)
    with Session(engine) as session:
        assert session.get(Ticket, early).first_response_due == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # type: ignore[union-attr]
        assert session.get(Ticket, late).first_response_due == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # type: ignore[union-attr]


def test_business_hours_decide_what_is_at_risk_on_saturday(engine: Engine, tmp_path: Path) -> None:
    early, late = _seed(engine, BUSINESS)
    # Saturday noon: 1 working hour is left on the early ticket (within 25% of 8 h), 3 h on the late one.
    text = _sla(engine, tmp_path, BUSINESS, SATURDAY_NOON)
    assert text.splitlines()[0].startswith("*SLA* · 0 breached, 1 at risk")
    assert f"#{early} sev 3 sizing — first response due in 46 h (1 h of business hours left) — owner: bo" in text
    assert f"#{late} " not in text
    # Without business hours (24/7), 46 h of the weekend are left: nothing is at risk.
    assert _sla(engine, tmp_path, None, SATURDAY_NOON) == "*SLA*: no open ticket is breached or at risk. ✅"


def test_a_ticket_due_monday_noon_is_not_at_risk_until_two_working_hours_are_left(engine: Engine,
                                                                                  tmp_path: Path) -> None:
    early, late = _seed(engine, BUSINESS)
    # Monday 09:30: the late ticket has 2.5 working hours left of 8 (by the wall clock from Friday 13:00 it has
    # used 68.5 h of 71): not at risk yet. The early one is due in 30 min.
    text = _sla(engine, tmp_path, BUSINESS, MONDAY_0930)
    assert f"#{early} sev 3 sizing — first response due in 30 min — owner: bo" in text
    assert f"#{late} " not in text
    text = _sla(engine, tmp_path, BUSINESS, MONDAY_1015)
    assert text.splitlines()[0].startswith("*SLA* · 1 breached, 1 at risk")
    assert f"#{late} sev 3 sizing — first response due in 2 h — owner: bo" in text


def test_sla_lists_exactly_what_the_watch_warns_about(engine: Engine, tmp_path: Path) -> None:
    from bot.settings import Settings

    early, late = _seed(engine, BUSINESS)
    settings = Settings(sla=BUSINESS)
    for now in (SATURDAY_NOON, MONDAY_0930, MONDAY_1015):
        watched = {e.ticket_id for e in SlaWatch(engine, settings).run_once(now, dry_run=True)
                   if e.stage in ("warning", "breach")}
        text = _sla(engine, tmp_path, BUSINESS, now)
        listed = {t for t in (early, late) if f"#{t} " in text}
        assert listed == watched, now
