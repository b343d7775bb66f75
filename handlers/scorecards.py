"""Agent scorecards: per agent over a window, the numbers a team lead reviews and one weighted score with a grade.

Population: the tickets CREATED in [start, end) and assigned to the agent (Ticket.assignee_id), with the
definitions of bot.metrics (states as of `end`).

Per agent: handled tickets, median first response and resolution times, SLA compliance, one-touch resolution,
CSAT and its survey response rate, suggestion acceptance, the queue, the score and the grade.

The score. Each component is normalised to 0..100:
- sla: (first responses met + resolutions met) / (first-response eligible + resolution eligible) · 100, the
  eligible tickets as bot.metrics defines them (answered/resolved, or overdue);
- csat: (mean CSAT score − 1) / 4 · 100 (scores 1..5);
- one_touch: one-touch resolution rate, % of resolved tickets;
- acceptance: bot.metrics' auto_reply_acceptance_rate on the agent's tickets: kefu's suggestions sent as
  suggested (outcome "accepted"), % of the decided ones (accepted, edited, rejected);
- response_time: the percentile rank of the agent's median first response time among the agents of the same
  queue: 100 · (peers with a slower median + ½ · peers with an equal one) / (peers), so the fastest of a queue
  scores 100 and the slowest 0. A queue is the (language, marketplace) pair most of the agent's tickets in the
  window belong to; agents are compared only with agents of their own queue, so a German Amazon queue is not
  measured against an English web-shop queue. The medians compared are in business hours (the working time
  the SLA counts, so tickets that arrive at night or over a weekend do not count against whoever takes them
  in the morning); in a queue where an agent has none (tickets answered before kefu recorded working time)
  the wall-clock medians are compared instead.
score = Σ weightᵢ · componentᵢ / Σ weightᵢ over the components that have a value (a component without data,
e.g. no CSAT response, or an agent alone in the queue for response_time, is left out and the other weights
count proportionally). Weights come from the `scorecards` settings (default sla 0.30, csat 0.25, one_touch 0.15,
response_time 0.15, acceptance 0.15). Grade: "excellent" when score ≥ `excellent` (90), "qualified" when
≥ `qualified` (75), otherwise "needs improvement"; no score (and no grade) for an agent without tickets.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.metrics import MetricRow, compute_metrics
from bot.settings import ScorecardSettings
from models.tables import Agent, Ticket

SCORECARD_METRICS = (
    "volume",
    "first_response_time_median",
    "first_response_time_business_median",
    "resolution_time_median",
    "sla_first_response_compliance",
    "sla_resolution_compliance",
    "one_touch_resolution_rate",
    "csat_mean",
    "csat_response_rate",
    "auto_reply_acceptance_rate",
)
GRADES = ("excellent", "qualified", "needs improvement")


@dataclass(frozen=True)
class Scorecard:
    agent: str
    queue: str  # "de · amazon"; "(none)" parts where tickets have no language or marketplace
    handled: int
    first_response_median: float | None  # seconds
    resolution_median: float | None  # seconds
    sla_compliance: float | None  # percent
    one_touch: float | None  # percent
    csat: float | None  # mean score 1..5
    acceptance: float | None  # percent
    components: dict[str, float]  # normalised 0..100, only those with a value
    score: float | None
    grade: str | None
    queue_rank: int | None = None  # 1 = best score in the queue
    queue_size: int = 1
    first_response_business_median: float | None = None  # seconds of working time
    csat_response_rate: float | None = None  # percent of the agent's tickets' surveys that customers answered


def grade_for(score: float | None, settings: ScorecardSettings) -> str | None:
    if score is None:
        return None
    if score >= settings.excellent:
        return "excellent"
    if score >= settings.qualified:
        return "qualified"
    return "needs improvement"


def weighted_score(components: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Σ wᵢ·cᵢ / Σ wᵢ over the components present with a positive weight; None when none is."""
    used = {name: value for name, value in components.items() if weights.get(name, 0) > 0}
    total_weight = sum(weights[name] for name in used)
    if not total_weight:
        return None
    return sum(weights[name] * value for name, value in used.items()) / total_weight


def _percentile_ranks(values: Mapping[str, float]) -> dict[str, float]:
    """Per agent: 100 · (peers slower + ½ peers equal) / peers (lower times are better); {} for a lone agent."""
    ranks: dict[str, float] = {}
    if len(values) < 2:
        return ranks
    for agent, mine in values.items():
        peers = [v for a, v in values.items() if a != agent]
        slower = sum(1 for v in peers if v > mine)
        equal = sum(1 for v in peers if v == mine)
        ranks[agent] = 100.0 * (slower + 0.5 * equal) / len(peers)
    return ranks


def _queues(engine: Engine, start: datetime, end: datetime) -> dict[str, str]:
    query = (
        select(Agent.name, Ticket.language, Ticket.marketplace, func.count())
        .join(Agent, Agent.id == Ticket.assignee_id)  # type: ignore[arg-type]
        .where(Ticket.created_at >= start, Ticket.created_at < end)  # type: ignore[arg-type]
        .group_by(Agent.name, Ticket.language, Ticket.marketplace)
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with engine.connect() as connection:
        for name, language, marketplace, n in connection.execute(query):
            counts[name][f"{language or '(none)'} · {marketplace or '(none)'}"] += int(n)
    # most tickets first; ties by name so that the answer is stable
    return {name: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for name, c in counts.items()}


def _response_time_ranks(rows: Mapping[str, MetricRow], queues: Mapping[str, str]) -> dict[str, float]:
    """Per agent, the response_time component: business-hours medians ranked within the queue, or wall-clock
    ones where some agent of the queue has no business-hours median."""
    by_queue: dict[str, dict[str, tuple[float, float | None]]] = defaultdict(dict)
    for name, row in rows.items():
        median = row.values["first_response_time_median"]
        if median is not None:
            by_queue[queues[name]][name] = (median, row.values["first_response_time_business_median"])
    ranks: dict[str, float] = {}
    for members in by_queue.values():
        business = {name: b for name, (_, b) in members.items() if b is not None}
        wall_clock = {name: w for name, (w, _) in members.items()}
        ranks.update(_percentile_ranks(business if len(business) == len(members) else wall_clock))
    return ranks


def team_scorecards(
    engine: Engine, start: datetime, end: datetime, settings: ScorecardSettings | None = None
) -> list[Scorecard]:
    """Every agent with tickets in the window, ordered by queue, then score (best first), then name."""
    settings = settings or ScorecardSettings()
    report = compute_metrics(engine, start, end, group_by="agent", names=list(SCORECARD_METRICS))
    queues = _queues(engine, start, end)
    rows = {row.group: row for row in report.rows if row.group in queues}
    response_ranks = _response_time_ranks(rows, queues)

    cards: list[Scorecard] = []
    for name, row in rows.items():
        counts = row.counts
        eligible = counts.get("sla_fr_eligible", 0) + counts.get("sla_res_eligible", 0)
        sla = 100.0 * (counts.get("sla_fr_met", 0) + counts.get("sla_res_met", 0)) / eligible if eligible else None
        csat = row.values["csat_mean"]
        one_touch = row.values["one_touch_resolution_rate"]
        acceptance = row.values["auto_reply_acceptance_rate"]
        components: dict[str, float] = {}
        if sla is not None:
            components["sla"] = sla
        if csat is not None:
            components["csat"] = (csat - 1.0) / 4.0 * 100.0
        if one_touch is not None:
            components["one_touch"] = one_touch
        if acceptance is not None:
            components["acceptance"] = acceptance
        if name in response_ranks:
            components["response_time"] = response_ranks[name]
        score = weighted_score(components, settings.weights) if counts.get("tickets") else None
        cards.append(Scorecard(
            agent=name, queue=queues[name], handled=int(counts.get("tickets", 0)),
            first_response_median=row.values["first_response_time_median"],
            resolution_median=row.values["resolution_time_median"],
            sla_compliance=sla, one_touch=one_touch, csat=csat, acceptance=acceptance,
            components=components, score=score, grade=grade_for(score, settings),
            first_response_business_median=row.values["first_response_time_business_median"],
            csat_response_rate=row.values["csat_response_rate"],
        ))

    ranked: list[Scorecard] = []
    for queue in sorted({card.queue for card in cards}):
        members = sorted((c for c in cards if c.queue == queue),
                         key=lambda c: (c.score is None, -(c.score or 0.0), c.agent))
        for rank, card in enumerate(members, start=1):
            ranked.append(Scorecard(**{**card.__dict__, "queue_rank": rank if card.score is not None else None,
                                       "queue_size": len(members)}))
    return ranked


def find_agent(engine: Engine, who: str) -> Agent | None:
    """The agent named `who` (case-insensitive), or whose platform identity is `who`."""
    wanted = who.lstrip("@").casefold()
    with Session(engine) as session:
        for agent in session.scalars(select(Agent)):
            names = {agent.name, *(agent.identities or {}).values()}
            if wanted in {str(n).casefold() for n in names}:
                session.expunge(agent)
                return agent
    return None
