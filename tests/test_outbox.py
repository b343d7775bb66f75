"""The outbox: idempotent enqueue, retries with backoff, giving up, claims across workers, per-ticket order.

Every test runs on a real database (SQLite, and PostgreSQL when KEFU_TEST_DATABASE_URL is set); replies go over
real HTTP to the fake callback receiver. Time is an injected clock that the tests move: nothing sleeps to wait
for a retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from adapters.webhook.callback import WebhookCallbackSender
from bot.outbox import OutboxSender, OutboxWorker, SendError, enqueue
from bot.settings import OutboxSettings
from models.db import create_db_engine, session_scope, utcnow
from models.tables import AuditEvent, Customer, OutboxItem, Ticket
from tests.fakes.callback_server import CallbackServer

SECRET = "outbox-test-secret"
CUSTOMER_TEXT = "Mi paquete no ha llegado y estoy muy molesta"


class FakeClock:
    """The worker's idea of now; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingSender:
    """An in-process channel: records what it sent, in order; can be told to fail an item a number of times."""

    def __init__(self, pause: float = 0.0) -> None:
        self.sent: list[str] = []
        self.attempted: list[str] = []
        self.failures: dict[str, list[SendError]] = {}
        self.pause = pause

    def fail(self, dedup_key: str, *errors: SendError) -> None:
        self.failures.setdefault(dedup_key, []).extend(errors)

    async def send(self, item: OutboxItem) -> str | None:
        self.attempted.append(item.dedup_key)
        await asyncio.sleep(self.pause)
        pending = self.failures.get(item.dedup_key)
        if pending:
            raise pending.pop(0)
        self.sent.append(item.dedup_key)
        return f"ref-{item.dedup_key}"


def settings(**changes: Any) -> OutboxSettings:
    values: dict[str, Any] = {"max_attempts": 5, "base_delay_seconds": 1.0, "max_delay_seconds": 60.0,
                              "poll_interval_seconds": 0.05, "send_timeout_seconds": 5.0, "claim_seconds": 30.0}
    return OutboxSettings(**(values | changes))


def reply_payload(ticket_id: int | None = None, text: str = CUSTOMER_TEXT) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "conversation_id": "conv-1", "customer_id": "cust-1", "text": text,
            "language": "es", "kind": "auto_reply"}


def add(engine: Engine, dedup_key: str, *, channel: str = "webhook", kind: str = "reply",
        ticket_id: int | None = None, payload: dict[str, Any] | None = None) -> int:
    with session_scope(engine) as session:
        item = enqueue(session, dedup_key=dedup_key, kind=kind, channel=channel, target="conv-1",
                       payload=payload if payload is not None else reply_payload(ticket_id), ticket_id=ticket_id)
        assert item.id is not None
        return item.id


def load(engine: Engine, item_id: int) -> OutboxItem:
    with Session(engine) as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        return item


def audit_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]


def new_ticket(engine: Engine, conversation: str = "conv-1") -> int:
    with session_scope(engine) as session:
        customer = Customer(channel="webhook", external_id=f"cust-{conversation}")
        session.add(customer)
        session.flush()
        assert customer.id is not None
        ticket = Ticket(customer_id=customer.id, channel="webhook", conversation_id=conversation,
                        intent="item_not_received", kind="complaint", severity=1)
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        return ticket.id


def worker(engine: Engine, senders: dict[str, OutboxSender], clock: Callable[[], datetime] | None = None,
           worker_id: str = "worker-a", **changes: Any) -> OutboxWorker:
    return OutboxWorker(engine, senders, settings(**changes), worker_id, clock=clock or utcnow)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[CallbackServer]:
    async with CallbackServer(secret=SECRET) as server:
        yield server


@pytest_asyncio.fixture
async def webhook(receiver: CallbackServer) -> AsyncIterator[WebhookCallbackSender]:
    sender = WebhookCallbackSender(receiver.url, SECRET, timeout=2.0)
    yield sender
    await sender.close()


# ---- enqueue -------------------------------------------------------------------------------------------------


def test_enqueue_twice_with_one_dedup_key_keeps_one_row(engine: Engine) -> None:
    first = add(engine, "reply:msg-1", payload=reply_payload(text="first"))
    second = add(engine, "reply:msg-1", payload=reply_payload(text="second"))
    assert first == second
    with Session(engine) as session:
        rows = list(session.exec(select(OutboxItem)))
    assert len(rows) == 1
    assert rows[0].payload["text"] == "first"  # the existing work is kept, not overwritten
    assert rows[0].status == "pending"


def test_concurrent_enqueues_of_one_key_make_one_row(engine: Engine) -> None:
    """Two replicas handling the same redelivered message at once: the second waits for the first and
    gets its row instead of a unique-key error."""
    first = Session(engine, expire_on_commit=False)
    try:
        item = enqueue(first, dedup_key="reply:raced", kind="reply", channel="webhook", target="c",
                       payload=reply_payload(text="from the first replica"))
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(add, engine, "reply:raced", payload=reply_payload(text="from the second"))
            time.sleep(0.1)  # give the second insert time to run into the first one's uncommitted row
            first.commit()
            assert second.result(timeout=60) == item.id
    finally:
        first.close()
    with Session(engine) as session:
        rows = list(session.exec(select(OutboxItem)))
    assert [row.payload["text"] for row in rows] == ["from the first replica"]


def test_enqueue_commits_with_the_callers_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        enqueue(session, dedup_key="reply:rolled-back", kind="reply", channel="webhook", target="c",
                payload=reply_payload())
        session.rollback()
    with Session(engine) as session:
        assert list(session.exec(select(OutboxItem))) == []


def test_enqueue_rejects_a_missing_dedup_key_by_name(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match="dedup_key"):
        enqueue(session, dedup_key="", kind="reply", channel="webhook", target="c", payload={})


# ---- sending and retrying ------------------------------------------------------------------------------------


async def test_a_reply_that_fails_twice_reaches_the_receiver_once(
    engine: Engine, receiver: CallbackServer, webhook: WebhookCallbackSender
) -> None:
    receiver.fail_next(2)
    item_id = add(engine, "reply:msg-7")
    clock = FakeClock()
    outbox = worker(engine, {"webhook": webhook}, clock)

    assert await outbox.drain_once() == 1
    assert await outbox.drain_once() == 0  # waiting for its retry: not due yet
    for _ in range(2):
        clock.advance(120)
        assert await outbox.drain_once() == 1

    item = load(engine, item_id)
    assert (item.status, item.attempts, item.result_ref) == ("sent", 3, "cb-1")
    assert item.claimed_by is None and item.claimed_until is None
    assert item.sent_at == clock.now
    assert receiver.received == [reply_payload()]
    assert [request.answered for request in receiver.requests] == [500, 500, 200]
    assert {request.headers["Idempotency-Key"] for request in receiver.requests} == {"reply:msg-7"}
    clock.advance(3600)
    assert await outbox.drain_once() == 0  # recorded once: never sent again


async def test_retry_after_from_a_429_is_honoured(
    engine: Engine, receiver: CallbackServer, webhook: WebhookCallbackSender
) -> None:
    receiver.rate_limit_next("2")
    item_id = add(engine, "reply:msg-8")
    clock = FakeClock()
    outbox = worker(engine, {"webhook": webhook}, clock, base_delay_seconds=0.1)

    assert await outbox.drain_once() == 1
    item = load(engine, item_id)
    assert item.status == "pending"
    assert item.next_attempt_at >= clock.now + timedelta(seconds=2)  # longer than the 0.1 s base delay
    assert "HTTP 429" in (item.last_error or "")
    clock.advance(1.5)
    assert await outbox.drain_once() == 0
    clock.advance(0.6)
    assert await outbox.drain_once() == 1
    assert load(engine, item_id).status == "sent"
    assert len(receiver.received) == 1


async def test_backoff_doubles_with_jitter_up_to_the_maximum(engine: Engine) -> None:
    channel = RecordingSender()
    channel.fail("alert:1", *(SendError("HTTP 503", transient=True) for _ in range(6)))
    item_id = add(engine, "alert:1", channel="team", kind="alert", payload={"text": "queue is long"})
    clock = FakeClock()
    outbox = worker(engine, {"team": channel}, clock, max_attempts=10, base_delay_seconds=1.0,
                    max_delay_seconds=4.0)
    expected = [1.0, 2.0, 4.0, 4.0, 4.0]
    for attempt, nominal in enumerate(expected, start=1):
        assert await outbox.drain_once() == 1
        item = load(engine, item_id)
        assert item.attempts == attempt
        delay = (item.next_attempt_at - clock.now).total_seconds()
        assert nominal * 0.8 - 1e-3 <= delay <= nominal * 1.2 + 1e-3, (attempt, delay)
        clock.advance(delay)


async def test_a_permanent_error_fails_at_once_with_an_audit_event(
    engine: Engine, receiver: CallbackServer, webhook: WebhookCallbackSender
) -> None:
    receiver.answer_next(400)
    item_id = add(engine, "reply:msg-9")
    outbox = worker(engine, {"webhook": webhook}, FakeClock())

    assert await outbox.drain_once() == 1
    item = load(engine, item_id)
    assert (item.status, item.attempts) == ("failed", 1)
    assert "HTTP 400" in (item.last_error or "")
    (event,) = audit_events(engine)
    assert (event.actor, event.action, event.subject_type, event.subject_id) == (
        "outbox", "outbox.gave_up", "outbox_item", str(item_id))
    assert event.details["attempts"] == 1
    assert event.details["channel"] == "webhook"
    assert event.details["kind"] == "reply"
    assert "HTTP 400" in event.details["error"]
    assert len(receiver.requests) == 1


async def test_max_attempts_gives_up_with_an_audit_event_and_one_warning(
    engine: Engine, receiver: CallbackServer, webhook: WebhookCallbackSender, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_next(10)
    item_id = add(engine, "reply:msg-10")
    clock = FakeClock()
    outbox = worker(engine, {"webhook": webhook}, clock, max_attempts=3)

    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        for _ in range(3):
            assert await outbox.drain_once() == 1
            clock.advance(600)
        assert await outbox.drain_once() == 0

    item = load(engine, item_id)
    assert (item.status, item.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3
    (event,) = audit_events(engine)
    assert event.action == "outbox.gave_up"
    assert event.details["attempts"] == 3
    assert "gave up after 3 attempts" in event.details["error"]
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(item_id) in message and "3 attempt" in message
    assert CUSTOMER_TEXT not in caplog.text and SECRET not in caplog.text


async def test_a_channel_without_a_sender_fails_at_once(engine: Engine) -> None:
    item_id = add(engine, "card:1", channel="teams", kind="card", payload={"title": "x"})
    outbox = worker(engine, {"webhook": RecordingSender()}, FakeClock())
    assert await outbox.drain_once() == 1
    item = load(engine, item_id)
    assert item.status == "failed"
    assert "no sender for channel 'teams'" in (item.last_error or "")
    assert [event.subject_id for event in audit_events(engine)] == [str(item_id)]


async def test_a_hanging_receiver_counts_as_a_transient_failure(
    engine: Engine, receiver: CallbackServer
) -> None:
    receiver.hang_next(30)
    item_id = add(engine, "reply:msg-11")
    # The worker's own send timeout cuts a sender that would wait longer.
    patient = WebhookCallbackSender(receiver.url, SECRET, timeout=60)
    try:
        outbox = worker(engine, {"webhook": patient}, FakeClock(), send_timeout_seconds=0.3)
        assert await outbox.drain_once() == 1
    finally:
        await patient.close()
    item = load(engine, item_id)
    assert (item.status, item.attempts) == ("pending", 1)
    assert "timed out" in (item.last_error or "")


async def test_a_sent_card_leaves_its_ref_on_the_ticket(engine: Engine) -> None:
    ticket_id = new_ticket(engine)
    item_id = add(engine, "card:ticket", channel="slack", kind="card", ticket_id=ticket_id,
                  payload={"title": "Item not received"})
    outbox = worker(engine, {"slack": RecordingSender()}, FakeClock())
    assert await outbox.drain_once() == 1
    assert load(engine, item_id).result_ref == "ref-card:ticket"
    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.card_channel, ticket.card_ref) == ("slack", "ref-card:ticket")


# ---- claims, crashes, several workers, order -----------------------------------------------------------------


async def test_an_expired_claim_is_picked_up_again(engine: Engine, receiver: CallbackServer,
                                                  webhook: WebhookCallbackSender) -> None:
    item_id = add(engine, "reply:msg-12")
    clock = FakeClock()
    with session_scope(engine) as session:  # a worker claimed it, then died mid-send
        session.execute(
            update(OutboxItem).where(OutboxItem.id == item_id)  # type: ignore[arg-type]
            .values(claimed_by="crashed-worker", claimed_until=clock.now + timedelta(seconds=30), attempts=1)
        )
    outbox = worker(engine, {"webhook": webhook}, clock, worker_id="restarted")
    assert await outbox.drain_once() == 0  # the claim still holds
    clock.advance(31)
    assert await outbox.drain_once() == 1
    item = load(engine, item_id)
    assert (item.status, item.attempts, item.claimed_by) == ("sent", 2, None)
    assert len(receiver.received) == 1


async def test_items_of_one_ticket_go_out_in_order(engine: Engine) -> None:
    ticket_id = new_ticket(engine)
    other_ticket = new_ticket(engine, "conv-2")
    channel = RecordingSender()
    channel.fail("t:1", SendError("HTTP 500", transient=True))
    for key in ("t:1", "t:2", "t:3"):
        add(engine, key, ticket_id=ticket_id)
    add(engine, "other:1", ticket_id=other_ticket)
    add(engine, "loose:1")
    clock = FakeClock()
    outbox = worker(engine, {"webhook": channel}, clock)

    assert await outbox.drain_once() == 3  # t:1 (fails), other:1, loose:1 — not t:2 while t:1 is pending
    assert sorted(channel.attempted) == ["loose:1", "other:1", "t:1"]
    assert await outbox.drain_once() == 0  # t:1 waits for its retry and holds back t:2 and t:3
    for _ in range(3):
        clock.advance(120)
        assert await outbox.drain_once() == 1
    assert [key for key in channel.sent if key.startswith("t:")] == ["t:1", "t:2", "t:3"]


async def test_a_failed_item_does_not_block_the_rest_of_its_ticket(engine: Engine) -> None:
    ticket_id = new_ticket(engine)
    channel = RecordingSender()
    channel.fail("t:1", SendError("HTTP 400", transient=False))
    add(engine, "t:1", ticket_id=ticket_id)
    add(engine, "t:2", ticket_id=ticket_id)
    outbox = worker(engine, {"webhook": channel}, FakeClock())
    assert await outbox.drain_once() == 1
    assert await outbox.drain_once() == 1
    assert channel.sent == ["t:2"]


async def test_two_workers_deliver_every_item_exactly_once(engine: Engine, migrated_url: str) -> None:
    second_engine = create_db_engine(migrated_url)  # another replica: its own connections to the same database
    tickets = [new_ticket(engine, f"conv-{n}") for n in range(5)]
    keys = []
    for n in range(60):
        key = f"reply:{n}"
        keys.append(key)
        add(engine, key, ticket_id=tickets[n % 5] if n % 3 else None)
    channel = RecordingSender(pause=0.002)
    workers = [
        worker(engine, {"webhook": channel}, worker_id="replica-1"),
        worker(second_engine, {"webhook": channel}, worker_id="replica-2"),
    ]
    handled = [0, 0]

    async def drain(index: int) -> None:
        while True:
            count = await workers[index].drain_once()
            if count == 0:
                return
            handled[index] += count

    try:
        await asyncio.gather(drain(0), drain(1))
        while len(channel.sent) < len(keys):  # a worker that found nothing may have stopped early
            if not await workers[0].drain_once() and not await workers[1].drain_once():
                break
    finally:
        second_engine.dispose()
    assert sorted(channel.sent) == sorted(keys)  # all delivered, none twice
    assert len(channel.attempted) == len(keys)
    with Session(engine) as session:
        statuses = {item.status for item in session.exec(select(OutboxItem))}
    assert statuses == {"sent"}
    for ticket_id in tickets:  # and each ticket's replies in the order they were enqueued
        ticket_keys = [f"reply:{n}" for n in range(60) if n % 3 and tickets[n % 5] == ticket_id]
        assert [key for key in channel.sent if key in ticket_keys] == ticket_keys


async def test_run_sends_notified_work_and_stop_finishes_the_send_in_flight(engine: Engine) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    class SlowChannel:
        async def send(self, item: OutboxItem) -> str | None:
            started.set()
            await release.wait()
            return "slow-ref"

    rounds: list[datetime] = []

    def clock() -> datetime:  # counts the worker's claim rounds
        rounds.append(utcnow())
        return rounds[-1]

    # A long poll interval: only notify() can make the worker look again within the test.
    outbox = worker(engine, {"webhook": SlowChannel()}, clock, poll_interval_seconds=3600)
    runner = asyncio.create_task(outbox.run())
    try:
        while not rounds:  # let the worker finish its first (empty) round and go idle
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert len(rounds) == 1
        item_id = add(engine, "reply:slow")
        outbox.notify()
        await asyncio.wait_for(started.wait(), timeout=30)
        stopping = asyncio.create_task(outbox.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # stop waits for the send in flight
        release.set()
        await asyncio.wait_for(stopping, timeout=30)
        await asyncio.wait_for(runner, timeout=30)
    finally:
        runner.cancel()
    item = load(engine, item_id)
    assert (item.status, item.result_ref) == ("sent", "slow-ref")


async def test_a_worker_stopped_before_it_runs_does_not_start(engine: Engine) -> None:
    channel = RecordingSender()
    add(engine, "reply:never")
    outbox = worker(engine, {"webhook": channel})
    await outbox.stop()
    await asyncio.wait_for(outbox.run(), timeout=30)
    assert channel.attempted == []


async def test_a_card_update_queued_before_its_card_was_posted_goes_to_the_posted_card(engine: Engine) -> None:

    with session_scope(engine) as session:
        customer = Customer(channel="webhook", external_id="c-upd")
        session.add(customer)
        session.flush()
        ticket = Ticket(customer_id=customer.id, channel="webhook", conversation_id="c-upd", intent="x", kind="faq")
        session.add(ticket)
        session.flush()
        enqueue(session, dedup_key="card:u", kind="card", channel="console", target="", payload={},
                ticket_id=ticket.id)
        enqueue(session, dedup_key="card_update:u", kind="card_update", channel="console", target="", payload={},
                ticket_id=ticket.id)
    targets: list[tuple[str, str]] = []

    class Channel:
        async def send(self, item: OutboxItem) -> str | None:
            targets.append((item.kind, item.target))
            return "C1:1700000000.0001" if item.kind == "card" else None

    worker = OutboxWorker(engine, {"console": Channel()}, OutboxSettings(), "w1")
    while await worker.drain_once():
        pass
    assert targets == [("card", ""), ("card_update", "C1:1700000000.0001")]


async def test_a_hanging_receiver_does_not_hold_up_other_work(engine: Engine) -> None:
    release = asyncio.Event()
    delivered: list[str] = []

    class Hanging:
        async def send(self, item: OutboxItem) -> str | None:
            await release.wait()
            return None

    class Quick:
        async def send(self, item: OutboxItem) -> str | None:
            delivered.append(item.dedup_key)
            return None

    add(engine, "reply:stuck", channel="slow")
    outbox = worker(engine, {"slow": Hanging(), "webhook": Quick()}, poll_interval_seconds=3600)
    runner = asyncio.create_task(outbox.run())
    try:
        await asyncio.sleep(0.2)  # the stuck item is in flight
        for n in range(3):
            add(engine, f"reply:quick-{n}")
            outbox.notify()
        for _ in range(300):
            if len(delivered) == 3:
                break
            await asyncio.sleep(0.01)
        assert sorted(delivered) == ["reply:quick-0", "reply:quick-1", "reply:quick-2"]
        release.set()
        await outbox.stop()
        await asyncio.wait_for(runner, timeout=30)
    finally:
        runner.cancel()
