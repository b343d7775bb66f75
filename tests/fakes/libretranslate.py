"""A fake LibreTranslate server on 127.0.0.1: the real request/response shapes, api_key check, scripted failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Canned translations: (source, target, text) -> translation. Anything else comes back as "[target] text".
PHRASEBOOK: dict[tuple[str, str, str], str] = {
    ("de", "en", "Mein Paket ist nie angekommen."): "My parcel never arrived.",
    ("en", "de", "We are sorry, we will resend your parcel today."):
        "Es tut uns leid, wir senden Ihr Paket heute erneut.",
    ("zh", "en", "一直没有收到货"): "I still haven't received the goods",
}
DETECT = {"Mein": "de", "一直": "zh"}


@dataclass
class FakeLibreTranslate:
    api_key: str | None = None
    fail_next: list[int] = field(default_factory=list)  # status codes to answer with, in order
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def translate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"error": "Slowdown" if status == 429 else "Server error"}, status=status)
        if self.api_key is not None and body.get("api_key") != self.api_key:
            return web.json_response({"error": "Invalid API key"}, status=403)
        for name in ("q", "source", "target"):
            if not body.get(name):
                return web.json_response({"error": f"Invalid request: missing {name} parameter"}, status=400)
        text, source, target = body["q"], body["source"], body["target"]
        answer: dict[str, Any] = {}
        if source == "auto":
            source = next((lang for word, lang in DETECT.items() if text.startswith(word)), "en")
            answer["detectedLanguage"] = {"confidence": 90.0, "language": source}
        answer["translatedText"] = PHRASEBOOK.get((source, target, text), f"[{target}] {text}")
        return web.json_response(answer)


@asynccontextmanager
async def running_libretranslate(api_key: str | None = None) -> AsyncIterator[FakeLibreTranslate]:
    fake = FakeLibreTranslate(api_key=api_key)
    app = web.Application()
    app.router.add_post("/translate", fake.translate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
