"""Baseline rules on synthetic seasonal traffic: a daily rhythm (busy afternoons, quiet nights) with noise over
14 days, then one day following the same rhythm except a spike at 03:00. Evaluated at the end of every hour of
that day, the rule fires for the spike alone: a busy afternoon is normal for its hour, a quiet night is not."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.engine import Engine

from scheduler.alerts import evaluate_rules
from tests.alerts.conftest import T0, add_tickets, cards, settings_with

DAY0 = T0.replace(hour=0)  # the day under watch
PATTERN = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 12, 12, 11, 12, 12, 11, 10, 9, 7, 6, 4, 3, 2, 1]  # tickets per hour
SPIKE_HOUR, SPIKE = 3, 9


def _seed(engine: Engine) -> None:
    rng = random.Random(7)
    times = []
    for day in range(-15, 1):
        for hour, mean in enumerate(PATTERN):
            count = mean if day == 0 else max(0, mean + rng.choice((-1, 0, 0, 1)))
            if day == 0 and hour == SPIKE_HOUR:
                count += SPIKE
            start = DAY0 + timedelta(days=day, hours=hour)
            times += [start + timedelta(minutes=(60 * i) // max(count, 1)) for i in range(count)]
    add_tickets(engine, times, kind="complaint", intent="damaged_item")


def test_a_seasonal_baseline_fires_on_the_true_spike_only(engine: Engine) -> None:
    _seed(engine)
    settings = settings_with({"name": "complaint_spike", "metric": "volume", "window": "1h",
                              "filters": {"kind": "complaint"}, "min_count": 0,
                              "baseline": {"days": 14, "seasonality": "daily", "warning_sigma": 1,
                                           "critical_sigma": 2}})
    firing_hours = []
    for hour in range(1, 25):
        report = evaluate_rules(engine, settings, DAY0 + timedelta(hours=hour))
        group = report.rules[0].groups[0]
        if group.level is not None:
            firing_hours.append(hour - 1)
    assert firing_hours == [SPIKE_HOUR]
    assert [c.title for c in cards(engine)] == ["🔴 CRITICAL: complaint_spike", "✅ RESOLVED: complaint_spike"]
    # No flat threshold could tell: the spike hour has fewer tickets than an ordinary afternoon hour.
    assert PATTERN[SPIKE_HOUR] + SPIKE < max(PATTERN)


def test_a_new_install_has_no_history_yet_so_its_first_tickets_are_not_a_spike(engine: Engine) -> None:
    settings = settings_with({"name": "volume_spike", "metric": "volume", "window": "24h",
                              "baseline": {"days": 56, "warning_sigma": 1, "critical_sigma": 2}})
    add_tickets(engine, [T0 - timedelta(hours=h) for h in (1, 2, 3, 4, 5)])

    [rule] = evaluate_rules(engine, settings, T0).rules

    [group] = rule.groups
    assert group.state == "ok" and "too little history (0 of 7 weekly samples)" in group.note
    assert cards(engine) == []


def test_once_history_began_a_quiet_past_counts_as_zeros_and_a_burst_fires(engine: Engine) -> None:
    settings = settings_with({"name": "volume_spike", "metric": "volume", "window": "24h",
                              "baseline": {"days": 56, "warning_sigma": 1, "critical_sigma": 2}})
    add_tickets(engine, [T0 - timedelta(days=60)])  # kefu's history starts here; the 8 Thursdays since were quiet
    add_tickets(engine, [T0 - timedelta(hours=h) for h in (1, 2, 3, 4, 5)])

    [rule] = evaluate_rules(engine, settings, T0).rules

    [group] = rule.groups
    assert (group.state, group.level) == ("firing", "critical")
    assert len(cards(engine)) == 1
