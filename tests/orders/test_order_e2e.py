"""End to end: kefu's app with the real multilingual intent model, Shopify faked on 127.0.0.1 and the operator's
callback receiver. A German customer asks where order #1042 is and gets the answer in German with the carrier and
a tracking link; an unknown order number becomes a suggestion whose card says so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.messages import card_from_payload
from models.db import utcnow
from models.tables import OutboxItem
from tests.e2e.conftest import wait_until
from tests.fakes.callback_server import CallbackServer
from tests.fakes.shopify import FakeShopify, shopify_order

pytestmark = pytest.mark.slow


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        fake.add_order(shopify_order("#1042", company="YunExpress", number="YT2412345678901234", url=None,
                                     shipped_at=(utcnow() - timedelta(days=4)).isoformat()))
        yield fake


def shopify_settings(shop: FakeShopify) -> dict[str, Any]:
    return {"shopify": {"shop": "demo-store.myshopify.com", "token": shop.token, "api_version": shop.api_version,
                        "api_url": shop.base_url}}


async def test_a_german_customer_gets_the_real_status_in_german(
        start_kefu: Callable[..., Awaitable[Any]], callback_server: CallbackServer, shop: FakeShopify) -> None:
    kefu = await start_kefu(callback_server.url, **shopify_settings(shop))
    response = await kefu.post({"channel_message_id": "m-de-1", "text": "Wo ist meine Bestellung #1042?",
                                "customer": {"id": "c-de", "name": "Jonas", "country": "DE"}})
    assert response.status == 202
    body = await response.json()
    assert (body["intent"], body["language"], body["action"]) == ("order_status", "de", "auto_replied")
    [reply] = await wait_until(lambda: callback_server.received, "the reply at the callback receiver")
    assert reply["language"] == "de"
    assert reply["text"].startswith("Hallo Jonas, hier ist der aktuelle Stand Ihrer Bestellung #1042: Sie wurde am ")
    assert "mit YunExpress verschickt" in reply["text"]
    assert "Hier können Sie Ihre Sendung verfolgen: https://www.yuntrack.com/parcelTracking?id=YT2412345678901234" \
        in reply["text"]
    assert "Dies ist eine automatische Antwort" in reply["text"]
    assert shop.requests[0]["token"] == shop.token


async def test_an_unknown_order_number_becomes_a_suggestion_that_says_so(
        start_kefu: Callable[..., Awaitable[Any]], callback_server: CallbackServer, shop: FakeShopify) -> None:
    kefu = await start_kefu(callback_server.url, **shopify_settings(shop))
    response = await kefu.post({"channel_message_id": "m-de-2", "text": "Wo ist meine Bestellung #9999?",
                                "customer": {"id": "c-de2", "country": "DE"}})
    assert (await response.json())["action"] == "suggested"

    def card() -> Any:
        with Session(kefu.engine) as session:
            item = session.exec(select(OutboxItem).where(OutboxItem.kind == "card")).first()
            return card_from_payload(item.payload) if item is not None else None

    triage = await wait_until(card, "the triage card")
    fields = {field.label: field.value for field in triage.fields}
    assert fields["Order status"] == "Order #9999 not found"
    assert "order #9999 not found" in fields["Auto-reply"]
    assert callback_server.received == []
