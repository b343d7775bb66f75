"""Agent scorecards: the components, the weighted score and the grade, computed by hand on the seeded team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.settings import BusinessHoursSettings, ScorecardSettings, SlaPolicy, SlaSettings
from bot.sla_clock import stamp_first_response
from handlers.commands.answers import scorecard_text
from handlers.scorecards import grade_for, team_scorecards, weighted_score
from models import session_scope
from models.tables import Agent, Customer, Ticket
from tests.commands.conftest import NOW, Seeded


def test_seeded_scorecards(engine: Engine, seeded: Seeded) -> None:
    cards = {c.agent: c for c in team_scorecards(engine, NOW - timedelta(days=7), NOW)}
    ana, bo = cards["ana"], cards["bo"]
    assert ana.queue == "es · amazon" and bo.queue == "de · amazon"
    assert ana.handled == 6 and bo.handled == 5  # bo also holds the at-risk sizing ticket
    assert ana.first_response_median == 1800
    # ana: SLA 12/12, CSAT 5 -> 100, one-touch 6/6, acceptance 3 of 6 decided -> 50; alone in her queue
    assert ana.components == {"sla": 100.0, "csat": 100.0, "one_touch": 100.0, "acceptance": 50.0}
    assert ana.score == pytest.approx(77.5 / 0.85)  # 91.18
    assert ana.grade == "excellent"
    # bo: first responses 4/4, resolutions 2 met of 4 due -> 75 %; CSAT 3 -> 50; one-touch 0 of 2
    assert bo.sla_compliance == pytest.approx(75.0)
    assert bo.components == {"sla": 75.0, "csat": 50.0, "one_touch": 0.0}
    assert bo.score == pytest.approx((0.30 * 75 + 0.25 * 50) / 0.70)  # 50.0
    assert bo.grade == "needs improvement"


def test_weights_are_configurable(engine: Engine, seeded: Seeded) -> None:
    settings = ScorecardSettings(weights={"sla": 1, "csat": 0, "one_touch": 0, "acceptance": 0, "response_time": 0})
    cards = {c.agent: c for c in team_scorecards(engine, NOW - timedelta(days=7), NOW, settings)}
    assert cards["bo"].score == pytest.approx(75.0)
    assert cards["bo"].grade == "qualified"


def test_response_time_rank_compares_peers_of_the_same_queue() -> None:
    from handlers.scorecards import _percentile_ranks

    ranks = _percentile_ranks({"a": 60.0, "b": 120.0, "c": 120.0, "d": 600.0})
    assert ranks == {"a": 100.0, "b": 50.0, "c": 50.0, "d": 0.0}
    assert _percentile_ranks({"alone": 10.0}) == {}


def test_score_and_grade_bands() -> None:
    settings = ScorecardSettings()
    assert weighted_score({"sla": 90, "csat": 100}, settings.weights) == pytest.approx((0.3 * 90 + 0.25 * 100) / 0.55)
    assert weighted_score({}, settings.weights) is None
    assert [grade_for(s, settings) for s in (90, 89.9, 75, 74.9, None)] == [
        "excellent", "qualified", "qualified", "needs improvement", None]


def test_bad_scorecard_settings_name_the_key() -> None:
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="scorecards.weights"):
        load_settings(None, scorecards={"weights": {"speed": 1}})


def test_response_time_rank_compares_business_hours_within_a_queue(engine: Engine) -> None:
    """Berlin hours (Mon-Fri 09:00-18:00, UTC+1). nina takes the tickets of Friday 18:00 Berlin and answers them
    Monday 09:30 (30 min of working time, 63.5 h on the clock); dan answers Monday's tickets in 1 h. In business
    hours nina is the faster; a queue where one agent has no business-hours figure falls back to the clock."""
    sla = SlaSettings(policies=[SlaPolicy(name="de", marketplace="amazon-de", business_hours=BusinessHoursSettings(
        timezone="Europe/Berlin", hours={"mon-fri": "09:00-18:00"}))])
    friday = datetime(2026, 3, 6, 17, tzinfo=UTC)
    monday = datetime(2026, 3, 9, 10, tzinfo=UTC)
    with session_scope(engine) as session:
        nina, dan = Agent(name="nina"), Agent(name="dan")
        customer = Customer(channel="webchat", external_id="c-1")
        session.add_all([nina, dan, customer])
        session.flush()
        for i, (agent, created, answered) in enumerate([
            (nina, friday, monday - timedelta(minutes=90)), (dan, monday, monday + timedelta(hours=1)),
        ]):
            ticket = Ticket(customer_id=customer.id, channel="webchat", conversation_id=f"c{i}", intent="order_status",
                            kind="faq", language="de", marketplace="amazon-de", assignee_id=agent.id,
                            created_at=created, updated_at=created)
            stamp_first_response(ticket, answered, sla)
            session.add(ticket)
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC))
    cards = {c.agent: c for c in team_scorecards(engine, *window)}
    assert (cards["nina"].queue, cards["dan"].queue) == ("de · amazon-de", "de · amazon-de")
    assert cards["nina"].first_response_median == 63.5 * 3600
    assert cards["nina"].first_response_business_median == 1800
    assert (cards["nina"].components["response_time"], cards["dan"].components["response_time"]) == (100.0, 0.0)
    assert "First response (median): 2.6 d (business hours: 30 min)\n" in scorecard_text(
        cards["nina"], ScorecardSettings(), business_hours=sla.uses_business_hours())

    with session_scope(engine) as session:  # dan's figure predates business-hours recording
        session.execute(update(Ticket).where(Ticket.assignee_id == dan.id)  # type: ignore[arg-type]
                        .values(first_response_business_seconds=None))
    cards = {c.agent: c for c in team_scorecards(engine, *window)}
    assert (cards["nina"].components["response_time"], cards["dan"].components["response_time"]) == (0.0, 100.0)
