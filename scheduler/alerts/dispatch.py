"""Notification stages for firing and resolved alerts, after Alertmanager: inhibit → silence → quiet hours →
repeat/dedup → post → record.

- inhibit: one `Alert` row per rule and group carries the most severe level reached, so a critical replaces
  (inhibits) the warning of the same rule and group; a warning that turns critical notifies at once;
- silence: an active `Silence` whose matchers (e.g. {"rule": "refund_spike", "marketplace": "amazon"}) all
  equal the alert's labels (bot/alert_silences.py) holds the notification until it expires or is ended;
- quiet hours: a route's quiet hours (in its timezone) hold warnings, never criticals;
- repeat: a firing alert notifies once, then again every `repeat_interval` while it keeps firing, unless someone
  acknowledged it from its card (a warning that turns critical notifies again and clears the acknowledgement);
- dedup: every notification has a deterministic outbox key (rule, group, start, sequence), so a second
  evaluator (another replica) that decides the same thing finds the existing outbox row;
- record: notified time, sequence, level and the outbox key of the card go into the alert's row.

Cards carry the alert's id and the buttons Acknowledge, Silence 2h and Show tickets (performed by
handlers/alert_actions.py); the resolved notice edits the last card. A card is written in the language of the
channel it goes to (`Settings.language_for`: Chinese on DingTalk and WeCom by default, else English); what the
alert's row stores (its summary, labels, outbox keys) is the same in every language.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from bot.messages import Card, CardField, card_to_payload
from bot.metrics import METRICS
from bot.outbox import enqueue
from bot.settings import AlertRoute, Settings
from handlers.alert_actions import ALERT_BUTTONS
from handlers.phrases import PHRASES, phrase
from models.tables import Alert, AuditEvent, OutboxItem

LEVEL_MARKS = {"critical": "🔴 CRITICAL", "warning": "🟠 WARNING"}
NO_BREAKDOWN = "(no breakdown: "  # how cycle._summary says the breakdown failed


@dataclass(frozen=True)
class ResolvedRoute:
    name: str
    channel: str
    target: str
    timezone: str
    quiet_hours: str | None


def route_for(settings: Settings, name: str) -> ResolvedRoute:
    """The named route; "default" (when not configured) is the triage channel in the team's timezone."""
    route = settings.alerts.routes.get(name)
    if route is None:
        route = AlertRoute(channel=settings.triage.channel, target=settings.triage.target)
    return ResolvedRoute(name, route.channel, route.target, route.timezone or settings.timezone, route.quiet_hours)


def in_quiet_hours(route: ResolvedRoute, at: datetime) -> bool:
    """Whether `at` falls in the route's quiet hours ("22:00-08:00" spans midnight) in its timezone."""
    if not route.quiet_hours:
        return False
    first, last = (time.fromisoformat(part) for part in route.quiet_hours.split("-"))
    local = at.astimezone(ZoneInfo(route.timezone)).time()
    if first <= last:
        return first <= local < last
    return local >= first or local < last


def format_value(metric: str, value: float | None) -> str:
    """A metric value as people read it: "2h 05m", "12.5%", "4.21", "17"."""
    if value is None:
        return "-"
    unit = METRICS[metric].unit
    if unit == "seconds":
        minutes = round(value / 60)
        if abs(minutes) < 60:
            return f"{minutes}m"
        return f"{minutes // 60}h {minutes % 60:02d}m"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"


def _dedup_key(*parts: object) -> str:
    key = "alert:" + ":".join(str(p) for p in parts)
    if len(key) <= 255:
        return key
    return "alert:" + hashlib.sha256(key.encode()).hexdigest()


def _title(alert: Alert, prefix: str, language: str = "en") -> str:
    group = f" [{alert.group_key}]" if alert.group_key else ""
    return phrase("alert_card.title", language, prefix=prefix, rule=alert.rule, group=group)


def _known(key: str, language: str, default: str) -> str:
    """The catalogue's words for `key` in `language`, or `default` where the catalogue has none."""
    return phrase(key, language) if key in PHRASES else default


def _metric_label(metric: str, language: str) -> str:
    return _known(f"metric.{metric}", language, METRICS[metric].label) if language != "en" else METRICS[metric].label


def _level(level: str, language: str) -> str:
    return _known(f"alert_card.level.{level}", language, level) if language != "en" else level


def summary_text(alert: Alert, metric: str, language: str = "en") -> str:
    """The alert's one-line summary (value, baseline, the leading cause) in `language`. English is the summary as
    stored in the alert's row; another language is written from the stored breakdown."""
    stored = str(alert.details.get("summary", ""))
    breakdown = alert.details.get("breakdown") or {}
    if language == "en" or not stored:
        return stored
    if stored.startswith(NO_BREAKDOWN):
        return phrase("alert_card.summary.no_breakdown", language, error=stored[len(NO_BREAKDOWN):].removesuffix(")"))
    label = _metric_label(metric, language)
    current = breakdown.get("current")
    if not breakdown or current is None:
        return phrase("alert_card.summary.no_data", language, metric=label)
    baseline_value = breakdown.get("baseline")
    baseline = ""
    if baseline_value is not None:
        change = breakdown.get("change")
        baseline = phrase("alert_card.summary.baseline", language, baseline=format_value(metric, baseline_value),
                          change="" if change is None else
                          phrase("alert_card.summary.change", language, change=f"{change:+.0%}"))
    cause = ""
    slices = breakdown.get("slices") or []
    if slices:
        lead = slices[0]
        word = "increase" if current >= (baseline_value or 0) else "decrease"
        where = " × ".join(f"{_known(f'dimension.{dimension}', language, dimension)} {value}"
                           for dimension, value in dict(lead.get("labels", {})).items())
        cause = phrase(f"alert_card.summary.{word}", language, share=f"{min(float(lead.get('share', 0)), 1.0):.0%}",
                       slice=where)
    return phrase("alert_card.summary", language, metric=label, current=format_value(metric, current),
                  baseline=baseline, cause=cause)


def firing_card(alert: Alert, metric: str, window: str, language: str = "en") -> Card:
    """The card of a firing alert, written in `language`."""
    details = alert.details
    bounds = details.get("bounds", {})
    thresholds = ", ".join(f"{_level(level, language)} {op} {format_value(metric, bound)}"
                           for level, (op, bound) in bounds.items())
    body = [summary_text(alert, metric, language)]
    phrases = details.get("breakdown", {}).get("phrases", [])
    if phrases:
        quotes = phrase("alert_card.quote_separator", language).join(
            phrase("alert_card.quote", language, text=text, count=n) for text, n in phrases)
        body.append(phrase("alert_card.customers_say", language, quotes=quotes))
    fields = [
        CardField(phrase("alert_card.field.metric", language), _metric_label(metric, language)),
        CardField(phrase("alert_card.field.value", language), format_value(metric, alert.value)),
        CardField(phrase("alert_card.field.thresholds", language), thresholds or "-"),
        CardField(phrase("alert_card.field.window", language), window),
        CardField(phrase("alert_card.field.firing_since", language), alert.started_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    prefix = _known(f"alert_card.{alert.level}", language, alert.level.upper()) if language != "en" else \
        LEVEL_MARKS.get(alert.level, alert.level.upper())
    return Card(kind="metric_alert", title=_title(alert, prefix, language),
                body="\n".join(line for line in body if line), severity=1 if alert.level == "critical" else 2,
                fields=tuple(fields), buttons=ALERT_BUTTONS,
                footer=phrase("alert_card.footer", language, alert=alert.id, rule=alert.rule), alert_id=alert.id)


def resolved_card(alert: Alert, metric: str, at: datetime, language: str = "en") -> Card:
    """The resolved notice that replaces an alert's card, written in `language`."""
    value = format_value(metric, alert.value) if alert.value is not None else phrase("alert_card.no_data", language)
    return Card(kind="metric_alert", title=_title(alert, phrase("alert_card.resolved", language), language),
                body=phrase("alert_card.was", language, level=_level(alert.level, language),
                            start=f"{alert.started_at:%Y-%m-%d %H:%M}", end=f"{at:%Y-%m-%d %H:%M}", value=value),
                fields=(CardField(phrase("alert_card.field.metric", language), _metric_label(metric, language)),),
                footer=phrase("alert_card.footer", language, alert=alert.id, rule=alert.rule), alert_id=alert.id)


def notify_reason(alert: Alert, at: datetime, repeat: timedelta) -> str | None:
    """Why a firing alert should notify now (first, escalated, repeat) or None. An acknowledged alert does not
    repeat (someone is on it); it still notifies when it escalates."""
    if alert.notified_at is None:
        return "first"
    if alert.level == "critical" and alert.details.get("notified_level") == "warning":
        return "escalated"
    if alert.acknowledged_at is None and at - alert.notified_at >= repeat:
        return "repeat"
    return None


def post_firing(session: Session, alert: Alert, route: ResolvedRoute, card: Card, at: datetime,
                reason: str) -> OutboxItem:
    """Enqueue the firing card and record the notification in the alert's row. A new card asks for a new
    acknowledgement: the previous one (of a warning that escalated) is cleared."""
    sequence = int(alert.details.get("notifications", 0)) + 1
    key = _dedup_key(alert.rule, alert.group_key, alert.started_at.strftime("%Y%m%dT%H%M%S"), sequence)
    item = enqueue(session, dedup_key=key, kind="card", channel=route.channel, target=route.target,
                   payload=card_to_payload(card))
    alert.details = {**alert.details, "notifications": sequence, "notified_level": alert.level, "card_item": key,
                     "held": None}
    alert.notified_at = at
    alert.card_channel = route.channel
    alert.acknowledged_by = alert.acknowledged_at = None
    session.add(AuditEvent(at=at, actor="scheduler", action="alert_notified", subject_type="alert",
                           subject_id=str(alert.id), details={"reason": reason, "level": alert.level,
                                                              "outbox": key}))
    return item


def post_resolved(session: Session, alert: Alert, route: ResolvedRoute, card: Card, at: datetime) -> OutboxItem:
    """Edit the last firing card (or post the notice when that card has not gone out yet)."""
    original = session.scalars(
        select(OutboxItem).where(OutboxItem.dedup_key == alert.details.get("card_item"))  # type: ignore[arg-type]
    ).first()
    key = _dedup_key("resolved", alert.rule, alert.group_key, alert.started_at.strftime("%Y%m%dT%H%M%S"))
    if original is not None and original.result_ref:
        alert.card_ref = original.result_ref
        item = enqueue(session, dedup_key=key, kind="card_update", channel=original.channel,
                       target=original.result_ref, payload=card_to_payload(card))
    else:
        item = enqueue(session, dedup_key=key, kind="card", channel=route.channel, target=route.target,
                       payload=card_to_payload(card))
    session.add(AuditEvent(at=at, actor="scheduler", action="alert_resolved", subject_type="alert",
                           subject_id=str(alert.id), details={"outbox": key}))
    return item
