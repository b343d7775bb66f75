"""Alert rule semantics after Alertmanager: `for`, grouping, repeat interval, inhibition, silences, quiet
hours and resolved notices, with state in the database (every evaluation is a fresh call, as after a restart)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import SettingsError, load_settings
from models.tables import OutboxItem, Silence
from scheduler.alerts import evaluate_rules
from tests.alerts.conftest import T0, add_tickets, alert_items, alerts, cards, settings_with

MIN = timedelta(minutes=1)
VOLUME = {"name": "busy", "metric": "volume", "window": "1h", "warning": "> 3", "critical": "> 6"}


def minutes(start: int, count: int, step: int = 1) -> list:
    return [T0 + (start + i * step) * MIN for i in range(count)]


def test_a_rule_with_for_does_not_fire_on_a_blip_but_fires_when_the_breach_holds(engine: Engine) -> None:
    settings = settings_with({**VOLUME, "window": "5m", "for": "10m"})
    add_tickets(engine, minutes(-4, 5))  # 5 tickets in the 5 minutes before T0, then calm
    assert evaluate_rules(engine, settings, T0).rules[0].groups[0].state == "pending"
    evaluate_rules(engine, settings, T0 + 5 * MIN)  # the blip is over before `for` elapsed
    evaluate_rules(engine, settings, T0 + 15 * MIN)
    assert cards(engine) == [] and alerts(engine) == []

    add_tickets(engine, [t for m in range(60, 90) for t in (T0 + m * MIN, T0 + m * MIN + 10 * timedelta(seconds=1))])
    states = [evaluate_rules(engine, settings, T0 + m * MIN).rules[0].groups[0].state for m in (65, 70, 75, 80)]
    assert states == ["pending", "pending", "firing", "firing"]
    assert len(cards(engine)) == 1
    assert cards(engine)[0].title.endswith("busy")


def test_groups_alert_and_notify_separately(engine: Engine) -> None:
    settings = settings_with({**VOLUME, "group_by": ["channel"]})
    add_tickets(engine, minutes(-50, 5), channel="webchat")
    add_tickets(engine, minutes(-40, 4), channel="webhook")
    add_tickets(engine, minutes(-30, 1), channel="wecom_kf")
    report = evaluate_rules(engine, settings, T0)
    states = {g.group_key: g.state for g in report.rules[0].groups}
    assert states == {"channel=webchat": "firing", "channel=webhook": "firing", "channel=wecom_kf": "ok"}
    assert sorted(c.title for c in cards(engine)) == ["🟠 WARNING: busy [channel=webchat]",
                                                      "🟠 WARNING: busy [channel=webhook]"]
    assert {a.group_key for a in alerts(engine)} == {"channel=webchat", "channel=webhook"}


def test_a_firing_alert_notifies_once_per_repeat_interval(engine: Engine) -> None:
    settings = settings_with({**VOLUME, "window": "24h"})
    add_tickets(engine, minutes(-60, 5))
    sent = []
    for offset in (0, 5, 120, 239, 240, 245, 480):
        evaluate_rules(engine, settings, T0 + offset * MIN)
        sent.append(len(cards(engine)))
    assert sent == [1, 1, 1, 1, 2, 2, 3]
    assert [a.state for a in alerts(engine)] == ["firing"]


def test_critical_inhibits_warning_and_an_escalation_notifies_at_once(engine: Engine) -> None:
    settings = settings_with(VOLUME)
    add_tickets(engine, minutes(-50, 4))
    evaluate_rules(engine, settings, T0)
    assert [c.title for c in cards(engine)] == ["🟠 WARNING: busy"]
    add_tickets(engine, minutes(-20, 3))  # 7 now: critical
    evaluate_rules(engine, settings, T0 + MIN)
    evaluate_rules(engine, settings, T0 + 2 * MIN)
    assert [c.title for c in cards(engine)] == ["🟠 WARNING: busy", "🔴 CRITICAL: busy"]
    assert [(a.level, a.state) for a in alerts(engine)] == [("critical", "firing")]

    # Both thresholds breached from the start: only the critical is sent.
    other = settings_with({**VOLUME, "name": "busy2"})
    evaluate_rules(engine, other, T0 + 3 * MIN)
    assert [c.title for c in cards(engine)][2:] == ["🔴 CRITICAL: busy2"]


def test_a_silence_holds_notifications_until_it_expires(engine: Engine) -> None:
    settings = settings_with({**VOLUME, "window": "24h", "group_by": ["channel"]})
    add_tickets(engine, minutes(-50, 5), channel="webchat")
    add_tickets(engine, minutes(-50, 5), channel="webhook")
    with Session(engine) as session:
        session.add(Silence(matchers={"rule": "busy", "channel": "webchat"}, starts_at=T0 - MIN,
                            ends_at=T0 + 30 * MIN, created_by="mei", comment="known carrier issue"))
        session.commit()
    report = evaluate_rules(engine, settings, T0)
    held = {g.group_key: g.held for g in report.rules[0].groups}
    assert held["channel=webchat"] is not None and "silenced by" in held["channel=webchat"]
    assert held["channel=webhook"] is None
    assert [c.title for c in cards(engine)] == ["🟠 WARNING: busy [channel=webhook]"]
    evaluate_rules(engine, settings, T0 + 29 * MIN)
    assert len(cards(engine)) == 1
    evaluate_rules(engine, settings, T0 + 30 * MIN)  # expired: the held alert notifies now
    assert [c.title for c in cards(engine)][1:] == ["🟠 WARNING: busy [channel=webchat]"]


def test_quiet_hours_hold_warnings_but_never_criticals(engine: Engine) -> None:
    routes = {"leads": {"channel": "console", "target": "leads", "timezone": "Asia/Shanghai",
                        "quiet_hours": "22:00-08:00"}}
    settings = settings_with({**VOLUME, "window": "24h", "route": "leads"},
                             {**VOLUME, "name": "very_busy", "window": "24h", "warning": "> 1", "critical": "> 2",
                              "route": "leads"}, routes=routes, repeat_interval="12h")
    add_tickets(engine, minutes(-50, 5))
    night = T0.replace(hour=15)  # 23:00 in Shanghai
    evaluate_rules(engine, settings, night)
    assert [c.title for c in cards(engine)] == ["🔴 CRITICAL: very_busy"]
    assert {i.target for i in alert_items(engine)} == {"leads"}
    evaluate_rules(engine, settings, night + timedelta(hours=9))  # 08:00 in Shanghai
    assert [c.title for c in cards(engine)] == ["🔴 CRITICAL: very_busy", "🟠 WARNING: busy"]


def test_a_resolved_alert_edits_its_card_once(engine: Engine) -> None:
    settings = settings_with(VOLUME)
    add_tickets(engine, minutes(-30, 4))
    evaluate_rules(engine, settings, T0)
    [card_item] = alert_items(engine)
    card = cards(engine)[0]
    assert card.kind == "metric_alert" and card.severity == 2
    assert [b.label for b in card.buttons] == ["Acknowledge", "Silence 2h", "Show tickets"]
    with Session(engine) as session:  # the outbox worker posted it
        session.execute(update(OutboxItem).where(OutboxItem.id == card_item.id)  # type: ignore[arg-type]
                        .values(status="sent", result_ref="C1:1700000000.0001"))
        session.commit()
    for offset in (60, 65, 70):  # the tickets left the window
        evaluate_rules(engine, settings, T0 + offset * MIN)
    items = alert_items(engine)
    assert [(i.kind, i.target) for i in items] == [("card", ""), ("card_update", "C1:1700000000.0001")]
    resolved = cards(engine)[1]
    assert resolved.title == "✅ RESOLVED: busy" and resolved.buttons == ()
    assert [(a.state, a.resolved_at) for a in alerts(engine)] == [("resolved", T0 + 60 * MIN)]

    add_tickets(engine, minutes(100, 4))  # a new breach is a new alert with its own card
    evaluate_rules(engine, settings, T0 + 105 * MIN)
    assert [a.state for a in alerts(engine)] == ["resolved", "firing"]
    assert len(alert_items(engine)) == 3


def test_alerts_of_a_removed_rule_stop(engine: Engine) -> None:
    add_tickets(engine, minutes(-30, 4))
    evaluate_rules(engine, settings_with(VOLUME), T0)
    evaluate_rules(engine, settings_with({**VOLUME, "name": "other", "warning": "> 100"}), T0 + MIN)
    assert [(a.rule, a.state) for a in alerts(engine)] == [("busy", "resolved")]


def test_a_dry_run_stores_and_posts_nothing(engine: Engine) -> None:
    add_tickets(engine, minutes(-30, 4))
    report = evaluate_rules(engine, settings_with(VOLUME), T0, dry_run=True)
    assert report.rules[0].groups[0].notified == "first"
    assert alert_items(engine) == [] and alerts(engine) == []


@pytest.mark.parametrize(("rule", "message"), [
    ({"name": "slow", "metric": "first_response_time", "warning": "> 2h"}, "rule 'slow', key 'metric'"),
    ({"name": "slow", "metric": "volume", "warning": "above 2"}, "rule 'slow', key 'warning'"),
    ({"name": "slow", "metric": "volume", "warning": "> 2", "for": "ten"}, "rule 'slow', key 'for'"),
    ({"name": "slow", "metric": "volume"}, "rule 'slow', key 'warning'"),
    ({"name": "slow", "metric": "volume", "warning": "> 2", "group_by": ["colour"]}, "rule 'slow', key 'group_by"),
    ({"name": "slow", "metric": "volume", "baseline": {"days": 1}}, "rule 'slow', key 'baseline.days'"),
    ({"name": "slow", "metric": "volume", "warning": "> 2", "route": "nowhere"}, "rule 'slow', key 'route'"),
])
def test_rule_errors_name_the_rule_and_the_key(rule: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_settings(None, alerts={"rules": [rule]})


def test_the_shipped_rules_use_existing_metrics() -> None:
    from bot.metrics import METRICS
    from bot.settings import Settings

    rules = {r.name: r for r in Settings().alerts.rules}
    assert rules["first_response_slow"].warning == "> 2h" and rules["first_response_slow"].critical == "> 4h"
    assert all(r.metric in METRICS for r in rules.values())
    assert {r.baseline.warning_sigma for r in rules.values() if r.baseline} == {1.0}
