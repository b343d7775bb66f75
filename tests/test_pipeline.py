"""The pipeline on real databases (SQLite, and PostgreSQL when configured): tickets, SLA clocks, auto-reply or
suggest, the outbox rows written with the message, agent replies.

The classifier and the templates are small stand-ins with fixed answers, so that each test states exactly what
the message "means"; language detection is the real one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import CustomerInfo, Inbound, card_from_payload
from bot.pipeline import Pipeline, TicketNotFound
from bot.replies import DEFAULT_FOOTERS
from bot.settings import ReplySettings, Settings
from intents.classifier import Prediction
from models.tables import Customer, Message, OutboxItem, Ticket

INTENTS = {  # name -> (kind, severity)
    "order_status": ("faq", 3),
    "shipping_time": ("faq", 3),
    "return_policy": ("faq", 3),
    "item_not_received": ("complaint", 1),
    "damaged_item": ("complaint", 2),
    "greeting": ("other", 3),
}


class FixedClassifier:
    """Answers the intent registered for a text (`unknown` otherwise), with the given confidence."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, float]] = {}

    def says(self, text: str, intent: str, confidence: float = 0.9) -> str:
        self.answers[text] = (intent, confidence)
        return text

    def predict(self, text: str) -> Prediction:
        intent, confidence = self.answers.get(text, ("unknown", 0.2))
        kind, severity = INTENTS.get(intent, ("other", 3))
        return Prediction(intent=intent, kind=kind, severity=severity, confidence=confidence,
                          runner_up="greeting", runner_up_confidence=0.1,
                          best_guess=intent if intent != "unknown" else "order_status")


@dataclass(frozen=True)
class Rendered:
    intent: str
    language: str
    template: str
    text: str | None
    missing: tuple[str, ...] = ()


@dataclass
class FixedTemplates:
    """order_status needs {order_id}; shipping_time needs nothing; return_policy exists in English only."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def render(self, intent: str, language: str, variables: dict[str, Any],
               marketplace: str | None = None) -> Rendered | None:
        self.calls.append((intent, language))
        if intent == "order_status":
            if "order_id" not in variables:
                return Rendered(intent, language, f"{intent}.{language}.j2", None, ("order_id",))
            text = {"es": "Tu pedido {order_id} está en camino.", "en": "Your order {order_id} is on its way."}
            return Rendered(intent, language, f"{intent}.{language}.j2",
                            text.get(language, text["en"]).format(**variables))
        if intent == "shipping_time":
            text = {"es": "El envío tarda de 7 a 12 días.", "en": "Shipping takes 7 to 12 days."}
            return Rendered(intent, language, f"{intent}.{language}.j2", text.get(language, text["en"]))
        if intent == "return_policy":
            return Rendered(intent, "en", "return_policy.en.j2", "You can return items within 30 days.")
        return None


@pytest.fixture
def classifier() -> FixedClassifier:
    return FixedClassifier()


@pytest.fixture
def settings() -> Settings:
    return Settings(replies=ReplySettings(max_auto_replies_per_conversation=2, auto_reply_min_confidence=0.6))


@pytest.fixture
def pipeline(engine: Engine, classifier: FixedClassifier, settings: Settings) -> Pipeline:
    return Pipeline(engine, classifier, FixedTemplates(), settings)


_counter = iter(range(1, 10_000))


def inbound(text: str, customer: str = "cust-1", *, message_id: str | None = None, **kwargs: Any) -> Inbound:
    info = kwargs.pop("customer_info", None) or CustomerInfo(id=customer, name="Ana", country="MX")
    return Inbound(channel="webhook", channel_message_id=message_id or f"m-{next(_counter)}", customer=info,
                   text=text, **kwargs)


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def rows(engine: Engine, table: type, *where: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.scalars(select(table).where(*where).order_by(table.id)))


def test_a_complaint_opens_a_severity_1_ticket_with_its_sla_and_a_triage_card(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    text = classifier.says("一直没有收到货", "item_not_received", 0.93)
    result = pipeline.ingest_sync(inbound(text, order_id="A-1001", marketplace="amazon.es"))

    assert (result.intent, result.action, result.language) == ("item_not_received", "suggested", "zh")
    ticket = rows(engine, Ticket)[0]
    assert (ticket.id, ticket.severity, ticket.kind, ticket.status) == (result.ticket_id, 1, "complaint", "new")
    assert ticket.first_response_due - ticket.created_at == timedelta(hours=2)
    assert ticket.resolution_due - ticket.created_at == timedelta(hours=24)
    assert ticket.region == "MX" and ticket.order_id == "A-1001"
    [item] = rows(engine, OutboxItem)
    assert (item.kind, item.channel, item.target, item.ticket_id) == ("card", "console", "", ticket.id)
    assert item.dedup_key == f"card:{ticket.id}:{result.message_id}"
    card = card_from_payload(item.payload)
    assert card.body == text and card.severity == 1 and card.ticket_id == ticket.id
    fields = {f.label: f.value for f in card.fields}
    assert fields["Intent"].startswith("item_not_received (0.93)")
    assert fields["Language"].startswith("zh")
    assert fields["Marketplace"] == "amazon.es"
    assert fields["First response due"] == ticket.first_response_due.isoformat(timespec="minutes")
    assert [b.action for b in card.buttons] == ["send", "edit", "assign", "escalate", "resolve", "wrong_intent",
                                                "request_reship", "request_refund"]  # after-sales (not received)


def test_a_confident_faq_is_auto_replied_in_the_customers_language(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    text = classifier.says("¿dónde está mi pedido?", "order_status", 0.88)
    result = pipeline.ingest_sync(inbound(text, order_id="A-7"))

    assert (result.action, result.language) == ("auto_replied", "es")
    [item] = rows(engine, OutboxItem)
    assert (item.kind, item.channel, item.target, item.dedup_key) == ("reply", "webhook", "cust-1",
                                                                      f"reply:{result.message_id}")
    sent = "Tu pedido A-7 está en camino.\n\n" + DEFAULT_FOOTERS["es"]  # says it is automatic, in Spanish
    assert item.payload == {"ticket_id": result.ticket_id, "conversation_id": "cust-1", "customer_id": "cust-1",
                            "text": sent, "language": "es", "kind": "auto_reply"}
    bot_messages = rows(engine, Message, Message.direction == "out")
    assert [(m.author_kind, m.text) for m in bot_messages] == [("bot", sent)]
    ticket = rows(engine, Ticket)[0]
    # Answered by the bot: waiting on the customer; a person's first response is still to come.
    assert ticket.auto_replies == 1 and ticket.status == "pending" and ticket.first_response_at is None


def test_an_unsure_faq_or_one_missing_a_variable_is_suggested_not_sent(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    unsure = classifier.says("how long does shipping take to Chile", "shipping_time", 0.55)
    assert pipeline.ingest_sync(inbound(unsure, "c-unsure")).action == "suggested"
    no_order = classifier.says("where is my order?", "order_status", 0.95)
    result = pipeline.ingest_sync(inbound(no_order, "c-no-order"))

    assert result.action == "suggested"
    items = rows(engine, OutboxItem)
    assert [i.kind for i in items] == ["card", "card"]
    assert card_from_payload(items[0].payload).suggested_reply == "Shipping takes 7 to 12 days."
    card = card_from_payload(items[1].payload)
    assert card.suggested_reply is None
    assert {f.label: f.value for f in card.fields}["Missing for the suggested reply"] == "order_id"
    assert count(engine, Message) == 2  # no bot message for a suggestion


def test_a_follow_up_joins_the_open_ticket_and_a_resolved_ticket_is_not_reopened(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    first = pipeline.ingest_sync(inbound(classifier.says("my parcel is damaged", "damaged_item")))
    second = pipeline.ingest_sync(inbound("here is a photo of the box"))
    assert second.ticket_id == first.ticket_id
    other_customer = pipeline.ingest_sync(inbound("hello there", "cust-2"))
    assert other_customer.ticket_id != first.ticket_id

    with Session(engine) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        ticket.status = "resolved"
        session.add(ticket)
        session.commit()
    third = pipeline.ingest_sync(inbound(classifier.says("it broke again", "damaged_item")))

    assert third.ticket_id not in (first.ticket_id, other_customer.ticket_id)
    assert [m.ticket_id for m in rows(engine, Message, Message.author == "cust-1")] == [
        first.ticket_id, first.ticket_id, third.ticket_id]
    assert count(engine, Customer) == 2


def test_an_explicit_conversation_id_keeps_conversations_of_one_customer_apart(
    pipeline: Pipeline, classifier: FixedClassifier
) -> None:
    text = classifier.says("my parcel is damaged", "damaged_item")
    a = pipeline.ingest_sync(inbound(text, conversation_id="order-A"))
    b = pipeline.ingest_sync(inbound(text, conversation_id="order-B"))
    a_again = pipeline.ingest_sync(inbound(text, conversation_id="order-A"))
    assert a.ticket_id != b.ticket_id and a_again.ticket_id == a.ticket_id


def test_a_more_severe_follow_up_escalates_the_ticket_and_tightens_its_due_times(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    first = pipeline.ingest_sync(inbound(classifier.says("how long is shipping?", "shipping_time", 0.5)))
    before = rows(engine, Ticket)[0]
    assert (before.severity, before.intent) == (3, "shipping_time")

    pipeline.ingest_sync(inbound(classifier.says("it has been 40 days, nothing arrived", "item_not_received")))
    after = rows(engine, Ticket)[0]
    assert after.id == first.ticket_id
    assert after.severity == 1
    assert after.intent == "shipping_time"  # the first in-scope intent stays
    assert after.first_response_due < before.first_response_due
    assert after.resolution_due < before.resolution_due
    assert after.first_response_due - after.updated_at == timedelta(hours=2)

    pipeline.ingest_sync(inbound(classifier.says("can I return it?", "return_policy", 0.3)))
    assert rows(engine, Ticket)[0].severity == 1  # a milder follow-up never lowers it


def test_an_unknown_first_message_takes_the_intent_of_the_first_in_scope_follow_up(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    first = pipeline.ingest_sync(inbound("asdf qwerty"))
    assert first.intent == "unknown" and first.action == "suggested"
    pipeline.ingest_sync(inbound(classifier.says("my parcel is damaged", "damaged_item")))
    ticket = rows(engine, Ticket)[0]
    assert (ticket.intent, ticket.kind, ticket.severity) == ("damaged_item", "complaint", 2)


def test_auto_replies_stop_at_the_per_conversation_cap(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    text = classifier.says("how long does shipping take?", "shipping_time", 0.9)
    actions = [pipeline.ingest_sync(inbound(text)).action for _ in range(3)]

    assert actions == ["auto_replied", "auto_replied", "suggested"]  # the cap is 2 in these settings
    assert [i.kind for i in rows(engine, OutboxItem)] == ["reply", "reply", "card"]
    assert rows(engine, Ticket)[0].auto_replies == 2


def test_the_customers_stated_language_wins_only_when_detection_is_unsure(
    pipeline: Pipeline, classifier: FixedClassifier
) -> None:
    german = CustomerInfo(id="c-de", language="de")
    assert pipeline.ingest_sync(inbound("ok", customer_info=german)).language == "de"
    assert pipeline.ingest_sync(inbound("¿dónde está mi pedido? no llega nunca", customer_info=german)).language == "es"
    assert pipeline.ingest_sync(inbound("ok", "c-none")).language not in (None, "de")  # the guess, however weak


def test_a_redelivered_message_is_a_duplicate_and_creates_nothing(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    message = inbound(classifier.says("how long does shipping take?", "shipping_time"), message_id="dup-1")
    first = pipeline.ingest_sync(message)
    counts = [count(engine, t) for t in (Customer, Ticket, Message, OutboxItem)]

    again = pipeline.ingest_sync(message)

    assert again.action == "duplicate"
    assert (again.ticket_id, again.message_id, again.intent) == (first.ticket_id, first.message_id, first.intent)
    assert [count(engine, t) for t in (Customer, Ticket, Message, OutboxItem)] == counts


def test_concurrent_deliveries_of_one_message_store_it_once(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    message = inbound(classifier.says("my parcel is damaged", "damaged_item"), "c-race", message_id="race-1")
    barrier = threading.Barrier(4)
    results: list[str] = []

    def deliver() -> None:
        barrier.wait()
        results.append(pipeline.ingest_sync(message).action)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "suggested"]
    assert (count(engine, Customer), count(engine, Ticket), count(engine, Message), count(engine, OutboxItem)) == (
        1, 1, 1, 1)


def test_an_agent_reply_is_queued_and_sets_first_response_once(
    pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    result = pipeline.ingest_sync(inbound(classifier.says("my parcel is damaged", "damaged_item")))
    assert rows(engine, Ticket)[0].first_response_at is None

    first = pipeline.record_agent_reply_sync(result.ticket_id, "li.wei", "Sorry! A replacement is on its way.")
    answered_at = rows(engine, Ticket)[0].first_response_at
    pipeline.record_agent_reply_sync(result.ticket_id, "li.wei", "Tracking number: LX123")

    ticket = rows(engine, Ticket)[0]
    assert answered_at is not None and ticket.first_response_at == answered_at
    assert ticket.status == "open"
    replies = rows(engine, OutboxItem, OutboxItem.kind == "reply")
    assert [(i.dedup_key, i.payload["text"], i.payload["kind"]) for i in replies] == [
        (f"agent_reply:{first.id}", "Sorry! A replacement is on its way.", "agent_reply"),
        (f"agent_reply:{first.id + 1}", "Tracking number: LX123", "agent_reply"),
    ]
    assert {(i.channel, i.target) for i in replies} == {("webhook", "cust-1")}
    agent_messages = rows(engine, Message, Message.author_kind == "agent")
    assert [m.author for m in agent_messages] == ["li.wei", "li.wei"]


def test_an_agent_reply_to_a_missing_ticket_or_without_text_is_refused(
    pipeline: Pipeline, engine: Engine
) -> None:
    with pytest.raises(TicketNotFound, match="ticket 999 does not exist"):
        pipeline.record_agent_reply_sync(999, "li.wei", "hello")
    result = pipeline.ingest_sync(inbound("hello"))
    with pytest.raises(ValueError, match="needs text"):
        pipeline.record_agent_reply_sync(result.ticket_id, "li.wei", "   ")
    assert count(engine, OutboxItem) == 1  # only the card of "hello"


async def test_ingest_runs_in_a_thread_and_wakes_the_outbox(
    engine: Engine, classifier: FixedClassifier, settings: Settings
) -> None:
    woken: list[int] = []
    pipeline = Pipeline(engine, classifier, FixedTemplates(), settings, on_enqueued=lambda: woken.append(1))
    message = inbound(classifier.says("how long does shipping take?", "shipping_time"))
    assert (await pipeline.ingest(message)).action == "auto_replied"
    assert (await pipeline.ingest(message)).action == "duplicate"
    assert woken == [1]  # a duplicate enqueues nothing, so it wakes nothing


def test_a_faq_from_a_channel_that_cannot_deliver_replies_is_suggested_with_the_reply(
    engine: Engine, classifier: FixedClassifier, settings: Settings
) -> None:
    pipeline = Pipeline(engine, classifier, FixedTemplates(), settings, reply_channels=frozenset({"webchat"}))
    result = pipeline.ingest_sync(inbound(classifier.says("how long does shipping take?", "shipping_time")))

    assert result.action == "suggested"
    [item] = rows(engine, OutboxItem)
    assert item.kind == "card"
    assert card_from_payload(item.payload).suggested_reply == "Shipping takes 7 to 12 days."
