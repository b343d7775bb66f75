"""`POST /api/v1/orders/daily`: the shop reports its daily order counts (date × marketplace × country × orders).

Same authentication as `POST /api/v1/messages` (bearer token or HMAC signature, adapters/webhook/requests.py).
Answers 200 {"upserted": n}; a bad body answers 400 {"error", "field"} naming the item index and field.
Mount with `for route in routes(engine, credentials): app.router.add_route(route.method, route.path, route.handler)`
or `app.add_routes(routes(engine, credentials))`.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from adapters.webhook.requests import RequestRefused, authenticated_json, error_response
from bot.api_token import ApiCredentials
from bot.orders import OrdersError, parse_daily_orders, upsert_daily_orders

log = logging.getLogger("kefu.api.orders")

PATH = "/api/v1/orders/daily"
ORDERS_MAX_BODY_BYTES = 2 * 1024 * 1024  # 10,000 items of about 100 bytes
RETRY_AFTER_SECONDS = 5


class OrdersEndpoint:
    """The handler; authentication is delegated to the inbound API's checks so both endpoints stay alike."""

    def __init__(self, engine: Engine, credentials: ApiCredentials) -> None:
        self.engine = engine
        self.credentials = credentials

    async def handle(self, request: web.Request) -> web.Response:
        try:
            data = await authenticated_json(request, self.credentials, ORDERS_MAX_BODY_BYTES)
        except RequestRefused as refused:
            return refused.response
        try:
            counts = parse_daily_orders(data)
        except OrdersError as exc:
            return error_response(400, str(exc), exc.field)
        try:
            upserted = await asyncio.to_thread(upsert_daily_orders, self.engine, counts)
        except OperationalError as exc:
            log.error("database unavailable while storing order counts: %s", type(exc.orig or exc).__name__)
            return error_response(503, "the database is unavailable; retry shortly",
                          **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        return web.json_response({"upserted": upserted})


def routes(engine: Engine, credentials: ApiCredentials) -> list[web.RouteDef]:
    """The routes to add to kefu's aiohttp application."""
    return [web.post(PATH, OrdersEndpoint(engine, credentials).handle)]


__all__ = ["PATH", "OrdersEndpoint", "routes"]
