"""The dingtalk-stream client on its own thread and event loop, bridged to kefu's loop.

The SDK makes blocking HTTP calls (opening the connection, replies) inside its loop and swallows the first
cancellation of `start()` (it sleeps 10 s and reconnects), so it cannot share kefu's loop: `StreamThread` runs it
on a thread of its own and stops it by cancelling until it gives up, then closes that loop. A chatbot message is
handed to kefu's loop (`asyncio.run_coroutine_threadsafe`) and acknowledged once kefu has dealt with it.

The SDK reads its OpenAPI base once, into module constants, at import: `point_sdk_at` sets them from kefu's
`[dingtalk] api_url` (protocols.md §0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable

from dingtalk_stream import (
    AckMessage,
    CallbackMessage,
    ChatbotHandler,
    ChatbotMessage,
    DingTalkStreamClient,
    card_replier,
    chatbot,
    utils,
)
from dingtalk_stream import stream as sdk_stream

log = logging.getLogger("kefu.dingtalk")

CANCEL_EVERY_SECONDS = 0.05
STOP_SECONDS = 15.0

MessageHandler = Callable[[ChatbotMessage, ChatbotHandler], Awaitable[None]]


def point_sdk_at(api_url: str) -> None:
    """Make the SDK call `api_url` (kefu's setting) for the OpenAPI and the stream gateway."""
    base = api_url.rstrip("/")
    for module in (utils, sdk_stream, chatbot, card_replier):
        module.DINGTALK_OPENAPI_ENDPOINT = base  # type: ignore[attr-defined]
    DingTalkStreamClient.OPEN_CONNECTION_API = base + "/v1.0/gateway/connections/open"


class KefuChatbotHandler(ChatbotHandler):  # type: ignore[misc]
    """Hands each chatbot message to `handle` on kefu's loop; acks 200 when it is dealt with, 500 if it failed."""

    def __init__(self, handle: MessageHandler, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.logger = log
        self._handle = handle
        self._loop = loop

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        try:  # the SDK's parser indexes and converts without checking: a malformed message raises
            message = ChatbotMessage.from_dict(callback.data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.warning("a DingTalk chatbot message could not be read (%s): acknowledged as a bad request, so "
                        "DingTalk does not deliver it again", type(exc).__name__)
            return AckMessage.STATUS_BAD_REQUEST, "malformed chatbot message"
        future = asyncio.run_coroutine_threadsafe(self._handle(message, self), self._loop)
        try:
            await asyncio.wrap_future(future)
        except Exception:
            log.exception("DingTalk message %s could not be handled", message.message_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, "OK"


class StreamThread:
    """Runs `client.start()` on a thread of its own until `stop()`."""

    def __init__(self, client: DingTalkStreamClient) -> None:
        self.client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self.client.logger.disabled = False
        self._thread = threading.Thread(target=self._run, name="kefu-dingtalk-stream", daemon=True)
        self._thread.start()
        self._started.wait(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._task = loop.create_task(self.client.start())
        self._started.set()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
        except Exception:
            log.exception("the DingTalk stream client stopped")
        finally:
            leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in leftovers:  # the SDK's keepalive and message tasks
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.close()

    def _cancel(self) -> None:
        """Runs on the stream's loop: cancel again until the SDK gives up (it swallows the first one)."""
        assert self._loop is not None and self._task is not None
        if not self._task.done():
            self._task.cancel()
            self._loop.call_later(CANCEL_EVERY_SECONDS, self._cancel)

    async def stop(self) -> None:
        if self._thread is None:
            return
        # The SDK logs its own cancellation as a network error: quiet its logger from here on.
        self.client.logger.disabled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(self._cancel)
        await asyncio.to_thread(self._thread.join, STOP_SECONDS)
        if self._thread.is_alive():
            log.warning("the DingTalk stream client did not stop within %.0f s (a blocking call to DingTalk); "
                        "leaving it to end with the process", STOP_SECONDS)
        self._thread = None

