"""The answers of manager commands: each typed command run against the database and written as chat text.

Text is plain with light markdown (*bold*; tables in ``` monospace blocks), times in the team's timezone. The
executor (handlers.commands.executor) parses, authorizes and audits; this module only answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.alert_silences import add_silence
from bot.messages import Card
from bot.metrics import METRICS, MetricReport, MetricRow, compute_metrics
from bot.metrics.definitions import NONE_GROUP, STATISTICS
from bot.orders import orders_by, orders_in_window
from bot.settings import AssignmentSettings, ResolvedSlaPolicy, ScorecardSettings, SlaSettings
from bot.sla_clock import clock_states
from handlers.commands import charts
from handlers.commands.errors import CommandError
from handlers.commands.help_texts import help_text
from handlers.commands.parsed import (
    AgentCommand,
    AlertsListCommand,
    AlertsSilenceCommand,
    AlertsUnsilenceCommand,
    HelpCommand,
    MetricsCommand,
    SlaCommand,
    TicketCommand,
)
from handlers.commands.permissions import Actor
from handlers.commands.returns import AFTER_SALES_ANSWERS
from handlers.commands.ticket_view import TicketView, load_ticket_view
from handlers.phrases import PHRASES, Phrase, language_of, phrase, say, text_in
from handlers.scorecards import Scorecard, find_agent, team_scorecards
from models.tables import Agent, Alert, Silence, Ticket

if TYPE_CHECKING:
    from bot.after_sales.desk import AfterSalesDesk
    from handlers.actions import TicketActions

HEADLINE_METRICS = (
    "volume",
    "first_response_time_median",
    "resolution_time_median",
    "sla_first_response_compliance",
    "sla_resolution_compliance",
    "one_touch_resolution_rate",
    "auto_reply_rate",
    "auto_reply_acceptance_rate",
    "suggestion_edit_rate",
    "csat_mean",
    "csat_response_rate",
    "negative_sentiment_share",
    "complaint_rate",
    "refund_return_request_rate",
    "backlog",
)
BREAKDOWN_METRICS = ("volume", "first_response_time_median", "sla_first_response_compliance", "csat_mean",
                     "complaint_rate")
# Shown next to a metric asked for by name: "/metrics 7d csat by agent" gives the response rate beside the score.
METRIC_COMPANIONS: dict[str, tuple[str, ...]] = {"csat_mean": ("csat_response_rate",)}
SHORT_LABELS = {
    "volume": "Tickets",
    "first_response_time_median": "FRT med",
    "first_response_time_business_median": "FRT med (bh)",
    "sla_first_response_compliance": "FR SLA",
    "csat_mean": "CSAT",
    "csat_response_rate": "CSAT resp.",
    "negative_sentiment_share": "Negative",
    "complaint_rate": "Complaints",
}
# Each wall-clock duration and its business-hours twin, shown next to it where an SLA policy uses business hours.
BUSINESS_TWINS = {f"{d}_{s}": f"{d}_business_{s}" for d in ("first_response_time", "resolution_time")
                  for s in STATISTICS}
ORDER_DIMENSIONS = {"marketplace", "region"}
MAX_TABLE_ROWS = 15


@dataclass(frozen=True)
class CommandAnswer:
    """What a command answers: text, an optional chart PNG, whether it succeeded, and an optional card."""

    text: str
    chart: Path | None = None
    ok: bool = True
    card: Card | None = None
    details: dict[str, object] = field(default_factory=dict, compare=False)  # extra audit details
    ticket: TicketView | None = None  # `/ticket`'s data, for pages that show it as more than text


@dataclass
class AnswerContext:
    engine: Engine
    timezone: tzinfo
    now: datetime
    charts_dir: Path
    actor: Actor
    sla: SlaSettings = field(default_factory=SlaSettings)  # targets, calendars, pre-breach window for /sla
    scorecards: ScorecardSettings = field(default_factory=ScorecardSettings)
    assignment: AssignmentSettings = field(default_factory=AssignmentSettings)  # /assign, /queue, /shift
    triage_channel: str = "console"  # where a ticket's card update goes while its card is not posted yet
    after_sales: AfterSalesDesk | None = None  # /returns and /request (handlers/commands/returns.py)
    # handlers.actions.TicketActions for commands that act on tickets as the card buttons do (/resolve)
    ticket_actions: Callable[[], TicketActions] | None = None
    language: str = "en"  # of kefu's own words in the answer (handlers.phrases): "en" or "zh"
    # the language of kefu's words on a team channel's cards (Settings.language_for; None: English)
    language_for: Callable[[str], str] | None = None


# ---- formatting --------------------------------------------------------------------------------------------


def format_seconds(seconds: float, language: str = "en") -> str:
    """ "45 s", "37 min", "2.5 h", "3.2 d" ("37 分钟" … in Chinese)."""
    seconds = abs(seconds)
    if seconds < 60:
        return phrase("duration.s", language, amount=f"{seconds:.0f}")
    if seconds < 3600:
        return phrase("duration.min", language, amount=f"{seconds / 60:.0f}")
    if seconds < 86400 * 2:
        return phrase("duration.h", language, amount=f"{seconds / 3600:.1f}")
    return phrase("duration.d", language, amount=f"{seconds / 86400:.1f}")


def metric_label(name: str, language: str = "en") -> str:
    """A metric's name as a manager reads it: its definition's label in English ("First response SLA met"), the
    catalogue's words in Chinese ("首次响应 SLA 达标率"); the label where the catalogue has none."""
    key = f"metric.{name}"
    return phrase(key, language) if key in PHRASES and language_of(language) != "en" else METRICS[name].label


def short_label(name: str, language: str = "en") -> str:
    """A metric's name as a breakdown table's column header ("FR SLA", "首响SLA")."""
    key = f"metric.short.{name}"
    if key not in PHRASES:
        return metric_label(name, language)
    return phrase(key, language) if language_of(language) != "en" else SHORT_LABELS.get(name, METRICS[name].label)


def format_value(name: str, value: float | None, language: str = "en") -> str:
    if value is None:
        return "–"
    unit = METRICS[name].unit
    if unit == "seconds":
        return format_seconds(value, language)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "score":
        return f"{value:.2f}"
    if unit == "amount":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def format_delta(name: str, current: float | None, previous: float | None, language: str = "en") -> str:
    """ "▲ +20 (+20.0%)", "▼ −5.0 pts (−6.3%)", "= no change", or "" when either value is missing (in Chinese
    "▼ −5.0 个百分点（−6.3%）", "= 持平")."""
    if current is None or previous is None:
        return ""
    change = current - previous
    if abs(change) < 1e-9:
        return phrase("metrics.no_change", language)
    arrow = "▲" if change > 0 else "▼"
    sign = "+" if change > 0 else "−"
    unit = METRICS[name].unit
    if unit == "seconds":
        amount = format_seconds(change, language)
    elif unit == "percent":
        amount = phrase("metrics.points", language, amount=f"{abs(change):.1f}")
    elif unit == "score":
        amount = f"{abs(change):.2f}"
    else:
        amount = f"{abs(change):,.0f}"
    relative = phrase("metrics.relative", language, change=f"{sign}{abs(change) / abs(previous) * 100:.1f}%") \
        if previous else ""
    return f"{arrow} {sign}{amount}{relative}"


def local_time(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def relative_due(due: datetime, now: datetime, language: str = "en") -> str:
    """ "due in 37 min" or "breached 2 h ago" (whole hours from 2 h, days from 2 d); in Chinese "还剩 37 分钟",
    "已超时 2 小时"."""
    seconds = (due - now).total_seconds()
    amount = coarse_duration(abs(seconds), language)
    return phrase("clock.due_in" if seconds >= 0 else "clock.breached", language, amount=amount)


def coarse_duration(seconds: float, language: str = "en") -> str:
    """ "37 min", "5 h", "3 d": minutes below an hour, whole hours below two days, then days."""
    if seconds < 3600:
        return phrase("duration.min", language, amount=max(1, round(seconds / 60)))
    if seconds < 86400 * 2:
        return phrase("duration.h", language, amount=round(seconds / 3600))
    return phrase("duration.d", language, amount=round(seconds / 86400))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A monospace table in a ``` block; the first column left-aligned, the others right-aligned."""
    widths = [max(_width(str(r[i])) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _width(cell))
            out.append(cell + pad if i == 0 else pad + cell)
        return "  ".join(out).rstrip()

    return "\n".join(["```", line(header), *(line(r) for r in rows), "```"])


def _width(text: str) -> int:
    """Display width: East Asian wide and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# ---- /metrics ----------------------------------------------------------------------------------------------


def answer_metrics(command: MetricsCommand, ctx: AnswerContext) -> CommandAnswer:
    start, end = command.window.resolve(ctx.now, ctx.timezone)
    span = f"{local_time(start, ctx.timezone)} – {local_time(end, ctx.timezone)} ({_tz_name(ctx)})"
    lang = ctx.language
    slice_text = say("metrics.by", dimension=say(f"dimension.{command.group_by}")) if command.group_by else ""
    title = phrase("metrics.title", lang, window=command.window.label_in(lang), by=slice_text)
    if start >= end:
        return CommandAnswer(f"{title}\n{phrase('metrics.not_begun', lang, span=span)}")
    if command.group_by:
        names = tuple(dict.fromkeys(["volume", command.metric, *METRIC_COMPANIONS.get(command.metric or "", ())])) \
            if command.metric else BREAKDOWN_METRICS
    else:
        names = ("volume", command.metric) if command.metric else HEADLINE_METRICS
        names = tuple(dict.fromkeys(names))
    twins = {n: BUSINESS_TWINS[n] for n in names if n in BUSINESS_TWINS} if ctx.sla.uses_business_hours() else {}
    if command.group_by:  # a column of its own, right after the wall-clock one
        names = tuple(dict.fromkeys(m for n in names for m in (n, twins.get(n)) if m is not None))
    queried = list(dict.fromkeys([*names, *twins.values()]))
    report = compute_metrics(ctx.engine, start, end, group_by=command.group_by, names=queried)
    previous: MetricReport | None = None
    if command.compare_previous:
        p_start, p_end = command.window.previous().resolve(ctx.now, ctx.timezone)
        if p_start < p_end:
            previous = compute_metrics(ctx.engine, p_start, p_end, group_by=command.group_by, names=queried)

    lines = [title, span]
    if command.group_by is None:
        for name in names:
            value = format_value(name, report.total.values[name], lang)
            if name in twins:
                value += phrase("metrics.business_hours", lang,
                                value=format_value(twins[name], report.total.values[twins[name]], lang))
            delta = format_delta(name, report.total.values[name],
                                 previous.total.values[name] if previous else None, lang) if previous else ""
            lines.append(phrase("metrics.line", lang, label=metric_label(name, lang), value=value,
                                delta=f"  {delta}" if delta else ""))
        if previous is not None:
            lines.append(phrase("metrics.versus", lang, window=command.window.previous().label_in(lang)))
    else:
        if report.rows:
            lines.append(_breakdown_table(command, report, previous, names, ctx, start, end))
        lines.append(phrase("metrics.total", lang, count=format_value("volume", report.total.values["volume"])))
    per_orders = _per_thousand_orders(report.total, ctx, start, end, lang)
    if per_orders:
        lines.append(per_orders)

    chart = _metrics_chart(command, report, ctx, start, end) if command.chart else None
    if chart is not None:
        lines.append(phrase("metrics.chart_attached", lang))
    card = Card(kind="answer", title=title.strip("*"), body="\n".join(lines[1:]))
    return CommandAnswer("\n".join(lines), chart=chart, card=card)


def _tz_name(ctx: AnswerContext) -> str:
    return str(getattr(ctx.timezone, "key", None) or ctx.timezone)


def _breakdown_table(command: MetricsCommand, report: MetricReport, previous: MetricReport | None,
                     names: Sequence[str], ctx: AnswerContext, start: datetime, end: datetime) -> str:
    focus = command.metric or "volume"
    lang = ctx.language
    dimension = text_in(_known("dimension", command.group_by), lang) if command.group_by else ""
    header = [dimension, *(short_label(n, lang) for n in names)]
    if previous is not None:
        header.append(f"Δ {short_label(focus, lang)}")
    orders: dict[str, int] = {}
    if command.group_by in ORDER_DIMENSIONS:
        orders = orders_by(ctx.engine, start, end, ctx.timezone, command.group_by,
                           [r.group for r in report.rows if r.group])
        if orders:
            header.append(phrase("metrics.per_1k_orders", lang))
    rows: list[list[str]] = []
    for row in report.rows[:MAX_TABLE_ROWS]:
        cells = [group_text(row.group, lang), *(format_value(n, row.values[n], lang) for n in names)]
        if previous is not None:
            before = _group_value(previous, row.group, focus)
            fresh = phrase("metrics.new_group", lang) if before is None and row.values[focus] is not None else ""
            cells.append(format_delta(focus, row.values[focus], before, lang) or fresh)
        if orders:
            count = orders.get(row.group or "")
            cells.append(f"{1000 * row.counts.get('tickets', 0) / count:.1f}" if count else "–")
        rows.append(cells)
    text = table(header, rows)
    if len(report.rows) > MAX_TABLE_ROWS:
        text += "\n" + phrase("metrics.more_groups", lang, count=len(report.rows) - MAX_TABLE_ROWS)
    return text


def group_text(group: str | None, language: str = "en") -> str:
    """A breakdown row's group as shown: the value itself, "(none)" ("（无）") for tickets without one."""
    return phrase("metrics.none_group", language) if group == NONE_GROUP else group or ""


def _group_value(report: MetricReport, group: str | None, name: str) -> float | None:
    for row in report.rows:
        if row.group == group:
            return row.values[name]
    return 0.0 if METRICS[name].unit == "count" else None


def _per_thousand_orders(total: MetricRow, ctx: AnswerContext, start: datetime, end: datetime,
                         language: str = "en") -> str | None:
    """ "Per 1,000 orders (8,000 orders): tickets 15.0 · complaints 2.5 · refund/return requests 1.2" ("每千单（共
    8,000 单）：工单 15.0 · …" in Chinese), or None when the order counts do not cover every date of the window."""
    orders = orders_in_window(ctx.engine, start, end, ctx.timezone)
    if not orders:
        return None
    tickets = total.counts.get("tickets")
    if tickets is None:
        return None
    parts = [phrase("metrics.per_orders.tickets", language, rate=f"{1000 * tickets / orders:.2f}")]
    if "complaint" in total.counts:
        parts.append(phrase("metrics.per_orders.complaints", language,
                            rate=f"{1000 * total.counts['complaint'] / orders:.2f}"))
    if "refund_return" in total.counts:
        parts.append(phrase("metrics.per_orders.refund_return", language,
                            rate=f"{1000 * total.counts['refund_return'] / orders:.2f}"))
    return phrase("metrics.per_orders", language, orders=f"{orders:,}", parts=" · ".join(parts))


def _metrics_chart(command: MetricsCommand, report: MetricReport, ctx: AnswerContext,
                   start: datetime, end: datetime) -> Path:
    name = command.metric or "volume"
    definition = METRICS[name]
    lang = ctx.language
    label = metric_label(name, lang)
    y_label = {"seconds": phrase("metrics.chart_hours", lang, label=label),
               "percent": phrase("metrics.chart_percent", lang, label=label)}.get(definition.unit, label)
    scale = 1 / 3600 if definition.unit == "seconds" else 1.0
    if command.group_by:
        title = phrase("metrics.chart_by", lang, label=label, dimension=_known("dimension", command.group_by),
                       window=command.window.label_in(lang))
        labels = [group_text(row.group, lang) for row in report.rows]
        values = [None if row.values[name] is None else row.values[name] * scale for row in report.rows]
        return charts.bar_chart(title, labels, values, y_label, ctx.charts_dir)
    hourly = end - start <= timedelta(hours=48)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    bucket_start = start.astimezone(ctx.timezone)
    bucket_start = bucket_start.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        bucket_start = bucket_start.replace(hour=0)
    labels: list[str] = []
    values: list[float | None] = []
    cursor = bucket_start
    while cursor < end:
        b_start, b_end = max(cursor, start), min(_advance(cursor, step, ctx.timezone), end)
        if b_start < b_end:
            value = compute_metrics(ctx.engine, b_start, b_end, names=[name]).total.values[name]
            labels.append(cursor.astimezone(ctx.timezone).strftime("%H:%M" if hourly else "%m-%d"))
            values.append(None if value is None else value * scale)
        cursor = _advance(cursor, step, ctx.timezone)
    title = phrase("metrics.chart_trend", lang, label=label, window=command.window.label_in(lang),
                   step=say("metrics.chart_hourly" if hourly else "metrics.chart_daily"))
    return charts.trend_chart(title, labels, values, y_label, ctx.charts_dir,
                              integer=definition.unit == "count")


def _advance(moment: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The next bucket start: wall-clock days in `tz` (DST days are 23 or 25 h), or exact hours."""
    local = moment.astimezone(tz)
    if step >= timedelta(days=1):
        nxt = (local.replace(tzinfo=None) + step).replace(tzinfo=tz)
        return nxt.astimezone(moment.tzinfo)
    return (moment + step)


# ---- /sla --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaItem:
    ticket: Ticket
    clock: str  # "first_response" | "resolution"
    due: datetime
    breached: bool
    owner: str  # "" when nobody owns the ticket
    working_left: timedelta | None = None  # set when business hours make it shorter than the wall clock's


def answer_sla(_command: SlaCommand, ctx: AnswerContext) -> CommandAnswer:
    """Open tickets with a running clock that is breached or at risk, as the SLA watch defines them
    (bot/sla_clock.py: at risk = at most `pre_breach_fraction` of the target left in the policy's working time);
    breached first, then at risk, oldest first."""
    now = ctx.now
    with Session(ctx.engine) as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.status != "resolved", Ticket.resolved_at.is_(None))  # type: ignore[union-attr]
            .where(or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None)))  # type: ignore[union-attr]
            .order_by(Ticket.created_at, Ticket.id)  # type: ignore[arg-type]
        ).all()
        owners = {a.id: a.name for a in session.scalars(select(Agent))}
    policies: dict[tuple[str, str | None], ResolvedSlaPolicy] = {}
    items: list[SlaItem] = []
    for ticket in tickets:
        key = (ticket.channel, ticket.marketplace)
        if key not in policies:
            policies[key] = ctx.sla.policy_for(*key)
        for state in clock_states(ticket, policies[key], now, ctx.sla.pre_breach_fraction):
            if state.stage != "ok":
                shorter = state.stage == "warning" and state.due - now - state.left >= timedelta(minutes=1)
                items.append(SlaItem(ticket, state.clock, state.due, state.stage == "breach",
                                     owners.get(ticket.assignee_id, ""),
                                     state.left if shorter else None))
                break  # the most urgent clock of a ticket is enough (first response comes before resolution)
    breached = [i for i in items if i.breached]
    at_risk = [i for i in items if not i.breached]
    if not items:
        return CommandAnswer(phrase("sla.none", ctx.language))
    lines = [phrase("sla.title", ctx.language, breached=len(breached), at_risk=len(at_risk),
                    now=local_time(now, ctx.timezone))]
    for heading, group in (("sla.breached", breached), ("sla.at_risk", at_risk)):
        if not group:
            continue
        lines.append(f"*{phrase(heading, ctx.language)}*")
        for item in group:
            t = item.ticket
            working = "" if item.working_left is None else \
                say("sla.working_left", amount=coarse_duration(item.working_left.total_seconds(), ctx.language))
            lines.append(phrase("sla.item", ctx.language, ticket=t.id, severity=t.severity, intent=t.intent,
                                clock=say(f"clock.{item.clock}"), due=relative_due(item.due, now, ctx.language),
                                working=working, owner=item.owner or say("owner.unassigned")))
    return CommandAnswer("\n".join(lines), details={"breached": len(breached), "at_risk": len(at_risk)})


# ---- /alerts -----------------------------------------------------------------------------------------------


def answer_alerts(_command: AlertsListCommand, ctx: AnswerContext) -> CommandAnswer:
    with Session(ctx.engine) as session:
        alerts = session.scalars(select(Alert).where(Alert.state == "firing")
                                 .order_by(Alert.started_at, Alert.id)).all()  # type: ignore[arg-type]
        silences = session.scalars(select(Silence).where(Silence.ends_at > ctx.now)).all()
    lang = ctx.language
    if not alerts:
        text = phrase("alerts.none", lang)
    else:
        lines = [phrase("alerts.title", lang, count=len(alerts))]
        for alert in alerts:
            elapsed = (ctx.now - alert.started_at).total_seconds()
            since = say("alerts.since", amount=coarse_duration(elapsed, lang)) if elapsed > 0 else \
                relative_due(alert.started_at, ctx.now, lang)
            level = f"alerts.level.{alert.level}"
            lines.append(phrase(
                "alerts.item", lang, level=say(level) if level in PHRASES else alert.level.upper(), rule=alert.rule,
                group=f" [{alert.group_key}]" if alert.group_key else "",
                value=say("alerts.value", value=f"{alert.value:g}") if alert.value is not None else "",
                at=local_time(alert.started_at, ctx.timezone), since=since))
        text = "\n".join(lines)
    active = [s for s in silences if s.starts_at <= ctx.now]
    if active:
        items = phrase("alerts.silences.separator", lang).join(
            phrase("alerts.silence", lang, id=s.id, matchers=_matchers_text(s.matchers),
                   until=local_time(s.ends_at, ctx.timezone)) for s in active)
        text += "\n" + phrase("alerts.silences", lang, count=len(active), items=items)
    return CommandAnswer(text)


def _matchers_text(matchers: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in matchers.items())


def answer_silence(command: AlertsSilenceCommand, ctx: AnswerContext) -> CommandAnswer:
    matchers = {"rule": command.rule, **command.matchers}
    ends_at = ctx.now + command.duration
    with Session(ctx.engine) as session, session.begin():
        silence_id = add_silence(session, matchers, ctx.now, ends_at, ctx.actor.name or "local admin",
                                 command.reason).id
    reason = say("silence.reason", reason=command.reason) if command.reason else ""
    return CommandAnswer(
        phrase("silence.made", ctx.language, matchers=_matchers_text(matchers), until=local_time(ends_at, ctx.timezone),
               zone=_tz_name(ctx), id=silence_id, reason=reason),
        details={"silence_id": silence_id},
    )


def answer_unsilence(command: AlertsUnsilenceCommand, ctx: AnswerContext) -> CommandAnswer:
    with Session(ctx.engine) as session, session.begin():
        silence = session.get(Silence, command.silence_id)
        if silence is None:
            return CommandAnswer(phrase("silence.unknown", ctx.language, id=command.silence_id),
                                 ok=False, details={"error": "unknown silence"})
        if silence.ends_at <= ctx.now:
            return CommandAnswer(phrase("silence.already_ended", ctx.language, id=command.silence_id,
                                        at=local_time(silence.ends_at, ctx.timezone)),
                                 details={"silence_id": command.silence_id})
        silence.ends_at = ctx.now
        matchers = dict(silence.matchers)
    return CommandAnswer(phrase("silence.ended", ctx.language, id=command.silence_id,
                                matchers=_matchers_text(matchers)), details={"silence_id": command.silence_id})


# ---- /ticket -----------------------------------------------------------------------------------------------


def answer_ticket(command: TicketCommand, ctx: AnswerContext) -> CommandAnswer:
    view = load_ticket_view(ctx.engine, command.ticket_id)
    if view is None:
        return CommandAnswer(phrase("ticket.unknown", ctx.language, ticket=command.ticket_id), ok=False,
                             details={"error": "unknown ticket"})
    tz, lang = ctx.timezone, ctx.language
    where = " · ".join(x for x in (view.channel, view.marketplace, view.region, view.language) if x)
    lines = [
        phrase("ticket.title", lang, ticket=view.id, status=_known("status", view.status), intent=view.intent,
               kind=view.kind, severity=view.severity),
        phrase("ticket.where", lang, where=where, owner=view.owner if view.assignee_id else say("owner.unassigned"),
               opened=local_time(view.created_at, tz)),
    ]
    if view.order_id or view.sku:
        lines.append(" · ".join(x for x in (phrase("ticket.order", lang, order=view.order_id) if view.order_id else "",
                                            phrase("ticket.sku", lang, sku=view.sku) if view.sku else "") if x))
    first_response, resolution = ticket_clocks(view, ctx.now, lang)
    if first_response:
        lines.append(phrase("ticket.first_response", lang, clock=first_response))
    if resolution:
        lines.append(phrase("ticket.resolved" if view.resolved_at else "ticket.resolution", lang, clock=resolution))
    lines.append(phrase("ticket.messages", lang, count=view.message_count))
    for message in view.messages:
        arrow = "→" if message.direction == "in" else "←"
        text = message.text if len(message.text) <= 200 else message.text[:199] + "…"
        lines.append(phrase("ticket.message", lang, at=local_time(message.at, tz), arrow=arrow,
                            kind=_known("author", message.author_kind), author=message.author, text=text))
    if view.message_count > len(view.messages):
        lines.append(phrase("ticket.last_messages", lang, shown=len(view.messages), count=view.message_count))
    if view.timeline:
        lines.append(phrase("ticket.timeline", lang))
        for event in view.timeline:
            lines.append(phrase("ticket.event", lang, at=local_time(event.at, tz), action=event.action,
                                actor=event.actor))
    return CommandAnswer("\n".join(lines), ticket=view)


def _known(group: str, value: str) -> str | Phrase:
    """kefu's own word `value` (a ticket status, a message author kind) as a phrase where the catalogue has it."""
    return say(f"{group}.{value}") if f"{group}.{value}" in PHRASES else value


def ticket_clocks(view: TicketView, now: datetime, language: str = "en") -> tuple[str | None, str | None]:
    """How the ticket's first-response and resolution clocks stand: "after 40 min" once stopped, "due in 2 h" or
    "breached 3 h ago" while running, None without a clock."""
    first_response = resolution = None
    if view.first_response_at:
        first_response = phrase("clock.after", language, amount=format_seconds(
            (view.first_response_at - view.created_at).total_seconds(), language))
    elif view.first_response_due:
        first_response = relative_due(view.first_response_due, now, language)
    if view.resolved_at:
        resolution = phrase("clock.after", language, amount=format_seconds(
            (view.resolved_at - view.created_at).total_seconds(), language))
    elif view.resolution_due:
        resolution = relative_due(view.resolution_due, now, language)
    return first_response, resolution


def ticket_facts(view: TicketView, now: datetime, tz: tzinfo) -> list[tuple[str, str]]:
    """The ticket's facts as (label, value) pairs, as `/ticket` tells them (the console's ticket page)."""
    first_response, resolution = ticket_clocks(view, now)
    facts = [("Status", view.status), ("Intent", f"{view.intent} ({view.kind})"), ("Severity", str(view.severity)),
             ("Customer", view.customer), ("Channel", view.channel), ("Marketplace", view.marketplace),
             ("Region", view.region), ("Language", view.language), ("Owner", view.owner),
             ("Opened", local_time(view.created_at, tz)), ("Order", view.order_id), ("SKU", view.sku),
             ("First response", first_response), ("Resolution" if not view.resolved_at else "Resolved", resolution)]
    return [(label, value) for label, value in facts if value]


# ---- /agent ------------------------------------------------------------------------------------------------


def answer_agent(command: AgentCommand, ctx: AnswerContext) -> CommandAnswer:
    start, end = command.window.resolve(ctx.now, ctx.timezone)
    if start >= end:
        return CommandAnswer(phrase("agent.not_begun", ctx.language))
    if command.agent is None and ctx.actor.name is None:
        return _team_scorecard(ctx, start, end, command)
    who = command.agent if command.agent is not None else ctx.actor.name
    assert who is not None
    agent = find_agent(ctx.engine, who)
    if agent is None and command.agent is None:
        for identity in ctx.actor.identities:
            agent = find_agent(ctx.engine, identity)
            if agent is not None:
                break
    if agent is None:
        return CommandAnswer(phrase("agent.unknown", ctx.language, agent=who), ok=False,
                             details={"error": "unknown agent"})
    cards = team_scorecards(ctx.engine, start, end, ctx.scorecards)
    card = next((c for c in cards if c.agent == agent.name), None)
    lang = ctx.language
    title = phrase("scorecard.title", lang, agent=agent.name, window=command.window.label_in(lang))
    if card is None:
        return CommandAnswer(f"{title}\n{phrase('scorecard.no_tickets', lang, agent=agent.name)}")
    return CommandAnswer(f"{title}\n{scorecard_text(card, ctx.scorecards, ctx.sla.uses_business_hours(), lang)}")


def scorecard_text(card: Scorecard, settings: ScorecardSettings, business_hours: bool = False,
                   language: str = "en") -> str:
    """The card as lines; with `business_hours` (an SLA policy uses them) the median first response in working
    time too, the figure the response-time component compares."""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f}%"

    def duration(seconds: float | None) -> str:
        return "–" if seconds is None else format_seconds(seconds, language)

    lang = language
    score = "–" if card.score is None else f"{card.score:.1f}"
    rank = say("scorecard.rank", rank=card.queue_rank, size=card.queue_size, queue=card.queue) \
        if card.queue_rank else ""
    first_response = duration(card.first_response_median)
    if business_hours and card.first_response_business_median is not None:
        first_response += phrase("scorecard.business_hours", lang,
                                 value=duration(card.first_response_business_median))
    answered = "" if card.csat_response_rate is None else \
        say("scorecard.csat_answered", rate=f"{card.csat_response_rate:.0f}")
    lines = [
        phrase("scorecard.score", lang, score=score, grade=grade_text(card.grade, lang), rank=rank),
        phrase("scorecard.handled", lang, count=card.handled),
        phrase("scorecard.first_response", lang, value=first_response),
        phrase("scorecard.resolution", lang, value=duration(card.resolution_median)),
        phrase("scorecard.sla", lang, value=pct(card.sla_compliance)),
        phrase("scorecard.one_touch", lang, value=pct(card.one_touch)),
        phrase("scorecard.csat", lang, value="–" if card.csat is None else f"{card.csat:.2f} / 5",
               answered=answered),
        phrase("scorecard.acceptance", lang, value=pct(card.acceptance)),
    ]
    parts = [f"{text_in(_known('component', name), lang)} {value:.0f}×{settings.weights[name]:g}"
             for name, value in card.components.items()]
    if parts:
        lines.append(phrase("scorecard.components", lang, parts=phrase("list.comma", lang).join(parts)))
    return "\n".join(lines)


def grade_text(grade: str | None, language: str = "en") -> str:
    """A scorecard's grade ("excellent", "qualified", "needs improvement") in `language`; "no grade" for None."""
    return phrase(f"grade.{grade}" if grade is not None else "grade.none", language)


def _team_scorecard(ctx: AnswerContext, start: datetime, end: datetime, command: AgentCommand) -> CommandAnswer:
    cards = team_scorecards(ctx.engine, start, end, ctx.scorecards)
    lang = ctx.language
    title = phrase("scorecard.team_title", lang, window=command.window.label_in(lang))
    if not cards:
        return CommandAnswer(f"{title}\n{phrase('scorecard.team_empty', lang)}")
    rows = [[c.agent, c.queue, str(c.handled), "–" if c.score is None else f"{c.score:.1f}",
             "–" if c.grade is None else grade_text(c.grade, lang)] for c in cards]
    header = [phrase(f"scorecard.header.{column}", lang) for column in ("agent", "queue", "tickets", "score", "grade")]
    return CommandAnswer(f"{title}\n" + table(header, rows))


# ---- /kefu help --------------------------------------------------------------------------------------------


def answer_help(command: HelpCommand, ctx: AnswerContext, capabilities: object | None = None) -> CommandAnswer:
    try:
        return CommandAnswer(help_text(command.topic, capabilities, language=ctx.language))
    except CommandError as error:
        return CommandAnswer(error.text(ctx.language), ok=False)


ANSWERS: dict[type, Callable[..., CommandAnswer]] = {
    MetricsCommand: answer_metrics,
    SlaCommand: answer_sla,
    AlertsListCommand: answer_alerts,
    AlertsSilenceCommand: answer_silence,
    AlertsUnsilenceCommand: answer_unsilence,
    TicketCommand: answer_ticket,
    AgentCommand: answer_agent,
    HelpCommand: answer_help,
    **AFTER_SALES_ANSWERS,
}
