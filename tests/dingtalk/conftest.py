"""Fixtures for the DingTalk tests: a running FakeDingTalk with the proxy variables removed, and the real
dingtalk-stream SDK pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.dingtalk.stream import point_sdk_at
from tests.fakes.dingtalk import FakeDingTalk

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def fake_dingtalk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDingTalk]:
    """A fake DingTalk on 127.0.0.1: app dingkefu0app, groups cidTRIAGE== and cidMANAGERS==, robot "alerts"."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeDingTalk() as fake:
        point_sdk_at(fake.base_url)
        yield fake
    point_sdk_at("https://api.dingtalk.com")


# kefu in process on the test database, with the session's intent model (shared with tests/e2e).
from tests.e2e.conftest import callback_server, embedding_cache, intent_model, start_kefu  # noqa: E402, F401
