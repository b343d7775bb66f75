"""`POST /api/v1/orders/daily`: the shop reports its daily order counts (date × marketplace × country × orders).

Same authentication as `POST /api/v1/messages` (bearer token or HMAC signature, adapters/webhook/requests.py).
Answers 200 {"upserted": n}; a bad body answers 400 {"error", "field"} naming the item index and field.
Mount with `for route in routes(engine, credentials): app.router.add_route(route.method, route.path, route.handler)`
or `app.add_routes(routes(engine, credentials))`.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from adapters.webhook.requests import authentication_error, read_limited_body
from bot.api_token import ApiCredentials
from bot.orders import OrdersError, parse_daily_orders, upsert_daily_orders

log = logging.getLogger("kefu.api.orders")

PATH = "/api/v1/orders/daily"
ORDERS_MAX_BODY_BYTES = 2 * 1024 * 1024  # 10,000 items of about 100 bytes
RETRY_AFTER_SECONDS = 5


def _error(status: int, message: str, field: str | None = None, **headers: str) -> web.Response:
    body: dict[str, object] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status, headers=headers or None)


class OrdersEndpoint:
    """The handler; authentication is delegated to the inbound API's checks so both endpoints stay alike."""

    def __init__(self, engine: Engine, credentials: ApiCredentials) -> None:
        self.engine = engine
        self.credentials = credentials

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_limited_body(request, ORDERS_MAX_BODY_BYTES)
        if body is None:
            return _error(413, f"the body is larger than {ORDERS_MAX_BODY_BYTES // 1024} KiB")
        problem = authentication_error(self.credentials, request, body)
        if problem is not None:
            log.warning("orders API request refused: %s", problem)
            return _error(401, problem, **{"WWW-Authenticate": "Bearer"})
        if request.content_type != "application/json":
            return _error(415, f"Content-Type must be application/json, got {request.content_type or 'none'!r}")
        try:
            data = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            return _error(400, "the body is not UTF-8")
        except json.JSONDecodeError as exc:
            return _error(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        try:
            counts = parse_daily_orders(data)
        except OrdersError as exc:
            return _error(400, str(exc), exc.field)
        try:
            upserted = await asyncio.to_thread(upsert_daily_orders, self.engine, counts)
        except OperationalError as exc:
            log.error("database unavailable while storing order counts: %s", type(exc.orig or exc).__name__)
            return _error(503, "the database is unavailable; retry shortly",
                          **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        return web.json_response({"upserted": upserted})


def routes(engine: Engine, credentials: ApiCredentials) -> list[web.RouteDef]:
    """The routes to add to kefu's aiohttp application."""
    return [web.post(PATH, OrdersEndpoint(engine, credentials).handle)]


__all__ = ["PATH", "OrdersEndpoint", "routes"]
