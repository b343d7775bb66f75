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
handlers/alert_actions.py); the resolved notice edits the last card.
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
from models.tables import Alert, AuditEvent, OutboxItem

LEVEL_MARKS = {"critical": "🔴 CRITICAL", "warning": "🟠 WARNING"}


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


def _title(alert: Alert, prefix: str) -> str:
    group = f" [{alert.group_key}]" if alert.group_key else ""
    return f"{prefix}: {alert.rule}{group}"


def firing_card(alert: Alert, metric: str, window: str) -> Card:
    details = alert.details
    bounds = details.get("bounds", {})
    thresholds = ", ".join(f"{level} {op} {format_value(metric, bound)}" for level, (op, bound) in bounds.items())
    body = [details.get("summary", "")]
    phrases = details.get("breakdown", {}).get("phrases", [])
    if phrases:
        body.append("Customers say: " + "; ".join(f"“{text}” ({n})" for text, n in phrases))
    fields = [
        CardField("Metric", METRICS[metric].label),
        CardField("Value", format_value(metric, alert.value)),
        CardField("Thresholds", thresholds or "-"),
        CardField("Window", window),
        CardField("Firing since", alert.started_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    return Card(kind="metric_alert", title=_title(alert, LEVEL_MARKS.get(alert.level, alert.level.upper())),
                body="\n".join(line for line in body if line), severity=1 if alert.level == "critical" else 2,
                fields=tuple(fields), buttons=ALERT_BUTTONS, footer=f"alert #{alert.id} · rule {alert.rule}",
                alert_id=alert.id)


def resolved_card(alert: Alert, metric: str, at: datetime) -> Card:
    value = format_value(metric, alert.value) if alert.value is not None else "no data"
    return Card(kind="metric_alert", title=_title(alert, "✅ RESOLVED"),
                body=f"Was {alert.level} from {alert.started_at:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC; "
                     f"now {value}.",
                fields=(CardField("Metric", METRICS[metric].label),), footer=f"alert #{alert.id} · rule {alert.rule}",
                alert_id=alert.id)


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
