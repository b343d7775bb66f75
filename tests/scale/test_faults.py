"""Faults in the middle of a burst: a replica killed with SIGKILL, the database dropping every connection, a
customer callback answering 500, 429 with Retry-After, or hanging. After recovery every accepted message is in the
database exactly once and every reply reached the customer, once per Idempotency-Key."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from models.db import create_db_engine, is_sqlite
from models.tables import Message, OutboxItem
from tests.e2e.conftest import API_TOKEN, ServeProcess, wait_until
from tests.fakes.callback_server import CallbackServer

pytestmark = pytest.mark.slow

TEXTS = ["¿cuánto tarda el envío?", "how long does shipping take?", "Wie lange dauert der Versand?",
         "combien de temps prend la livraison ?", "The parcel arrived broken, I want a refund"]
RETRY_PAUSE = 0.2
DELIVERY_DEADLINE = 90.0


class Client:
    """A sender that behaves like a load balancer in front of the replicas: a refused connection, a reset or a 5xx
    is retried on the next replica until kefu acknowledges the message (2xx)."""

    def __init__(self, replicas: Callable[[], list[ServeProcess]]) -> None:
        self.replicas = replicas
        self.accepted: dict[str, int] = {}  # channel_message_id → ticket id
        self.retries = 0

    async def deliver(self, http: aiohttp.ClientSession, n: int, text: str) -> None:
        body = {"channel_message_id": f"burst-{n}", "customer": {"id": f"burst-customer-{n % 7}"}, "text": text,
                "conversation_id": f"burst-conv-{n}"}
        deadline = asyncio.get_running_loop().time() + DELIVERY_DEADLINE
        attempt = n
        while asyncio.get_running_loop().time() < deadline:
            live = self.replicas()
            replica = live[attempt % len(live)]
            attempt += 1
            try:
                async with http.post(replica.url + "/api/v1/messages", json=body,
                                     headers={"Authorization": f"Bearer {API_TOKEN}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as response:
                    if response.status < 300:
                        self.accepted[body["channel_message_id"]] = (await response.json())["ticket_id"]
                        return
                    assert response.status >= 500, await response.text()  # 4xx would be our bug
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.retries += 1
            await asyncio.sleep(RETRY_PAUSE)
        pytest.fail(f"message burst-{n} was never acknowledged")


def _stored_once(url: str, count: int) -> None:
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(Message.channel_message_id, func.count())
                                   .where(Message.direction == "in").group_by(Message.channel_message_id)).all()
    finally:
        engine.dispose()
    counts = dict(rows)
    assert sorted(counts) == sorted(f"burst-{n}" for n in range(count))
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}


def _reply_keys(url: str) -> dict[str, str]:
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            return {item.dedup_key: item.status for item in session.scalars(
                select(OutboxItem).where(OutboxItem.kind == "reply"))}
    finally:
        engine.dispose()


def _delivered(callback: CallbackServer) -> Counter[str]:
    """Idempotency-Key → how many times the customer's endpoint accepted it."""
    return Counter(record.headers.get("Idempotency-Key", "") for record in callback.requests
                   if isinstance(record.answered, int) and 200 <= record.answered < 300)


async def _all_replies_delivered(url: str, callback: CallbackServer) -> dict[str, str]:
    def done() -> bool:
        items = _reply_keys(url)
        return bool(items) and all(status == "sent" for status in items.values()) \
            and set(items) <= set(_delivered(callback))

    await wait_until(done, "every reply to be delivered", timeout=DELIVERY_DEADLINE)
    return _reply_keys(url)


async def test_a_replica_killed_mid_burst_loses_nothing_and_doubles_nothing(
    serve_env: dict[str, str], serve_process: Any, migrated_url: str,
) -> None:
    if is_sqlite(migrated_url):
        pytest.skip("two replicas need PostgreSQL")
    burst = 60
    async with CallbackServer(secret=serve_env["KEFU_API_SECRET"]) as callback:
        env = {**serve_env, "KEFU_WEBHOOK_CALLBACK_URL": callback.url}
        live = [serve_process(env), serve_process(env)]
        await asyncio.gather(*(replica.wait_ready() for replica in live))
        client = Client(lambda: live)
        victim = live[0]

        async def kill_after(accepted: int) -> None:
            await wait_until(lambda: len(client.accepted) >= accepted, "the burst to get going")
            victim.kill()
            live.remove(victim)

        async with aiohttp.ClientSession() as http:
            await asyncio.gather(kill_after(burst // 3),
                                 *(client.deliver(http, n, TEXTS[n % len(TEXTS)]) for n in range(burst)))
            live.append(serve_process(env))  # the replica comes back after the burst
            await live[-1].wait_ready()

        _stored_once(migrated_url, burst)
        items = await _all_replies_delivered(migrated_url, callback)
        delivered = _delivered(callback)
        assert set(items) == set(delivered), "a reply nobody queued reached the customer"
        # A send that was in flight when the replica died may be repeated; the Idempotency-Key lets the
        # receiver drop it, and no key may arrive more than twice.
        assert max(delivered.values()) <= 2, delivered.most_common(3)
        for replica in live:
            assert replica.terminate() == 0, replica.output()


async def test_the_database_dropping_every_connection_mid_burst_loses_nothing(
    serve_env: dict[str, str], serve_process: Any, migrated_url: str,
) -> None:
    if is_sqlite(migrated_url):
        pytest.skip("a database server restart is a PostgreSQL fault")
    burst = 40
    async with CallbackServer(secret=serve_env["KEFU_API_SECRET"]) as callback:
        env = {**serve_env, "KEFU_WEBHOOK_CALLBACK_URL": callback.url}
        replica = serve_process(env)
        await replica.wait_ready()
        client = Client(lambda: [replica])
        admin = create_db_engine(migrated_url)

        def drop_connections() -> int:
            # What clients see of a server restart: every other session of this database is terminated.
            with admin.connect() as connection:
                return len(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())

        async def restart_after(accepted: int) -> None:
            await wait_until(lambda: len(client.accepted) >= accepted, "the burst to get going")
            for _ in range(3):  # the restart takes a moment: connections made meanwhile die too
                await asyncio.to_thread(drop_connections)
                await asyncio.sleep(0.3)

        try:
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(restart_after(burst // 4),
                                     *(client.deliver(http, n, TEXTS[n % len(TEXTS)]) for n in range(burst)))
        finally:
            admin.dispose()
        _stored_once(migrated_url, burst)
        items = await _all_replies_delivered(migrated_url, callback)
        assert set(items) == set(_delivered(callback))
        assert max(_delivered(callback).values()) == 1  # nobody died mid-send: nothing may repeat
        assert replica.terminate() == 0, replica.output()


async def test_a_customer_endpoint_failing_rate_limiting_and_hanging_gets_each_reply_once(
    serve_env: dict[str, str], serve_process: Any, migrated_url: str,
) -> None:
    burst = 30
    async with CallbackServer(secret=serve_env["KEFU_API_SECRET"]) as callback:
        callback.fail_next(4, status=500)
        callback.rate_limit_next("1", times=3)
        callback.fail_next(2, status=503)
        callback.hang_next(8, times=2)  # longer than the send timeout (5 s): kefu gives up and retries
        env = {**serve_env, "KEFU_WEBHOOK_CALLBACK_URL": callback.url}
        replica = serve_process(env)
        await replica.wait_ready()
        client = Client(lambda: [replica])
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(client.deliver(http, n, TEXTS[n % len(TEXTS)]) for n in range(burst)))
        _stored_once(migrated_url, burst)
        items = await _all_replies_delivered(migrated_url, callback)
        delivered = _delivered(callback)
        assert set(items) == set(delivered)
        assert max(delivered.values()) == 1, delivered.most_common(3)
        refused = [r.answered for r in callback.requests if r.answered in (429, 500, 503, "hung", "client gone")]
        assert len(refused) == 4 + 3 + 2 + 2  # every scripted fault was met, and survived
        assert replica.terminate() == 0, replica.output()
