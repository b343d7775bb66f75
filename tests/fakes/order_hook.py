"""A fake order lookup hook on 127.0.0.1: the seller's middleware as the README documents it.

It verifies kefu's request signature (401 otherwise), answers `{"order": …, "customer": …}` for a known order id,
email or customer id (`{"order": null}` otherwise), and signs its answer with the shared secret — or, when
`answer_secret` is set, with another one, to stand in for a tampered or misconfigured answer.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from bot.request_signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify
from tests.fakes.threaded_server import ThreadedServer


class FakeOrderHook(ThreadedServer):
    thread_name = "fake-order-hook"

    def __init__(self, secret: str = "hook-secret-0123456789") -> None:
        super().__init__()
        self.secret = secret
        self.answer_secret: str | None = None  # sign answers with this instead (a bad signature)
        self.orders: dict[str, dict[str, Any]] = {}  # order id, email or customer id -> answer
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}/kefu/orders"

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/kefu/orders", self.lookup)
        return app

    async def lookup(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            verify(self.secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), raw)
        except SignatureError as exc:
            return web.json_response({"error": exc.reason}, status=401)
        query = json.loads(raw)
        self.requests.append(query)
        answer: dict[str, Any] = {"order": None}
        for key in ("order_id", "email", "customer_id"):
            if query.get(key) in self.orders:
                answer = self.orders[query[key]]
                break
        body = json.dumps(answer).encode("utf-8")
        timestamp = str(int(time.time()))
        signature = sign(self.answer_secret or self.secret, timestamp, body)
        return web.Response(body=body, content_type="application/json",
                            headers={TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature})
