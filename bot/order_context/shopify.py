"""Shopify as an order source: the GraphQL Admin API (`POST /admin/api/{version}/graphql.json` with the
`X-Shopify-Access-Token` header) through aiohttp.

An order is found by its name ("#1042"), or a customer's latest order by email. The answer is mapped onto kefu's
order vocabulary (bot/order_context/model.py): the order's fulfilments give the status, carrier, tracking number
and URL; its customer gives the orders count, the amount spent and the last order's time.

Rate limits: Shopify meters GraphQL by query cost in a leaky bucket and reports the bucket with every answer
(`extensions.cost.throttleStatus`). kefu keeps that picture and waits for the bucket to refill before a query
that would not fit; a `THROTTLED` answer or an HTTP 429 (waiting `Retry-After`) is retried once. The lookup's
timeout bounds every wait: a reply never waits for Shopify longer than that.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from bot.order_context.carriers import carrier_name
from bot.order_context.model import (
    CustomerStats,
    OrderInfo,
    OrderItem,
    OrderSourceError,
    OrderStatus,
    Shipment,
)
from bot.order_context.sources import OrderQuery

log = logging.getLogger("kefu.orders")

ORDER_FIELDS = """
      id name createdAt cancelledAt email
      displayFulfillmentStatus
      customer {
        numberOfOrders
        amountSpent { amount currencyCode }
        lastOrder { processedAt }
      }
      lineItems(first: 20) { nodes { title quantity sku } }
      fulfillments(first: 10) {
        status displayStatus createdAt inTransitAt deliveredAt
        trackingInfo(first: 5) { company number url }
      }
"""
ORDERS_QUERY = f"""
query KefuOrders($query: String!) {{
  orders(first: 1, query: $query, sortKey: CREATED_AT, reverse: true) {{
    nodes {{{ORDER_FIELDS}    }}
  }}
}}
"""
DEFAULT_QUERY_COST = 30.0  # until Shopify has told kefu what the query costs
MAX_ATTEMPTS = 2

# Fulfilment display statuses → kefu's order statuses. Fulfilments that were cancelled or voided are ignored.
FULFILLMENT_STATUSES: dict[str, OrderStatus] = {
    "DELIVERED": "delivered",
    "PICKED_UP": "delivered",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "READY_FOR_PICKUP": "out_for_delivery",
    "IN_TRANSIT": "shipped",
    "FULFILLED": "shipped",
    "MARKED_AS_FULFILLED": "shipped",
    "CONFIRMED": "shipped",
    "LABEL_PRINTED": "processing",
    "LABEL_PURCHASED": "processing",
    "SUBMITTED": "processing",
    "ATTEMPTED_DELIVERY": "delivery_failed",
    "FAILURE": "delivery_failed",
    "NOT_DELIVERED": "delivery_failed",
}
IGNORED_FULFILLMENTS = {"CANCELED", "CANCELLED", "LABEL_VOIDED", "ERROR"}
UNSHIPPED = {"UNFULFILLED", "OPEN", "ON_HOLD", "IN_PROGRESS", "PENDING_FULFILLMENT", "SCHEDULED", "REQUEST_DECLINED"}
_EMAIL = re.compile(r"[^@\s\"'\\]+@[^@\s\"'\\]+\.[^@\s\"'\\]+")


class LeakyBucket:
    """Shopify's query-cost bucket as its last answer described it, refilled at its restore rate since."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.maximum: float | None = None
        self.available = 0.0
        self.restore_rate = 50.0
        self.updated = 0.0
        self.last_cost = DEFAULT_QUERY_COST

    def update(self, cost: dict[str, Any] | None) -> None:
        status = (cost or {}).get("throttleStatus") or {}
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = max(float(status["restoreRate"]), 1.0)
        except (KeyError, TypeError, ValueError):
            return
        self.updated = self.clock()
        requested = (cost or {}).get("requestedQueryCost")
        if isinstance(requested, int | float) and requested > 0:
            self.last_cost = float(requested)

    def wait_seconds(self, cost: float | None = None) -> float:
        """How long to wait before a query of `cost` fits in the bucket (0: it fits now)."""
        if self.maximum is None:
            return 0.0
        need = min(cost or self.last_cost, self.maximum)
        now_available = min(self.maximum, self.available + (self.clock() - self.updated) * self.restore_rate)
        return max(0.0, (need - now_available) / self.restore_rate)


class ShopifyOrderSource:
    """Orders of one Shopify shop. The aiohttp session is created on first use, on the loop that uses it."""

    name = "shopify"

    def __init__(self, base_url: str, token: str, api_version: str, *, request_timeout: float = 10.0) -> None:
        self.endpoint = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._token = token
        self.request_timeout = request_timeout
        self.bucket = LeakyBucket()
        self._session: aiohttp.ClientSession | None = None

    def can_answer(self, query: OrderQuery) -> bool:
        return bool(query.order_number) or bool(query.email and _EMAIL.fullmatch(query.email))

    async def find(self, query: OrderQuery) -> OrderInfo | None:
        if query.order_number:
            search = f"name:{_order_name(query.order_number)}"
        elif query.email and _EMAIL.fullmatch(query.email):
            search = f'email:"{query.email}"'
        else:
            return None
        data = await self._graphql(ORDERS_QUERY, {"query": search})
        nodes = ((data.get("orders") or {}).get("nodes")) or []
        if not nodes:
            return None
        return order_from_node(nodes[0])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        headers = {"X-Shopify-Access-Token": self._token, "Content-Type": "application/json",
                   "Accept": "application/json"}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = self.bucket.wait_seconds()
            if wait > 0:
                log.info("Shopify's query budget is spent: waiting %.1f s", wait)
                await asyncio.sleep(wait)
            try:
                async with self._session.post(self.endpoint, json={"query": query, "variables": variables},
                                              headers=headers) as response:
                    if response.status == 429:
                        delay = _retry_after(response.headers.get("Retry-After"))
                        if attempt < MAX_ATTEMPTS:
                            log.info("Shopify answered 429: retrying in %.1f s", delay)
                            await asyncio.sleep(delay)
                            continue
                        raise OrderSourceError("rate limited by Shopify (HTTP 429)")
                    if response.status in (401, 403):
                        raise OrderSourceError(f"Shopify refused the access token (HTTP {response.status})")
                    if response.status != 200:
                        raise OrderSourceError(f"Shopify answered HTTP {response.status}")
                    body = await response.json(content_type=None)
            except aiohttp.ClientError as exc:
                raise OrderSourceError(f"Shopify unreachable ({type(exc).__name__})") from None
            except ValueError:
                raise OrderSourceError("Shopify answered something that is not JSON") from None
            if not isinstance(body, dict):
                raise OrderSourceError("Shopify answered something that is not a JSON object")
            self.bucket.update((body.get("extensions") or {}).get("cost"))
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                if attempt < MAX_ATTEMPTS:
                    await asyncio.sleep(max(self.bucket.wait_seconds(), 0.1))
                    continue
                raise OrderSourceError("rate limited by Shopify (THROTTLED)")
            if errors:
                first = errors[0].get("message") if isinstance(errors[0], dict) else str(errors[0])
                raise OrderSourceError(f"Shopify refused the query: {str(first)[:200]}")
            data = body.get("data")
            if not isinstance(data, dict):
                raise OrderSourceError("Shopify's answer has no data")
            return data
        raise OrderSourceError("rate limited by Shopify")  # pragma: no cover - the loop returns or raises


def _order_name(number: str) -> str:
    """Shopify order names carry a "#": "1042" and "#1042" both look up "#1042"; quoted for the search syntax."""
    name = number.strip()
    if name.isdigit():
        name = "#" + name
    return '"' + name.replace("\\", "").replace('"', "") + '"'


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1.0), 0.0), 60.0)
    except ValueError:
        return 1.0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _nodes(value: Any) -> list[dict[str, Any]]:
    """A connection's nodes or a plain list, whichever the API version gives."""
    if isinstance(value, dict):
        value = value.get("nodes") or [edge.get("node") for edge in value.get("edges") or []]
    return [item for item in value or [] if isinstance(item, dict)]


def order_from_node(node: dict[str, Any]) -> OrderInfo:
    """An order node of the GraphQL Admin API as kefu's OrderInfo."""
    shipments: list[Shipment] = []
    statuses: list[OrderStatus] = []
    for fulfillment in _nodes(node.get("fulfillments")):
        display = str(fulfillment.get("displayStatus") or fulfillment.get("status") or "").upper()
        if display in IGNORED_FULFILLMENTS or str(fulfillment.get("status") or "").upper() in IGNORED_FULFILLMENTS:
            continue
        statuses.append(FULFILLMENT_STATUSES.get(display, "unknown"))
        shipped_at = _time(fulfillment.get("inTransitAt")) or _time(fulfillment.get("createdAt"))
        tracking = _nodes(fulfillment.get("trackingInfo"))
        for info in tracking or [{}]:
            shipments.append(Shipment(
                carrier=carrier_name(info.get("company")), tracking_number=(info.get("number") or None),
                tracking_url=(info.get("url") or None), shipped_at=shipped_at,
                delivered_at=_time(fulfillment.get("deliveredAt")),
            ))
    status: OrderStatus
    if node.get("cancelledAt"):
        status = "cancelled"
    elif statuses:
        status = statuses[-1]
    elif str(node.get("displayFulfillmentStatus") or "").upper() in UNSHIPPED:
        status = "processing"
    else:
        status = "unknown"
    items = tuple(
        OrderItem(title=str(item.get("title") or "?"), quantity=int(item.get("quantity") or 1),
                  sku=item.get("sku") or None)
        for item in _nodes(node.get("lineItems"))
    )
    return OrderInfo(number=str(node.get("name") or ""), status=status, shipments=tuple(shipments), items=items,
                     created_at=_time(node.get("createdAt")), customer=_customer(node), source="shopify")


def _customer(node: dict[str, Any]) -> CustomerStats | None:
    customer = node.get("customer")
    if not isinstance(customer, dict):
        return None
    spent = customer.get("amountSpent") or {}
    try:
        lifetime = Decimal(str(spent["amount"])) if spent.get("amount") is not None else None
    except (InvalidOperation, KeyError):
        lifetime = None
    try:
        count = int(customer["numberOfOrders"]) if customer.get("numberOfOrders") is not None else None
    except (TypeError, ValueError):
        count = None
    last = customer.get("lastOrder") or {}
    return CustomerStats(orders_count=count, lifetime_value=lifetime, currency=spent.get("currencyCode"),
                         last_order_at=_time(last.get("processedAt")), email=node.get("email") or None)
