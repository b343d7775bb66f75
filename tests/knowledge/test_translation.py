"""The translation hook against a fake LibreTranslate server speaking the real request and response shapes."""

from __future__ import annotations

import pytest

from knowledge.translation import LibreTranslateClient, TranslationError
from tests.fakes.libretranslate import running_libretranslate


async def test_translates_with_detected_source_and_api_key() -> None:
    async with running_libretranslate(api_key="k-123") as fake:
        client = LibreTranslateClient(fake.url, api_key="k-123")
        result = await client.translate("Mein Paket ist nie angekommen.", target="en")
    assert result.text == "My parcel never arrived."
    assert result.source_language == "de"
    assert fake.requests == [{"q": "Mein Paket ist nie angekommen.", "source": "auto", "target": "en",
                              "format": "text", "api_key": "k-123"}]


async def test_regional_codes_are_sent_as_the_providers_codes() -> None:
    async with running_libretranslate() as fake:
        client = LibreTranslateClient(fake.url)
        result = await client.translate("一直没有收到货", target="en-US", source="zh-CN")
    assert result.text == "I still haven't received the goods"
    assert fake.requests[0]["source"] == "zh" and fake.requests[0]["target"] == "en"
    assert "api_key" not in fake.requests[0]


async def test_bad_key_is_a_permanent_error_and_overload_a_transient_one() -> None:
    async with running_libretranslate(api_key="right") as fake:
        with pytest.raises(TranslationError, match="403: Invalid API key") as denied:
            await LibreTranslateClient(fake.url, api_key="wrong").translate("hello", target="de")
        assert denied.value.transient is False
        fake.fail_next = [429]
        with pytest.raises(TranslationError, match="429") as slow:
            await LibreTranslateClient(fake.url, api_key="right").translate("hello", target="de")
        assert slow.value.transient is True


async def test_unreachable_server_is_transient() -> None:
    async with running_libretranslate() as fake:
        url = fake.url
    with pytest.raises(TranslationError, match="unreachable") as error:
        await LibreTranslateClient(url, timeout=2).translate("hello", target="de")
    assert error.value.transient is True


def test_rejects_a_url_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="expected an http"):
        LibreTranslateClient("ftp://translate.example")
