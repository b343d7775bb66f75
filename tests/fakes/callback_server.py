"""A fake webhook callback receiver: an aiohttp server on 127.0.0.1 (random port) standing in for the
operator's system that kefu's webhook channel POSTs replies to.

It checks every request's signature (401 when bad), records what it receives, and can be scripted to
misbehave: fail with 500 a number of times, answer 429 with a Retry-After, or hang past the sender's timeout. Unscripted
requests are accepted with 200 and a JSON body {"id": "cb-<n>"}.

    async with CallbackServer(secret="s3cret") as server:
        server.fail_next(2)
        ...  # point WebhookCallbackSender at server.url
        assert len(server.received) == 1
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify


@dataclass(frozen=True)
class ScriptedAnswer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    hang_seconds: float = 0.0


@dataclass
class RecordedRequest:
    """One request as the fake saw it, and what it answered ("hung" while it hangs, "client gone" when the
    sender gave up before the answer)."""

    headers: dict[str, str]
    body: bytes
    answered: int | str

    def json(self) -> Any:
        return json.loads(self.body)


class CallbackServer:
    def __init__(self, secret: str, *, path: str = "/kefu/callback", window: int = 300) -> None:
        self.secret = secret
        self.path = path
        self.window = window
        self.requests: list[RecordedRequest] = []  # every request, accepted or not
        self.received: list[dict[str, Any]] = []  # bodies of the requests answered with 2xx
        self._script: deque[ScriptedAnswer] = deque()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._count = 0
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the callback server is not started")
        return f"http://127.0.0.1:{self.port}{self.path}"

    # ---- scripting ---------------------------------------------------------------------------------------

    def answer_next(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
                    body: str | None = None, hang_seconds: float = 0.0) -> None:
        """The next `times` correctly signed requests get this answer (queued after earlier scripts)."""
        for _ in range(times):
            self._script.append(ScriptedAnswer(status, dict(headers or {}), body, hang_seconds))

    def fail_next(self, times: int, status: int = 500) -> None:
        self.answer_next(status, times=times, body='{"error": "scripted failure"}')

    def rate_limit_next(self, retry_after: str, *, times: int = 1) -> None:
        self.answer_next(429, times=times, headers={"Retry-After": retry_after})

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Sleep `seconds` before answering 200 (longer than the sender's timeout: the sender gives up)."""
        self.answer_next(200, times=times, hang_seconds=seconds)

    # ---- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> CallbackServer:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._closing.set()  # releases hanging handlers
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> CallbackServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ---- the endpoint ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        record = RecordedRequest(headers=headers, body=body, answered="hung")
        self.requests.append(record)
        try:
            verify(self.secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER),
                   body, window=self.window)
        except SignatureError as exc:
            record.answered = 401
            return web.json_response({"error": exc.reason}, status=401)
        answer = self._script.popleft() if self._script else ScriptedAnswer()
        if answer.hang_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=answer.hang_seconds)
            if self._closing.is_set() or request.transport is None or request.transport.is_closing():
                record.answered = "client gone"  # the sender timed out: nothing counts as received
                return web.Response(status=503)
        record.answered = answer.status
        if 200 <= answer.status < 300:
            self._count += 1
            self.received.append(json.loads(body))
            text = answer.body if answer.body is not None else json.dumps({"id": f"cb-{self._count}"})
        else:
            text = answer.body if answer.body is not None else json.dumps({"error": f"HTTP {answer.status}"})
        return web.Response(status=answer.status, text=text, headers=answer.headers,
                            content_type="application/json")
