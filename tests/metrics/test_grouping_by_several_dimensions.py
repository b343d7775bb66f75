"""`compute_metrics(group_by=(...))`: slicing by two or three dimensions at once, one row per combination that
occurs, checked against numbers worked out by hand; the single-dimension form is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.metrics import NONE_GROUP, MetricError, compute_metrics
from models import session_scope
from models.tables import Agent, CsatResponse, Customer, Message, Ticket

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=1)
NAMES = ["volume", "first_response_time_mean", "first_response_time_median", "complaint_rate", "backlog",
         "inbound_messages", "csat_mean"]


def at(hour: int, minute: int = 0) -> datetime:
    return START + timedelta(hours=hour, minutes=minute)


# key: marketplace, region, kind, agent, created, first response, resolved, CSAT score
TICKETS = {
    "A": ("amazon", "FR", "complaint", "alice", at(9), at(9, 10), None, None),
    "B": ("amazon", "FR", "faq", "alice", at(10), at(11), at(12), 5),
    "C": ("amazon", "FR", "faq", "bob", at(11), at(11, 20), at(11, 30), 3),
    "D": ("amazon", "DE", "complaint", "bob", at(9, 30), at(10, 30), at(15), None),
    "E": ("shopify", "FR", "complaint", None, at(12), None, None, None),
    "F": (None, "DE", "faq", None, at(13), at(13, 5), at(14), 2),
    "G": ("amazon", "FR", "faq", None, at(-4), None, None, None),  # before the window, still open at its end
    "H": ("amazon", "FR", "faq", None, at(25), None, None, None),  # after the window
}


@pytest.fixture
def db(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        agents = {name: Agent(name=name) for name in ("alice", "bob")}
        customer = Customer(channel="webchat", external_id="c-1")
        session.add_all([*agents.values(), customer])
        session.flush()
        for key, (marketplace, region, kind, agent, created, answered, resolved, score) in TICKETS.items():
            ticket = Ticket(customer_id=customer.id, conversation_id=key, channel="webchat", intent="order_status",
                            kind=kind, severity=3, marketplace=marketplace, region=region,
                            assignee_id=agents[agent].id if agent else None, created_at=created, updated_at=created,
                            first_response_at=answered, resolved_at=resolved,
                            status="resolved" if resolved else "open")
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, channel="webchat", channel_message_id=f"{key}-1", direction="in",
                                author_kind="customer", text="hello", created_at=created))
            if key == "G":  # G's customer writes again inside the window
                session.add(Message(ticket_id=ticket.id, channel="webchat", channel_message_id="G-2", direction="in",
                                    author_kind="customer", text="any news?", created_at=at(8)))
            if score is not None:
                session.add(CsatResponse(ticket_id=ticket.id, score=score, created_at=at(16)))
    return engine


def test_two_dimensions_give_one_row_per_combination_with_hand_computed_values(db: Engine) -> None:
    report = compute_metrics(db, START, END, group_by=("marketplace", "region"), names=NAMES)
    assert report.group_by == ("marketplace", "region")
    # By volume, then by name; the group with an empty marketplace last.
    assert [row.labels for row in report.rows] == [
        {"marketplace": "amazon", "region": "FR"}, {"marketplace": "amazon", "region": "DE"},
        {"marketplace": "shopify", "region": "FR"}, {"marketplace": NONE_GROUP, "region": "DE"}]
    assert [row.group for row in report.rows] == ["amazon × FR", "amazon × DE", "shopify × FR", "(none) × DE"]

    amazon_fr = report.row({"marketplace": "amazon", "region": "FR"}).values
    # A B C: first responses 600 s, 3600 s, 1200 s -> mean 1800, median 1200; A is the one complaint of three;
    # open at the end: A and G (created earlier); customer messages: A B C and G's follow-up; CSAT (5 + 3) / 2.
    assert amazon_fr == pytest.approx({"volume": 3, "first_response_time_mean": 1800,
                                       "first_response_time_median": 1200, "complaint_rate": 100 / 3,
                                       "backlog": 2, "inbound_messages": 4, "csat_mean": 4})
    assert report.row({"marketplace": "amazon", "region": "DE"}).values == pytest.approx(
        {"volume": 1, "first_response_time_mean": 3600, "first_response_time_median": 3600, "complaint_rate": 100,
         "backlog": 0, "inbound_messages": 1, "csat_mean": None})
    assert report.row({"marketplace": "shopify", "region": "FR"}).values == pytest.approx(
        {"volume": 1, "first_response_time_mean": None, "first_response_time_median": None, "complaint_rate": 100,
         "backlog": 1, "inbound_messages": 1, "csat_mean": None})
    assert report.row("(none) × DE").values == pytest.approx(
        {"volume": 1, "first_response_time_mean": 300, "first_response_time_median": 300, "complaint_rate": 0,
         "backlog": 0, "inbound_messages": 1, "csat_mean": 2})
    # The total is the ungrouped report's: 300, 600, 1200, 3600, 3600 s -> mean 1860, median 1200.
    assert report.total.values["first_response_time_mean"] == pytest.approx(1860)
    assert report.total.values == pytest.approx(compute_metrics(db, START, END, names=NAMES).total.values)


def test_the_order_of_the_dimensions_orders_the_labels_not_the_numbers(db: Engine) -> None:
    report = compute_metrics(db, START, END, group_by=["region", "marketplace"], names=["volume"])
    row = report.row({"region": "FR", "marketplace": "amazon"})
    assert (row.group, list(row.labels), row.values["volume"]) == ("FR × amazon", ["region", "marketplace"], 3)


def test_the_assignee_and_three_dimensions_slice_in_one_query(db: Engine) -> None:
    by_agent = compute_metrics(db, START, END, group_by=("agent", "kind"), names=["volume", "first_response_time_mean"])
    assert [(row.group, row.values["volume"], row.values["first_response_time_mean"]) for row in by_agent.rows] == [
        ("alice × complaint", 1, 600), ("alice × faq", 1, 3600), ("bob × complaint", 1, 3600), ("bob × faq", 1, 1200),
        ("(none) × complaint", 1, None), ("(none) × faq", 1, 300)]

    three = compute_metrics(db, START, END, group_by=("marketplace", "region", "kind"), names=["volume",
                                                                                           "first_response_time_mean"])
    assert len(three.rows) == 5
    faq = three.row({"marketplace": "amazon", "region": "FR", "kind": "faq"}).values
    assert faq == pytest.approx({"volume": 2, "first_response_time_mean": 2400})  # B 3600 s, C 1200 s


def test_one_dimension_as_a_string_still_gives_its_value_as_the_group(db: Engine) -> None:
    report = compute_metrics(db, START, END, group_by="region", names=["volume"])
    assert report.group_by == ("region",)
    assert [(row.group, row.labels, row.values["volume"]) for row in report.rows] == [
        ("FR", {"region": "FR"}, 4), ("DE", {"region": "DE"}, 2)]


@pytest.mark.parametrize(("group_by", "message"), [
    (("marketplace", "region", "kind", "channel"), "group_by has 4 dimensions (marketplace, region, kind, "
                                                   "channel); at most 3"),
    (("region", "region"), "group_by names 'region' twice"),
    (("region", "colour"), "unknown group_by 'colour'"),
    (7, "group_by must be a dimension or a sequence of dimensions, got int"),
])
def test_a_bad_group_by_names_the_problem(engine: Engine, group_by: object, message: str) -> None:
    with pytest.raises(MetricError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute_metrics(engine, START, END, group_by=group_by, names=["volume"])  # type: ignore[arg-type]
