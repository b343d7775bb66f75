"""Business-hours first response and resolution times: recorded once when they happen (bot/sla_clock.py), in the
calendar of the ticket's SLA policy, and aggregated by bot.metrics (SQLite, PostgreSQL); /metrics shows them
next to the wall-clock times when a policy uses business hours.

The SLA settings: the default policy is 24/7; marketplace "amazon-de" is served by a Berlin team (Europe/Berlin,
Mon-Fri 09:00-18:00, CET = UTC+1 in March 2026); marketplace "tmall" by a Shanghai team (Asia/Shanghai, UTC+8,
Mon-Fri 09:00-18:00, Wednesday 11 March a company holiday). Days in March 2026: 6 Fri, 7 Sat, 9 Mon, 10 Tue,
11 Wed, 12 Thu. Times below are UTC (local time in brackets).

  ticket marketplace created            first response       resolved              business FR   business res
  A      amazon-de   Fri 6 17:00 (18:00) Mon 9 08:30 (09:30) Tue 10 10:00 (11:00)  30 min        9 h + 2 h = 11 h
  B      tmall       Tue 10 09:00 (17:00) Thu 12 02:00 (10:00) Thu 12 10:00 (18:00) 1 h + 1 h = 2 h 1 h + 9 h = 10 h
  C      (none) 24/7 Sat 7 10:00         Sat 7 10:20          Sun 8 10:00           20 min        24 h
  D      amazon-de   Mon 9 10:00 (11:00) Mon 9 10:05          -                     5 min         -
  E      (none)      Mon 2 09:00         Mon 2 09:10 (answered before kefu recorded working time: no business figure)

B's customer is in Berlin: the team's calendar counts, not the customer's timezone. Wall-clock first responses:
A 63.5 h, B 41 h, C 20 min, D 5 min, E 10 min; resolutions A 89 h, B 49 h, C 24 h.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

import bot.pipeline as pipeline_module
from bot.metrics import compute_metrics
from bot.pipeline import Pipeline
from bot.settings import BusinessHoursSettings, Settings, SlaPolicy, SlaSettings
from bot.sla_clock import stamp_first_response, stamp_resolution
from handlers.actions import TicketActions
from handlers.commands import Actor
from handlers.commands.executor import CommandExecutor
from models import session_scope
from models.tables import Agent, Customer, Ticket
from scheduler.sla import SlaWatch
from tests.test_actions import LearningFixedClassifier, press
from tests.test_pipeline import FixedClassifier, FixedTemplates, inbound

BERLIN = BusinessHoursSettings(timezone="Europe/Berlin", hours={"mon-fri": "09:00-18:00"})
SHANGHAI = BusinessHoursSettings(timezone="Asia/Shanghai", hours={"mon-fri": "09:00-18:00"}, holidays=["2026-03-11"])
SLA = SlaSettings(policies=[SlaPolicy(name="de", marketplace="amazon-de", business_hours=BERLIN),
                            SlaPolicy(name="cn", marketplace="tmall", business_hours=SHANGHAI)])
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 15, tzinfo=UTC)
MANAGER = Actor(name="mei", role="manager", identities=frozenset({"U_MEI"}))
BUSINESS = ["first_response_time_business_mean", "first_response_time_business_median",
            "first_response_time_business_p90", "resolution_time_business_mean",
            "resolution_time_business_median", "resolution_time_business_p90"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


HOUR = 3600
TICKETS = {  # key: (marketplace, created, first response, resolved)
    "A": ("amazon-de", at(6, 17), at(9, 8, 30), at(10, 10)),
    "B": ("tmall", at(10, 9), at(12, 2), at(12, 10)),
    "C": (None, at(7, 10), at(7, 10, 20), at(8, 10)),
    "D": ("amazon-de", at(9, 10), at(9, 10, 5), None),
}


@pytest.fixture
def db(engine: Engine) -> Iterator[dict[str, Ticket]]:
    """Tickets A-D stamped by bot.sla_clock under SLA; E answered with no business figure."""
    stamped: dict[str, Ticket] = {}
    with session_scope(engine) as session:
        berliner = Customer(channel="webchat", external_id="c-berlin", country="DE", timezone="Europe/Berlin")
        session.add(berliner)
        session.flush()
        for key, (marketplace, created, answered, resolved) in TICKETS.items():
            ticket = Ticket(customer_id=berliner.id, channel="webchat", conversation_id=key, intent="order_status",
                            kind="faq", marketplace=marketplace, region="DE", created_at=created, updated_at=created)
            assert stamp_first_response(ticket, answered, SLA)
            if resolved is not None:
                stamp_resolution(ticket, resolved, SLA)
                ticket.status = "resolved"
            session.add(ticket)
            stamped[key] = ticket
        session.add(Ticket(customer_id=berliner.id, channel="webchat", conversation_id="E", intent="order_status",
                           kind="faq", region="DE", created_at=at(2, 9), updated_at=at(2, 9),
                           first_response_at=at(2, 9, 10)))
        session.flush()
        for ticket in stamped.values():
            session.expunge(ticket)
    yield stamped


def test_stamps_count_working_time_in_the_policy_calendar(db: dict[str, Ticket]) -> None:
    business = {key: (t.first_response_business_seconds, t.resolution_business_seconds) for key, t in db.items()}
    assert business == {
        "A": (30 * 60, 11 * HOUR),  # the weekend does not count: Friday 18:00 Berlin is after hours
        "B": (2 * HOUR, 10 * HOUR),  # Shanghai hours, the holiday skipped; the Berlin customer changes nothing
        "C": (20 * 60, 24 * HOUR),  # 24/7: the wall clock
        "D": (5 * 60, None),
    }
    assert db["A"].first_response_at == at(9, 8, 30) and db["A"].resolved_at == at(10, 10)


def test_a_second_response_keeps_the_first(db: dict[str, Ticket]) -> None:
    ticket = db["D"]
    assert not stamp_first_response(ticket, at(9, 16), SLA)
    assert (ticket.first_response_at, ticket.first_response_business_seconds) == (at(9, 10, 5), 300)


def test_business_hours_metrics(engine: Engine, db: dict[str, Ticket]) -> None:
    values = compute_metrics(engine, START, END, names=BUSINESS + ["first_response_time_mean"]).total.values
    # first responses A 1800, B 7200, C 1200, D 300 (E has none): sorted 300 1200 1800 7200; mean 10500/4 = 2625;
    # median at 1.5 -> 1200 + 600 * 0.5 = 1500; p90 at 2.7 -> 1800 + 5400 * 0.7 = 5580
    assert values["first_response_time_business_mean"] == pytest.approx(2625)
    assert values["first_response_time_business_median"] == pytest.approx(1500)
    assert values["first_response_time_business_p90"] == pytest.approx(5580)
    # resolutions A 39600, B 36000, C 86400: mean 54000; median 39600; p90 at 1.8 -> 39600 + 46800 * 0.8 = 77040
    assert values["resolution_time_business_mean"] == pytest.approx(54000)
    assert values["resolution_time_business_median"] == pytest.approx(39600)
    assert values["resolution_time_business_p90"] == pytest.approx(77040)
    # the wall clock over the same tickets (and E): (228600 + 147600 + 1200 + 300 + 600) / 5
    assert values["first_response_time_mean"] == pytest.approx(75660)


def test_business_hours_metrics_by_marketplace_and_as_of_the_end(engine: Engine, db: dict[str, Ticket]) -> None:
    report = compute_metrics(engine, START, END, group_by="marketplace", names=BUSINESS)
    berlin, shanghai, none = report.row("amazon-de"), report.row("tmall"), report.row("(none)")
    # amazon-de: A 1800, D 300 -> mean 1050, median 1050, p90 at 0.9 -> 300 + 1500 * 0.9 = 1650; resolved A only
    assert (berlin.values["first_response_time_business_mean"],
            berlin.values["first_response_time_business_p90"]) == pytest.approx((1050, 1650))
    assert berlin.values["resolution_time_business_median"] == pytest.approx(39600)
    assert berlin.counts["first_response_time_business_n"] == 2
    assert shanghai.values["first_response_time_business_median"] == pytest.approx(7200)
    # (none): C 1200 only; E is answered but has no business figure, so it is not counted
    assert none.values["first_response_time_business_mean"] == pytest.approx(1200)
    assert none.counts["first_response_time_business_n"] == 1
    # grouped, the total's percentiles are those of the whole population
    assert report.total.values["first_response_time_business_p90"] == pytest.approx(5580)
    # as of Thursday 12 March 06:00, B was answered (02:00) but not yet resolved (10:00)
    early = compute_metrics(engine, START, at(12, 6), filters={"marketplace": "tmall"}, names=BUSINESS).total
    assert early.values["first_response_time_business_mean"] == pytest.approx(7200)
    assert early.values["resolution_time_business_mean"] is None


# ---- stamping through the real paths -----------------------------------------------------------------------


def _fixed_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> list[datetime]:
    """The pipeline's clock, set by the test: now[0] is "now"."""
    now = [start]
    monkeypatch.setattr(pipeline_module, "utcnow", lambda: now[0])
    return now


def test_an_agent_reply_and_resolve_stamp_business_seconds(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    now = _fixed_clock(monkeypatch, at(10, 9))  # Tuesday 17:00 in Shanghai
    classifier = LearningFixedClassifier()
    pipeline = Pipeline(engine, classifier, FixedTemplates(), Settings(sla=SLA))
    actions = TicketActions(engine, pipeline, classifier, clock=lambda: now[0])
    text = classifier.says("我的订单到哪了?", "order_status", 0.4)
    ticket_id = pipeline.ingest_sync(inbound(text, marketplace="tmall")).ticket_id

    now[0] = at(12, 2)  # Thursday 10:00 in Shanghai, after the Wednesday holiday
    assert press(actions, "edit", ticket_id, text="您的包裹已发出。").ok
    now[0] = at(12, 5)  # a second reply is not a first response
    pipeline.record_agent_reply_sync(ticket_id, "li.wei", "还有问题吗?")
    now[0] = at(12, 10)  # Thursday 18:00 in Shanghai
    assert press(actions, "resolve", ticket_id).ok

    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.first_response_at, ticket.first_response_business_seconds) == (at(12, 2), 2 * HOUR)
        assert (ticket.resolved_at, ticket.resolution_business_seconds) == (at(12, 10), 10 * HOUR)


def test_resolving_a_paused_ticket_leaves_the_pause_out(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Berlin hours: created Monday 10:00, answered 10:30, pending from 13:00 (the SLA watch pauses the resolution
    clock), resolved Tuesday 10:00: 9 h of working time, of which 6 h paused -> 3 h."""
    now = _fixed_clock(monkeypatch, at(9, 9))
    classifier = FixedClassifier()
    settings = Settings(sla=SLA)
    pipeline = Pipeline(engine, classifier, FixedTemplates(), settings)
    actions = TicketActions(engine, pipeline, classifier, clock=lambda: now[0])
    with Session(engine) as session:
        session.add(Agent(name="li.wei", role="agent", identities={"slack": "U_LI"}))
        session.commit()
    text = classifier.says("Wo ist meine Bestellung?", "order_status", 0.4)
    ticket_id = pipeline.ingest_sync(inbound(text, marketplace="amazon-de")).ticket_id
    now[0] = at(9, 9, 30)
    pipeline.record_agent_reply_sync(ticket_id, "li.wei", "Sie ist unterwegs.")
    with session_scope(engine) as session:  # waiting on the customer since 13:00 Berlin
        session.execute(update(Ticket).where(Ticket.id == ticket_id)  # type: ignore[arg-type]
                        .values(status="pending", updated_at=at(9, 12)))
    events = SlaWatch(engine, settings).run_once(at(9, 12, 5))
    assert [(e.ticket_id, e.stage) for e in events if e.stage == "paused"] == [(ticket_id, "paused")]
    now[0] = at(10, 9)
    assert press(actions, "resolve", ticket_id).ok

    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.first_response_business_seconds == 30 * 60
        assert ticket.resolution_business_seconds == 3 * HOUR
        assert ticket.resolved_at - ticket.created_at == timedelta(hours=24)  # type: ignore[operator]


# ---- /metrics ------------------------------------------------------------------------------------------------


def _metrics(engine: Engine, tmp_path: Path, sla: SlaSettings, text: str) -> str:
    executor = CommandExecutor(engine, timezone="UTC", clock=lambda: END, charts_dir=tmp_path, sla=sla)
    answer = executor.execute(text, MANAGER, platform="slack", channel_id="C1")
    assert answer.ok, answer.text
    return answer.text


def test_metrics_command_shows_business_hours_next_to_the_wall_clock(
    engine: Engine, db: dict[str, Ticket], tmp_path: Path
) -> None:
    text = _metrics(engine, tmp_path, SLA, "/metrics 14d")
    # wall-clock medians: first response 300 600 1200 147600 228600 -> 1200 s; resolution 86400 176400 320400
    # -> 176400 s (49 h, shown as 2.0 d); business medians 1500 s and 39600 s
    assert "First response time (median): 20 min (business hours: 25 min)\n" in text
    assert "Resolution time (median): 2.0 d (business hours: 11.0 h)\n" in text
    table = _metrics(engine, tmp_path, SLA, "/metrics 14d by marketplace")
    header, *rows = table.split("```")[1].strip().splitlines()
    assert re.split(r"\s{2,}", header)[:4] == ["marketplace", "Tickets", "FRT med", "FRT med (bh)"]
    tmall = next(row.split() for row in rows if row.startswith("tmall"))
    assert tmall[:5] == ["tmall", "1", "41.0", "h", "2.0"]  # 41 h on the clock, 2 h of Shanghai working time


def test_metrics_command_without_business_hours_shows_the_wall_clock_only(
    engine: Engine, db: dict[str, Ticket], tmp_path: Path
) -> None:
    text = _metrics(engine, tmp_path, SlaSettings(), "/metrics 14d")
    assert "First response time (median): 20 min\n" in text
    assert "business hours" not in text
    assert "(bh)" not in _metrics(engine, tmp_path, SlaSettings(), "/metrics 14d by marketplace")
