"""A fake Shopify Admin API on 127.0.0.1: `POST /admin/api/{version}/graphql.json` as Shopify answers it.

It checks the `X-Shopify-Access-Token` header (401 with Shopify's error body otherwise), answers the `orders`
query kefu sends (searched by `name:"#1042"` or `email:"…"`) with order nodes shaped like the GraphQL Admin API's
(fulfilments with `trackingInfo {company number url}`, line items, the customer's `numberOfOrders` and
`amountSpent`), reports the query-cost bucket in `extensions.cost`, and can be scripted to answer 429 with
`Retry-After`, a `THROTTLED` error, or slowly.

    with FakeShopify() as shop:
        shop.add_order(shopify_order("#1042", status="IN_TRANSIT", company="YunExpress", number="YT…"))
        ShopifyOrderSource(shop.base_url, shop.token, shop.api_version)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

from aiohttp import web

from tests.fakes.threaded_server import ThreadedServer

_SEARCH = re.compile(r'^(name|email):"?([^"]*)"?$')


def shopify_order(name: str, *, status: str | None = "IN_TRANSIT", company: str | None = "YunExpress",
                  number: str | None = "YT2412345678901234", url: str | None = None,
                  shipped_at: str = "2026-11-03T08:15:00Z", delivered_at: str | None = None,
                  created_at: str = "2026-11-01T10:00:00Z", cancelled_at: str | None = None,
                  email: str = "jonas@example.de", orders_count: int = 3, amount_spent: str = "189.70",
                  currency: str = "EUR", items: tuple[tuple[str, int, str], ...] = (("Ceramic mug", 2, "MUG-01"),),
                  ) -> dict[str, Any]:
    """An order node as the GraphQL Admin API returns it; `status` None means not fulfilled yet."""
    fulfillments = []
    if status is not None:
        fulfillments.append({
            "status": "SUCCESS", "displayStatus": status, "createdAt": shipped_at, "inTransitAt": shipped_at,
            "deliveredAt": delivered_at,
            "trackingInfo": [{"company": company, "number": number, "url": url}] if number else [],
        })
    return {
        "id": f"gid://shopify/Order/{abs(hash(name)) % 10**12}",
        "name": name,
        "createdAt": created_at,
        "cancelledAt": cancelled_at,
        "email": email,
        "displayFulfillmentStatus": "FULFILLED" if status else "UNFULFILLED",
        "customer": {
            "numberOfOrders": str(orders_count),  # UnsignedInt64 comes as a string
            "amountSpent": {"amount": amount_spent, "currencyCode": currency},
            "lastOrder": {"processedAt": created_at},
        },
        "lineItems": {"nodes": [{"title": t, "quantity": q, "sku": s} for t, q, s in items]},
        "fulfillments": fulfillments,
    }


class FakeShopify(ThreadedServer):
    thread_name = "fake-shopify"

    def __init__(self, token: str = "shpat_test_0123456789", api_version: str = "2025-07") -> None:
        super().__init__()
        self.token = token
        self.api_version = api_version
        self.orders: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # {"token", "query", "variables"} per request
        self.rate_limited: list[float] = []  # answer 429 with these Retry-After values first
        self.throttled = 0  # answer this many THROTTLED errors first
        self.slow_seconds = 0.0  # hold each answer this long (or until release())
        self.available = 1000.0  # the query-cost bucket, refilled at 50 points a second like Shopify's
        self._refilled = time.monotonic()
        self._release: asyncio.Event | None = None

    def add_order(self, node: dict[str, Any]) -> None:
        self.orders.append(node)

    def release(self) -> None:
        """Let held (slow) answers go now."""
        self.in_loop(lambda: self._release.set() if self._release is not None else None)

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/admin/api/{version}/graphql.json", self.graphql)
        return app

    async def after_start(self) -> None:
        self._release = asyncio.Event()

    async def graphql(self, request: web.Request) -> web.Response:
        token = request.headers.get("X-Shopify-Access-Token")
        body = await request.json()
        self.requests.append({"token": token, "query": body.get("query"), "variables": body.get("variables")})
        if token != self.token:
            return web.json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                status=401)
        if request.match_info["version"] != self.api_version:
            return web.json_response({"errors": "Not Found"}, status=404)
        if self.rate_limited:
            retry_after = self.rate_limited.pop(0)
            return web.json_response({"errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                                                "to resume uninterrupted service."},
                                     status=429, headers={"Retry-After": f"{retry_after:g}"})
        if self.slow_seconds and self._release is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self.slow_seconds)
        if self.throttled:
            self.throttled -= 1
            return web.json_response({
                "errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": self._cost(available=2.0)},
            })
        search = (body.get("variables") or {}).get("query", "")
        match = _SEARCH.match(search)
        nodes: list[dict[str, Any]] = []
        if match:
            field, value = match.groups()
            key = "name" if field == "name" else "email"
            nodes = [o for o in self.orders if str(o.get(key, "")).lower() == value.lower()]
            nodes = sorted(nodes, key=lambda o: o["createdAt"], reverse=True)[:1]
        now = time.monotonic()
        self.available = max(0.0, min(1000.0, self.available + (now - self._refilled) * 50.0) - 12)
        self._refilled = now
        return web.json_response({"data": {"orders": {"nodes": nodes}},
                                  "extensions": {"cost": self._cost(available=self.available)}})

    @staticmethod
    def _cost(*, available: float) -> dict[str, Any]:
        return {"requestedQueryCost": 32, "actualQueryCost": 12,
                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available,
                                   "restoreRate": 50.0}}
