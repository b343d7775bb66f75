"""`OrderLookup`: asks the configured order sources about a message's order, briefly caches the answers, and never
makes a reply wait longer than `order_lookup.timeout_seconds`.

The pipeline is synchronous (it runs in worker threads); the sources are asynchronous (aiohttp). The lookup owns
a small event loop in a thread of its own, where the sources' HTTP sessions live: `lookup_blocking` hands a query
to that loop and waits at most the timeout. A lookup that takes longer comes back `failed` ("timeout") and is
cancelled; the reply goes out without order details.

Sources are asked in order (Shopify, then the hook): the first that finds the order wins; "not found" only when
every source that could answer said so; "failed" when none found it and one could not answer. Found and
not-found answers are cached for `cache_seconds` (a customer's follow-ups ask again within minutes); failures
are not. Shipments without a tracking URL get one built from the carrier and number (bot/order_context/carriers).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.order_context.carriers import carrier_name, guess_carrier, tracking_link
from bot.order_context.model import LookupResult, OrderInfo, OrderSourceError
from bot.order_context.numbers import compile_patterns, find_order_number
from bot.order_context.sources import OrderQuery, OrderSource

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("kefu.orders")

MAX_CACHE_ENTRIES = 10_000
# How much longer than the timeout the calling thread waits for the loop to report the timeout itself.
_GRACE_SECONDS = 0.5


class OrderLookup:
    def __init__(self, sources: Sequence[OrderSource], *, timeout: float = 2.0, cache_seconds: float = 300.0,
                 number_patterns: Sequence[str] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self.sources = tuple(sources)
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.patterns = compile_patterns(number_patterns)
        self.clock = clock
        self._cache: OrderedDict[OrderQuery, tuple[float, LookupResult]] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderLookup | None:
        """The lookup over the sources configured in settings; None when there is none (nothing is looked up)."""
        from bot.order_context.hook import OrderLookupHook
        from bot.order_context.shopify import ShopifyOrderSource

        sources: list[OrderSource] = []
        shopify = settings.shopify
        if shopify.enabled:
            assert shopify.token is not None
            sources.append(ShopifyOrderSource(shopify.base_url, shopify.token.get_secret_value(), shopify.api_version))
        hook = settings.order_lookup
        if hook.url:
            assert hook.secret is not None
            sources.append(OrderLookupHook(hook.url, hook.secret.get_secret_value()))
        if not sources:
            return None
        return cls(sources, timeout=hook.timeout_seconds, cache_seconds=hook.cache_seconds,
                   number_patterns=hook.order_number_patterns)

    def detect(self, text: str) -> str | None:
        """The order number in a customer's message, if any (the team's patterns first)."""
        return find_order_number(text, self.patterns)

    # ---- the calling threads' side -------------------------------------------------------------------------

    def lookup_blocking(self, query: OrderQuery) -> LookupResult:
        """Look the query up on the lookup's own loop; waits at most the timeout (then: failed, "timeout")."""
        if query.empty or not any(source.can_answer(query) for source in self.sources):
            return LookupResult.skipped()
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self.lookup(query), loop)
        try:
            return future.result(self.timeout + _GRACE_SECONDS)
        except TimeoutError:
            future.cancel()
            return LookupResult("failed", query.describe(), reason="timeout")

    def close(self) -> None:
        """Close the sources' sessions and stop the loop thread (a later lookup starts it again)."""
        with self._start_lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        closing = asyncio.run_coroutine_threadsafe(self._close_sources(), loop)
        try:
            closing.result(5)
        except Exception:  # closing must not fail a shutdown
            log.warning("order sources did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="kefu-order-lookup", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _close_sources(self) -> None:
        for source in self.sources:
            await source.close()

    # ---- the loop's side ---------------------------------------------------------------------------------------

    async def lookup(self, query: OrderQuery) -> LookupResult:
        """Ask the sources (cached answers first), within the timeout."""
        cached = self._cached(query)
        if cached is not None:
            return cached
        try:
            result = await asyncio.wait_for(self._ask_sources(query), self.timeout)
        except TimeoutError:
            log.warning("order lookup of %s timed out after %.1f s", query.describe(), self.timeout)
            return LookupResult("failed", query.describe(), reason="timeout")
        if result.state in ("found", "not_found") and self.cache_seconds > 0:
            self._cache[query] = (self.clock() + self.cache_seconds, result)
            self._cache.move_to_end(query)
            while len(self._cache) > MAX_CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return result

    def _cached(self, query: OrderQuery) -> LookupResult | None:
        entry = self._cache.get(query)
        if entry is None:
            return None
        expires, result = entry
        if self.clock() >= expires:
            del self._cache[query]
            return None
        return result

    async def _ask_sources(self, query: OrderQuery) -> LookupResult:
        failure: str | None = None
        for source in self.sources:
            if not source.can_answer(query):
                continue
            try:
                order = await source.find(query)
            except OrderSourceError as exc:
                log.warning("order lookup of %s on %s failed: %s", query.describe(), source.name, exc)
                failure = failure or str(exc)
                continue
            if order is not None:
                return LookupResult("found", query.describe(), order=with_tracking_links(order))
        if failure is not None:
            return LookupResult("failed", query.describe(), reason=failure)
        return LookupResult("not_found", query.describe())


def with_tracking_links(order: OrderInfo) -> OrderInfo:
    """The order with each shipment's carrier named (guessed from the number if need be) and a tracking URL."""
    shipments = []
    for shipment in order.shipments:
        if shipment.tracking_number:
            carrier = carrier_name(shipment.carrier) or guess_carrier(shipment.tracking_number)
            url = shipment.tracking_url or tracking_link(carrier, shipment.tracking_number)
            shipment = replace(shipment, carrier=carrier, tracking_url=url)
        shipments.append(shipment)
    return replace(order, shipments=tuple(shipments))
