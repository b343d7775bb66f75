"""What the assembled app exposes beyond the message API: daily orders and manager commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from bot.app import Kefu
from bot.messages import CommandRequest
from bot.settings import Settings
from handlers.commands import LOCAL_ADMIN, Actor
from models.tables import AuditEvent, DailyOrders


def _kefu(url: str, tmp_path: Path) -> Kefu:
    settings = Settings(database_url=url, var_dir=tmp_path / "var", api_token="t0ken", timezone="Asia/Shanghai")
    return Kefu(settings, model_loader=lambda *_: pytest.fail("the model is not needed here"))


async def test_orders_endpoint_is_mounted_with_the_api_auth(migrated_url: str, tmp_path: Path) -> None:
    kefu = _kefu(migrated_url, tmp_path)
    kefu.defer_model_loading = True
    async with TestClient(TestServer(kefu.web_app())) as client:
        body = {"orders": [{"date": "2026-11-20", "marketplace": "amazon", "country": "DE", "orders": 120}]}
        refused = await client.post("/api/v1/orders/daily", json=body)
        assert refused.status == 401
        accepted = await client.post("/api/v1/orders/daily", json=body, headers={"Authorization": "Bearer t0ken"})
        assert (accepted.status, await accepted.json()) == (200, {"upserted": 1})
    from models.db import create_db_engine

    engine = create_db_engine(migrated_url)
    with Session(engine) as session:
        assert [row.orders for row in session.exec(select(DailyOrders))] == [120]
    engine.dispose()


async def test_commands_are_answered_refused_and_audited(migrated_url: str, tmp_path: Path) -> None:
    kefu = _kefu(migrated_url, tmp_path)
    kefu.prepare()
    answer = await kefu.handle_command(CommandRequest("/metrics today", "console", "li.wei"), LOCAL_ADMIN)
    assert answer.ok and "today" in answer.text.lower()
    denied = await kefu.handle_command(CommandRequest("/alerts silence first_response_slow 2h", "console", "li"),
                                       Actor("li", "agent"))
    assert not denied.ok and "manager" in denied.text
    assert kefu.engine is not None
    with Session(kefu.engine) as session:
        results = [e.details.get("result") for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert results == ["ok", "denied"]
