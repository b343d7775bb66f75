"""Fixtures for the WeCom tests: a running FakeWeCom (proxy variables removed, requests would honour them) and
kefu's in-process fixtures shared with tests/e2e."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.wecom import FakeWeCom

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
TOKEN = "kefuCallbackToken1"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom generates them


@pytest.fixture
def fake_wecom(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeCom]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeWeCom() as fake:
        yield fake


from tests.e2e.conftest import callback_server, embedding_cache, intent_model, start_kefu  # noqa: E402, F401
