"""Root-cause breakdown of a metric alert: which slices moved the metric, and what the affected customers say.

The deviation is the window's value minus the baseline's, taken over the baseline windows the caller gives:
for a weekly-seasonal rule the very windows it was judged against (the same weekday and hour in past weeks,
so an ordinary Monday's surplus is not blamed on anyone), otherwise one period (the rule's `days`, or the 7
days before the window for a threshold rule). Over several windows a count adds up, and a rate or mean is
weighted by each window's population (exact for rates and means; for a percentile, the population-weighted
mean of the windows' percentiles). Each slice of a dimension (intent, SKU, region, marketplace, channel) not
already fixed by the filters (the rule's filters and the alert's group labels) gets its share of that
deviation:

- counts (volume, backlog, ...): the slice's count minus its baseline count scaled to the window's length;
- rates and means: the slice's weight in the window's population times the change of its own value against
  its baseline value (the overall baseline value for a slice new in the window).

The slice with the largest share in the alert's direction is refined by a second dimension when one cross
slice carries most of it ("SKU A-123 × FR"). The phrases are the word sequences (2 to 3 words) found in the
most affected customer messages of the window.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bot.metrics import METRICS, MetricError, MetricReport, MetricRow, compute_metrics
from bot.metrics.queries import MESSAGE, TICKET, filter_clause, moment
from scheduler.alerts.evaluation import population_key

DIMENSIONS = ("intent", "sku", "region", "marketplace", "channel")
LABELS = {"intent": "intent", "sku": "SKU", "region": "region", "marketplace": "marketplace", "channel": "channel",
          "language": "language", "kind": "kind", "severity": "severity", "agent": "agent"}
MAX_MESSAGES = 2000
INTENT_DEFINED = frozenset({"complaint_rate", "refund_return_request_rate"})
CROSS_SHARE = 0.8  # a cross slice names the cause when it carries this much of its parent slice's share
WHOLE = 0.95  # a slice holding this much of its population (one marketplace for all) explains nothing
Window = tuple[datetime, datetime]  # [start, end)
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "from", "by", "with", "is",
    "are", "was", "were", "be", "been", "it", "its", "this", "that", "my", "your", "our", "i", "you", "we",
    "he", "she", "they", "me", "us", "him", "her", "them", "do", "does", "did", "have", "has", "had",
    "not", "no", "so", "as", "if", "can", "could", "would", "will", "please", "hi", "hello", "thanks",
    "thank", "de", "la", "le", "el", "en", "y", "et", "und", "der", "die", "das",
})


@dataclass(frozen=True)
class Slice:
    labels: tuple[tuple[str, str], ...]  # ((dimension, value), ...)
    share: float  # of the deviation, 0..1 (may exceed 1 when other slices moved the other way)
    current: float | None
    baseline: float | None
    population: int = 0  # the slice's population in the window (tickets, answered tickets, responses...)

    @property
    def text(self) -> str:
        return " × ".join(f"{LABELS.get(d, d)} {v}" for d, v in self.labels)


@dataclass(frozen=True)
class Breakdown:
    current: float | None
    baseline: float | None
    slices: list[Slice] = field(default_factory=list)  # the top contributors, largest share first
    phrases: list[tuple[str, int]] = field(default_factory=list)  # (phrase, messages containing it)

    @property
    def change(self) -> float | None:
        """Relative change of the value against the baseline (0.8 = +80%); None when there is no baseline."""
        if self.current is None or not self.baseline:
            return None
        return (self.current - self.baseline) / abs(self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current, "baseline": self.baseline, "change": self.change,
            "slices": [{"labels": dict(s.labels), "share": s.share, "current": s.current, "baseline": s.baseline}
                       for s in self.slices],
            "phrases": [list(p) for p in self.phrases],
        }


def _report(session: Session, metric: str, start: datetime, end: datetime, group_by: str | None,
            filters: dict[str, str]) -> MetricReport:
    return compute_metrics(session, start, end, group_by=group_by, names=[metric], filters=filters)


def _merged(metric: str, group: str | None, rows: list[MetricRow]) -> MetricRow:
    """One row standing for `rows` (the same group in several windows): counts added up, a count metric added
    up, any other value weighted by each window's population."""
    counts: dict[str, int] = {}
    for row in rows:
        for key, n in row.counts.items():
            counts[key] = counts.get(key, 0) + n
    found = [row for row in rows if row.values.get(metric) is not None]
    value: float | None
    if METRICS[metric].unit == "count":
        value = sum(float(row.values[metric] or 0.0) for row in found)
    else:
        key = population_key(metric)
        size = sum(row.counts.get(key, 0) for row in found)
        value = sum(row.counts.get(key, 0) * float(row.values[metric] or 0.0) for row in found) / size if size \
            else None
    return MetricRow(group=group, values={metric: value}, counts=counts)


def _baseline_report(session: Session, metric: str, windows: Sequence[Window], group_by: str | None,
                     filters: dict[str, str]) -> MetricReport:
    """The metric over the baseline `windows` taken together (see the module docstring)."""
    if len(windows) == 1:
        return _report(session, metric, *windows[0], group_by, filters)
    reports = [_report(session, metric, start, end, group_by, filters) for start, end in windows]
    by_group: dict[str, list[MetricRow]] = {}
    for report in reports:
        for row in report.rows:
            by_group.setdefault(row.group or "", []).append(row)
    rows = [_merged(metric, group, found) for group, found in by_group.items()]
    total = _merged(metric, None, [report.total for report in reports])
    return MetricReport(start=min(s for s, _ in windows), end=max(e for _, e in windows), group_by=reports[0].group_by,
                        names=(metric,), rows=rows, total=total)


def _contributions(metric: str, current: MetricReport, baseline: MetricReport, scale: float,
                   overall_population: int, overall_baseline: float | None) -> dict[str, tuple[float, Any, Any, int]]:
    """Per group of `current`: (its contribution to the deviation, its value now, its baseline value, its
    population now)."""
    base_rows = {row.group: row for row in baseline.rows}
    key = population_key(metric)
    out: dict[str, tuple[float, Any, Any, int]] = {}
    for row in current.rows:
        now = row.values.get(metric)
        size = int(row.counts.get(key, 0))
        base_row = base_rows.get(row.group)
        before = base_row.values.get(metric) if base_row is not None else None
        if METRICS[metric].unit == "count":
            expected = (before or 0.0) * scale
            out[row.group or ""] = ((now or 0.0) - expected, now, expected, size)
            continue
        if now is None or not overall_population:
            continue
        reference = before if before is not None else overall_baseline
        if reference is None:
            continue
        out[row.group or ""] = (size / overall_population * (now - reference), now, reference, size)
    return out


def explain(session: Session, metric: str, filters: dict[str, str], start: datetime, end: datetime,
            baseline: Sequence[Window], *, top: int = 3) -> Breakdown:
    """The breakdown of `metric` over [start, end) against the `baseline` windows, within `filters`."""
    if not baseline:
        raise MetricError("a breakdown needs at least one baseline window")
    scale = (end - start) / sum((e - s for s, e in baseline), timedelta())
    now_total = _report(session, metric, start, end, None, filters).total
    base_total = _baseline_report(session, metric, baseline, None, filters).total
    current = now_total.values.get(metric)
    expected = base_total.values.get(metric)
    if expected is not None and METRICS[metric].unit == "count":
        expected *= scale
    population = int(now_total.counts.get(population_key(metric), 0))
    if current is None or expected is None or current == expected:
        return Breakdown(current, expected, phrases=top_phrases(session, filters, start, end))
    deviation = current - expected
    overall_base_value = base_total.values.get(metric)

    slices: list[Slice] = []
    for dimension in _dimensions(metric, filters):
        now = _report(session, metric, start, end, dimension, filters)
        before = _baseline_report(session, metric, baseline, dimension, filters)
        for group, (part, value, reference, size) in _contributions(metric, now, before, scale, population,
                                                                    overall_base_value).items():
            if part / deviation > 0.05 and size < WHOLE * population:
                slices.append(Slice(((dimension, group),), part / deviation, value, reference, size))
    slices.sort(key=lambda s: -s.share)
    if slices:
        slices[0] = _refined(session, metric, filters, slices[0], start, end, baseline, scale, population,
                             overall_base_value, deviation)
    chosen = dict(slices[0].labels) if slices else {}
    phrases = top_phrases(session, {**filters, **chosen}, start, end)
    return Breakdown(current, expected, _distinct(slices)[:top], phrases)


def _dimensions(metric: str, filters: dict[str, str]) -> list[str]:
    """The dimensions to slice by: not those already fixed, nor intent for metrics defined by intent or kind
    (their value per intent is 0% or 100%: a tautology, not a cause)."""
    defined_by_intent = metric in INTENT_DEFINED
    return [d for d in DIMENSIONS if d not in filters and not (d == "intent" and defined_by_intent)]


def _distinct(slices: list[Slice]) -> list[Slice]:
    seen: set[tuple[tuple[str, str], ...]] = set()
    out = []
    for item in slices:
        if item.labels not in seen:
            seen.add(item.labels)
            out.append(item)
    return out


def _refined(session: Session, metric: str, filters: dict[str, str], parent: Slice, start: datetime, end: datetime,
             baseline: Sequence[Window], scale: float, population: int, overall_base_value: float | None,
             deviation: float) -> Slice:
    """`parent` narrowed by a second dimension when one cross slice carries most of its share."""
    inside = {**filters, **dict(parent.labels)}
    best = parent
    for dimension in _dimensions(metric, inside):
        now = _report(session, metric, start, end, dimension, inside)
        before = _baseline_report(session, metric, baseline, dimension, inside)
        for group, (part, value, reference, size) in _contributions(metric, now, before, scale, population,
                                                                    overall_base_value).items():
            share = part / deviation
            if size >= WHOLE * parent.population:
                continue  # no narrower than the parent: says nothing more
            if share >= CROSS_SHARE * parent.share and (best is parent or share > best.share):
                best = Slice((*parent.labels, (dimension, group)), share, value, reference, size)
    return best


def top_phrases(session: Session, filters: dict[str, str], start: datetime, end: datetime,
                count: int = 3) -> list[tuple[str, int]]:
    """The `count` word sequences (2-3 words) in the most customer messages of the window within `filters`."""
    created = MESSAGE.c.created_at
    statement = (
        select(MESSAGE.c.text)
        .select_from(MESSAGE.join(TICKET, MESSAGE.c.ticket_id == TICKET.c.id))
        .where(created >= moment(start), created < moment(end), MESSAGE.c.direction == "in",
               *[filter_clause(d, v) for d, v in filters.items() if d != "agent"])
        .order_by(created.desc())
        .limit(MAX_MESSAGES)
    )
    documents: Counter[tuple[str, ...]] = Counter()
    for (text,) in session.execute(statement):
        words = [w.lower() for w in _WORD.findall(text or "")]
        grams: set[tuple[str, ...]] = set()
        for size in (2, 3):
            for i in range(len(words) - size + 1):
                gram = tuple(words[i:i + size])
                if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                    continue
                grams.add(gram)
        documents.update(grams)
    ranked = sorted(((n, len(g), g) for g, n in documents.items() if n >= 2), key=lambda t: (-t[0], -t[1], t[2]))
    chosen: list[tuple[str, int]] = []
    for n, _size, gram in ranked:
        phrase = " ".join(gram)
        if any(phrase in taken or taken in phrase for taken, _ in chosen):
            continue  # "arrived broken" and "box arrived broken" are one phrase
        chosen.append((phrase, n))
        if len(chosen) == count:
            break
    return chosen


def describe(breakdown: Breakdown, label: str, format_value: Any) -> str:
    """"Refund/return request rate 31.0% vs baseline 11.2% (+177%); 62% of the increase: SKU A-123 × region FR"."""
    if breakdown.current is None:
        return f"{label}: no data"
    text = f"{label} {format_value(breakdown.current)}"
    if breakdown.baseline is not None:
        text += f" vs baseline {format_value(breakdown.baseline)}"
        if breakdown.change is not None:
            text += f" ({breakdown.change:+.0%})"
    if breakdown.slices:
        word = "increase" if breakdown.current >= (breakdown.baseline or 0) else "decrease"
        lead = breakdown.slices[0]
        text += f"; {min(lead.share, 1.0):.0%} of the {word}: {lead.text}"
    return text
