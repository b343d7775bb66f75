"""Two evaluators (two replicas with their own engines) on one database, racing on the same evaluation: each
alert is stored once and posted once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.engine import Engine

from models.db import create_db_engine
from scheduler.alerts import EvaluationReport, evaluate_rules
from tests.alerts.conftest import T0, add_tickets, alert_items, alerts, settings_with


def test_two_evaluators_post_each_alert_once(engine: Engine, migrated_url: str) -> None:
    settings = settings_with(
        {"name": "busy", "metric": "volume", "window": "1h", "warning": "> 3", "group_by": ["channel"]},
        {"name": "slow", "metric": "first_response_time_mean", "window": "1h", "warning": "> 2h"},
    )
    add_tickets(engine, [T0 - timedelta(minutes=m) for m in range(1, 6)], channel="webchat",
                first_response_at=T0 - timedelta(minutes=1))
    add_tickets(engine, [T0 - timedelta(minutes=m) for m in range(1, 6)], channel="webhook")
    add_tickets(engine, [T0 - timedelta(hours=3, minutes=m) for m in range(1, 3)], channel="webhook",
                first_response_at=T0 - timedelta(minutes=10))  # answered after ~3 h, outside the window though
    add_tickets(engine, [T0 - timedelta(minutes=50)], channel="webhook",
                first_response_at=T0 - timedelta(minutes=50) + timedelta(hours=3))  # not answered yet at T0
    add_tickets(engine, [T0 - timedelta(minutes=59)], channel="email", first_response_at=T0 - timedelta(seconds=1))

    engines = [create_db_engine(migrated_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports: list[EvaluationReport] = []
    errors: list[BaseException] = []

    def replica(own: Engine) -> None:
        try:
            barrier.wait()
            for minute in range(3):
                reports.append(evaluate_rules(own, settings, T0 + timedelta(minutes=minute)))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for own in engines:
        own.dispose()
    assert errors == []
    firing = sorted((a.rule, a.group_key) for a in alerts(engine) if a.state == "firing")
    assert firing == [("busy", "channel=webchat"), ("busy", "channel=webhook")]
    assert len(alert_items(engine)) == 2
    assert sum(r.notifications for r in reports) == 2
