"""Housekeeping: tables that would only grow are trimmed of what can no longer matter.

Delivery receipts (bot.team_desk) exist to drop a platform's redelivery of an event; Slack retries within minutes,
DingTalk and WeCom within seconds, so a receipt older than `keep` (a week by default) guards against nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from models.tables import DeliveryReceipt

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_SECONDS = 3600.0


class ReceiptPruning:
    """A scheduler job: delete delivery receipts older than `keep`; returns how many went."""

    def __init__(self, engine: Engine, keep: timedelta = timedelta(days=7)) -> None:
        self.engine = engine
        self.keep = keep

    def __call__(self, now: datetime) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(delete(DeliveryReceipt).where(
                DeliveryReceipt.received_at < now - self.keep))  # type: ignore[arg-type]
        removed = int(result.rowcount or 0)
        if removed:
            log.info("removed %d delivery receipt(s) older than %s", removed, self.keep)
        return removed
