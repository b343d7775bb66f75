"""Order context in the pipeline, on real databases, against a fake Shopify: the reply carries the real status,
carrier and tracking link; an unknown or stuck order is suggested with the reason on the card; a slow Shopify
never holds the reply; a high-value customer's ticket is more urgent and its card says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.customer_profiles import add_tag
from bot.messages import Card, CustomerInfo, Inbound, card_from_payload
from bot.order_context import OrderLookup
from bot.order_context.hook import OrderLookupHook
from bot.order_context.shopify import ShopifyOrderSource
from bot.pipeline import Pipeline
from bot.settings import OrderLookupSettings, ReplySettings, Settings
from knowledge.templates import TemplateLibrary
from models.db import utcnow
from models.tables import Customer, OutboxItem, Ticket
from tests.fakes.order_hook import FakeOrderHook
from tests.fakes.shopify import FakeShopify, shopify_order
from tests.test_pipeline import FixedClassifier

_ids = iter(range(1, 100_000))


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        fake.add_order(shopify_order("#1042", company="YunExpress", number="YT2412345678901234",
                                     shipped_at=(utcnow() - timedelta(days=3)).isoformat()))
        yield fake


@pytest.fixture
def classifier() -> FixedClassifier:
    return FixedClassifier()


def make_pipeline(engine: Engine, classifier: FixedClassifier, lookup: OrderLookup | None) -> Pipeline:
    settings = Settings(replies=ReplySettings(auto_reply_min_confidence=0.6),
                        order_lookup=OrderLookupSettings(stuck_in_transit_days=14))
    return Pipeline(engine, classifier, TemplateLibrary.load(), settings, orders=lookup)


@pytest.fixture
def lookup(shop: FakeShopify) -> Iterator[OrderLookup]:
    orders = OrderLookup([ShopifyOrderSource(shop.base_url, shop.token, shop.api_version)], timeout=5.0)
    yield orders
    orders.close()


def message(text: str, customer: str = "c-1", **fields: object) -> Inbound:
    return Inbound(channel="webhook", channel_message_id=f"m-{next(_ids)}",
                   customer=CustomerInfo(id=customer, name="Jonas", language="de", country="DE"), text=text,
                   **fields)  # type: ignore[arg-type]


def outbox(engine: Engine, kind: str) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)))


def last_card(engine: Engine) -> Card:
    return card_from_payload(outbox(engine, "card")[-1].payload)


def fields(card: Card) -> dict[str, str]:
    return {field.label: field.value for field in card.fields}


def test_where_is_my_order_is_answered_with_the_real_status_carrier_and_link(
        engine: Engine, classifier: FixedClassifier, lookup: OrderLookup) -> None:
    pipeline = make_pipeline(engine, classifier, lookup)
    result = pipeline.ingest_sync(message(classifier.says("Wo ist meine Bestellung #1042?", "order_status")))
    assert result.action == "auto_replied"
    reply = outbox(engine, "reply")[0].payload["text"]
    assert "Bestellung #1042" in reply and "mit YunExpress verschickt" in reply
    assert "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234" in reply
    with Session(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        customer = session.exec(select(Customer)).one()
    assert ticket.order_id == "#1042"
    assert (customer.orders_count, customer.lifetime_value_cents, customer.currency) == (3, 18970, "EUR")
    assert customer.tier == "regular" and customer.email == "jonas@example.de"


def test_an_unknown_order_number_is_suggested_and_the_card_says_so(
        engine: Engine, classifier: FixedClassifier, lookup: OrderLookup) -> None:
    pipeline = make_pipeline(engine, classifier, lookup)
    result = pipeline.ingest_sync(message(classifier.says("Where is my order #9999?", "order_status")))
    assert result.action == "suggested"
    assert outbox(engine, "reply") == []
    card = last_card(engine)
    assert fields(card)["Order status"] == "Order #9999 not found"
    assert "order #9999 not found" in fields(card)["Auto-reply"]
    assert card.suggested_reply is not None and "#9999" in card.suggested_reply


def test_an_order_stuck_in_transit_is_suggested_with_the_days_on_the_card(
        engine: Engine, classifier: FixedClassifier, shop: FakeShopify, lookup: OrderLookup) -> None:
    shop.add_order(shopify_order("#1077", company="China Post", number="RB123456785CN",
                                 shipped_at=(utcnow() - timedelta(days=40, hours=1)).isoformat()))
    pipeline = make_pipeline(engine, classifier, lookup)
    result = pipeline.ingest_sync(message(classifier.says("where is order #1077??", "order_status")))
    assert result.action == "suggested"
    card = last_card(engine)
    assert "order #1077 in transit for 40 days (more than 14)" in fields(card)["Auto-reply"]
    assert fields(card)["Order status"].startswith("#1077: shipped")
    assert "China Post RB123456785CN" in fields(card)["Order status"]
    # The suggestion already holds the real status for the agent to send or edit.
    assert card.suggested_reply is not None and "China Post" in card.suggested_reply


def test_a_lookup_timeout_still_answers_without_order_details(
        engine: Engine, classifier: FixedClassifier, shop: FakeShopify) -> None:
    shop.slow_seconds = 60  # Shopify answers only when the test releases it
    lookup = OrderLookup([ShopifyOrderSource(shop.base_url, shop.token, shop.api_version)], timeout=0.3)
    try:
        pipeline = make_pipeline(engine, classifier, lookup)
        result = pipeline.ingest_sync(message(classifier.says("Wo ist meine Bestellung #1042?", "order_status")))
        # ingest returned while Shopify still held its answer: the reply did not wait for it.
        assert result.action == "auto_replied"
        reply = outbox(engine, "reply")[0].payload["text"]
        assert "#1042" in reply and "YunExpress" not in reply
        complaint = pipeline.ingest_sync(message(classifier.says("Paket kaputt angekommen", "damaged_item"),
                                                 customer="c-2", order_id="#1042"))
        assert complaint.action == "suggested"
        assert fields(last_card(engine))["Order status"] == "Order lookup failed: timeout"
    finally:
        shop.release()
        lookup.close()


def test_a_high_value_customers_complaint_is_more_urgent_and_marked_on_the_card(
        engine: Engine, classifier: FixedClassifier, shop: FakeShopify, lookup: OrderLookup) -> None:
    shop.add_order(shopify_order("#1100", status="DELIVERED", delivered_at="2026-11-06T10:00:00Z",
                                 email="vip@example.de", orders_count=25, amount_spent="4210.00"))
    pipeline = make_pipeline(engine, classifier, lookup)
    text = classifier.says("My order #1100 arrived broken, the mug is in pieces", "damaged_item")
    result = pipeline.ingest_sync(message(text, customer="c-vip"))
    assert result.action == "suggested"
    card = last_card(engine)
    assert "high-value customer" in card.title
    value = fields(card)["Customer value"]
    assert value.startswith("high value · 25 orders · 4,210.00 EUR spent")
    assert "priority raised from severity 2 to 1" in value
    with Session(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.severity == 1 and card.severity == 1
        customer = session.exec(select(Customer).where(Customer.external_id == "c-vip")).one()
        add_tag(session, customer, "VIP", "agent:mei")
        ticket.status = "resolved"
        session.add(ticket)
        session.commit()
    # The customer's next ticket, with no order number: the profile kefu keeps still makes it urgent.
    pipeline.ingest_sync(message(classifier.says("and the second one too", "damaged_item"), customer="c-vip"))
    card = last_card(engine)
    assert card.severity == 1 and "high-value customer" in card.title
    assert fields(card)["Tags"] == "vip"


def test_a_regular_customer_keeps_the_intents_severity(
        engine: Engine, classifier: FixedClassifier, lookup: OrderLookup) -> None:
    pipeline = make_pipeline(engine, classifier, lookup)
    pipeline.ingest_sync(message(classifier.says("Order #1042 arrived broken", "damaged_item")))
    card = last_card(engine)
    assert card.severity == 2 and "high-value" not in card.title
    assert fields(card)["Customer value"].startswith("regular · 3 orders")


def test_a_hook_answer_with_a_bad_signature_is_not_shown_to_anyone(engine: Engine,
                                                                   classifier: FixedClassifier) -> None:
    with FakeOrderHook() as hook:
        hook.orders["#5005"] = {"order": {"order_id": "#5005", "status": "delivered"}}
        hook.answer_secret = "forged-secret-000000000"
        lookup = OrderLookup([OrderLookupHook(hook.url, hook.secret)], timeout=5.0)
        try:
            pipeline = make_pipeline(engine, classifier, lookup)
            pipeline.ingest_sync(message(classifier.says("my parcel #5005 never came", "item_not_received")))
        finally:
            lookup.close()
    card = last_card(engine)
    assert fields(card)["Order status"] == ("Order lookup failed: bad signature on the hook's answer: "
                                            "signature does not match the body")
    assert "delivered" not in (card.suggested_reply or "")


def test_without_an_order_source_nothing_is_looked_up_or_detected(engine: Engine,
                                                                   classifier: FixedClassifier) -> None:
    pipeline = make_pipeline(engine, classifier, None)
    result = pipeline.ingest_sync(message(classifier.says("Wo ist meine Bestellung #1042?", "order_status")))
    assert result.action == "auto_replied"
    with Session(engine) as session:
        assert session.exec(select(Ticket)).one().order_id is None
