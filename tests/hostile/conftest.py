"""Fixtures for the hostile-input tests: kefu in process on the test database (SQLite, and PostgreSQL when
configured) with a fixed classifier (these tests are about parsers, not the model), the Slack and WeCom adapters
pointed at the fakes on 127.0.0.1, and the row counts that prove a refused request wrote nothing.

Hypothesis runs each async `@given` test's examples on the fixture's event loop (pytest-asyncio), so one kefu
serves every example of a test; examples must therefore not depend on each other's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import Kefu
from bot.settings import Settings
from models.tables import (
    Agent,
    AuditEvent,
    Customer,
    DailyOrders,
    DeliveryReceipt,
    Message,
    OutboxItem,
    Ticket,
)
from tests.e2e.conftest import API_SECRET, API_TOKEN, FAST_OUTBOX
from tests.fakes.slack import FakeSlack
from tests.fakes.wecom import FakeWeCom
from tests.slack.conftest import fake_slack, without_proxies  # noqa: F401  (shared fixtures)
from tests.test_pipeline import FixedClassifier

WECOM_TOKEN = "hostileCallbackToken"
WECOM_AES_KEY = "HOSTILEhostile0123456789abcdefghijklmnopqrs"  # 43 characters, as WeCom generates them
ROW_TABLES = (Customer, Ticket, Message, OutboxItem, DailyOrders, Agent, AuditEvent, DeliveryReceipt)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table a request could write (customers, tickets, messages, outbox, orders, agents, receipts)."""
    with Session(engine) as session:
        return {table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in ROW_TABLES}


@pytest.fixture
def fake_wecom(without_proxies: None) -> Iterator[FakeWeCom]:  # noqa: F811  (the shared fixture)
    with FakeWeCom() as fake:
        yield fake


def slack_section(fake: FakeSlack) -> dict[str, Any]:
    return {"bot_token": fake.bot_token, "signing_secret": fake.signing_secret, "api_url": fake.api_url,
            "channel": "C0TRIAGE"}


def wecom_section(fake: FakeWeCom) -> dict[str, Any]:
    [robot_key] = fake.robot_keys
    return {"corp_id": fake.corp_id, "agent_id": fake.agent_id, "secret": fake.secret, "token": WECOM_TOKEN,
            "aes_key": WECOM_AES_KEY, "api_url": fake.api_url, "to_user": "zhangsan", "robots": {"alerts": robot_key}}


@dataclass
class Hostile:
    client: TestClient[Any, Any]
    kefu: Kefu


StartHostile = Callable[..., Awaitable[Hostile]]


@pytest.fixture
async def start_hostile(migrated_url: str, tmp_path: Path) -> AsyncIterator[StartHostile]:
    """`await start_hostile(**settings)`: kefu in process, ready (the fixed classifier loads at once), answering
    on an aiohttp test client; the test's own queries use the `engine` fixture."""
    clients: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> Hostile:
        settings = Settings(**{"database_url": migrated_url, "var_dir": tmp_path / "var", "api_token": API_TOKEN,
                               "api_secret": API_SECRET, "outbox": FAST_OUTBOX, **overrides})
        kefu = Kefu(settings, model_loader=lambda _settings, _engine: FixedClassifier())
        client: TestClient[Any, Any] = TestClient(TestServer(kefu.web_app()))
        await client.start_server()
        clients.append(client)
        kefu._model_thread.join(30)  # type: ignore[union-attr]  # the fixed classifier: ready at once
        assert kefu.pipeline is not None, kefu.model_error
        return Hostile(client, kefu)

    yield start
    for client in clients:
        await client.close()



@pytest.fixture
async def api_client(start_hostile: StartHostile) -> TestClient[Any, Any]:
    """kefu with no team messenger: the inbound API, the widget and the console."""
    return (await start_hostile()).client
