"""CSAT surveys end to end on real databases: a resolved ticket's customer is asked once, after the delay, in their
language, through their channel; the answer comes back as an ordinary message in any language; a low rating opens
one follow-up card for the lead; the response rate is a metric."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.csat import CSAT_INTENT
from bot.messages import Action, card_from_payload
from bot.metrics import compute_metrics
from bot.settings import Settings
from handlers.commands import LOCAL_ADMIN
from handlers.commands.executor import executor_from_settings
from models.tables import Agent, AuditEvent, CsatResponse, CsatSurvey, OutboxItem, Ticket
from scheduler.csat_surveys import CsatSurveyJob
from tests.csat.conftest import Clock, Desk, make_desk


def survey_replies(desk: Desk) -> list[OutboxItem]:
    return [item for item in desk.rows(OutboxItem, OutboxItem.kind == "reply")
            if item.payload.get("kind") == "csat_survey"]


def ask(desk: Desk, text: str = "¿Dónde está mi pedido?", customer: str = "c-1",
        language: str | None = None) -> int:
    """A customer writes, an agent resolves, the delay passes, the job asks: the ticket id."""
    ticket_id = desk.write(text, customer, language=language).ticket_id
    assert desk.resolve(ticket_id).ok
    desk.job(desk.clock.advance(hours=1))
    return ticket_id


def test_a_resolved_ticket_is_surveyed_once_after_the_delay_in_the_customers_language(desk: Desk) -> None:
    ticket_id = desk.write("¿Dónde está mi pedido? Lo compré hace dos semanas").ticket_id
    result = desk.resolve(ticket_id)
    assert result.ok and "asked for a rating in 1h" in result.message
    assert desk.resolve(ticket_id).message.startswith(f"Ticket #{ticket_id} was already resolved")

    assert desk.job(desk.clock.advance(minutes=59)).asked == []  # the delay is honoured
    assert survey_replies(desk) == []
    assert desk.job(desk.clock.advance(minutes=1)).asked == [ticket_id]
    assert desk.job(desk.clock.advance(minutes=5)).asked == []
    restarted = CsatSurveyJob(desk.engine, desk.settings)  # a restart (or another replica) asks nothing again
    assert restarted(desk.clock.advance(hours=2)).asked == []

    [item] = survey_replies(desk)
    assert (item.channel, item.target, item.ticket_id) == ("webhook", "c-1", ticket_id)
    assert item.payload["language"] == "es" and "del 1 (muy mal) al 5 (excelente)" in item.payload["text"]
    [survey] = desk.rows(CsatSurvey)
    assert (survey.status, survey.ticket_id, survey.resolved_by) == ("asked", ticket_id, "agent:1")


def test_zero_delay_asks_at_once(engine: Engine, clock: Clock) -> None:
    desk = make_desk(engine, Settings(csat={"delay": "0s"}), clock)
    ticket_id = desk.write("Where is my parcel?").ticket_id
    assert "asked for a rating now" in desk.resolve(ticket_id).message
    assert desk.job(clock.now).asked == [ticket_id]
    assert survey_replies(desk)[0].payload["language"] == "en"


@pytest.mark.parametrize(("question", "answer", "score", "comment"), [
    ("Where is my parcel?", "4/5 quick and friendly", 4, "quick and friendly"),
    ("Où est mon colis ?", "Très bien, merci", 5, "merci"),
    ("我的包裹在哪里？", "不满意，物流太慢", 2, "物流太慢"),
    ("¿Dónde está mi pedido?", "muy malo", 1, None),
    ("Wo ist mein Paket?", "Sehr gut!", 5, None),
    ("荷物はどこですか？", "⭐⭐⭐", 3, None),
])
def test_answers_are_parsed_in_any_language(desk: Desk, question: str, answer: str, score: int,
                                            comment: str | None) -> None:
    ticket_id = ask(desk, question)
    result = desk.write(answer)
    assert (result.action, result.ticket_id, result.intent) == ("csat_answered", ticket_id, CSAT_INTENT)
    [response] = desk.rows(CsatResponse)
    assert (response.ticket_id, response.score, response.comment) == (ticket_id, score, comment)
    [survey] = desk.rows(CsatSurvey)
    assert survey.status == "answered" and response.survey_id == survey.id
    thanks = [i for i in desk.rows(OutboxItem, OutboxItem.kind == "reply") if i.payload["kind"] == "csat_thanks"]
    assert len(thanks) == 1
    assert len(desk.rows(Ticket)) == 1  # the answer opened no ticket


def test_anything_but_a_rating_is_a_new_message_and_the_survey_stays_open(desk: Desk) -> None:
    ticket_id = ask(desk, "Where is my parcel?")
    other = desk.write("2 items are missing from my second order")
    assert other.action != "csat_answered" and other.ticket_id != ticket_id
    assert desk.rows(CsatResponse) == []
    assert desk.write("5").action == "csat_answered"
    assert [r.score for r in desk.rows(CsatResponse)] == [5]


def test_a_redelivered_answer_is_recorded_once(desk: Desk) -> None:
    ask(desk, "Where is my parcel?")
    first = desk.write("5", message_id="answer-1")
    again = desk.write("5", message_id="answer-1")
    assert (first.action, again.action) == ("csat_answered", "duplicate")
    assert first.message_id == again.message_id
    assert len(desk.rows(CsatResponse)) == 1


def test_a_rating_after_the_survey_window_is_a_new_message(desk: Desk) -> None:
    ask(desk, "Where is my parcel?")
    desk.clock.advance(days=8)
    assert desk.write("5").action != "csat_answered"
    assert desk.rows(CsatResponse) == []
    desk.job(desk.clock.now)
    assert desk.rows(CsatSurvey)[0].status == "expired"


def test_a_one_star_answer_opens_one_follow_up_for_the_lead(desk: Desk) -> None:
    with desk.pipeline.engine.begin() as connection:
        connection.execute(Agent.__table__.insert().values(  # type: ignore[attr-defined]
            name="lin", role="manager", languages=[], identities={"slack": "U0LEAD"}, active=True,
            created_at=desk.clock.now))
    ticket_id = ask(desk, "Where is my parcel?")
    assert desk.write("1 - the parcel came broken and nobody helped").action == "csat_answered"
    assert desk.write("1").action != "csat_answered"  # answered already: a new message, no second card

    cards = [card_from_payload(i.payload) for i in desk.rows(OutboxItem, OutboxItem.kind == "card")
             if i.dedup_key.startswith("csat_follow_up:")]
    assert len(cards) == 1
    card = cards[0]
    fields = {f.label: f.value for f in card.fields}
    assert card.title == f"Low CSAT · ticket #{ticket_id}: 1/5"
    assert fields["Comment"] == "the parcel came broken and nobody helped" and fields["Agent"] == "unassigned"
    assert ("@lin", "slack", "U0LEAD") in card.mentions
    assert desk.rows(CsatSurvey)[0].follow_up_at is not None


def test_a_customer_back_with_a_new_problem_is_not_surveyed(desk: Desk) -> None:
    ticket_id = desk.write("Where is my parcel?").ticket_id
    desk.resolve(ticket_id)
    desk.write("And now the charger is broken too")  # a new ticket, open, before the survey was due
    round_ = desk.job(desk.clock.advance(hours=1))
    assert (round_.asked, round_.skipped) == ([], [ticket_id])
    assert survey_replies(desk) == []


def test_resolve_command_on_any_platform_surveys_the_customer(desk: Desk) -> None:
    ticket_id = desk.write("Where is my parcel?").ticket_id
    executor = executor_from_settings(desk.settings, desk.engine)
    answer = executor.execute(f"/resolve {ticket_id} refund sent", LOCAL_ADMIN, platform="cli")
    assert answer.ok and f"Ticket #{ticket_id} resolved" in answer.text
    again = executor.execute(f"/resolve {ticket_id}", LOCAL_ADMIN, platform="cli")
    assert again.ok and "already resolved" in again.text
    [ticket] = desk.rows(Ticket)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    [survey] = desk.rows(CsatSurvey)
    assert survey.resolved_by == "cli"
    update = card_from_payload(desk.rows(OutboxItem, OutboxItem.kind == "card_update")[-1].payload)
    history = {f.label: f.value for f in update.fields}["History"]
    assert "by cli with /resolve" in history and history.endswith(": refund sent")
    assert [e.action for e in desk.rows(AuditEvent, AuditEvent.subject_type == "ticket")] == ["ticket.resolve"]


def test_response_rate_and_csat_by_agent(desk: Desk) -> None:
    for customer in ("c-1", "c-2"):
        ticket_id = desk.write("Where is my parcel?", customer).ticket_id
        assert desk.actions.perform_sync(Action("assign", ticket_id, "console", "mei")).ok
        assert desk.resolve(ticket_id).ok
    desk.job(desk.clock.advance(hours=1))
    desk.write("4", customer="c-1")
    start, end = desk.clock.now - timedelta(days=1), desk.clock.now + timedelta(days=1)
    total = compute_metrics(desk.engine, start, end, names=["csat_mean", "csat_response_rate"]).total
    assert total.values == {"csat_mean": 4.0, "csat_response_rate": 50.0}
    assert (total.counts["csat_surveys_asked"], total.counts["csat_surveys_answered"]) == (2, 1)
    executor = executor_from_settings(desk.settings, desk.engine)
    executor.clock = lambda: end
    answer = executor.execute("/metrics 7d csat by agent", LOCAL_ADMIN, platform="cli")
    assert answer.ok and "CSAT resp." in answer.text
    [row] = [line for line in answer.text.splitlines() if line.startswith("console:mei")]
    assert row.split()[1:] == ["2", "4.00", "50.0%"]
