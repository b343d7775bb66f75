"""Fixtures for the web console's tests: kefu in process on a real TCP port (the e2e fixtures), an agent with a
console password, and a logged-in HTTP client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine

from bot.agent_accounts import add_agent
from tests.e2e.conftest import callback_server, embedding_cache, intent_model, start_kefu  # noqa: F401

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AGENT, PASSWORD = "mei", "correct horse battery"
MANAGER, MANAGER_PASSWORD = "lin", "manager staple 42"


@pytest.fixture
def console_agents(engine: Engine) -> None:
    """An agent and a manager who can log into the console."""
    add_agent(engine, AGENT, PASSWORD, languages=["en", "zh"])
    add_agent(engine, MANAGER, MANAGER_PASSWORD, role="manager")


def origin(client: TestClient[Any, Any]) -> dict[str, str]:
    return {"Origin": str(client.make_url("")).rstrip("/")}


async def log_in(client: TestClient[Any, Any], name: str = AGENT, password: str = PASSWORD) -> Any:
    return await client.post("/console/login", data={"name": name, "password": password}, headers=origin(client),
                              allow_redirects=False)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's chromium, headless, driven by Playwright (browser test modules skip when either is missing)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            await chromium.close()
