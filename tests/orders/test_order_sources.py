"""Order sources against fakes on 127.0.0.1: Shopify's GraphQL Admin API (token checked, realistic order payloads,
429 with Retry-After, THROTTLED, a slow answer) and the seller's signed lookup hook, through `OrderLookup` (the
order of sources, the cache, the timeout)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.order_context import OrderLookup, OrderQuery
from bot.order_context.hook import OrderLookupHook
from bot.order_context.shopify import ShopifyOrderSource
from tests.fakes.order_hook import FakeOrderHook
from tests.fakes.shopify import FakeShopify, shopify_order


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        fake.add_order(shopify_order("#1042", company="YunExpress", number="YT2412345678901234", url=None,
                                     items=(("Ceramic mug", 2, "MUG-01"), ("Tea towel", 1, "TT-3"))))
        fake.add_order(shopify_order("#1043", status="DELIVERED", company="DHL Express", number="1234567890",
                                     url="https://www.dhl.com/track?id=1234567890",
                                     delivered_at="2026-11-06T12:00:00Z", created_at="2026-11-02T10:00:00Z"))
        fake.add_order(shopify_order("#1050", status=None, email="mei@example.cn", orders_count=1))
        yield fake


@pytest.fixture
def hook() -> Iterator[FakeOrderHook]:
    with FakeOrderHook() as fake:
        yield fake


def shopify_lookup(shop: FakeShopify, *, token: str | None = None, timeout: float = 5.0,
                   **kwargs: object) -> OrderLookup:
    source = ShopifyOrderSource(shop.base_url, token or shop.token, shop.api_version)
    return OrderLookup([source], timeout=timeout, **kwargs)  # type: ignore[arg-type]


def test_a_shopify_order_comes_with_status_carrier_tracking_link_and_items(shop: FakeShopify) -> None:
    lookup = shopify_lookup(shop)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
    finally:
        lookup.close()
    assert result.state == "found" and result.order is not None
    order = result.order
    assert (order.number, order.status) == ("#1042", "shipped")
    shipment = order.latest_shipment
    assert shipment is not None and shipment.carrier == "YunExpress"
    assert shipment.tracking_number == "YT2412345678901234"
    # Shopify gave no URL: kefu built the carrier's own tracking page.
    assert shipment.tracking_url == "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234"
    assert [str(item) for item in order.items] == ["2 × Ceramic mug", "Tea towel"]
    assert [item.sku for item in order.items] == ["MUG-01", "TT-3"]
    assert result.stats is not None and result.stats.orders_count == 3
    assert result.stats.lifetime_value == Decimal("189.70") and result.stats.currency == "EUR"
    assert shop.requests[0]["token"] == shop.token
    assert shop.requests[0]["variables"] == {"query": 'name:"#1042"'}


def test_numbers_without_a_hash_and_delivered_orders(shop: FakeShopify) -> None:
    lookup = shopify_lookup(shop)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="1043"))
    finally:
        lookup.close()
    assert result.state == "found" and result.order is not None
    assert result.order.status == "delivered"
    assert result.order.latest_shipment.tracking_url == "https://www.dhl.com/track?id=1234567890"  # type: ignore[union-attr]


def test_a_customers_latest_order_is_found_by_email(shop: FakeShopify) -> None:
    lookup = shopify_lookup(shop)
    try:
        result = lookup.lookup_blocking(OrderQuery(email="mei@example.cn", customer_id="c-9"))
    finally:
        lookup.close()
    assert result.state == "found" and result.order is not None
    assert (result.order.number, result.order.status) == ("#1050", "processing")


def test_a_wrong_token_is_a_failed_lookup_that_says_why(shop: FakeShopify) -> None:
    lookup = shopify_lookup(shop, token="shpat_wrong")
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
    finally:
        lookup.close()
    assert result.state == "failed"
    assert result.reason == "Shopify refused the access token (HTTP 401)"


def test_an_unknown_order_is_not_found_and_the_answer_is_cached(shop: FakeShopify) -> None:
    now = [100.0]
    lookup = shopify_lookup(shop, cache_seconds=60, clock=lambda: now[0])
    try:
        assert lookup.lookup_blocking(OrderQuery(order_number="#9999")).state == "not_found"
        assert lookup.lookup_blocking(OrderQuery(order_number="#1042")).state == "found"
        assert lookup.lookup_blocking(OrderQuery(order_number="#9999")).state == "not_found"
        assert lookup.lookup_blocking(OrderQuery(order_number="#1042")).state == "found"
        assert len(shop.requests) == 2
        now[0] += 61  # the cache has expired: Shopify is asked again
        assert lookup.lookup_blocking(OrderQuery(order_number="#1042")).state == "found"
        assert len(shop.requests) == 3
    finally:
        lookup.close()


def test_a_429_is_retried_after_its_retry_after(shop: FakeShopify) -> None:
    shop.rate_limited = [0.2]
    lookup = shopify_lookup(shop)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
    finally:
        lookup.close()
    assert result.state == "found"
    assert len(shop.requests) == 2


def test_a_second_429_fails_the_lookup_rather_than_waiting_on(shop: FakeShopify) -> None:
    shop.rate_limited = [0.1, 0.1]
    lookup = shopify_lookup(shop)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
    finally:
        lookup.close()
    assert result.state == "failed" and result.reason == "rate limited by Shopify (HTTP 429)"


def test_a_throttled_answer_waits_for_the_bucket_then_retries(shop: FakeShopify) -> None:
    shop.throttled = 1
    source = ShopifyOrderSource(shop.base_url, shop.token, shop.api_version)
    lookup = OrderLookup([source], timeout=5.0)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
    finally:
        lookup.close()
    assert result.state == "found"
    assert len(shop.requests) == 2
    # kefu now knows the bucket: Shopify's last answer said how much is left and how fast it refills.
    assert source.bucket.maximum == 1000.0 and source.bucket.restore_rate == 50.0


def test_a_slow_shopify_fails_the_lookup_at_the_timeout(shop: FakeShopify) -> None:
    shop.slow_seconds = 30
    lookup = shopify_lookup(shop, timeout=0.3)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#1042"))
        assert result.state == "failed" and result.reason == "timeout"
        shop.slow_seconds = 0
        shop.release()
        # A timeout is not cached: the next message's lookup asks again.
        assert lookup.lookup_blocking(OrderQuery(order_number="#1042")).state == "found"
    finally:
        lookup.close()


def test_the_hook_gets_a_signed_request_and_its_signed_answer_is_read(hook: FakeOrderHook) -> None:
    hook.orders["305-1234567-7654321"] = {
        "order": {"order_id": "305-1234567-7654321", "status": "shipped", "carrier": "4PX",
                  "tracking_number": "4PX3000123456789CN", "shipped_at": "2026-11-03T08:00:00Z",
                  "items": [{"title": "Phone case", "quantity": 1, "sku": "PC-7"}]},
        "customer": {"orders_count": 14, "lifetime_value": "1520.50", "currency": "USD"},
    }
    lookup = OrderLookup([OrderLookupHook(hook.url, hook.secret)], timeout=5.0)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="305-1234567-7654321", customer_id="c-7"))
    finally:
        lookup.close()
    assert hook.requests == [{"order_id": "305-1234567-7654321", "customer_id": "c-7"}]
    assert result.state == "found" and result.order is not None
    shipment = result.order.latest_shipment
    assert shipment is not None and shipment.carrier == "4PX"
    assert shipment.tracking_url == "https://track.4px.com/#/result/0/4PX3000123456789CN"
    assert result.stats is not None and result.stats.orders_count == 14


def test_a_hook_answer_with_a_bad_signature_is_rejected(hook: FakeOrderHook) -> None:
    hook.orders["#77"] = {"order": {"order_id": "#77", "status": "delivered"}}
    hook.answer_secret = "someone-elses-secret-000"
    lookup = OrderLookup([OrderLookupHook(hook.url, hook.secret)], timeout=5.0)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#77"))
    finally:
        lookup.close()
    assert result.state == "failed" and result.order is None
    assert result.reason == "bad signature on the hook's answer: signature does not match the body"


def test_the_hook_refuses_kefu_when_the_secrets_differ(hook: FakeOrderHook) -> None:
    lookup = OrderLookup([OrderLookupHook(hook.url, "not-the-hook-secret-0000")], timeout=5.0)
    try:
        result = lookup.lookup_blocking(OrderQuery(order_number="#77"))
    finally:
        lookup.close()
    assert result.state == "failed" and result.reason == "the order lookup hook answered HTTP 401"


def test_sources_are_asked_in_order_until_one_finds_the_order(shop: FakeShopify, hook: FakeOrderHook) -> None:
    hook.orders["#2001"] = {"order": {"order_id": "#2001", "status": "processing"}}
    lookup = OrderLookup([ShopifyOrderSource(shop.base_url, shop.token, shop.api_version),
                          OrderLookupHook(hook.url, hook.secret)], timeout=5.0)
    try:
        found = lookup.lookup_blocking(OrderQuery(order_number="#2001"))
        missing = lookup.lookup_blocking(OrderQuery(order_number="#3001"))
    finally:
        lookup.close()
    assert found.state == "found" and found.order is not None and found.order.source == "hook"
    assert missing.state == "not_found"
    assert len(shop.requests) == 2 and len(hook.requests) == 2


def test_nothing_is_asked_without_an_order_number_or_email(shop: FakeShopify) -> None:
    lookup = shopify_lookup(shop)
    try:
        assert lookup.lookup_blocking(OrderQuery(customer_id="c-1")).state == "skipped"
    finally:
        lookup.close()
    assert shop.requests == []
