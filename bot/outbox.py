"""The outbox: durable outbound work (replies, cards, card updates, alerts) and the worker that sends it.

Whoever decides to send something calls `enqueue` inside its own transaction, so the decision and the work
to do commit together (or not at all). `OutboxWorker` claims due items, hands each to the sender registered for
its channel, and records the result. Delivery is at least once and recording exactly once:

- an item is claimed by a conditional UPDATE (on PostgreSQL after `SELECT ... FOR UPDATE SKIP LOCKED`), so two
  workers (two replicas) never send the same item at the same time;
- a worker that dies mid-send leaves its claim to expire, and the item is sent again by whoever claims it;
  receivers drop the rare repeat by its idempotency key (the item's `dedup_key`);
- items of one ticket go out one at a time in id order: an item is not claimed while an older item of the same
  ticket is still pending (being sent or waiting for a retry);
- transient failures are retried with exponential backoff and jitter (or after the receiver's Retry-After),
  permanent ones and the last allowed attempt end the item as `failed`, with an audit event and a warning.

Database work runs in worker threads (`asyncio.to_thread`, sqlmodel is synchronous); sends run on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from bot.settings import OutboxSettings
from models.db import utcnow
from models.tables import AuditEvent, OutboxItem, Ticket

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 16  # sends at once per worker: a burst's replies and cards must not queue behind a few sends
RECORD_RETRY_FIRST_DELAY = 0.1  # seconds; doubled on each retry of recording a send's result
JITTER = 0.2
_ERROR_LENGTH = 2000
_REF_LENGTH = 255


class SendError(Exception):
    """A send that did not go through. `transient` errors (timeouts, connection errors, 5xx, 408, 429) are
    retried, after `retry_after` seconds when the receiver said so; the others fail the item at once."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class OutboxSender(Protocol):
    """Sends outbox items of one channel. Raises `SendError` when the item did not go out."""

    async def send(self, item: OutboxItem) -> str | None:
        """Send `item`; return the platform's reference for what was sent (message id), if it gives one."""
        ...


def enqueue(
    session: Session,
    *,
    dedup_key: str,
    kind: str,
    channel: str,
    target: str,
    payload: dict[str, Any],
    ticket_id: int | None = None,
) -> OutboxItem:
    """Add outbound work to the caller's transaction (this does not commit) and return its row.

    Idempotent on `dedup_key`: when an item with that key exists already (a redelivered inbound, another
    replica deciding the same thing), that item is returned unchanged. Safe against concurrent inserts of the
    same key on SQLite and PostgreSQL (INSERT ... ON CONFLICT DO NOTHING, then a select).
    """
    for field, value, limit in (("dedup_key", dedup_key, 255), ("kind", kind, 32), ("channel", channel, 32)):
        if not value or len(value) > limit:
            raise ValueError(f"outbox item {field} must be 1 to {limit} characters, got {value!r}")
    if len(target) > 255:
        raise ValueError(f"outbox item target must be at most 255 characters, got {len(target)}")
    if not isinstance(payload, dict):
        raise ValueError(f"outbox item payload must be a dict, got {type(payload).__name__}")
    now = utcnow()
    values = {
        "dedup_key": dedup_key,
        "kind": kind,
        "channel": channel,
        "target": target,
        "payload": payload,
        "ticket_id": ticket_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    # RETURNING gives the new row; nothing comes back when the key exists, and then the existing item is read.
    inserted = session.scalars(_insert_new_item(session.get_bind().dialect.name), values)
    item = inserted.one_or_none()
    if item is None:
        item = session.scalars(select(OutboxItem).where(OutboxItem.dedup_key == dedup_key)).one()  # type: ignore[arg-type]
    return item


@functools.cache
def _insert_new_item(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (dedup_key) DO NOTHING RETURNING the row, built once per dialect."""
    if dialect == "postgresql":
        statement: Any = postgresql.insert(OutboxItem)
    elif dialect == "sqlite":
        statement = sqlite.insert(OutboxItem)
    else:  # pragma: no cover - kefu supports SQLite and PostgreSQL only
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    return statement.on_conflict_do_nothing(index_elements=["dedup_key"]).returning(OutboxItem)


_OUTBOX = OutboxItem.__table__  # type: ignore[attr-defined]
_TICKETS = Ticket.__table__  # type: ignore[attr-defined]
_MARK_SENT = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("item_id"), _OUTBOX.c.status == "pending")
    .values(status="sent", sent_at=bindparam("sent_at"), result_ref=bindparam("ref"), claimed_by=None,
            claimed_until=None, last_error=None)
)
_FIRST_CARD = (
    update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"), _TICKETS.c.card_ref.is_(None))
    .values(card_channel=bindparam("card_channel_value"), card_ref=bindparam("ref"))
)


def _due() -> ColumnElement[bool]:
    """Pending, its time come, not claimed (or the claim expired), and no older item of its ticket pending: a
    ticket's items go out in order. `now` is bound at execution."""
    older = _OUTBOX.alias("older")
    older_pending = exists().where(
        older.c.ticket_id == _OUTBOX.c.ticket_id, older.c.status == "pending", older.c.id < _OUTBOX.c.id
    )
    now = bindparam("now", type_=_OUTBOX.c.next_attempt_at.type)
    return and_(
        _OUTBOX.c.status == "pending",
        _OUTBOX.c.next_attempt_at <= now,
        or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < now),
        ~older_pending,
    )


_DUE_IDS = (select(_OUTBOX.c.id).where(_due()).order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
            .limit(bindparam("limit")))
_DUE_IDS_FOR_UPDATE = _DUE_IDS.with_for_update(skip_locked=True, of=_OUTBOX)
_CLAIM = (
    update(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _due())
    .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until"), attempts=_OUTBOX.c.attempts + 1)
    .returning(_OUTBOX.c.id)
)


class SentRecords:
    """Sends that finished while the previous ones were being recorded are recorded together, in one
    transaction: a burst of replies costs a few writes rather than one each, and no send waits for a batch to
    fill (a lone send is recorded at once). `write` records a batch (in a thread); its error fails the batch,
    whose callers retry."""

    def __init__(self, write: Callable[[Sequence[tuple[OutboxItem, str | None]]], None]) -> None:
        self.write = write
        self._waiting: list[tuple[OutboxItem, str | None, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, item: OutboxItem, ref: str | None) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, ref, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await done

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self.write, [(item, ref) for item, ref, _ in batch])
            except Exception as exc:
                outcome: BaseException | None = exc
            else:
                outcome = None
            for _item, _ref, done in batch:
                if done.done():
                    continue
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)


@dataclass(frozen=True)
class _Outcome:
    ref: str | None = None
    error: str | None = None
    transient: bool = False
    retry_after: float | None = None


class OutboxWorker:
    """Drains the outbox: claims due items, sends them with the sender of their channel, records the results.

    Several workers (in one process or in several replicas) may drain the same table. `run()` loops until
    `stop()`; `drain_once()` does one round and is what tests drive with an injected clock.
    """

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, OutboxSender],
        settings: OutboxSettings,
        worker_id: str,
        clock: Callable[[], datetime] = utcnow,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        rng: random.Random | None = None,
    ) -> None:
        if not worker_id or len(worker_id) > 128:
            raise ValueError(f"worker_id must be 1 to 128 characters, got {worker_id!r}")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self.engine = engine
        self.senders = dict(senders)
        self.settings = settings
        self.worker_id = worker_id
        self.clock = clock
        self.max_in_flight = max_in_flight
        self._rng = rng or random.Random()
        self._postgres = engine.dialect.name == "postgresql"
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._stopped: asyncio.Event | None = None
        self._sent = SentRecords(self._record_sent)

    # ---- the loop -------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()` is called (a worker stopped before it ran returns at once; a stopped worker stays
        stopped). Up to `max_in_flight` sends run at once and a freed slot is refilled at once, so one slow
        receiver never holds up the others. Sleeps `poll_interval_seconds` when idle; `notify()` wakes it. A
        database error is logged and retried after the poll interval: the loop does not die."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()  # a free slot: look for more work

        try:
            while not self._stopping:
                self._wake.clear()
                claimed: list[OutboxItem] = []
                free = self.max_in_flight - len(in_flight)
                if free > 0:
                    try:
                        claimed = await asyncio.to_thread(self._claim, free)
                    except Exception as exc:  # a database outage must not end the worker
                        log.error("outbox worker %s: claim failed (%s: %s); retrying", self.worker_id,
                                  type(exc).__name__, exc)
                for item in claimed:
                    task = asyncio.create_task(self._handle_logged(item))
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if claimed and len(in_flight) < self.max_in_flight:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_interval_seconds)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            self._stopped.set()

    def notify(self) -> None:
        """Wake the worker so that newly enqueued work goes out now. Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Ask `run()` to end and wait until the sends in flight have finished and been recorded."""
        self._stopping = True
        self._wake.set()
        if self._stopped is not None:
            await self._stopped.wait()

    # ---- one round -------------------------------------------------------------------------------------

    async def drain_once(self) -> int:
        """Claim up to `max_in_flight` due items, send them concurrently, record each result.
        Returns how many items were handled (sent, rescheduled or failed)."""
        items = await asyncio.to_thread(self._claim, self.max_in_flight)
        if not items:
            return 0
        await asyncio.gather(*(self._handle_logged(item) for item in items))
        return len(items)

    async def _handle_logged(self, item: OutboxItem) -> None:
        try:
            await self._handle(item)
        except Exception as exc:
            # Recording failed (database trouble): the claim expires and the item is sent again later.
            log.error("outbox item %s: could not record the result (%s: %s)", item.id, type(exc).__name__, exc)

    async def _handle(self, item: OutboxItem) -> None:
        if item.attempts > self.settings.max_attempts:
            # Every earlier claim expired without a result: the worker died mid-send each time.
            outcome = _Outcome(error="claims expired without a result (worker stopped mid-send)")
        else:
            outcome = await self._send(item)
        if outcome.error is None:
            await self._record(item, functools.partial(self._sent.record, item, outcome.ref))
        else:
            await self._record(item, functools.partial(asyncio.to_thread, self._record_failure, item, outcome))

    async def _record(self, item: OutboxItem, record: Callable[[], Awaitable[None]]) -> None:
        """Record a send's result. A database error (a restart, dropped connections) is retried while the claim
        lasts: an item that went out must not be sent again just because its result could not be written at once.
        Recording is conditional on the item's state, so a retry after a write that did land changes nothing."""
        delay = RECORD_RETRY_FIRST_DELAY
        while True:
            try:
                await record()
                return
            except DBAPIError:
                until = item.claimed_until
                if until is None or (until - self.clock()).total_seconds() <= delay:
                    raise
                await asyncio.sleep(delay)
                delay *= 2

    async def _send(self, item: OutboxItem) -> _Outcome:
        sender = self.senders.get(item.channel)
        if sender is None:
            return _Outcome(error=f"no sender for channel {item.channel!r}")
        timeout = self.settings.send_timeout_seconds
        try:
            ref = await asyncio.wait_for(sender.send(item), timeout=timeout)
        except SendError as exc:
            return _Outcome(error=str(exc) or type(exc).__name__, transient=exc.transient,
                            retry_after=exc.retry_after)
        except TimeoutError:
            return _Outcome(error=f"send timed out after {timeout:g} s", transient=True)
        except Exception as exc:  # a sender bug or an unexpected library error: retry, then give up
            return _Outcome(error=f"unexpected {type(exc).__name__}: {exc}", transient=True)
        return _Outcome(ref=None if ref is None else str(ref)[:_REF_LENGTH])

    # ---- database work (runs in threads) ---------------------------------------------------------------

    def _claim(self, limit: int) -> list[OutboxItem]:
        now = self.clock()
        until = now + timedelta(seconds=self.settings.claim_seconds)
        with Session(self.engine, expire_on_commit=False) as session:
            query = _DUE_IDS_FOR_UPDATE if self._postgres else _DUE_IDS
            candidates = list(session.execute(query, {"now": now, "limit": limit}).scalars())
            claimed: list[int] = []
            if candidates:
                # Conditional on still being due: another worker may have claimed or finished some meanwhile.
                claimed = list(session.execute(
                    _CLAIM, {"ids": candidates, "now": now, "worker": self.worker_id, "until": until}
                ).scalars())
            items: list[OutboxItem] = []
            if claimed:
                items = list(
                    session.scalars(
                        select(OutboxItem).where(OutboxItem.id.in_(claimed)).order_by(OutboxItem.id)  # type: ignore[union-attr]
                    )
                )
            for item in items:
                if item.kind == "card_update" and not item.target and item.ticket_id is not None:
                    # Queued before its card was posted: the card's ref is known now (items of a ticket go in order).
                    ticket = session.get(Ticket, item.ticket_id)
                    if ticket is not None and ticket.card_ref:
                        item.target = ticket.card_ref
            session.commit()
            for item in items:
                session.expunge(item)
            return items

    def _record_sent(self, sent: Sequence[tuple[OutboxItem, str | None]]) -> None:
        """Mark items sent, with the platform's reference, in one transaction (see `SentRecords`)."""
        now = self.clock()
        with Session(self.engine) as session:
            for item, ref in sent:
                # Whoever finishes first records the send; a late duplicate finds the item no longer pending.
                result = session.execute(_MARK_SENT, {"item_id": item.id, "sent_at": now, "ref": ref})
                if result.rowcount == 1 and item.kind == "card" and item.ticket_id is not None:  # type: ignore[attr-defined]
                    # The first card is the ticket's card (updated in place); later cards are follow-ups beside it.
                    session.execute(_FIRST_CARD, {"ticket_id": item.ticket_id, "card_channel_value": item.channel,
                                                       "ref": ref})
            session.commit()

    def _record_failure(self, item: OutboxItem, outcome: _Outcome) -> None:
        table = OutboxItem.__table__  # type: ignore[attr-defined]
        error = (outcome.error or "unknown error")[:_ERROR_LENGTH]
        now = self.clock()
        mine = and_(table.c.id == item.id, table.c.status == "pending", table.c.claimed_by == self.worker_id)
        with Session(self.engine) as session:
            if outcome.transient and item.attempts < self.settings.max_attempts:
                delay = self._delay(item.attempts, outcome.retry_after)
                session.execute(
                    update(table).where(mine).values(
                        next_attempt_at=now + timedelta(seconds=delay), last_error=error, claimed_by=None,
                        claimed_until=None,
                    )
                )
                session.commit()
                return
            if outcome.transient:
                error = f"gave up after {item.attempts} attempts: {error}"[:_ERROR_LENGTH]
            result = session.execute(
                update(table).where(mine).values(status="failed", last_error=error, claimed_by=None,
                                                 claimed_until=None)
            )
            gave_up = result.rowcount == 1  # type: ignore[attr-defined]
            if gave_up:
                session.add(
                    AuditEvent(
                        at=now,
                        actor="outbox",
                        action="outbox.gave_up",
                        subject_type="outbox_item",
                        subject_id=str(item.id),
                        details={"attempts": item.attempts, "error": error, "channel": item.channel,
                                 "kind": item.kind},
                    )
                )
            session.commit()
        if gave_up:
            log.warning("outbox item %s (%s on %s, ticket %s) failed after %d attempt(s): %s", item.id,
                        item.kind, item.channel, item.ticket_id, item.attempts, error)

    def _delay(self, attempts: int, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt: the receiver's Retry-After when given, otherwise
        base·2^(attempts-1) capped at max_delay, with ±20 % jitter so that replicas do not retry in step."""
        if retry_after is not None and retry_after >= 0:
            return retry_after
        base = self.settings.base_delay_seconds * 2 ** max(attempts - 1, 0)
        delay = min(self.settings.max_delay_seconds, base)
        return delay * self._rng.uniform(1 - JITTER, 1 + JITTER)
