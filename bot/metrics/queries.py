"""The SQL of the metrics: one SQLAlchemy Core select per population, aggregated in the database.

The populations (see bot.metrics.definitions): the tickets created in the window, their CSAT responses, surveys
and decided suggestions, the inbound messages of the window, the after-sales requests opened in it, and the
backlog at its end. Each query returns, per group, only sums and counts (additive: the total row adds the groups
up) and, for the tickets, the duration percentiles (not additive: the total row's are asked for again, ungrouped,
on PostgreSQL; SQLite, which has no percentile_cont, ranks the window's durations in Python, groups and total from
one pass). Every query starts from an index range that the window bounds (a created_at; for the backlog, the
open tickets by resolved_at), so that the work grows with the window's size, not with the history's; its bounds are
written into the SQL (`moment`) so that the database plans for them.

Slicing by several dimensions groups by all of them at once in SQL (one row per combination that occurs): the
group columns are labelled g0, g1, ... in the order asked, and a group is the tuple of their values as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause, literal_column
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from bot.metrics.definitions import (
    BACKLOG_BUCKETS,
    DECIDED_OUTCOMES,
    DURATIONS,
    NONE_GROUP,
    PERCENTILES,
    MetricError,
    duration_of,
)
from models.db import UtcDateTime
from models.tables import AfterSalesRequest, Agent, CsatResponse, CsatSurvey, Message, Suggestion, Ticket

TICKET = cast(Table, Ticket.__table__)
MESSAGE = cast(Table, Message.__table__)
AGENT = cast(Table, Agent.__table__)
CSAT = cast(Table, CsatResponse.__table__)
SUGGESTION = cast(Table, Suggestion.__table__)
SURVEY = cast(Table, CsatSurvey.__table__)
REQUEST = cast(Table, AfterSalesRequest.__table__)
tickets = TICKET.c

GroupKey = tuple[str, ...]  # one value per dimension sliced by, as text (NONE_GROUP when empty)
Aggregates = dict[GroupKey | None, dict[str, Any]]  # group (None when ungrouped) -> aggregate name -> value


def dimension_column(dimension: str) -> ColumnElement[Any]:
    """The column a dimension reads: the ticket's own, or the assignee's name for "agent"."""
    if dimension == "agent":
        return cast(ColumnElement[Any], AGENT.c.name)
    return cast(ColumnElement[Any], tickets[dimension])


def filter_clause(dimension: str, value: object) -> ColumnElement[bool]:
    """`dimension` equal to `value` (NONE_GROUP or None: empty); MetricError for a value that cannot match."""
    column = dimension_column(dimension)
    if value is None or value == NONE_GROUP:
        return column.is_(None)
    if dimension == "severity":
        try:
            return column == int(str(value))
        except ValueError:
            raise MetricError(f"filter severity={value!r} is not a severity number (1, 2 or 3)") from None
    if not isinstance(value, str | int):
        raise MetricError(f"filter {dimension}={value!r} must be text")
    return column == str(value)


def moment(value: datetime) -> BindParameter[datetime]:
    """`value` (a window's bound) written into the statement's text rather than sent as a parameter, so that the
    database plans each report for its own window. With parameters, PostgreSQL switches to a generic plan after a
    statement's fifth execution on a connection (psycopg prepares it), which cannot tell a window from the whole
    history: it walked the created_at index through every ticket to find the backlog, for one."""
    return bindparam(None, value, type_=UtcDateTime(), literal_execute=True)


@dataclass(frozen=True)
class MetricQuery:
    """What every query of one report shares: the window, the dialect, the slicing and the filters."""

    start: datetime
    end: datetime
    dialect: str
    group_by: tuple[str, ...]  # the dimensions sliced by, in order; empty when not grouped
    filters: tuple[tuple[str, object], ...]
    refund_return_intents: frozenset[str]

    def ungrouped(self) -> MetricQuery:
        return MetricQuery(self.start, self.end, self.dialect, (), self.filters, self.refund_return_intents)

    @property
    def start_sql(self) -> BindParameter[datetime]:
        return moment(self.start)

    @property
    def end_sql(self) -> BindParameter[datetime]:
        return moment(self.end)

    def with_agent(self, base: FromClause) -> FromClause:
        """`base` (holding tickets) joined to the assignee's Agent row when slicing or filtering needs it."""
        if "agent" in self.group_by or any(d == "agent" for d, _ in self.filters):
            return base.outerjoin(AGENT, tickets.assignee_id == AGENT.c.id)
        return base

    def group_names(self) -> list[str]:
        """The labels of the group columns: g0, g1, ... one per dimension."""
        return [f"g{i}" for i in range(len(self.group_by))]

    def group_columns(self) -> list[ColumnElement[Any]]:
        return [dimension_column(d).label(name) for d, name in zip(self.group_by, self.group_names(), strict=True)]

    def filter_clauses(self) -> list[ColumnElement[bool]]:
        return [filter_clause(d, v) for d, v in self.filters]

    def created_in_window(self) -> list[ColumnElement[bool]]:
        return [tickets.created_at >= self.start_sql, tickets.created_at < self.end_sql, *self.filter_clauses()]

    def seconds_between(self, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[float]:
        """later - earlier in seconds, microsecond-exact on both databases."""
        if self.dialect == "sqlite":
            # Datetimes are 'YYYY-MM-DD HH:MM:SS.ffffff' text: whole seconds from strftime('%s'), microseconds
            # from the fraction's six digits (julianday rounds to milliseconds, unlike PostgreSQL).
            def seconds(at: ColumnElement[Any]) -> ColumnElement[int]:
                return sql_cast(func.strftime("%s", at), Integer)

            def micros(at: ColumnElement[Any]) -> ColumnElement[int]:
                return sql_cast(func.substr(at, 21, 6), Integer)

            whole = seconds(later) - seconds(earlier)
            return cast(ColumnElement[float], whole + (micros(later) - micros(earlier)) / 1000000.0)
        return cast(ColumnElement[float], func.date_part("epoch", later - earlier))  # float8, not numeric

    def group_key(self, values: Sequence[Any]) -> GroupKey | None:
        """The group of a row whose group columns hold `values` (None when not grouped)."""
        if not self.group_by:
            return None
        return tuple(NONE_GROUP if value is None else str(value) for value in values)

    def fetch(self, connection: Connection, statement: Select[Any]) -> Aggregates:
        out: Aggregates = {}
        names = self.group_names()
        for row in connection.execute(statement).mappings():
            data = dict(row)
            out[self.group_key([data.pop(name) for name in names])] = data
        return out

    def grouped(self, columns: list[ColumnElement[Any]], source: FromClause,
                where: list[ColumnElement[bool]]) -> Select[Any]:
        groups = self.group_columns()
        statement = select(*groups, *columns).select_from(source).where(*where)
        return statement.group_by(*groups) if groups else statement


def _sum_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _durations(query: MetricQuery, wanted: list[str]) -> dict[str, ColumnElement[Any]]:
    """Each duration in `wanted` per ticket, in seconds (float); NULL where the ticket does not count for it."""
    answered = tickets.first_response_at < query.end_sql
    resolved = tickets.resolved_at < query.end_sql
    expressions: dict[str, ColumnElement[Any]] = {
        "first_response_time": case(
            (answered, query.seconds_between(tickets.first_response_at, tickets.created_at))),
        "resolution_time": case((resolved, query.seconds_between(tickets.resolved_at, tickets.created_at))),
        # Recorded when they happened (bot/sla_clock.py); float, so that percentiles interpolate as the others do.
        "first_response_time_business": case(
            (answered, sql_cast(tickets.first_response_business_seconds, Float))),
        "resolution_time_business": case((resolved, sql_cast(tickets.resolution_business_seconds, Float))),
    }
    return {d: expressions[d] for d in wanted}


def ticket_aggregates(
    connection: Connection, query: MetricQuery, names: set[str]
) -> tuple[Aggregates, dict[str, Any]]:
    """Sums, counts and duration percentiles over the tickets created in the window (only those `names` need).

    Returns the aggregates per group and, when grouped, the whole population's percentiles (the total row's: they
    do not add up from the groups'); that second part is empty when ungrouped or when no percentile is asked.
    """
    end = query.end_sql
    answered = tickets.first_response_at < end
    resolved = tickets.resolved_at < end
    wanted_durations = [d for d in DURATIONS if any(duration_of(n) == d for n in names)]
    ranked = [d for d in wanted_durations if any(f"{d}_{p}" in names for p in PERCENTILES)]
    # SQLite has no percentile_cont: when a percentile is asked, the durations come back in a narrow pass of
    # their own and every statistic of them is computed from it (_sqlite_durations), none here.
    summed = [] if query.dialect == "sqlite" and ranked else wanted_durations
    inner: dict[str, ColumnElement[Any]] = {column.name: column for column in query.group_columns()}
    inner["one"] = literal(1)
    inner.update(_durations(query, summed))
    source = query.with_agent(TICKET)
    if names & {"one_touch_resolution_rate", "auto_reply_rate"}:
        # Agent messages per ticket, counted in one pass over the window's messages rather than probed ticket by
        # ticket: a ticket's messages are never older than the ticket, so those of the window's tickets were
        # created in the window.
        agent_messages = (
            select(MESSAGE.c.ticket_id, func.count().label("agent_messages"))
            .where(MESSAGE.c.created_at >= query.start_sql, MESSAGE.c.created_at < end,
                   MESSAGE.c.author_kind == "agent")
            .group_by(MESSAGE.c.ticket_id)
            .subquery("agent_messages")
        )
        source = source.outerjoin(agent_messages, agent_messages.c.ticket_id == tickets.id)
        inner["agent_messages"] = func.coalesce(agent_messages.c.agent_messages, 0)
    flags: dict[str, ColumnElement[bool]] = {}
    if "sla_first_response_compliance" in names:
        due = tickets.first_response_due
        flags["sla_fr_eligible"] = and_(due.is_not(None), or_(answered, due < end))
        flags["sla_fr_met"] = and_(answered, tickets.first_response_at <= due)
    if "sla_resolution_compliance" in names:
        due = tickets.resolution_due
        flags["sla_res_eligible"] = and_(due.is_not(None), or_(resolved, due < end))
        flags["sla_res_met"] = and_(resolved, tickets.resolved_at <= due)
    if names & {"one_touch_resolution_rate", "csat_response_rate"}:
        flags["resolved"] = resolved
    if "auto_reply_rate" in names:
        flags["auto_replied"] = tickets.auto_replies > 0
    if "complaint_rate" in names:
        flags["complaint"] = tickets.kind == "complaint"
    if "refund_return_request_rate" in names:
        flags["refund_return"] = tickets.intent.in_(sorted(query.refund_return_intents))
    if "refund_rate" in names:
        # The window's tickets with a request refunded before `end`, in one pass over the requests opened in the
        # window (a request is opened on its ticket, so never before it, and refunded after it was opened).
        refunded = (
            select(REQUEST.c.ticket_id)
            .where(REQUEST.c.created_at >= query.start_sql, REQUEST.c.created_at < end, REQUEST.c.refunded_at < end)
            .group_by(REQUEST.c.ticket_id)
            .subquery("refunded")
        )
        source = source.outerjoin(refunded, refunded.c.ticket_id == tickets.id)
        flags["refunded"] = refunded.c.ticket_id.is_not(None)
    inner.update({name: case((condition, 1), else_=0) for name, condition in flags.items()})

    population = (
        select(*(column.label(name) for name, column in inner.items()))
        .select_from(source)
        .where(*query.created_in_window())
        .subquery("population")
    )
    p = population.c
    columns: list[ColumnElement[Any]] = [func.count(p.one).label("tickets")]
    for d in summed:
        columns += [func.count(p[d]).label(f"{d}_n"), func.sum(p[d]).label(f"{d}_sum")]
        if query.dialect != "sqlite":
            columns += [func.percentile_cont(fraction).within_group(p[d]).label(f"{d}_{label}")
                        for label, fraction in PERCENTILES.items() if f"{d}_{label}" in names]
    for name in flags:
        columns.append(func.coalesce(func.sum(p[name]), 0).label(name))
    if "one_touch_resolution_rate" in names:
        columns.append(_sum_of(and_(p.resolved == 1, p.agent_messages == 1)).label("one_touch"))
    if "auto_reply_rate" in names:
        columns.append(_sum_of(and_(p.auto_replied == 1, p.agent_messages == 0)).label("deflected"))
    group_keys = [p[name] for name in query.group_names()]
    statement = select(*group_keys, *columns)
    aggregates = query.fetch(connection, statement.group_by(*group_keys) if group_keys else statement)
    if not ranked:
        return aggregates, {}
    if query.dialect == "sqlite":
        return _sqlite_durations(connection, query, wanted_durations, names, aggregates)
    if not query.group_by:
        return aggregates, {}
    ungrouped = query.ungrouped()
    everyone = (
        select(*(column.label(d) for d, column in _durations(ungrouped, ranked).items()))
        .select_from(ungrouped.with_agent(TICKET))
        .where(*ungrouped.created_in_window())
        .subquery("everyone")
    )
    total = select(*(func.percentile_cont(fraction).within_group(everyone.c[d]).label(f"{d}_{label}")
                     for d in ranked for label, fraction in PERCENTILES.items() if f"{d}_{label}" in names))
    return aggregates, dict(connection.execute(total).mappings().one())


def _sqlite_durations(
    connection: Connection, query: MetricQuery, durations: list[str], names: set[str], aggregates: Aggregates
) -> tuple[Aggregates, dict[str, Any]]:
    """Count, sum and the percentiles `names` asks for of each of `durations`, on SQLite: the window's durations
    come back in one narrow pass and are summed, sorted and interpolated here. (Ranked in SQL with window
    functions, once per duration and again for the total, they cost SQLite more than the rest of the report.)
    Fills `aggregates` in place; returns it and, when grouped, the total's percentiles."""
    width = len(query.group_by)
    statement = (select(*query.group_columns(), *(c.label(d) for d, c in _durations(query, durations).items()))
                 .select_from(query.with_agent(TICKET)).where(*query.created_in_window()))
    rows_of: dict[tuple[Any, ...], list[Any]] = {}
    for row in connection.execute(statement).all():
        rows_of.setdefault(row[:width], []).append(row)

    def summary(values: list[float], d: str, with_sum: bool) -> dict[str, Any]:
        values.sort()
        out: dict[str, Any] = {}
        if with_sum:
            out = {f"{d}_n": len(values), f"{d}_sum": math.fsum(values) if values else None}
        for label, fraction in PERCENTILES.items():
            if f"{d}_{label}" in names:
                out[f"{d}_{label}"] = percentile_cont(values, fraction)
        return out

    everyone: dict[str, list[float]] = {d: [] for d in durations}
    for raw_key, rows in rows_of.items():
        data = aggregates.setdefault(query.group_key(raw_key), {})
        for column, d in enumerate(durations, start=width):
            values = [value for row in rows if (value := row[column]) is not None]
            everyone[d] += values
            data.update(summary(values, d, with_sum=True))
    if not query.group_by:
        return aggregates, {}
    return aggregates, {k: v for d in durations for k, v in summary(everyone[d], d, with_sum=False).items()}


def percentile_cont(ordered: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont(fraction) over `ordered` (ascending; None when empty): over the n values, the
    fraction lies at position fraction * (n - 1) = i + f and is v[i] + (v[i+1] - v[i]) * f (the arithmetic of
    the SQL this replaced, step for step, so that the numbers do not move)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    floor = int(position)  # position >= 0, so truncation is floor
    low = ordered[floor]
    high = ordered[floor + 1] if floor + 1 < len(ordered) else low
    return low + (high - low) * (position - floor)


def csat_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """CSAT responses (score 1..5, given before `end`) to the tickets created in the window.

    A response answers its ticket, so it is never older than the ticket: those of the window's tickets were given
    from its start, a range of the responses' created_at index rather than the whole history joined.
    """
    source = query.with_agent(CSAT.join(TICKET, CSAT.c.ticket_id == tickets.id))
    resolved_ticket = case((tickets.resolved_at < query.end_sql, tickets.id))
    columns = [
        func.count(CSAT.c.score).label("csat_responses"),
        func.coalesce(func.sum(CSAT.c.score), 0).label("csat_sum"),
        func.count(distinct(resolved_ticket)).label("csat_resolved_responded"),
    ]
    where = [*query.created_in_window(), CSAT.c.created_at >= query.start_sql, CSAT.c.created_at < query.end_sql,
             CSAT.c.score.between(1, 5)]
    return query.fetch(connection, query.grouped(columns, source, where))


def survey_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """CSAT surveys of the tickets created in the window: asked before `end`, and of those answered before it."""
    source = query.with_agent(SURVEY.join(TICKET, SURVEY.c.ticket_id == tickets.id))
    columns = [
        func.count().label("csat_surveys_asked"),
        _sum_of(SURVEY.c.answered_at < query.end_sql).label("csat_surveys_answered"),
    ]
    where = [*query.created_in_window(), SURVEY.c.asked_at < query.end_sql]
    return query.fetch(connection, query.grouped(columns, source, where))


def suggestion_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """The suggested replies on the tickets created in the window that agents decided before `end`, by outcome."""
    outcome = SUGGESTION.c.outcome
    decided_at = func.coalesce(SUGGESTION.c.decided_at, SUGGESTION.c.created_at)
    source = query.with_agent(SUGGESTION.join(TICKET, SUGGESTION.c.ticket_id == tickets.id))
    columns = [
        func.count().label("suggestions_decided"),
        _sum_of(outcome == "accepted").label("suggestions_accepted"),
        _sum_of(outcome == "edited").label("suggestions_edited"),
    ]
    where = [*query.created_in_window(), outcome.in_(DECIDED_OUTCOMES), decided_at < query.end_sql]
    return query.fetch(connection, query.grouped(columns, source, where))


def message_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """Customer messages created in the window, by their ticket's dimensions."""
    created_at = MESSAGE.c.created_at
    in_window = [created_at >= query.start_sql, created_at < query.end_sql, MESSAGE.c.direction == "in"]
    scored = _sum_of(MESSAGE.c.sentiment.is_not(None))
    negative = _sum_of(MESSAGE.c.sentiment == "negative")
    if not query.group_by and not query.filters:  # the tickets' dimensions serve only to slice or filter
        statement = select(func.count().label("inbound_messages"), scored.label("sentiment_scored"),
                           negative.label("negative_messages")).select_from(MESSAGE).where(*in_window)
        return query.fetch(connection, statement)
    # Counted per ticket first, then joined: one join row per ticket rather than one per message.
    counted = (
        select(MESSAGE.c.ticket_id, func.count().label("messages"), scored.label("scored"),
               negative.label("negative"))
        .where(*in_window)
        .group_by(MESSAGE.c.ticket_id)
    )
    per_ticket = counted.subquery("inbound") if query.dialect == "sqlite" else counted.cte("inbound")
    on = per_ticket.c.ticket_id == tickets.id
    if query.dialect != "sqlite":
        # Their tickets fetched by primary key (SQLite does so by itself): PostgreSQL would rather hash a scan of
        # every ticket of the history, which costs more than the rest of the query and grows with the history.
        ids = select(func.array_agg(per_ticket.c.ticket_id)).scalar_subquery()
        on = and_(on, tickets.id == any_(sql_cast(ids, ARRAY(Integer))))
    source = query.with_agent(per_ticket.outerjoin(TICKET, on))
    columns = [func.coalesce(func.sum(per_ticket.c.messages), 0).label("inbound_messages"),
               func.coalesce(func.sum(per_ticket.c.scored), 0).label("sentiment_scored"),
               func.coalesce(func.sum(per_ticket.c.negative), 0).label("negative_messages")]
    return query.fetch(connection, query.grouped(columns, source, query.filter_clauses()))


def backlog_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """Tickets open at `end`, in total and by age bucket."""
    end = query.end
    columns: list[ColumnElement[Any]] = [func.count().label("backlog")]
    for name, (minimum, maximum) in BACKLOG_BUCKETS.items():
        conditions = []
        if minimum is not None:  # age >= minimum  <=>  created_at <= end - minimum
            conditions.append(tickets.created_at <= moment(end - minimum))
        if maximum is not None:  # age < maximum  <=>  created_at > end - maximum
            conditions.append(tickets.created_at > moment(end - maximum))
        columns.append(_sum_of(and_(*conditions)).label(name))
    open_at_end = or_(tickets.resolved_at.is_(None), tickets.resolved_at >= query.end_sql)
    created_before_end: ColumnElement[Any] = tickets.created_at < query.end_sql
    if query.dialect == "sqlite":
        # Nearly every ticket was created before `end`: say so, or SQLite walks the created_at index through
        # the whole history instead of looking up the few open tickets by resolved_at.
        created_before_end = func.likelihood(created_before_end, literal_column("0.99"))
    where = [open_at_end, created_before_end, *query.filter_clauses()]
    return query.fetch(connection, query.grouped(columns, query.with_agent(TICKET), where))


def request_aggregates(connection: Connection, query: MetricQuery) -> Aggregates:
    """After-sales requests opened in the window, by their ticket's dimensions: how many, the refunded amount in
    hundredths of the reporting currency, and their ages in seconds (until closed before `end`, else `end`)."""
    requests = REQUEST.c
    end = query.end_sql
    until = case((requests.closed_at < end, requests.closed_at), else_=end)
    refunded = and_(requests.refunded_at < end, requests.reporting_cents.is_not(None))
    source = query.with_agent(REQUEST.join(TICKET, requests.ticket_id == tickets.id))
    columns = [
        func.count().label("after_sales_requests"),
        func.coalesce(func.sum(case((refunded, requests.reporting_cents), else_=0)), 0).label("refund_cents"),
        func.coalesce(func.sum(query.seconds_between(until, requests.created_at)), 0).label("request_age_sum"),
    ]
    where = [requests.created_at >= query.start_sql, requests.created_at < end, *query.filter_clauses()]
    return query.fetch(connection, query.grouped(columns, source, where))
