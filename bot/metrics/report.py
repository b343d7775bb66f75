"""Metric reports: validate a request, query each population once for all groups, turn sums into values.

A report may slice by one dimension (`group_by="region"`, what `/metrics ... by region` asks) or by up to
MAX_GROUP_BY at once (`group_by=("marketplace", "region")`, what an alert rule grouped by several labels asks):
one row per combination that occurs, identified by `MetricRow.labels`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from bot.metrics.definitions import (
    BACKLOG_BUCKETS,
    DEFAULT_REFUND_RETURN_INTENTS,
    DIMENSIONS,
    DURATIONS,
    MAX_GROUP_BY,
    METRICS,
    NONE_GROUP,
    PERCENTILES,
    STATISTICS,
    MetricError,
    duration_of,
)
from bot.metrics.queries import (
    Aggregates,
    GroupKey,
    MetricQuery,
    backlog_aggregates,
    csat_aggregates,
    filter_clause,
    message_aggregates,
    request_aggregates,
    suggestion_aggregates,
    survey_aggregates,
    ticket_aggregates,
)

DatabaseSource = Engine | Connection | Session


@dataclass
class MetricRow:
    """One group's values (None where the population is empty) and the counts they were computed from."""

    # The dimension's value as text (NONE_GROUP when empty), or the values of several dimensions joined by " × "
    # in the order asked; None for the total row.
    group: str | None
    values: dict[str, float | None]
    counts: dict[str, int]
    labels: dict[str, str] = field(default_factory=dict)  # dimension -> value (as `group`); empty for the total

    @property
    def key(self) -> GroupKey:
        return tuple(self.labels.values())


@dataclass
class MetricReport:
    start: datetime
    end: datetime
    group_by: tuple[str, ...]  # the dimensions sliced by, in the order asked; empty when not grouped
    names: tuple[str, ...]
    rows: list[MetricRow]  # one per group, by volume descending; empty when not grouped
    total: MetricRow

    def row(self, group: str | Mapping[str, str]) -> MetricRow:
        """The row of `group` (its text, or its labels {dimension: value}); KeyError naming it when no ticket or
        message fell in that group."""
        for row in self.rows:
            if (row.labels == dict(group)) if isinstance(group, Mapping) else (row.group == group):
                return row
        raise KeyError(f"no group {group!r} in this report")


# ---- validation --------------------------------------------------------------------------------------------


def _check_time(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise MetricError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise MetricError(f"{name} must be timezone-aware (UTC), got the naive {value.isoformat()}")
    return value


def _check_names(names: Sequence[str] | None) -> tuple[str, ...]:
    if names is None:
        return tuple(METRICS)
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise MetricError(f"unknown metric {unknown[0]!r}; known metrics: {', '.join(METRICS)}")
    if not names:
        raise MetricError("names is empty: ask for at least one metric")
    return tuple(dict.fromkeys(names))


def _check_dimension(what: str, dimension: object) -> str:
    if not isinstance(dimension, str) or dimension not in DIMENSIONS:
        raise MetricError(f"unknown {what} {dimension!r}; use one of: {', '.join(DIMENSIONS)}")
    return dimension


def _check_group_by(group_by: str | Sequence[str] | None) -> tuple[str, ...]:
    """The dimensions to slice by, in order: none, one (a string) or up to MAX_GROUP_BY, each once."""
    if group_by is None:
        return ()
    if isinstance(group_by, str):
        return (_check_dimension("group_by", group_by),)
    if not isinstance(group_by, Sequence):
        raise MetricError(f"group_by must be a dimension or a sequence of dimensions, got {type(group_by).__name__}")
    dimensions = tuple(_check_dimension("group_by", d) for d in group_by)
    if len(dimensions) > MAX_GROUP_BY:
        raise MetricError(f"group_by has {len(dimensions)} dimensions ({', '.join(dimensions)}); at most "
                          f"{MAX_GROUP_BY}")
    twice = next((d for i, d in enumerate(dimensions) if d in dimensions[:i]), None)
    if twice is not None:
        raise MetricError(f"group_by names {twice!r} twice")
    return dimensions


# ---- values from aggregates --------------------------------------------------------------------------------

_TICKET_COUNTS: dict[str, tuple[str, ...]] = {  # metric -> the ticket counts it is computed from, and shows
    **{f"{d}_{s}": (f"{d}_n",) for d in DURATIONS for s in STATISTICS},
    "sla_first_response_compliance": ("sla_fr_met", "sla_fr_eligible"),
    "sla_resolution_compliance": ("sla_res_met", "sla_res_eligible"),
    "one_touch_resolution_rate": ("one_touch", "resolved"),
    "auto_reply_rate": ("deflected", "auto_replied"),
    "complaint_rate": ("complaint",),
    "refund_return_request_rate": ("refund_return",),
    "refund_rate": ("refunded",),
}


def _percent(numerator: int, denominator: int) -> float | None:
    return None if not denominator else 100.0 * numerator / denominator


def _ratio(numerator: object, denominator: int) -> float | None:
    return None if not denominator else float(numerator or 0) / denominator


def _row(labels: dict[str, str], names: tuple[str, ...], parts: Mapping[str, dict[str, Any] | None]) -> MetricRow:
    t = parts.get("tickets") or {}
    c = parts.get("csat") or {}
    counts: dict[str, int] = {}
    if "tickets" in parts:
        counts["tickets"] = int(t.get("tickets") or 0)
        for key in dict.fromkeys(k for name in names for k in _TICKET_COUNTS.get(name, ())):
            counts[key] = int(t.get(key) or 0)
    if "csat" in parts:
        counts["csat_responses"] = int(c.get("csat_responses") or 0)
        counts["csat_resolved_responded"] = int(c.get("csat_resolved_responded") or 0)
    if "messages" in parts:
        for key in ("inbound_messages", "sentiment_scored", "negative_messages"):
            counts[key] = int((parts["messages"] or {}).get(key) or 0)
    if "surveys" in parts:
        for key in ("csat_surveys_asked", "csat_surveys_answered"):
            counts[key] = int((parts["surveys"] or {}).get(key) or 0)
    if "backlog" in parts:
        for key in ("backlog", *BACKLOG_BUCKETS):
            counts[key] = int((parts["backlog"] or {}).get(key) or 0)
    if "suggestions" in parts:
        for key in ("suggestions_decided", "suggestions_accepted", "suggestions_edited"):
            counts[key] = int((parts["suggestions"] or {}).get(key) or 0)
    r = parts.get("requests") or {}
    if "requests" in parts:
        counts["after_sales_requests"] = int(r.get("after_sales_requests") or 0)

    values: dict[str, float | None] = {}
    for name in names:
        duration = duration_of(name)
        if name == "volume":
            values[name] = float(counts["tickets"])
        elif name in ("inbound_messages", "backlog", *BACKLOG_BUCKETS):
            values[name] = float(counts[name])
        elif duration is not None and name.endswith("_mean"):
            values[name] = _ratio(t.get(f"{duration}_sum"), counts[f"{duration}_n"])
        elif duration is not None:
            value = t.get(name)
            values[name] = None if value is None else float(value)
        elif name == "sla_first_response_compliance":
            values[name] = _percent(counts["sla_fr_met"], counts["sla_fr_eligible"])
        elif name == "sla_resolution_compliance":
            values[name] = _percent(counts["sla_res_met"], counts["sla_res_eligible"])
        elif name == "one_touch_resolution_rate":
            values[name] = _percent(counts["one_touch"], counts["resolved"])
        elif name == "auto_reply_rate":
            values[name] = _percent(counts["deflected"], counts["tickets"])
        elif name == "auto_reply_acceptance_rate":
            values[name] = _percent(counts["suggestions_accepted"], counts["suggestions_decided"])
        elif name == "suggestion_edit_rate":
            values[name] = _percent(counts["suggestions_edited"], counts["suggestions_decided"])
        elif name == "csat_mean":
            values[name] = _ratio(c.get("csat_sum"), counts["csat_responses"])
        elif name == "csat_response_rate":
            values[name] = _percent(counts["csat_surveys_answered"], counts["csat_surveys_asked"])
        elif name == "negative_sentiment_share":
            values[name] = _percent(counts["negative_messages"], counts["sentiment_scored"])
        elif name == "complaint_rate":
            values[name] = _percent(counts["complaint"], counts["tickets"])
        elif name == "refund_return_request_rate":
            values[name] = _percent(counts["refund_return"], counts["tickets"])
        elif name == "after_sales_requests":
            values[name] = float(counts["after_sales_requests"])
        elif name == "refund_amount":
            values[name] = int(r.get("refund_cents") or 0) / 100.0 if counts["after_sales_requests"] else None
        elif name == "after_sales_age_mean":
            values[name] = _ratio(r.get("request_age_sum"), counts["after_sales_requests"])
        elif name == "refund_rate":
            values[name] = _percent(counts["refunded"], counts["tickets"])
        else:  # pragma: no cover - every METRICS entry is handled above
            raise AssertionError(f"metric {name} has no computation")
    group = " × ".join(labels.values()) if labels else None
    return MetricRow(group=group, values=values, counts=counts, labels=labels)


def _added_up(aggregates: Aggregates) -> dict[str, Any]:
    """The total of additive aggregates (sums and counts) over the groups; percentiles are left out."""
    total: dict[str, Any] = {}
    for data in aggregates.values():
        for key, value in data.items():
            if not key.endswith(tuple(f"_{p}" for p in PERCENTILES)):
                total[key] = (total.get(key) or 0) + (value or 0)
    return total


# ---- entry points ------------------------------------------------------------------------------------------


@contextmanager
def _connection(source: DatabaseSource) -> Iterator[Connection]:
    if isinstance(source, Engine):
        with source.connect() as connection:
            yield connection
    elif isinstance(source, Connection):
        yield source
    elif isinstance(source, Session):
        yield source.connection()
    else:
        raise MetricError(f"need an Engine, Connection or Session, got {type(source).__name__}")


def compute_metrics(
    engine_or_session: DatabaseSource,
    start: datetime,
    end: datetime,
    group_by: str | Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    filters: Mapping[str, object] | None = None,
    *,
    refund_return_intents: Collection[str] = DEFAULT_REFUND_RETURN_INTENTS,
) -> MetricReport:
    """The metrics `names` (default: all) over [start, end), per `group_by` group and in total.

    `group_by` is one dimension ("region") or a sequence of up to MAX_GROUP_BY distinct ones (("marketplace",
    "region"): a row per combination that occurs). At most one query per population (tickets, CSAT,
    suggestions, surveys, inbound messages, backlog, after-sales requests) whatever the number of groups, plus
    one for the duration percentiles (SQLite: the window's durations, ranked in Python; PostgreSQL: the total's
    percentiles when grouped).
    """
    start, end = _check_time("start", start), _check_time("end", end)
    if start >= end:
        raise MetricError(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    chosen = _check_names(names)
    dimensions = _check_group_by(group_by)
    checked = tuple((_check_dimension("filter", d), v) for d, v in (filters or {}).items())
    for dimension, value in checked:
        filter_clause(dimension, value)  # a bad value fails here, before any query runs
    wanted = set(chosen)
    sources = {METRICS[n].source for n in chosen}
    if "csat_response_rate" in wanted or dimensions:
        sources.add("tickets")  # the resolved count (response rate), the volume (order of the groups)

    fetched: dict[str, Aggregates] = {}
    total_percentiles: dict[str, Any] = {}
    with _connection(engine_or_session) as connection:
        dialect = connection.dialect.name
        query = MetricQuery(start, end, dialect, dimensions, checked, frozenset(refund_return_intents))
        if "tickets" in sources:
            fetched["tickets"], total_percentiles = ticket_aggregates(connection, query, wanted)
        if "csat" in sources:
            fetched["csat"] = csat_aggregates(connection, query)
        if "messages" in sources:
            fetched["messages"] = message_aggregates(connection, query)
        if "backlog" in sources:
            fetched["backlog"] = backlog_aggregates(connection, query)
        if "suggestions" in sources:
            fetched["suggestions"] = suggestion_aggregates(connection, query)
        if "surveys" in sources:
            fetched["surveys"] = survey_aggregates(connection, query)
        if "requests" in sources:
            fetched["requests"] = request_aggregates(connection, query)

    if not dimensions:
        total = _row({}, chosen, {source: aggregates.get(None) for source, aggregates in fetched.items()})
        return MetricReport(start=start, end=end, group_by=(), names=chosen, rows=[], total=total)
    parts = {source: _added_up(aggregates) for source, aggregates in fetched.items()}
    parts.get("tickets", {}).update(total_percentiles)
    total = _row({}, chosen, parts)
    groups = {group for aggregates in fetched.values() for group in aggregates if group is not None}
    rows = [_row(dict(zip(dimensions, g, strict=True)), chosen,
                 {source: aggregates.get(g) for source, aggregates in fetched.items()}) for g in groups]
    # By volume, then by name; a group with an empty dimension after the others.
    rows.sort(key=lambda r: (-r.counts.get("tickets", 0), NONE_GROUP in r.key, r.key))
    return MetricReport(start=start, end=end, group_by=dimensions, names=chosen, rows=rows, total=total)


def compute_metric(
    session: DatabaseSource,
    name: str,
    start: datetime,
    end: datetime,
    filters: Mapping[str, object] | None = None,
    *,
    refund_return_intents: Collection[str] = DEFAULT_REFUND_RETURN_INTENTS,
) -> float | None:
    """One metric's value over [start, end) (None when its population is empty): what alert rules evaluate."""
    report = compute_metrics(session, start, end, names=[name], filters=filters,
                             refund_return_intents=refund_return_intents)
    return report.total.values[name]
