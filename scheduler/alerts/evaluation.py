"""Rule evaluation: a rule's metric over its window, per group, judged against static thresholds or a baseline.

Pure reads. A static rule compares the window's value with "> 2h"-style thresholds. A baseline rule compares it
with mean ± k·σ of the same metric over past windows of the same length, its samples (`sample_windows`): the
window ending at the same local time one day back, two days back, ... (seasonality "daily") or one week back,
two weeks back, ... (seasonality "weekly", the default: see `bot.settings.AlertBaseline`) within the
baseline's `days`, so the rhythm of the day, and of the week, is part of the baseline and not an anomaly.
Every value is aggregated in the database by `bot.metrics.compute_metrics`, one grouped query per window.

A group is one combination of the rule's `group_by` labels ({"marketplace": "amazon", "region": "FR"}), all
sliced by in the same query; its stored identity is `group_key`, the labels sorted by name (reordering
`group_by` does not re-key the alerts).

Days back are calendar days in the team's timezone (`settings.timezone`), not multiples of 24 h: a sample ends
at the same wall-clock time as the window under judgement, on its own day, so across a DST change the same
local hour is compared (a week back from Thursday 10:00 CET is the previous Thursday 10:00 CEST, 169 h
earlier). A sample starts the window's length before its end. A wall-clock time that does not exist on a
sample's day (the hour skipped in spring) is read with the offset before the change, an hour later on the
clock; one that happens twice (in autumn) is its first occurrence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from bot.metrics import METRICS, MetricRow, compute_metrics, duration_of
from bot.settings import AlertRule, parse_threshold
from models.tables import Ticket

LEVELS = ("critical", "warning")  # most severe first: a critical inhibits the warning of the same rule and group


def population_key(metric: str) -> str:
    """The count a metric's value is computed over (its population), as named in `MetricRow.counts`."""
    if metric in ("inbound_messages",) or metric.startswith("backlog"):
        return "backlog" if metric.startswith("backlog") else "inbound_messages"
    duration = duration_of(metric)
    if duration is not None:
        return f"{duration}_n"
    return {
        "sla_first_response_compliance": "sla_fr_eligible",
        "sla_resolution_compliance": "sla_res_eligible",
        "one_touch_resolution_rate": "resolved",
        "csat_response_rate": "csat_surveys_asked",
        "negative_sentiment_share": "sentiment_scored",
        "csat_mean": "csat_responses",
        "auto_reply_acceptance_rate": "suggestions_decided",
        "suggestion_edit_rate": "suggestions_decided",
        "after_sales_requests": "after_sales_requests",
        "refund_amount": "after_sales_requests",
        "after_sales_age_mean": "after_sales_requests",
    }.get(metric, "tickets")


def group_key(labels: dict[str, str]) -> str:
    """The stored identity of a group: "marketplace=amazon,region=FR" ("" when the rule is not grouped)."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


@dataclass(frozen=True)
class Baseline:
    mean: float
    std: float
    samples: int  # past windows that had a value
    seasonality: str  # daily | weekly: which past windows were sampled

    @property
    def text(self) -> str:
        """"12 weekly samples"."""
        return f"{self.samples} {self.seasonality} sample{'s' if self.samples != 1 else ''}"


@dataclass(frozen=True)
class Observation:
    """One group of one rule at one evaluation: its value and the level it reaches (None: fine)."""

    rule: AlertRule
    labels: dict[str, str]
    value: float | None
    population: int
    level: str | None
    bounds: dict[str, tuple[str, float]] = field(default_factory=dict)  # level -> (operator, value)
    baseline: Baseline | None = None
    note: str = ""

    @property
    def group_key(self) -> str:
        return group_key(self.labels)


def _compare(operator: str, value: float, bound: float) -> bool:
    return {">": value > bound, ">=": value >= bound, "<": value < bound, "<=": value <= bound}[operator]


def _window_report(session: Session, rule: AlertRule, start: datetime,
                   end: datetime) -> dict[str, tuple[dict[str, str], MetricRow]]:
    """The window's rows by group key, with the group's labels ({"": ({}, total)} for a rule not grouped)."""
    report = compute_metrics(session, start, end, group_by=rule.group_by or None, names=[rule.metric],
                             filters=rule.filters)
    if not rule.group_by:
        return {"": ({}, report.total)}
    return {group_key(row.labels): (row.labels, row) for row in report.rows}


def baseline_direction(rule: AlertRule) -> str:
    assert rule.baseline is not None
    if rule.baseline.direction is not None:
        return rule.baseline.direction
    return "down" if METRICS[rule.metric].higher_is_better else "up"


def sample_windows(rule: AlertRule, at: datetime, timezone: str) -> list[tuple[datetime, datetime]]:
    """The baseline's past windows [start, end) in UTC, newest first: the rule's window ending at `at`'s
    wall-clock time in `timezone`, one or seven calendar days back each (see the module docstring)."""
    assert rule.baseline is not None
    zone = ZoneInfo(timezone)
    window = timedelta(seconds=rule.window_seconds)
    wall = at.astimezone(zone).replace(tzinfo=None)  # wall-clock arithmetic: a day is a date, not 24 h
    windows = []
    for n in range(1, rule.baseline.samples + 1):
        end = (wall - timedelta(days=n * rule.baseline.step_days)).replace(tzinfo=zone, fold=0).astimezone(UTC)
        windows.append((end - window, end))
    return windows


def history(session: Session, rule: AlertRule, at: datetime, timezone: str) -> dict[str, Baseline]:
    """Per group (its key), mean and standard deviation of the metric over the baseline's sample windows."""
    assert rule.baseline is not None
    windows = recorded_windows(session, sample_windows(rule, at, timezone))
    values: dict[str, list[float]] = {}
    for start, end in windows:
        for key, (_labels, row) in _window_report(session, rule, start, end).items():
            value = row.values.get(rule.metric)
            if value is not None:
                values.setdefault(key, []).append(value)
    if METRICS[rule.metric].unit == "count":
        # A sample without tickets is a zero, not a missing value.
        for found in values.values():
            found.extend([0.0] * (len(windows) - len(found)))
    out: dict[str, Baseline] = {}
    for key, found in values.items():
        mean = sum(found) / len(found)
        variance = sum((v - mean) ** 2 for v in found) / (len(found) - 1) if len(found) > 1 else 0.0
        out[key] = Baseline(mean=mean, std=math.sqrt(variance), samples=len(found),
                            seasonality=rule.baseline.seasonality)
    return out


def recorded_windows(session: Session, windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The sample windows that end after kefu's first ticket. Before it (a new install, before `kefu import
    history`) the past is unknown, not quiet: counting it as zeros would make the first tickets a spike."""
    first = session.scalar(select(func.min(Ticket.created_at)))
    if first is None:
        return []
    first = first if first.tzinfo is not None else first.replace(tzinfo=UTC)
    return [(start, end) for start, end in windows if end > first]


def sigma_floor(metric: str, baseline: Baseline) -> float:
    """The σ a baseline judges with: never below the noise a steady history hides.

    A flat history (sigma 0) would make any change an anomaly: counts take at least Poisson noise (√mean, and
    1 for a history of zeros), other metrics at least 2% of the mean.
    """
    if METRICS[metric].unit == "count":
        return max(baseline.std, math.sqrt(max(baseline.mean, 1.0)))
    return max(baseline.std, 0.02 * abs(baseline.mean), 1e-9)


def _baseline_bounds(rule: AlertRule, baseline: Baseline) -> dict[str, tuple[str, float]]:
    assert rule.baseline is not None
    direction = baseline_direction(rule)
    std = sigma_floor(rule.metric, baseline)
    bounds: dict[str, tuple[str, float]] = {}
    for level, sigma in (("critical", rule.baseline.critical_sigma), ("warning", rule.baseline.warning_sigma)):
        if sigma is None:
            continue
        if direction in ("up", "both"):
            bounds[level] = (">", baseline.mean + sigma * std)
        if direction == "down":
            bounds[level] = ("<", baseline.mean - sigma * std)
        if direction == "both":  # judged on the distance from the mean, below
            bounds[level] = (">", sigma * std)
    return bounds


def evaluate_rule(session: Session, rule: AlertRule, at: datetime, timezone: str = "UTC") -> list[Observation]:
    """Every group of `rule` that has data in the window ending at `at`, with the level it reaches; baselines
    are sampled by the wall clock of `timezone` (the team's)."""
    window = timedelta(seconds=rule.window_seconds)
    current = _window_report(session, rule, at - window, at)
    baselines = history(session, rule, at, timezone) if rule.baseline is not None else {}
    observations: list[Observation] = []
    for key, (labels, row) in current.items():
        value = row.values.get(rule.metric)
        population = int(row.counts.get(population_key(rule.metric), 0))
        if value is None or population < rule.min_count:
            observations.append(Observation(rule, labels, value, population, None,
                                            note=f"too little data ({population} < {rule.min_count})"
                                            if value is not None else "no data"))
            continue
        bounds: dict[str, tuple[str, float]] = {}
        baseline: Baseline | None = None
        note = ""
        judged = value
        if rule.baseline is None:
            bounds = {level: parse_threshold(text) for level, text in
                      (("critical", rule.critical), ("warning", rule.warning)) if text is not None}
        else:
            baseline = baselines.get(key)
            if baseline is None and METRICS[rule.metric].unit == "count":  # a group never seen before: zeros
                covered = recorded_windows(session, sample_windows(rule, at, timezone))
                baseline = Baseline(mean=0.0, std=0.0, samples=len(covered), seasonality=rule.baseline.seasonality)
            if baseline is None or baseline.samples < rule.baseline.min_history:
                found = 0 if baseline is None else baseline.samples
                observations.append(Observation(rule, labels, value, population, None, baseline=baseline,
                                                note=f"too little history ({found} of {rule.baseline.min_history} "
                                                     f"{rule.baseline.seasonality} samples)"))
                continue
            bounds = _baseline_bounds(rule, baseline)
            if baseline_direction(rule) == "both":
                judged = abs(value - baseline.mean)
        level = next((lvl for lvl in LEVELS if lvl in bounds and _compare(bounds[lvl][0], judged, bounds[lvl][1])),
                     None)
        observations.append(Observation(rule, labels, value, population, level, bounds, baseline, note))
    return observations
