"""Fixtures for the Slack tests: a running FakeSlack with the proxy variables removed (slack_sdk sends even loopback
traffic through HTTP(S)_PROXY and ignores NO_PROXY)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.slack import FakeSlack

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_slack(without_proxies: None) -> Iterator[FakeSlack]:
    """A fake Slack on 127.0.0.1 with the default workspace (channels C0TRIAGE, C0ALERTS, C0MANAGERS; users
    U0AGENT1, U0AGENT2, U0MANAGER; bot UKEFUBOT)."""
    with FakeSlack() as fake:
        yield fake


# kefu in process on the test database, with the session's intent model (shared with tests/e2e).
from tests.e2e.conftest import callback_server, embedding_cache, intent_model, start_kefu  # noqa: E402, F401
