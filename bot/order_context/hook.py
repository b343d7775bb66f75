"""The generic order lookup hook: the seller's own middleware (in front of Amazon, eBay, an ERP) answers kefu's
order questions over HTTP, signed both ways with kefu's request signature (bot/request_signing.py).

kefu POSTs `{"order_id"?, "customer_id"?, "email"?}` with `X-Kefu-Timestamp` and `X-Kefu-Signature`; the hook
answers 200 with a body signed the same way (its own timestamp, the same secret):

    {"order": {"order_id": "112-…", "status": "shipped", "created_at": "…",
               "shipments": [{"carrier": "DHL", "tracking_number": "…", "tracking_url": null,
                              "shipped_at": "2026-11-03T08:00:00Z", "delivered_at": null}],
               "items": [{"title": "Blue hoodie", "quantity": 1, "sku": "HD-1"}]} | null,
     "customer": {"orders_count": 12, "lifetime_value": "1840.00", "currency": "EUR",
                  "last_order_at": "…", "email": "…"} | null}

`order` null means no such order. A flat `carrier` / `tracking_number` / `tracking_url` / `shipped_at` on the
order is read as its one shipment. An answer whose signature does not verify is rejected as a failed lookup:
kefu never shows a customer order details it cannot trust.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from bot.order_context.carriers import carrier_name
from bot.order_context.model import (
    ORDER_STATUSES,
    CustomerStats,
    OrderInfo,
    OrderItem,
    OrderSourceError,
    Shipment,
)
from bot.order_context.sources import OrderQuery
from bot.request_signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify

MAX_ANSWER_BYTES = 1_000_000


class OrderLookupHook:
    name = "hook"

    def __init__(self, url: str, secret: str, *, request_timeout: float = 10.0) -> None:
        self.url = url
        self._secret = secret
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    def can_answer(self, query: OrderQuery) -> bool:
        return not query.empty

    async def find(self, query: OrderQuery) -> OrderInfo | None:
        request = {key: value for key, value in (("order_id", query.order_number), ("customer_id", query.customer_id),
                                                 ("email", query.email)) if value}
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(self._secret, timestamp, body)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                answer = await response.content.read(MAX_ANSWER_BYTES + 1)
                if response.status != 200:
                    raise OrderSourceError(f"the order lookup hook answered HTTP {response.status}")
                if len(answer) > MAX_ANSWER_BYTES:
                    raise OrderSourceError("the order lookup hook's answer is too large")
                try:
                    verify(self._secret, response.headers.get(TIMESTAMP_HEADER),
                           response.headers.get(SIGNATURE_HEADER), answer)
                except SignatureError as exc:
                    raise OrderSourceError(f"bad signature on the hook's answer: {exc.reason}") from None
        except aiohttp.ClientError as exc:
            raise OrderSourceError(f"the order lookup hook is unreachable ({type(exc).__name__})") from None
        return parse_answer(answer, query)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def parse_answer(raw: bytes, query: OrderQuery) -> OrderInfo | None:
    """The hook's answer as an OrderInfo (None: no such order); OrderSourceError naming what is malformed."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise OrderSourceError("the order lookup hook answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise OrderSourceError("the order lookup hook's answer is not a JSON object")
    order = data.get("order")
    customer = _customer(data.get("customer"))
    if order is None:
        return None
    if not isinstance(order, dict):
        raise OrderSourceError("malformed answer: order must be an object or null")
    status = str(order.get("status") or "unknown").strip().lower()
    shipments_raw = order.get("shipments")
    if shipments_raw is None:
        flat = {key: order.get(key) for key in ("carrier", "tracking_number", "tracking_url", "shipped_at",
                                                "delivered_at")}
        shipments_raw = [flat] if any(flat.values()) else []
    if not isinstance(shipments_raw, list) or not all(isinstance(s, dict) for s in shipments_raw):
        raise OrderSourceError("malformed answer: order.shipments must be a list of objects")
    items_raw = order.get("items") or []
    if not isinstance(items_raw, list) or not all(isinstance(i, dict) for i in items_raw):
        raise OrderSourceError("malformed answer: order.items must be a list of objects")
    try:
        items = tuple(OrderItem(title=str(i.get("title") or "?"), quantity=int(i.get("quantity") or 1),
                                sku=_text(i.get("sku"))) for i in items_raw)
    except (TypeError, ValueError):
        raise OrderSourceError("malformed answer: an item's quantity is not a number") from None
    shipments = tuple(
        Shipment(carrier=carrier_name(_text(s.get("carrier"))), tracking_number=_text(s.get("tracking_number")),
                 tracking_url=_text(s.get("tracking_url")), shipped_at=_time(s.get("shipped_at"), "shipped_at"),
                 delivered_at=_time(s.get("delivered_at"), "delivered_at"))
        for s in shipments_raw
    )
    number = _text(order.get("order_id")) or query.order_number or ""
    return OrderInfo(number=number, status=status if status in ORDER_STATUSES else "unknown",  # type: ignore[arg-type]
                     shipments=shipments, items=items, created_at=_time(order.get("created_at"), "created_at"),
                     customer=customer, source="hook")


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise OrderSourceError(f"malformed answer: {name} is not an ISO 8601 time: {str(value)[:40]!r}") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _customer(value: Any) -> CustomerStats | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise OrderSourceError("malformed answer: customer must be an object or null")
    try:
        count = int(value["orders_count"]) if value.get("orders_count") is not None else None
        lifetime = Decimal(str(value["lifetime_value"])) if value.get("lifetime_value") is not None else None
    except (TypeError, ValueError, InvalidOperation):
        raise OrderSourceError("malformed answer: customer.orders_count and lifetime_value are numbers") from None
    return CustomerStats(orders_count=count, lifetime_value=lifetime, currency=_text(value.get("currency")),
                         last_order_at=_time(value.get("last_order_at"), "customer.last_order_at"),
                         email=_text(value.get("email")))

