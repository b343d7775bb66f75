"""Delivery receipts are kept long enough to drop any platform redelivery, then trimmed by the hourly job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.team_desk import TeamDesk
from scheduler.housekeeping import ReceiptPruning

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_old_receipts_go_and_recent_ones_still_drop_redeliveries(engine: Engine) -> None:
    desk = TeamDesk(engine)
    assert desk.first_delivery_sync("slack", "message:C1:1.0", at=NOW - timedelta(days=8))
    assert desk.first_delivery_sync("slack", "message:C1:2.0", at=NOW - timedelta(hours=1))

    removed = ReceiptPruning(engine)(NOW)

    assert removed == 1
    assert not desk.first_delivery_sync("slack", "message:C1:2.0")  # still known: a retry is dropped
    assert desk.first_delivery_sync("slack", "message:C1:1.0")  # forgotten: a week-old id counts as new
    assert ReceiptPruning(engine)(NOW) == 0
