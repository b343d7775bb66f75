"""The life of a fake platform server: an aiohttp application on 127.0.0.1 (a free port), served from a thread
with its own event loop, so it answers whether the code under test is sync or async and while a test's own loop
is busy. Fakes subclass `ThreadedServer`, build their routes in `make_app()` and close what they hold open (web
sockets) in `before_shutdown()`.

    with FakeSlack() as fake:          # start() ... stop()
        client = AsyncWebClient(base_url=fake.api_url)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web


class ThreadedServer:
    thread_name = "fake-server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def make_app(self) -> web.Application:
        """The fake's application with its routes."""
        raise NotImplementedError

    async def before_shutdown(self) -> None:
        """Close long-lived connections before the runner stops (web sockets would hold it up)."""

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:  # handed to the starting thread, which raises it
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start within 10 s")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def in_loop(self, callback: Callable[[], Any]) -> None:
        """Run `callback` on the server's loop (from the test's thread)."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        self._loop.call_soon_threadsafe(callback)

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        await self.after_start()

    async def after_start(self) -> None:
        """What the fake does once it knows its port."""

    async def _shutdown(self) -> None:
        await self.before_shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
