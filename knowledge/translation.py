"""Machine translation behind one small interface; the first provider is a LibreTranslate-compatible server.

Off by default (settings `[translation] provider = "off"`). When on, triage cards show the customer's message in
the team's language, and an agent's free-text reply can be translated to the customer's language for confirmation.
A translation failure never blocks a card or a reply: callers show the original text instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp


class TranslationError(Exception):
    """The provider could not translate; `transient` says whether trying again later may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Translation:
    text: str
    source_language: str | None  # as detected by the provider when not given
    target_language: str
    provider: str


class Translator(Protocol):
    name: str

    async def translate(self, text: str, target: str, source: str | None = None) -> Translation: ...


def _base_language(code: str) -> str:
    """LibreTranslate speaks plain ISO 639-1 codes, except Chinese, which it names zh (and zt for traditional)."""
    code = code.strip().lower().replace("_", "-")
    if code in {"zh-tw", "zh-hk", "zh-hant"}:
        return "zt"
    return code.split("-")[0]


class LibreTranslateClient:
    """POST {url}/translate with {q, source, target, format: "text", api_key?} → {"translatedText", ...}."""

    name = "libretranslate"

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 10.0,
                 session: aiohttp.ClientSession | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"translation url {url!r}: expected an http:// or https:// URL")
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session

    async def translate(self, text: str, target: str, source: str | None = None) -> Translation:
        body: dict[str, str] = {"q": text, "source": _base_language(source) if source else "auto",
                                "target": _base_language(target), "format": "text"}
        if self._api_key:
            body["api_key"] = self._api_key
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.post(f"{self.url}/translate", json=body, timeout=self._timeout) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = {}
                if response.status != 200:
                    error = data.get("error") if isinstance(data, dict) else None
                    transient = response.status in (408, 429) or response.status >= 500
                    raise TranslationError(f"{self.name} answered {response.status}: {error or 'no detail'}",
                                           transient=transient)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TranslationError(f"{self.name} unreachable: {exc.__class__.__name__}", transient=True) from exc
        finally:
            if self._session is None:
                await session.close()
        translated = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(translated, str):
            raise TranslationError(f"{self.name} answered without translatedText", transient=False)
        detected = data.get("detectedLanguage") or {}
        source_language = source or (detected.get("language") if isinstance(detected, dict) else None)
        return Translation(text=translated, source_language=source_language, target_language=target,
                           provider=self.name)
