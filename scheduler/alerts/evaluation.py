"""Rule evaluation: a rule's metric over its window, per group, judged against static thresholds or a baseline.

Pure reads. A static rule compares the window's value with "> 2h"-style thresholds. A baseline rule compares it
with mean ± k·σ of the same metric over windows of the same length ending at the same time of day on each of
the previous `days` days (so a daily rhythm is part of the baseline, not an anomaly); every history value is
aggregated in the database by `bot.metrics.compute_metrics`, one grouped query per past window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.metrics import METRICS, MetricReport, MetricRow, compute_metrics, duration_of
from bot.settings import AlertRule, parse_threshold

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
        "csat_response_rate": "resolved",
        "csat_mean": "csat_responses",
        "auto_reply_acceptance_rate": "suggestions_decided",
        "suggestion_edit_rate": "suggestions_decided",
    }.get(metric, "tickets")


def group_key(labels: dict[str, str]) -> str:
    """The stored identity of a group: "channel=webchat" ("" when the rule is not grouped)."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


@dataclass(frozen=True)
class Baseline:
    mean: float
    std: float
    windows: int  # past windows that had a value


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


def _rows(report: MetricReport, rule: AlertRule) -> dict[str, MetricRow]:
    if not rule.group_by:
        return {"": report.total}
    return {row.group or "": row for row in report.rows}


def _window_report(session: Session, rule: AlertRule, start: datetime, end: datetime) -> dict[str, MetricRow]:
    report = compute_metrics(session, start, end, group_by=rule.group_by[0] if rule.group_by else None,
                             names=[rule.metric], filters=rule.filters)
    return _rows(report, rule)


def baseline_direction(rule: AlertRule) -> str:
    assert rule.baseline is not None
    if rule.baseline.direction is not None:
        return rule.baseline.direction
    return "down" if METRICS[rule.metric].higher_is_better else "up"


def history(session: Session, rule: AlertRule, at: datetime) -> dict[str, Baseline]:
    """Per group, mean and standard deviation of the metric over the same window on each of the past days."""
    assert rule.baseline is not None
    window = timedelta(seconds=rule.window_seconds)
    values: dict[str, list[float]] = {}
    for days_back in range(1, rule.baseline.days + 1):
        end = at - timedelta(days=days_back)
        for group, row in _window_report(session, rule, end - window, end).items():
            value = row.values.get(rule.metric)
            if value is not None:
                values.setdefault(group, []).append(value)
    if METRICS[rule.metric].unit == "count":
        # A day without tickets is a zero, not a missing value.
        for found in values.values():
            found.extend([0.0] * (rule.baseline.days - len(found)))
    out: dict[str, Baseline] = {}
    for group, found in values.items():
        mean = sum(found) / len(found)
        variance = sum((v - mean) ** 2 for v in found) / (len(found) - 1) if len(found) > 1 else 0.0
        out[group] = Baseline(mean=mean, std=math.sqrt(variance), windows=len(found))
    return out


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


def evaluate_rule(session: Session, rule: AlertRule, at: datetime) -> list[Observation]:
    """Every group of `rule` that has data in the window ending at `at`, with the level it reaches."""
    window = timedelta(seconds=rule.window_seconds)
    current = _window_report(session, rule, at - window, at)
    baselines = history(session, rule, at) if rule.baseline is not None else {}
    dimension = rule.group_by[0] if rule.group_by else None
    observations: list[Observation] = []
    for group, row in current.items():
        labels = {dimension: group} if dimension else {}
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
            baseline = baselines.get(group)
            if baseline is None and METRICS[rule.metric].unit == "count":
                baseline = Baseline(mean=0.0, std=0.0, windows=rule.baseline.days)  # a group never seen before
            if baseline is None or baseline.windows < rule.baseline.min_history:
                found = 0 if baseline is None else baseline.windows
                observations.append(Observation(rule, labels, value, population, None, baseline=baseline,
                                                note=f"too little history ({found} of {rule.baseline.min_history} "
                                                     "windows)"))
                continue
            bounds = _baseline_bounds(rule, baseline)
            if baseline_direction(rule) == "both":
                judged = abs(value - baseline.mean)
        level = next((lvl for lvl in LEVELS if lvl in bounds and _compare(bounds[lvl][0], judged, bounds[lvl][1])),
                     None)
        observations.append(Observation(rule, labels, value, population, level, bounds, baseline, note))
    return observations
