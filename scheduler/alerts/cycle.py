"""One evaluation cycle of every metric alert rule: evaluate, settle each group's state, notify.

`evaluate_rules(engine, settings, at)` is the scheduled job (every `alerts.evaluation_interval_seconds`) and
what `kefu alerts evaluate` runs. Per rule: the metric is read first (no lock held), then the rule's state is
settled in one transaction that holds a per-rule lock (PostgreSQL: a transaction advisory lock; SQLite: the
database's write lock), so evaluators on several replicas take turns and the second sees what the first
stored and posted: the same alert never posts twice. State (pending, firing, resolved, when it was notified)
lives in the `Alert` table: a restart neither repeats nor forgets an alert.

State of one rule and group, Prometheus-style: a breached threshold opens a `pending` alert; it becomes
`firing` once the breach has held for the rule's `for` duration (a blip that clears first is dropped); a
firing alert whose condition clears is `resolved`, with a notice that edits its card.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.alert_silences import matching_silence
from bot.metrics import METRICS, MetricError
from bot.settings import AlertRule, Settings
from models.tables import Alert
from scheduler.alerts.breakdown import describe, explain
from scheduler.alerts.dispatch import (
    firing_card,
    format_value,
    in_quiet_hours,
    notify_reason,
    post_firing,
    post_resolved,
    resolved_card,
    route_for,
)
from scheduler.alerts.evaluation import Observation, evaluate_rule, sample_windows

log = logging.getLogger(__name__)
BREAKDOWN_DAYS_FOR_THRESHOLDS = 7


@dataclass
class GroupResult:
    """What one evaluation decided for one group of one rule (printed by `kefu alerts evaluate`)."""

    group_key: str
    state: str  # ok | pending | firing | resolved
    level: str | None
    value: float | None
    thresholds: str
    note: str = ""
    notified: str | None = None  # first | escalated | repeat | resolved, when a card was queued
    held: str | None = None  # why a due notification waits: silenced by #3 | quiet hours
    summary: str = ""


@dataclass
class RuleResult:
    rule: str
    metric: str
    groups: list[GroupResult] = field(default_factory=list)
    error: str | None = None


@dataclass
class EvaluationReport:
    at: datetime
    dry_run: bool
    rules: list[RuleResult] = field(default_factory=list)

    @property
    def notifications(self) -> int:
        return sum(1 for rule in self.rules for group in rule.groups if group.notified)


def _lock_rule(session: Session, rule: str) -> None:
    """Take the rule's lock for the rest of the transaction (released at commit or rollback)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"kefu.alerts:{rule}".encode()) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:  # SQLite: a write takes the database's write lock until the transaction ends
        session.execute(text("UPDATE alert SET id = id WHERE id < 0"))


def _thresholds_text(observation: Observation) -> str:
    metric = observation.rule.metric
    parts = [f"{level} {op} {format_value(metric, bound)}" for level, (op, bound) in observation.bounds.items()]
    if observation.baseline is not None:
        parts.append(f"baseline {format_value(metric, observation.baseline.mean)} "
                     f"± {format_value(metric, observation.baseline.std)} over {observation.baseline.text}")
    return ", ".join(parts)


def _summary(session: Session, settings: Settings, rule: AlertRule, alert: Alert,
             at: datetime) -> tuple[str, dict[str, object]]:
    window = timedelta(seconds=rule.window_seconds)
    start = at - window
    if rule.baseline is not None and rule.baseline.seasonality == "weekly":
        baseline = sample_windows(rule, at, settings.timezone)  # what the alert was judged against
    else:  # one period (for a daily 24 h window, its samples end to end): a query a dimension, not one a sample
        days = rule.baseline.days if rule.baseline is not None else BREAKDOWN_DAYS_FOR_THRESHOLDS
        baseline = [(start - timedelta(days=days), start)]
    filters = {**rule.filters, **dict(alert.details.get("labels", {}))}  # the group's labels are not causes
    try:
        breakdown = explain(session, rule.metric, filters, start, at, baseline)
    except MetricError as exc:  # a breakdown must never stop the alert itself
        return f"(no breakdown: {exc})", {}
    summary = describe(breakdown, METRICS[rule.metric].label, lambda v: format_value(rule.metric, v))
    return summary, breakdown.to_dict()


def _settle(session: Session, settings: Settings, rule: AlertRule, observations: list[Observation],
            at: datetime) -> list[GroupResult]:
    route = route_for(settings, rule.route)
    repeat = timedelta(seconds=settings.alerts.repeat_seconds)
    hold_for = timedelta(seconds=rule.for_seconds)
    active = {a.group_key: a for a in session.scalars(
        select(Alert).where(Alert.rule == rule.name, Alert.state.in_(("pending", "firing")))  # type: ignore
        .order_by(Alert.id)  # type: ignore[arg-type]
    )}
    seen = {o.group_key for o in observations}
    for key, alert in active.items():  # a group with no data in the window any more has cleared
        if key not in seen:
            observations.append(Observation(rule, dict(alert.details.get("labels", {})), None, 0, None,
                                            note="no data"))
    results: list[GroupResult] = []
    for obs in observations:
        alert = active.get(obs.group_key)
        result = GroupResult(obs.group_key, "ok", obs.level, obs.value, _thresholds_text(obs), obs.note)
        results.append(result)
        if obs.level is None:
            if alert is None:
                continue
            if alert.state == "pending":  # a blip: it never fired
                session.delete(alert)
                continue
            alert.state, alert.resolved_at, alert.value = "resolved", at, obs.value
            result.state = "resolved"
            if alert.notified_at is not None:
                # The notice edits the card where it was posted (alert.card_channel), in that channel's language.
                language = settings.language_for(alert.card_channel or route.channel)
                post_resolved(session, alert, route, resolved_card(alert, rule.metric, at, language), at)
                result.notified = "resolved"
            continue
        if alert is None:
            alert = Alert(rule=rule.name, group_key=obs.group_key, level=obs.level, state="pending",
                          value=obs.value, started_at=at, details={"labels": obs.labels})
            session.add(alert)
            session.flush()
        alert.level = obs.level
        alert.value = obs.value
        alert.details = {**alert.details, "labels": obs.labels, "metric": rule.metric, "window": rule.window,
                         "bounds": {k: list(v) for k, v in obs.bounds.items()}, "evaluated_at": at.isoformat(),
                         "baseline": None if obs.baseline is None else
                         {"mean": obs.baseline.mean, "std": obs.baseline.std, "samples": obs.baseline.samples,
                          "seasonality": obs.baseline.seasonality}}
        if alert.state == "pending" and at - alert.started_at >= hold_for:
            alert.state = "firing"
            alert.details = {**alert.details, "fired_at": at.isoformat()}
        result.state = alert.state
        if alert.state != "firing":
            continue
        reason = notify_reason(alert, at, repeat)
        if reason is None:
            continue
        silence = matching_silence(session, alert, at)
        if silence is not None:
            result.held = f"silenced by #{silence.id} until {silence.ends_at:%Y-%m-%d %H:%M} UTC"
        elif alert.level == "warning" and in_quiet_hours(route, at):
            result.held = f"quiet hours of route {route.name} ({route.quiet_hours} {route.timezone})"
        if result.held is not None:
            alert.details = {**alert.details, "held": result.held}
            continue
        result.summary, breakdown = _summary(session, settings, rule, alert, at)
        # What "Show tickets" lists: the window's tickets of this rule and group.
        window_start = at - timedelta(seconds=rule.window_seconds)
        alert.details = {**alert.details, "summary": result.summary, "breakdown": breakdown,
                         "tickets": {"filters": {**rule.filters, **obs.labels}, "start": window_start.isoformat(),
                                     "end": at.isoformat()}}
        card = firing_card(alert, rule.metric, rule.window, settings.language_for(route.channel))
        post_firing(session, alert, route, card, at, reason)
        result.notified = reason
    return results


def evaluate_rules(engine: Engine, settings: Settings, at: datetime | None = None, *, dry_run: bool = False,
                   rules: list[AlertRule] | None = None) -> EvaluationReport:
    """Evaluate every rule (or `rules`) as of `at` (default now), store state and queue notifications.

    With `dry_run` nothing is stored or queued: the report says what a scheduled run would do. One rule's
    error (reported in its `RuleResult.error`) does not stop the others.
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    report = EvaluationReport(at=at, dry_run=dry_run)
    for rule in rules if rules is not None else settings.alerts.rules:
        result = RuleResult(rule.name, rule.metric)
        report.rules.append(result)
        try:
            with Session(engine) as reading:
                observations = evaluate_rule(reading, rule, at, settings.timezone)
            with Session(engine, expire_on_commit=False) as session:
                _lock_rule(session, rule.name)
                result.groups = _settle(session, settings, rule, observations, at)
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
        except MetricError as exc:
            result.error = str(exc)
            log.warning("alert rule %s could not be evaluated: %s", rule.name, exc)
    if rules is None and not dry_run:
        _retire_removed_rules(engine, {rule.name for rule in settings.alerts.rules}, at)
    return report


def _retire_removed_rules(engine: Engine, names: set[str], at: datetime) -> None:
    """Alerts of rules no longer configured stop: pending ones go, firing ones are resolved without a notice."""
    with Session(engine) as session:
        stale = session.scalars(select(Alert).where(Alert.state.in_(("pending", "firing")),  # type: ignore
                                                    Alert.rule.not_in(names))).all()  # type: ignore[attr-defined]
        for alert in stale:
            if alert.state == "pending":
                session.delete(alert)
            else:
                alert.state, alert.resolved_at = "resolved", at
                alert.details = {**alert.details, "resolved_because": "rule removed from the configuration"}
        session.commit()


class AlertEvaluation:
    """The scheduled job: `AlertEvaluation(engine, settings)(now)` runs one cycle as of `now`.

    Registered with `runner.register_job("metric_alerts", settings.alerts.evaluation_interval_seconds,
    AlertEvaluation(engine, settings))`.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def __call__(self, now: datetime) -> EvaluationReport:
        report = evaluate_rules(self.engine, self.settings, now)
        if report.notifications:
            log.info("metric alerts: %d notification(s) queued", report.notifications)
        return report
