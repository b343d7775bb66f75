"""Silences of metric alerts: which active silence covers an alert, and the one way a silence is created.

Shared by the alert evaluator (scheduler/alerts holds a covered alert's notification), `/alerts silence`
(handlers/commands) and the alert card's Silence 2h button (handlers/alert_actions).

A silence's matchers ({"rule": "refund_spike", "marketplace": "amazon"}) cover an alert when each equals one of
the alert's labels: its rule, its level and its group labels.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import Alert, Silence


def alert_labels(alert: Alert) -> dict[str, str]:
    """The labels silences match: rule, level and the group's labels ({"channel": "webchat"})."""
    labels = {"rule": alert.rule, "level": alert.level}
    labels.update(dict(alert.details.get("labels", {})))
    return labels


def matching_silence(session: Session, alert: Alert, at: datetime) -> Silence | None:
    """The active silence (started, not expired) whose matchers all equal the alert's labels, if any."""
    labels = alert_labels(alert)
    silences = session.scalars(
        select(Silence).where(Silence.ends_at > at, Silence.starts_at <= at)  # type: ignore[arg-type]
        .order_by(Silence.id)  # type: ignore[arg-type]
    ).all()
    for silence in silences:
        if all(labels.get(key) == str(value) for key, value in silence.matchers.items()):
            return silence
    return None


def add_silence(session: Session, matchers: dict[str, str], starts_at: datetime, ends_at: datetime,
                created_by: str, comment: str | None) -> Silence:
    """A new silence in the caller's transaction (flushed: its id is known); ValueError when it would be empty
    (no rule) or end before it starts."""
    if not matchers.get("rule"):
        raise ValueError("a silence needs the rule it silences (matcher 'rule')")
    if ends_at <= starts_at:
        raise ValueError(f"a silence must end after it starts ({starts_at.isoformat()}), not at {ends_at.isoformat()}")
    silence = Silence(matchers={key: str(value) for key, value in matchers.items()}, starts_at=starts_at,
                      ends_at=ends_at, created_by=created_by, comment=comment)
    session.add(silence)
    session.flush()
    return silence
