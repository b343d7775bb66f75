"""`POST /api/v1/orders/daily`: authentication, validation naming the item and field, upsert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.webhook.orders import PATH, routes
from bot.api_token import ApiCredentials
from models.tables import DailyOrders

TOKEN = "orders-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[TestClient]:
    app = web.Application()
    app.add_routes(routes(engine, ApiCredentials(token=TOKEN, secret=None)))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _rows(engine: Engine) -> list[tuple[date, str, str, int]]:
    with Session(engine) as session:
        return [(r.date, r.marketplace, r.country, r.orders)
                for r in session.scalars(select(DailyOrders).order_by(DailyOrders.country))]  # type: ignore[arg-type]


async def test_upsert(client: TestClient, engine: Engine) -> None:
    body = {"orders": [{"date": "2026-11-20", "marketplace": "Amazon", "country": "de", "orders": 1234},
                       {"date": "2026-11-20", "marketplace": "amazon", "country": "FR", "orders": 10}]}
    response = await client.post(PATH, json=body, headers=AUTH)
    assert response.status == 200 and await response.json() == {"upserted": 2}
    again = await client.post(PATH, json={"orders": [{"date": "2026-11-20", "marketplace": "amazon",
                                                      "country": "DE", "orders": 1300}]}, headers=AUTH)
    assert await again.json() == {"upserted": 1}
    assert _rows(engine) == [(date(2026, 11, 20), "amazon", "DE", 1300), (date(2026, 11, 20), "amazon", "FR", 10)]


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        ({"date": "2026-13-01", "marketplace": "amazon", "country": "DE", "orders": 1}, "orders[1].date",
         "ISO date"),
        ({"date": "2026-11-20", "marketplace": "amazon", "country": "Germany", "orders": 1}, "orders[1].country",
         "two-letter"),
        ({"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": -3}, "orders[1].orders",
         ">= 0"),
        ({"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": "12"}, "orders[1].orders",
         "whole number"),
        ({"date": "2026-11-20", "country": "DE", "orders": 1}, "orders[1].marketplace", "missing"),
        ({"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": 1, "shop": "x"},
         "orders[1].shop", "not a known field"),
    ],
)
async def test_validation_names_item_and_field(client: TestClient, engine: Engine, item: dict, field: str,
                                               words: str) -> None:
    good = {"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": 5}
    response = await client.post(PATH, json={"orders": [good, item]}, headers=AUTH)
    assert response.status == 400
    body = await response.json()
    assert body["field"] == field and words in body["error"] and field in body["error"]
    assert _rows(engine) == []  # nothing of a bad request is stored


async def test_body_shape_errors(client: TestClient) -> None:
    for body, field in (([], None), ({"orders": []}, "orders"), ({"orders": {}}, "orders"),
                        ({"rows": []}, "rows")):
        response = await client.post(PATH, json=body, headers=AUTH)
        assert response.status == 400
        assert (await response.json()).get("field") == field
    broken = await client.post(PATH, data=b"{", headers={**AUTH, "Content-Type": "application/json"})
    assert broken.status == 400 and "not valid JSON" in (await broken.json())["error"]


async def test_authentication_is_required(client: TestClient, engine: Engine) -> None:
    body = {"orders": [{"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": 1}]}
    assert (await client.post(PATH, json=body)).status == 401
    assert (await client.post(PATH, json=body, headers={"Authorization": "Bearer wrong"})).status == 401
    assert _rows(engine) == []
