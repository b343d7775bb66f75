"""Weekly-seasonal baselines: customer-service volume follows the week (busy Mondays, quiet Sundays), so a
baseline compares a day with the same weekday of past weeks, counted in the team's calendar across DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot.settings import AlertRule, Settings
from scheduler.alerts import evaluate_rules
from scheduler.alerts.dispatch import format_value
from scheduler.alerts.evaluation import sample_windows
from tests.alerts.conftest import add_tickets, alerts, cards, settings_with

DAY = timedelta(days=1)
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # the Monday of the week under watch ("week 0")
NORMAL = {0: 60, 1: 20, 2: 20, 3: 20, 4: 20, 5: 20, 6: 10}  # complaints a day by weekday: Monday 3×, Sunday ½
NOISE = {0: 5, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2}
SPIKES = {MONDAY: 40, MONDAY + 2 * DAY: 20, MONDAY + 6 * DAY: 20}  # week 0: Monday, Wednesday and Sunday
RULE = {"name": "complaint_volume", "metric": "volume", "window": "24h", "filters": {"kind": "complaint"},
        "min_count": 0, "baseline": {"days": 84}}  # weekly (the default): 12 samples
DAILY = {**RULE, "name": "complaint_volume_daily", "baseline": {"days": 84, "seasonality": "daily"}}


def _seed_weeks(engine: Engine) -> dict[datetime, int]:
    """14 weeks of the weekly rhythm with seeded noise, then week 0 with its spikes; the count of each day."""
    rng = random.Random(20261116)
    counts: dict[datetime, int] = {}
    times: list[datetime] = []
    for n in range(-14 * 7, 7):
        day = MONDAY + n * DAY
        weekday = day.weekday()
        count = NORMAL[weekday] + rng.randint(-NOISE[weekday], NOISE[weekday]) + SPIKES.get(day, 0)
        counts[day] = count
        times += [day + timedelta(seconds=(86400 * i) // count + rng.randrange(60)) for i in range(count)]
    add_tickets(engine, times, kind="complaint", intent="damaged_item")
    return counts


def test_a_weekly_baseline_fires_on_true_spikes_only_where_a_daily_one_fires_on_every_monday(engine: Engine) -> None:
    counts = _seed_weeks(engine)
    weekly, daily = settings_with(RULE), settings_with(DAILY)
    ordinary_monday = MONDAY - 7 * DAY

    # The daily baseline mixes Mondays with Sundays: an ordinary Monday is "critical"...
    day_end = ordinary_monday + DAY
    [judged] = evaluate_rules(engine, daily, day_end, dry_run=True).rules[0].groups
    assert judged.value == counts[ordinary_monday] and judged.level is not None
    assert "over 84 daily samples" in judged.thresholds
    # ... and it misses the Sunday spike (30 complaints where a Sunday has 10).
    [sunday] = evaluate_rules(engine, daily, MONDAY + 7 * DAY, dry_run=True).rules[0].groups
    assert sunday.value == counts[MONDAY + 6 * DAY] and sunday.level is None

    # The weekly baseline, evaluated at the end of each day of the last two weeks, fires on the spikes only.
    firing = []
    for n in range(-7, 7):
        [group] = evaluate_rules(engine, weekly, MONDAY + (n + 1) * DAY).rules[0].groups
        assert "over 12 weekly samples" in group.thresholds
        if group.level is not None:
            firing.append(((MONDAY + n * DAY).strftime("%a %d"), group.level))
    assert firing == [("Mon 16", "critical"), ("Wed 18", "critical"), ("Sun 22", "critical")]
    assert [c.title.split(":")[0] for c in cards(engine)] == ["🔴 CRITICAL", "✅ RESOLVED", "🔴 CRITICAL",
                                                             "✅ RESOLVED", "🔴 CRITICAL"]

    # The Monday spike is measured against Mondays, not against the average day.
    monday_alert = alerts(engine)[0]
    mondays = [counts[MONDAY - 7 * DAY * k] for k in range(1, 13)]
    assert monday_alert.details["baseline"]["mean"] == pytest.approx(sum(mondays) / 12)
    assert monday_alert.details["breakdown"]["baseline"] == pytest.approx(sum(mondays) / 12)
    shown = f"Tickets {counts[MONDAY]} vs baseline {format_value('volume', sum(mondays) / 12)}"
    assert shown in cards(engine)[0].body


BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day: datetime, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def test_across_the_october_dst_change_a_week_back_is_the_same_local_hour(engine: Engine) -> None:
    # Every Thursday in Berlin: a burst of 30 complaints from 09:00 to 10:00 local time, 2 in the hours around.
    thursday = datetime(2026, 10, 29)  # the first Thursday after Sunday 25 October, when CEST (+2) became CET (+1)
    for week in range(9):
        day = thursday - timedelta(weeks=week)
        for hour, count in ((8, 2), (9, 30), (10, 2)):
            add_tickets(engine, [berlin(day, hour) + timedelta(minutes=2 * i) for i in range(count)],
                        kind="complaint")
    rule = {**RULE, "window": "1h", "baseline": {"days": 56}}
    settings = Settings(timezone="Europe/Berlin", alerts={"rules": [rule]})

    ten = berlin(thursday, 10)  # 09:00 UTC; a week earlier 10:00 local was 08:00 UTC, 169 h before
    [judged] = evaluate_rules(engine, settings, ten, dry_run=True).rules[0].groups
    assert (judged.value, judged.level) == (30, None)
    assert "baseline 30 ± 0 over 8 weekly samples" in judged.thresholds

    # The hour after the burst is judged against the hours after the burst, and a true spike there fires.
    add_tickets(engine, [berlin(thursday, 10) + timedelta(minutes=3 * i + 1) for i in range(12)], kind="complaint")
    [spike] = evaluate_rules(engine, settings, berlin(thursday, 11), dry_run=True).rules[0].groups
    assert (spike.value, spike.level) == (14, "critical")
    assert "baseline 2 ± 0 over 8 weekly samples" in spike.thresholds


def test_sample_windows_follow_the_team_calendar() -> None:
    weekly = AlertRule(name="r", metric="volume", window="1h", baseline={"days": 21, "min_history": 3})
    daily = AlertRule(name="r", metric="volume", window="1h", baseline={"days": 3, "min_history": 2,
                                                                         "seasonality": "daily"})
    # Thursday 29 October 2026 10:00 CET: 7 calendar days back are 169 h back (CEST), then 168 h each.
    assert [end for _, end in sample_windows(weekly, berlin(datetime(2026, 10, 29), 10), "Europe/Berlin")] == [
        datetime(2026, 10, 22, 8, tzinfo=UTC), datetime(2026, 10, 15, 8, tzinfo=UTC),
        datetime(2026, 10, 8, 8, tzinfo=UTC)]
    # Monday 26 October 10:00 CET, daily: Sunday 25 (CET, after 03:00) then Saturday 24 (CEST).
    assert sample_windows(daily, berlin(datetime(2026, 10, 26), 10), "Europe/Berlin") == [
        (datetime(2026, 10, 25, 8, tzinfo=UTC), datetime(2026, 10, 25, 9, tzinfo=UTC)),
        (datetime(2026, 10, 24, 7, tzinfo=UTC), datetime(2026, 10, 24, 8, tzinfo=UTC)),
        (datetime(2026, 10, 23, 7, tzinfo=UTC), datetime(2026, 10, 23, 8, tzinfo=UTC))]
    # 02:30 did not exist on Sunday 29 March (the clock jumped from 02:00 to 03:00): read with the winter
    # offset, 01:30 UTC; 02:30 happened twice on Sunday 25 October: the first one, still summer time.
    spring = datetime(2026, 4, 5, 2, 30, tzinfo=BERLIN)
    assert sample_windows(weekly, spring, "Europe/Berlin")[0][1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    autumn = datetime(2026, 11, 1, 2, 30, tzinfo=BERLIN)
    assert sample_windows(weekly, autumn, "Europe/Berlin")[0][1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # With the default timezone (UTC) a day is 24 h.
    assert sample_windows(daily, datetime(2026, 10, 26, 9, tzinfo=UTC), "UTC")[1][1] == datetime(2026, 10, 24, 9,
                                                                                                 tzinfo=UTC)


def test_the_shipped_baseline_rules_are_weekly_with_enough_samples() -> None:
    rules = [rule for rule in Settings().alerts.rules if rule.baseline is not None]
    assert rules and all(rule.baseline.seasonality == "weekly" for rule in rules if rule.baseline)
    assert all(rule.baseline.samples >= rule.baseline.min_history for rule in rules if rule.baseline)
    assert {rule.baseline.samples for rule in rules if rule.baseline and rule.baseline.days == 90} == {12}
