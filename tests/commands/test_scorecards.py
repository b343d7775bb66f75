"""Agent scorecards: the components, the weighted score and the grade, computed by hand on the seeded team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.settings import ScorecardSettings
from handlers.scorecards import grade_for, team_scorecards, weighted_score
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
