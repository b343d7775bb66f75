"""What each metric means: its name, label, unit and direction, and the one definition every caller shares.

Window and "as of". A report covers the window [start, end): start inclusive, end exclusive, aware datetimes.
The population is the tickets CREATED in the window (backlog and inbound messages excepted, see below). Every
state is taken as it was at `end`: a ticket counts as answered when its first response came before `end`,
resolved when `resolved_at` is before `end`, and only messages and CSAT responses created before `end` count.
A past window therefore gives the same numbers today as later (stable baselines for alert rules).

Definitions (durations in seconds, rates in percent 0..100):

- volume: tickets created in the window.
- inbound_messages: customer messages (Message.direction = "in") created in the window, whatever the age of
  their ticket; sliced by their ticket's dimensions (a message without a ticket falls in "(none)").
- first_response_time_mean / _median / _p90: first_response_at - created_at over the tickets answered before
  `end`. `Ticket.first_response_at` is the first AGENT reply; auto-replies do not count.
- resolution_time_mean / _median / _p90: resolved_at - created_at over the tickets resolved before `end`.
  Percentiles interpolate linearly between closest ranks (PostgreSQL's percentile_cont): over the n values
  sorted ascending v[0..n-1], p lies at position p*(n-1) = i + f and is v[i] + (v[i+1] - v[i]) * f. PostgreSQL
  computes it with percentile_cont; on SQLite (which has none) kefu sorts the window's values and does the
  same arithmetic (bot.metrics.queries.percentile_cont), so both give identical numbers.
- first_response_time_business_mean / _median / _p90 and resolution_time_business_mean / _median / _p90: the
  same tickets and statistics, in working time: Ticket.first_response_business_seconds and
  resolution_business_seconds, recorded in whole seconds when the ticket was answered or resolved (see
  bot/sla_clock.py) in the business calendar of the ticket's SLA policy at that moment (a 24/7 policy records
  the wall-clock time; a resolution leaves out a pause of the resolution clock still running when it came).
  A Friday 18:00 ticket answered Monday 09:30 under Mon-Fri 09:00-18:00 took 30 min, not 63.5 h. Tickets
  answered or resolved without a recorded working time (before kefu recorded it) are left out.
- sla_first_response_compliance: of the tickets with a first_response_due that were answered before `end` or
  were already overdue (unanswered, due before `end`), the share answered at or before their due time. Tickets
  not yet due and unanswered are left out, as are tickets without a due time.
- sla_resolution_compliance: the same with resolved_at and resolution_due.
- one_touch_resolution_rate: resolved tickets with exactly one agent message (Message.author_kind = "agent",
  created before `end`; a ticket's messages are taken to be no older than the ticket) / resolved tickets.
- backlog: tickets open at `end` (created before `end`, resolved_at empty or at/after `end`), whenever
  created: the window's start does not apply. By age at `end`: backlog_under_4h (< 4 h), backlog_4h_to_24h
  (4 h <= age < 24 h), backlog_1d_to_3d (24 h <= age < 72 h), backlog_over_3d (>= 72 h).
- auto_reply_rate (deflection): tickets with at least one auto-reply (Ticket.auto_replies > 0) and no agent
  message before `end` / tickets created.
- csat_mean: mean score (1..5; other values are ignored) of the CSAT responses given before `end` to the
  population's tickets; every response counts (a response is taken to be no older than its ticket).
- csat_response_rate: of the CSAT surveys (bot/csat.py) of the population's tickets asked before `end`, the
  share answered before `end`.
- negative_sentiment_share: of the inbound messages of the window scored for sentiment (intents/sentiment.py;
  Message.sentiment set), the share scored negative; sliced by their ticket's dimensions like inbound_messages
  (by sku, marketplace or region for alert rules).
- complaint_rate: tickets of kind "complaint" / tickets created.
- refund_return_request_rate: tickets whose intent is in a configurable set (default
  DEFAULT_REFUND_RETURN_INTENTS) / tickets created. PROVISIONAL: it counts intents until typed after-sales
  requests exist, and will count those instead.
- after_sales_requests: after-sales requests (returns, refunds, exchanges, reships; bot/after_sales) opened in the
  window, sliced by their ticket's dimensions (whenever the ticket was created).
- refund_amount: the sum, in the reporting currency ([after_sales] reporting_currency), of the amounts of the
  window's requests refunded before `end`; a request whose currency had no configured rate when it was opened is
  left out. 0 when the window has requests and none was refunded (None when it has none).
- after_sales_age_mean: the mean age of the window's requests: until they were closed when that was before
  `end`, else until `end` (how long customers wait, the open ones included).
- refund_rate: tickets created in the window with a request refunded before `end` / tickets created (by SKU,
  marketplace or country: which products and markets cost refunds). A request is taken to be opened no earlier
  than its ticket and refunded no earlier than it was opened.
- auto_reply_acceptance_rate: of the suggested replies (Suggestion rows, whatever their mode: suggest, shadow or
  auto) on the population's tickets that agents decided before `end` (outcome accepted, edited or rejected,
  decided_at before `end`; a decision without a decided_at is dated by the suggestion's created_at), the share
  sent unchanged (accepted). The population is the tickets', so a suggestion counts in its ticket's window
  and is sliced by its ticket's dimensions; one decided after `end` is not counted yet.
- suggestion_edit_rate: of the same decided suggestions, the share an agent edited before sending.

Values are None when their population is empty (no answered ticket, no resolved ticket, no eligible
ticket...), never 0 by accident. Counts (volume, inbound_messages, backlog*) are 0 when nothing was counted:
their true value.

Slicing: `group_by` is one of DIMENSIONS (agent = the assignee's Agent.name, region = Ticket.region, the
customer's country) or up to MAX_GROUP_BY of them at once (a row per combination); one row per group that has
any counted ticket or message, sorted by volume (descending), then name, groups with an empty value last; the
empty value is shown as NONE_GROUP, "(none)". `filters` ({dimension: value}) keep only the matching
tickets; the value NONE_GROUP (or None) selects tickets where the dimension is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Unit = Literal["seconds", "percent", "count", "score", "amount"]  # amount: the after-sales reporting currency
Source = Literal["tickets", "csat", "messages", "backlog", "suggestions", "requests", "surveys"]

NONE_GROUP = "(none)"
DIMENSIONS = ("intent", "kind", "severity", "channel", "marketplace", "region", "language", "sku", "agent")
MAX_GROUP_BY = 3  # dimensions one report (or alert rule) slices by at once
DEFAULT_REFUND_RETURN_INTENTS = frozenset({"refund_status", "return_policy", "damaged_item", "wrong_item"})
PERCENTILES = {"median": 0.5, "p90": 0.9}
STATISTICS = ("mean", *PERCENTILES)
# The durations: each is a metric per statistic, named f"{duration}_{statistic}".
DURATIONS = ("first_response_time", "resolution_time", "first_response_time_business", "resolution_time_business")
DECIDED_OUTCOMES = ("accepted", "edited", "rejected")  # Suggestion.outcome once an agent decided
BACKLOG_BUCKETS: dict[str, tuple[timedelta | None, timedelta | None]] = {
    # name -> (minimum age, maximum age) at `end`: minimum inclusive, maximum exclusive
    "backlog_under_4h": (None, timedelta(hours=4)),
    "backlog_4h_to_24h": (timedelta(hours=4), timedelta(hours=24)),
    "backlog_1d_to_3d": (timedelta(hours=24), timedelta(hours=72)),
    "backlog_over_3d": (timedelta(hours=72), None),
}


class MetricError(ValueError):
    """A bad metric request: the message names the bad metric, dimension, filter or time."""


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    label: str
    unit: Unit
    description: str
    higher_is_better: bool | None  # None: neither (volume): a change is news, not good or bad
    source: Source = field(default="tickets", repr=False)  # the population (query) it is computed from


def duration_of(name: str) -> str | None:
    """The duration a metric is a statistic of ("resolution_time" for "resolution_time_p90"), else None."""
    duration, _, statistic = name.rpartition("_")
    return duration if duration in DURATIONS and statistic in STATISTICS else None


def _definitions(*definitions: MetricDefinition) -> dict[str, MetricDefinition]:
    return {d.name: d for d in definitions}


def _durations(name: str, label: str, what: str, over: str) -> list[MetricDefinition]:
    statistics = {"mean": "Mean time", "median": "Median time", "p90": "90th percentile of the time"}
    return [
        MetricDefinition(f"{name}_{key}", f"{label} ({key})", "seconds", f"{words} {what}, over {over}.",
                         False)
        for key, words in statistics.items()
    ]


def _backlog(name: str, label: str, description: str) -> MetricDefinition:
    return MetricDefinition(name, label, "count", description, False, "backlog")


METRICS: dict[str, MetricDefinition] = _definitions(
    MetricDefinition("volume", "Tickets", "count", "Tickets created in the window.", None),
    MetricDefinition("inbound_messages", "Inbound messages", "count",
                     "Customer messages received in the window.", None, "messages"),
    *_durations("first_response_time", "First response time", "from ticket creation to the first agent reply",
                "answered tickets"),
    *_durations("resolution_time", "Resolution time", "from ticket creation to resolution",
                "resolved tickets"),
    *_durations("first_response_time_business", "First response time, business hours",
                "from ticket creation to the first agent reply in the SLA policy's working hours",
                "answered tickets"),
    *_durations("resolution_time_business", "Resolution time, business hours",
                "from ticket creation to resolution in the SLA policy's working hours", "resolved tickets"),
    MetricDefinition("sla_first_response_compliance", "First response SLA met", "percent",
                     "Share of answered or overdue tickets answered by their first-response due time.", True),
    MetricDefinition("sla_resolution_compliance", "Resolution SLA met", "percent",
                     "Share of resolved or overdue tickets resolved by their resolution due time.", True),
    MetricDefinition("one_touch_resolution_rate", "One-touch resolution", "percent",
                     "Share of resolved tickets that took exactly one agent message.", True),
    _backlog("backlog", "Backlog", "Tickets open at the end of the window."),
    _backlog("backlog_under_4h", "Backlog < 4 h", "Open tickets younger than 4 hours."),
    _backlog("backlog_4h_to_24h", "Backlog 4-24 h", "Open tickets 4 to 24 hours old."),
    _backlog("backlog_1d_to_3d", "Backlog 1-3 d", "Open tickets 1 to 3 days old."),
    _backlog("backlog_over_3d", "Backlog > 3 d", "Open tickets 3 days old or older."),
    MetricDefinition("auto_reply_rate", "Auto-reply rate (deflection)", "percent",
                     "Share of tickets answered by auto-replies alone, with no agent message.", True),
    MetricDefinition("auto_reply_acceptance_rate", "Auto-reply acceptance", "percent",
                     "Share of the suggested replies agents decided on that they sent unchanged.", True,
                     "suggestions"),
    MetricDefinition("suggestion_edit_rate", "Suggestion edit rate", "percent",
                     "Share of the suggested replies agents decided on that they edited before sending.", False,
                     "suggestions"),
    MetricDefinition("csat_mean", "CSAT", "score", "Mean customer satisfaction score (1-5).", True, "csat"),
    MetricDefinition("csat_response_rate", "CSAT response rate", "percent",
                     "Share of the satisfaction surveys asked that customers answered.", True, "surveys"),
    MetricDefinition("negative_sentiment_share", "Negative sentiment", "percent",
                     "Share of customer messages whose sentiment is negative.", False, "messages"),
    MetricDefinition("complaint_rate", "Complaint rate", "percent", "Share of tickets that are complaints.",
                     False),
    MetricDefinition("refund_return_request_rate", "Refund/return request rate", "percent",
                     "Share of tickets about refunds, returns, damaged or wrong items "
                     "(provisional: by intent).", False),
    MetricDefinition("after_sales_requests", "After-sales requests", "count",
                     "Returns, refunds, exchanges and reships opened in the window.", None, "requests"),
    MetricDefinition("refund_amount", "Refunded amount", "amount",
                     "Amount refunded on the window's requests, in the reporting currency.", False, "requests"),
    MetricDefinition("after_sales_age_mean", "After-sales request age (mean)", "seconds",
                     "Mean time the window's requests have been open, or took until closed.", False, "requests"),
    MetricDefinition("refund_rate", "Refund rate", "percent",
                     "Share of tickets with a refund issued.", False),
)


def metric_names() -> list[str]:
    """Every metric's name, in definition order."""
    return list(METRICS)
