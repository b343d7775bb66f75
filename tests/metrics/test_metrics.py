"""Each metric against a hand-built set of tickets, its expected values computed by hand (SQLite, PostgreSQL).

The fixture: the window is 1 March 00:00 to 8 March 00:00 2026 UTC. Tickets T1..T11 (T9 created exactly at the
window's end, T10 just before its start) in two regions (EU, US), two channels (webchat, webhook), two agents
(alice, bob) plus unassigned tickets, with their agent/bot/customer messages and CSAT responses. Times are
"day hh:mm" in March; complaints are T2, T3, T6; T7 is kind "other", the rest "faq".

  ticket region channel intent            sev agent created  1st resp fr due   resolved res due  auto
  T1     EU     webchat order_status      3   alice 2 09:00  2 09:10  2 17:00  2 10:00  5 09:00  0
  T2     EU     webchat damaged_item      2   alice 3 10:00  3 10:30  3 10:30  4 10:00  5 10:00  0
  T3     EU     webhook item_not_received 1   bob   4 08:00  4 11:00  4 10:00  5 12:00  5 08:00  0
  T4     EU     webchat shipping_time     3   -     5 09:00  -        -        5 09:30  -        1
  T5     US     webhook refund_status     3   bob   5 12:00  5 13:00  5 12:30  -        8 12:00  0
  T6     US     webchat wrong_item        2   -     7 00:00  -        7 04:00  -        8 00:00  0
  T7     US     webhook greeting          3   -     7 20:00  -        8 04:00  -        -        1
  T8     US     webchat return_policy     3   alice 1 00:00  1 02:00  1 08:00  1 06:00  4 00:00  1
  T9     EU     webchat order_status      3   -     8 00:00  -        -        -        -        0
  T10    EU     webchat customs_duties    3   alice Feb 28 23:59:59, answered 1 01:00, never resolved
  T11    US     webhook order_status      3   bob   7 22:00  8 01:00  8 06:00  8 02:00  10 22:00 0

Agent messages: T1 one, T2 two, T3 three, T5 one, T8 one, T11 one (at 8 01:00, after the end), T10 one.
Bot (auto-reply) messages: T4, T7, T8. CSAT: T1 5, T2 3, T4 2, T8 4; T10 1 (not in the window's population),
T3 1 given at 8 01:00 (after the end).
Population (created in [start, end)): T1 T2 T3 T4 T5 T6 T7 T8 T11 = 9 tickets (EU 4, US 5).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from bot.metrics import (
    DIMENSIONS,
    METRICS,
    NONE_GROUP,
    MetricError,
    MetricReport,
    compute_metric,
    compute_metrics,
    metric_names,
)
from models import session_scope
from models.tables import Agent, CsatResponse, CsatSurvey, Customer, Message, Ticket

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 8, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


FAQ, COMPLAINT, OTHER = "faq", "complaint", "other"


def ticket(
    region: str, channel: str, intent: str, kind: str, severity: int, language: str, sku: str | None,
    marketplace: str | None, agent: str | None, created_at: datetime,
    first_response_at: datetime | None = None, first_response_due: datetime | None = None,
    resolved_at: datetime | None = None, resolution_due: datetime | None = None, auto_replies: int = 0,
) -> dict[str, object]:
    return dict(locals())


TICKETS: dict[str, dict[str, object]] = {
    "T1": ticket("EU", "webchat", "order_status", FAQ, 3, "es", "SKU-1", "amazon", "alice", at(2, 9),
                 at(2, 9, 10), at(2, 17), at(2, 10), at(5, 9)),
    "T2": ticket("EU", "webchat", "damaged_item", COMPLAINT, 2, "de", "SKU-2", "amazon", "alice", at(3, 10),
                 at(3, 10, 30), at(3, 10, 30), at(4, 10), at(5, 10)),
    "T3": ticket("EU", "webhook", "item_not_received", COMPLAINT, 1, "en", "SKU-1", "shopify", "bob",
                 at(4, 8), at(4, 11), at(4, 10), at(5, 12), at(5, 8)),
    "T4": ticket("EU", "webchat", "shipping_time", FAQ, 3, "es", None, "amazon", None, at(5, 9),
                 resolved_at=at(5, 9, 30), auto_replies=1),
    "T5": ticket("US", "webhook", "refund_status", FAQ, 3, "en", "SKU-3", "shopify", "bob", at(5, 12),
                 at(5, 13), at(5, 12, 30), resolution_due=at(8, 12)),
    "T6": ticket("US", "webchat", "wrong_item", COMPLAINT, 2, "en", "SKU-2", "amazon", None, at(7, 0),
                 first_response_due=at(7, 4), resolution_due=at(8, 0)),
    "T7": ticket("US", "webhook", "greeting", OTHER, 3, "fr", None, None, None, at(7, 20),
                 first_response_due=at(8, 4), auto_replies=1),
    "T8": ticket("US", "webchat", "return_policy", FAQ, 3, "en", "SKU-1", "amazon", "alice", at(1, 0),
                 at(1, 2), at(1, 8), at(1, 6), at(4, 0), auto_replies=1),
    "T9": ticket("EU", "webchat", "order_status", FAQ, 3, "es", None, "amazon", None, at(8, 0)),
    "T10": ticket("EU", "webchat", "customs_duties", FAQ, 3, "en", None, "amazon", "alice",
                  at(28, 23, 59, 59, month=2), first_response_at=at(1, 1)),
    "T11": ticket("US", "webhook", "order_status", FAQ, 3, "en", "SKU-3", "shopify", "bob", at(7, 22),
                  at(8, 1), at(8, 6), at(8, 2), at(10, 22)),
}
AGENT_MESSAGES = {
    "T1": [at(2, 9, 10)], "T2": [at(3, 10, 30), at(4, 9)], "T3": [at(4, 11), at(4, 15), at(5, 12)],
    "T5": [at(5, 13)], "T8": [at(1, 2)], "T11": [at(8, 1)], "T10": [at(1, 1)],
}
BOT_MESSAGES = {"T4": [at(5, 9)], "T7": [at(7, 20)], "T8": [at(1, 0)]}
# every ticket's first customer message at its creation, plus follow-ups (T10's falls inside the window)
CUSTOMER_FOLLOW_UPS = {"T2": [at(3, 11)], "T10": [at(2, 12)]}
CSAT = [("T1", 5, at(2, 11)), ("T2", 3, at(4, 11)), ("T4", 2, at(5, 10)), ("T8", 4, at(1, 7)),
        ("T10", 1, at(3, 0)), ("T3", 1, at(8, 1))]
# CSAT surveys (ticket, asked, answered): asked for T1 T2 T3 T4 T8 before the end, T3's answered after it; T10 is
# not in the population, T5's was asked after the end.
SURVEYS = [("T1", at(2, 10), at(2, 11)), ("T2", at(4, 10), at(4, 11)), ("T4", at(5, 9), at(5, 10)),
           ("T8", at(1, 6), at(1, 7)), ("T10", at(2, 23), at(3, 0)), ("T3", at(7, 0), at(8, 1)),
           ("T5", at(8, 2), None)]


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The hand-built tickets above in a fresh database."""
    with session_scope(engine) as session:
        agents = {name: Agent(name=name) for name in ("alice", "bob")}
        session.add_all(agents.values())
        customer = Customer(channel="webchat", external_id="c-1")
        session.add(customer)
        session.flush()
        ids: dict[str, int] = {}
        for key, spec in TICKETS.items():
            fields = dict(spec)
            agent = fields.pop("agent")
            ticket = Ticket(customer_id=customer.id, conversation_id=f"conv-{key}",
                            assignee_id=agents[agent].id if agent else None,  # type: ignore[index]
                            updated_at=fields["created_at"], **fields)  # type: ignore[arg-type]
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            ids[key] = ticket.id
        n = 0

        def message(key: str, direction: str, author_kind: str, created_at: datetime) -> None:
            nonlocal n
            n += 1
            session.add(Message(ticket_id=ids[key], channel=str(TICKETS[key]["channel"]),
                                channel_message_id=f"m{n}", direction=direction, author_kind=author_kind,
                                text="…", created_at=created_at))

        for key, spec in TICKETS.items():
            message(key, "in", "customer", spec["created_at"])  # type: ignore[arg-type]
        for key, times in CUSTOMER_FOLLOW_UPS.items():
            for when in times:
                message(key, "in", "customer", when)
        for key, times in AGENT_MESSAGES.items():
            for when in times:
                message(key, "out", "agent", when)
        for key, times in BOT_MESSAGES.items():
            for when in times:
                message(key, "out", "bot", when)
        # a customer message without a ticket, inside the window: counted, in the "(none)" group
        session.add(Message(ticket_id=None, channel="webchat", channel_message_id="orphan", direction="in",
                            author_kind="customer", text="hello?", created_at=at(6, 6)))
        for key, score, when in CSAT:
            session.add(CsatResponse(ticket_id=ids[key], score=score, created_at=when))
        for key, asked, answered in SURVEYS:
            session.add(CsatSurvey(ticket_id=ids[key], channel="webhook", conversation_id=key, customer_id=key,
                                   status="answered" if answered else "asked", due_at=asked, asked_at=asked,
                                   answered_at=answered))
    yield engine


def report(db: Engine, **kwargs: Any) -> MetricReport:
    return compute_metrics(db, START, END, **kwargs)


def test_volume_and_inbound_messages(db: Engine) -> None:
    total = report(db).total
    # T1 T2 T3 T4 T5 T6 T7 T8 T11 (T8 at the start is in, T9 at the end and T10 before the start are out)
    assert total.values["volume"] == 9
    # first messages of the 9 tickets + T2's follow-up + T10's follow-up (older ticket) + the orphan = 12;
    # T9's (at the end) and T10's first (before the start) are out; agent and bot messages are not inbound
    assert total.values["inbound_messages"] == 12


def test_first_response_time(db: Engine) -> None:
    values = report(db).total.values
    # answered before the end: T1 600 s, T2 1800, T3 10800, T5 3600, T8 7200 (T11 answered after the end)
    # sorted 600 1800 3600 7200 10800; mean 24000/5 = 4800; median at 0.5*4 = 2 -> 3600;
    # p90 at 0.9*4 = 3.6 -> 7200 + (10800-7200)*0.6 = 9360
    assert values["first_response_time_mean"] == pytest.approx(4800)
    assert values["first_response_time_median"] == pytest.approx(3600)
    assert values["first_response_time_p90"] == pytest.approx(9360)


def test_resolution_time(db: Engine) -> None:
    values = report(db).total.values
    # resolved before the end: T1 3600, T2 86400, T3 100800 (28 h), T4 1800, T8 21600 (T11 after the end)
    # sorted 1800 3600 21600 86400 100800; mean 214200/5 = 42840; median 21600;
    # p90 at 3.6 -> 86400 + (100800-86400)*0.6 = 95040
    assert values["resolution_time_mean"] == pytest.approx(42840)
    assert values["resolution_time_median"] == pytest.approx(21600)
    assert values["resolution_time_p90"] == pytest.approx(95040)


def test_sla_compliance(db: Engine) -> None:
    values = report(db).total.values
    # first response: eligible T1 (met), T2 (met: answered exactly at the due time), T3 (late), T5 (late),
    # T6 (unanswered, due 7 04:00 < end: breached), T8 (met); excluded T4 (no due), T7 (due after the end),
    # T11 (answered after the end, due after the end) -> 3/6 = 50 %
    assert values["sla_first_response_compliance"] == pytest.approx(50.0)
    # resolution: eligible T1 (met), T2 (met), T3 (resolved 5 12:00 > due 5 08:00), T8 (met); excluded T4, T7
    # (no due), T5 (due after the end), T6 (due exactly at the end: not yet overdue), T11 -> 3/4 = 75 %
    assert values["sla_resolution_compliance"] == pytest.approx(75.0)


def test_one_touch_auto_reply_complaint_and_refund_rates(db: Engine) -> None:
    values = report(db).total.values
    # resolved: T1 (1 agent message), T2 (2), T3 (3), T4 (0, bot only), T8 (1; its bot message does not count)
    # -> one-touch T1, T8 = 2/5 = 40 %
    assert values["one_touch_resolution_rate"] == pytest.approx(40.0)
    # auto-replied with no agent message: T4, T7 (T8 got an agent reply) -> 2/9
    assert values["auto_reply_rate"] == pytest.approx(200 / 9)
    # complaints T2 T3 T6 -> 3/9
    assert values["complaint_rate"] == pytest.approx(100 / 3)
    # refund/return intents: T2 damaged_item, T5 refund_status, T6 wrong_item, T8 return_policy -> 4/9
    assert values["refund_return_request_rate"] == pytest.approx(400 / 9)


def test_refund_return_intents_are_configurable(db: Engine) -> None:
    # only refund_status: T5 -> 1/9
    only_refunds = {"refund_status"}
    value = compute_metric(db, "refund_return_request_rate", START, END, refund_return_intents=only_refunds)
    assert value == pytest.approx(100 / 9)


def test_csat(db: Engine) -> None:
    values = report(db).total.values
    # responses of population tickets given before the end: T1 5, T2 3, T4 2, T8 4 (T10 not in the
    # population, T3's given after the end) -> 14/4 = 3.5
    assert values["csat_mean"] == pytest.approx(3.5)
    # surveys asked before the end: T1 T2 T3 T4 T8 (T10 not in the population, T5's asked after the end);
    # answered before the end: T1 T2 T4 T8 (T3's after the end) -> 4/5 = 80 %
    assert values["csat_response_rate"] == pytest.approx(80.0)


def test_backlog_by_age(db: Engine) -> None:
    values = report(db).total.values
    # open at the end: T5 (age 2 d 12 h), T6 (exactly 24 h), T7 (exactly 4 h), T11 (2 h, resolved after),
    # T10 (over 7 d, created before the window); T9 (created at the end) is not yet there
    assert values["backlog"] == 5
    assert values["backlog_under_4h"] == 1  # T11
    assert values["backlog_4h_to_24h"] == 1  # T7
    assert values["backlog_1d_to_3d"] == 2  # T5, T6
    assert values["backlog_over_3d"] == 1  # T10


def test_grouping_by_region(db: Engine) -> None:
    result = report(db, group_by="region")
    # US 5 tickets before EU 4
    assert [row.group for row in result.rows] == ["US", "EU", NONE_GROUP]
    eu, us, none = result.rows[1].values, result.rows[0].values, result.rows[2].values
    assert (eu["volume"], us["volume"]) == (4, 5)
    # EU: T1 600, T2 1800, T3 10800 -> mean 4400, median 1800, p90 at 1.8 -> 1800 + 9000*0.8 = 9000
    assert (eu["first_response_time_mean"], eu["first_response_time_median"]) == pytest.approx((4400, 1800))
    assert eu["first_response_time_p90"] == pytest.approx(9000)
    # US: T5 3600, T8 7200 -> mean 5400, median at 0.5 -> 5400, p90 at 0.9 -> 3600 + 3600*0.9 = 6840
    assert (us["first_response_time_mean"], us["first_response_time_median"]) == pytest.approx((5400, 5400))
    assert us["first_response_time_p90"] == pytest.approx(6840)
    # EU resolved T4 1800, T1 3600, T2 86400, T3 100800: mean 192600/4 = 48150,
    # median at 1.5 -> 3600 + 82800*0.5 = 45000, p90 at 2.7 -> 86400 + 14400*0.7 = 96480; US T8 21600 only
    assert eu["resolution_time_mean"] == pytest.approx(48150)
    assert eu["resolution_time_median"] == pytest.approx(45000)
    assert eu["resolution_time_p90"] == pytest.approx(96480)
    assert (us["resolution_time_median"], us["resolution_time_p90"]) == pytest.approx((21600, 21600))
    # first-response SLA: EU T1 T2 met, T3 late -> 2/3; US T8 met, T5 late, T6 overdue -> 1/3
    assert eu["sla_first_response_compliance"] == pytest.approx(200 / 3)
    assert us["sla_first_response_compliance"] == pytest.approx(100 / 3)
    # resolution SLA: EU 2/3 (T3 late), US T8 1/1
    assert (eu["sla_resolution_compliance"], us["sla_resolution_compliance"]) == pytest.approx((200 / 3, 100))
    # one-touch: EU T1 of T1 T2 T3 T4 -> 25 %; US T8 of T8 -> 100 %
    assert (eu["one_touch_resolution_rate"], us["one_touch_resolution_rate"]) == pytest.approx((25, 100))
    # deflection: EU T4 of 4 -> 25 %, US T7 of 5 -> 20 %
    assert (eu["auto_reply_rate"], us["auto_reply_rate"]) == pytest.approx((25, 20))
    # CSAT: EU (5+3+2)/3, US 4; response rate EU 3 of 4 surveys asked, US 1 of 1
    assert (eu["csat_mean"], us["csat_mean"]) == pytest.approx((10 / 3, 4))
    assert (eu["csat_response_rate"], us["csat_response_rate"]) == pytest.approx((75, 100))
    # complaints EU T2 T3 of 4, US T6 of 5; refund/return EU T2 of 4, US T5 T6 T8 of 5
    assert (eu["complaint_rate"], us["complaint_rate"]) == pytest.approx((50, 20))
    assert (eu["refund_return_request_rate"], us["refund_return_request_rate"]) == pytest.approx((25, 60))
    # inbound: EU T1, T2 x2, T3, T4, T10's follow-up = 6; US T5 T6 T7 T8 T11 = 5; the orphan message in (none)
    assert (eu["inbound_messages"], us["inbound_messages"], none["inbound_messages"]) == (6, 5, 1)
    # backlog: EU T10; US T5 T6 T7 T11
    assert (eu["backlog"], us["backlog"], eu["backlog_over_3d"], us["backlog_1d_to_3d"]) == (1, 4, 1, 2)
    # the (none) group has only the orphan message: no tickets, so no rates
    assert none["volume"] == 0 and none["complaint_rate"] is None and none["first_response_time_mean"] is None
    # the total row is unchanged by grouping
    assert result.total.values == pytest.approx(report(db).total.values)


def test_grouping_by_agent_severity_and_channel(db: Engine) -> None:
    by_agent = report(db, group_by="agent", names=["volume", "first_response_time_mean", "backlog"])
    # alice T1 T2 T8, bob T3 T5 T11, nobody T4 T6 T7: ties by name, the empty group last
    expected = [("alice", 3), ("bob", 3), (NONE_GROUP, 3)]
    assert [(r.group, r.values["volume"]) for r in by_agent.rows] == expected
    # alice: 600, 1800, 7200 -> 3200; bob: T3 10800, T5 3600 (T11 after the end) -> 7200; nobody answered
    assert [r.values["first_response_time_mean"] for r in by_agent.rows] == pytest.approx([3200, 7200, None])
    # backlog: alice T10, bob T5 T11, nobody T6 T7
    assert [r.values["backlog"] for r in by_agent.rows] == [1, 2, 2]

    by_severity = report(db, group_by="severity", names=["volume", "complaint_rate"])
    assert [(r.group, r.values["volume"]) for r in by_severity.rows] == [("3", 6), ("2", 2), ("1", 1)]
    assert [r.values["complaint_rate"] for r in by_severity.rows] == pytest.approx([0, 100, 100])

    by_channel = report(db, group_by="channel", names=["volume", "auto_reply_rate"])
    # webchat T1 T2 T4 T6 T8 (T4 deflected) -> 1/5; webhook T3 T5 T7 T11 (T7 deflected) -> 1/4
    assert [(r.group, r.values["volume"]) for r in by_channel.rows] == [("webchat", 5), ("webhook", 4)]
    assert [r.values["auto_reply_rate"] for r in by_channel.rows] == pytest.approx([20, 25])


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_every_dimension_groups_the_whole_population(db: Engine, dimension: str) -> None:
    result = report(db, group_by=dimension, names=["volume", "complaint_rate"])
    assert sum(r.values["volume"] or 0 for r in result.rows) == 9
    volumes = [r.values["volume"] for r in result.rows]
    assert volumes == sorted(volumes, reverse=True)


def test_window_start_is_inclusive_and_end_exclusive(db: Engine) -> None:
    # T8 was created exactly at 1 March 00:00
    assert compute_metric(db, "volume", START, at(1, 6)) == 1
    assert compute_metric(db, "volume", START + timedelta(microseconds=1), at(1, 6)) == 0
    # T11 at 7 22:00 is in [7 22:00, 8 00:00); T9 at exactly 8 00:00 is not, until the end moves past it
    assert compute_metric(db, "volume", at(7, 22), END) == 1
    assert compute_metric(db, "volume", at(7, 22), END + timedelta(microseconds=1)) == 2


def test_state_is_taken_at_the_end_of_the_window(db: Engine) -> None:
    later = at(9)
    # with the end on 9 March, T11 (created 7 22:00) counts as answered (8 01:00, 3 h = 10800 s) and resolved
    # (8 02:00, 4 h = 14400 s); the window [7 22:00, 9 00:00) holds T11 and T9 (created 8 00:00, untouched)
    assert compute_metric(db, "first_response_time_mean", at(7, 22), later) == pytest.approx(10800)
    assert compute_metric(db, "resolution_time_mean", at(7, 22), later) == pytest.approx(14400)
    # ... while with the end at 8 March 00:00 neither had happened yet
    assert compute_metric(db, "first_response_time_mean", at(7, 22), END) is None
    assert compute_metric(db, "resolution_time_mean", at(7, 22), END) is None


def test_empty_window_gives_none_not_zero(db: Engine) -> None:
    values = compute_metrics(db, at(1, month=4), at(8, month=4)).total.values
    counts = {"volume", "inbound_messages", "backlog", "backlog_under_4h", "backlog_4h_to_24h",
              "backlog_1d_to_3d", "backlog_over_3d", "after_sales_requests"}
    assert all(values[name] is None for name in METRICS if name not in counts), values
    assert values["volume"] == 0 and values["inbound_messages"] == 0
    # still open on 8 April: T5, T6, T7, T9 (created 8 March), T10 (T11 was resolved 8 March), all over 3 days
    assert (values["backlog"], values["backlog_over_3d"]) == (5, 5)
    grouped = compute_metrics(db, at(1, month=4), at(8, month=4), group_by="region", names=["volume"])
    assert grouped.rows == [] and grouped.total.values["volume"] == 0


def test_empty_database(engine: Engine) -> None:
    values = compute_metrics(engine, START, END).total.values
    assert all(values[name] is None for name in METRICS if METRICS[name].unit != "count")
    assert all(values[name] == 0 for name in METRICS if METRICS[name].unit == "count")


def test_filters(db: Engine) -> None:
    # EU: complaints T2 T3 of T1..T4
    assert compute_metric(db, "complaint_rate", START, END, {"region": "EU"}) == pytest.approx(50)
    # alice: T1 600, T2 1800, T8 7200 -> 3200
    alice = {"agent": "alice"}
    assert compute_metric(db, "first_response_time_mean", START, END, alice) == pytest.approx(3200)
    # severity as text or number
    assert compute_metric(db, "volume", START, END, {"severity": "2"}) == 2
    assert compute_metric(db, "volume", START, END, {"severity": 1}) == 1
    # "(none)" selects empty values: T7 has no marketplace; unassigned T4 T6 T7
    assert compute_metric(db, "volume", START, END, {"marketplace": NONE_GROUP}) == 1
    assert compute_metric(db, "volume", START, END, {"agent": NONE_GROUP}) == 3
    # filters combine: US webhook = T5 T7 T11; inbound messages of those = 3
    both = {"region": "US", "channel": "webhook"}
    assert compute_metric(db, "volume", START, END, both) == 3
    assert compute_metric(db, "inbound_messages", START, END, both) == 3
    # filters apply to the backlog and CSAT too: US backlog T5 T6 T7 T11; alice's CSAT T1 5, T2 3, T8 4 -> 4
    assert compute_metric(db, "backlog", START, END, {"region": "US"}) == 4
    assert compute_metric(db, "csat_mean", START, END, {"agent": "alice"}) == pytest.approx(4)
    # a filter and a grouping together: alice's tickets by region -> US T8, EU T1 T2
    rows = report(db, group_by="region", names=["volume"], filters={"agent": "alice"}).rows
    assert [(r.group, r.values["volume"]) for r in rows] == [("EU", 2), ("US", 1)]
    # nobody matches: values None, counts 0
    assert compute_metric(db, "complaint_rate", START, END, {"sku": "NOPE"}) is None
    assert compute_metric(db, "volume", START, END, {"sku": "NOPE"}) == 0


def test_counts_back_each_value(db: Engine) -> None:
    counts = report(db).total.counts
    assert counts["tickets"] == 9
    assert (counts["sla_fr_met"], counts["sla_fr_eligible"]) == (3, 6)
    assert (counts["one_touch"], counts["resolved"]) == (2, 5)
    assert (counts["csat_responses"], counts["csat_resolved_responded"]) == (4, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: compute_metrics(e, START, END, names=["nps"]), "unknown metric 'nps'"),
        (lambda e: compute_metrics(e, START, END, group_by="colour"), "unknown group_by 'colour'"),
        (lambda e: compute_metrics(e, START, END, filters={"colour": "red"}), "unknown filter 'colour'"),
        (lambda e: compute_metrics(e, START, END, filters={"severity": "high"}), "filter severity='high'"),
        (lambda e: compute_metrics(e, END, START), "must be before end"),
        (lambda e: compute_metrics(e, START, START), "must be before end"),
        (lambda e: compute_metrics(e, datetime(2026, 3, 1), END), "start must be timezone-aware"),
        (lambda e: compute_metrics(e, START, "2026-03-08"), "end must be a datetime"),
    ],
)
def test_bad_requests_name_the_bad_part(engine: Engine, call: Callable[[Engine], Any], message: str) -> None:
    with pytest.raises(MetricError, match=message.replace("(", r"\(")):
        call(engine)


def test_definitions_are_complete() -> None:
    assert metric_names() == list(METRICS)
    for name, definition in METRICS.items():
        assert definition.name == name
        assert definition.unit in ("seconds", "percent", "count", "score", "amount")
        assert definition.label and definition.description


def test_accepts_a_session(db: Engine) -> None:
    with session_scope(db) as session:
        assert compute_metric(session, "volume", START, END) == 9


def _bare_tickets(engine: Engine, rows: list[tuple[str, datetime, datetime | None, datetime | None]]) -> None:
    """Tickets (region, created, first response, resolved) with nothing else, for the duration tests."""
    with session_scope(engine) as session:
        customer = Customer(channel="webchat", external_id="c-2")
        session.add(customer)
        session.flush()
        for i, (region, created, answered, resolved) in enumerate(rows):
            session.add(Ticket(customer_id=customer.id, channel="webchat", conversation_id=f"d{i}",
                               intent="order_status", kind=FAQ, region=region, created_at=created,
                               updated_at=created, first_response_at=answered, resolved_at=resolved))


def test_durations_are_exact_to_the_microsecond(engine: Engine) -> None:
    base = at(3, 9)
    us = timedelta(microseconds=1)
    _bare_tickets(engine, [
        # 09:00:00.250000 -> 09:00:01.000001 = 0.750001 s
        ("EU", base + 250_000 * us, base + timedelta(seconds=1) + us, None),
        # 09:00:00.900000 -> 09:00:02.100000 = 1.2 s (the fraction of the later time is the smaller)
        ("EU", base + 900_000 * us, base + timedelta(seconds=2, microseconds=100_000), None),
    ])
    values = compute_metrics(engine, START, END, names=["first_response_time_mean",
                                                         "first_response_time_p90"]).total.values
    # mean (0.750001 + 1.2) / 2 = 0.9750005; p90 at 0.9 -> 0.750001 + 0.449999 * 0.9 = 1.1550001
    assert values["first_response_time_mean"] == pytest.approx(0.9750005, abs=1e-9)
    assert values["first_response_time_p90"] == pytest.approx(1.1550001, abs=1e-9)


def test_percentiles_match_a_linear_interpolation_reference(engine: Engine) -> None:
    """Groups of different sizes, with ties: the percentiles equal numpy's linear percentile per group."""

    rng = random.Random(11)
    rows = []
    for region, size in (("EU", 1), ("US", 2), ("JP", 17), ("BR", 40)):
        for _ in range(size):
            created = at(2) + timedelta(minutes=rng.randrange(5000))
            answered = created + timedelta(minutes=rng.randrange(1, 30))  # small range: ties
            resolved = answered + timedelta(seconds=rng.randrange(1, 10**6)) if rng.random() < 0.7 else None
            rows.append((region, created, answered, resolved))
    _bare_tickets(engine, rows)
    report = compute_metrics(engine, START, END, group_by="region")

    def seconds(later: datetime | None, earlier: datetime) -> float | None:  # None: not yet at the end
        return None if later is None or later >= END else (later - earlier).total_seconds()

    for group in [*(row.group for row in report.rows), None]:
        mine = [r for r in rows if group is None or r[0] == group]
        row = report.total if group is None else report.row(str(group))
        for name, index in (("first_response_time", 2), ("resolution_time", 3)):
            values = [s for r in mine if (s := seconds(r[index], r[1])) is not None]
            for label, p in (("median", 50), ("p90", 90)):
                expected = float(np.percentile(values, p)) if values else None
                got = row.values[f"{name}_{label}"]
                assert got == (expected if expected is None else pytest.approx(expected, rel=1e-12)), group
