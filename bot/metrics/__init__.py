"""Metrics computed from the database, one definition each, used by commands, alert rules and reports alike.

`definitions` says what each metric means (read its docstring for the exact definitions), `queries` holds
their SQL (aggregated in the database, the same on SQLite and PostgreSQL), `report` validates a request and
assembles a `MetricReport` (a row per group and a total).
"""

from bot.metrics.definitions import (
    BACKLOG_BUCKETS,
    DEFAULT_REFUND_RETURN_INTENTS,
    DIMENSIONS,
    MAX_GROUP_BY,
    METRICS,
    NONE_GROUP,
    MetricDefinition,
    MetricError,
    duration_of,
    metric_names,
)
from bot.metrics.report import MetricReport, MetricRow, compute_metric, compute_metrics

__all__ = [
    "BACKLOG_BUCKETS", "DEFAULT_REFUND_RETURN_INTENTS", "DIMENSIONS", "MAX_GROUP_BY", "METRICS", "NONE_GROUP",
    "MetricDefinition", "MetricError", "MetricReport", "MetricRow", "compute_metric", "compute_metrics",
    "duration_of", "metric_names",
]
