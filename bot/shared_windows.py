"""Sliding windows that every replica counts against, kept in the database (`RateWindow` rows): how many events of
one key (a robot webhook's posts, the failed console logins of an address and name) happened within the last
`seconds`, and an atomic claim of one more while fewer than `limit` did.

A claim, a fill, a release each run in one short transaction that starts by locking the key's row with
INSERT ... ON CONFLICT DO UPDATE ... RETURNING (as `bot.intake.lock_customer` does): on PostgreSQL it creates the
row or waits for a concurrent claim's row lock and then returns the latest events; on SQLite it takes the
database's write lock at once. Two replicas, or two threads, never both take the last place in a window.

Times are Unix seconds from `clock`, the wall clock by default: replicas compare each other's times, which a
monotonic clock cannot give. An event a replica with a clock ahead recorded counts until it is `seconds` old on
the reader's clock, but never holds a window closed for longer than `seconds`.

The work is synchronous (sqlmodel is): async callers run it with `asyncio.to_thread`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from models.tables import RateWindow

ResultT = TypeVar("ResultT")

PRUNE_BATCH = 500  # stale rows deleted by one prune
_TABLE = RateWindow.__table__  # type: ignore[attr-defined]


def _stamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class SharedWindows:
    """The sliding windows of one `scope` ("wecom_robot", "console_login"...), one per key, over `engine`: at most
    `limit` events of a key within any `seconds`."""

    def __init__(self, engine: Engine, scope: str, *, limit: int, seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if seconds <= 0:
            raise ValueError(f"seconds must be above 0, got {seconds}")
        if not scope or len(scope) > 32:
            raise ValueError(f"scope must be 1 to 32 characters, got {scope!r}")
        self.engine = engine
        self.scope = scope
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # ---- reading (no lock) ---------------------------------------------------------------------------------------

    def room(self, key: str) -> int:
        """How many more events the window of `key` allows now."""
        return self.limit - len(self._recent(self._read(key), self.clock()))

    def wait_seconds(self, key: str) -> float:
        """Seconds until the window of `key` allows an event (0: now)."""
        now = self.clock()
        return self._wait(self._recent(self._read(key), now), now)

    # ---- changing (under the row's lock) -------------------------------------------------------------------------

    def claim(self, key: str) -> float:
        """Count an event of `key` now if its window has room and return 0; otherwise count nothing and return the
        seconds until it has room."""

        def take(recent: list[float], now: float) -> tuple[list[float], float]:
            wait = self._wait(recent, now)
            return (recent, wait) if wait > 0 else ([*recent, now], 0.0)

        return self._change(key, take)

    def fill(self, key: str) -> float:
        """Count the window of `key` full for `seconds` from now (the platform said it is); returns those seconds."""
        return self._change(key, lambda _recent, now: ([now] * self.limit, self.seconds))

    def release(self, key: str) -> None:
        """Give back the newest event of `key` (a claimed attempt that turned out not to count)."""
        self._change(key, lambda recent, _now: (recent[:-1], None))

    def clear(self, key: str) -> None:
        """Forget every event of `key`."""
        with self.engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.scope == self.scope, _TABLE.c.key == key))

    def prune(self) -> int:
        """Delete up to PRUNE_BATCH rows of this scope unchanged for a whole window (their events are all over);
        returns how many. On PostgreSQL rows being claimed right now are skipped, never waited for."""
        stale = (select(_TABLE.c.id)
                 .where(_TABLE.c.scope == self.scope, _TABLE.c.updated_at < _stamp(self.clock() - self.seconds))
                 .limit(PRUNE_BATCH))
        if self.engine.dialect.name == "postgresql":
            stale = stale.with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            result = connection.execute(delete(_TABLE).where(_TABLE.c.id.in_(stale.scalar_subquery())))
        return int(result.rowcount)  # type: ignore[attr-defined]

    # ---- the arithmetic ------------------------------------------------------------------------------------------

    def _recent(self, events: list[float], now: float) -> list[float]:
        """The events still in the window at `now`, oldest first."""
        return sorted(float(t) for t in events if now - float(t) < self.seconds)

    def _wait(self, recent: list[float], now: float) -> float:
        if len(recent) < self.limit:
            return 0.0
        frees_at = recent[len(recent) - self.limit] + self.seconds  # the event whose end makes room
        return min(self.seconds, max(frees_at - now, 0.0)) or 0.0

    # ---- the database --------------------------------------------------------------------------------------------

    def _read(self, key: str) -> list[float]:
        with self.engine.connect() as connection:
            events = connection.scalar(select(_TABLE.c.events).where(_TABLE.c.scope == self.scope,
                                                                     _TABLE.c.key == key))
        return list(events or [])

    def _lock(self, connection: Connection, key: str, now: float) -> tuple[int, list[float]]:
        """The key's row (created when missing), locked until the transaction ends: (id, events)."""
        statement = self._insert(_TABLE).values(scope=self.scope, key=key, events=[], updated_at=_stamp(now))
        statement = statement.on_conflict_do_update(index_elements=["scope", "key"],
                                                    set_={"scope": statement.excluded.scope})
        row = connection.execute(statement.returning(_TABLE.c.id, _TABLE.c.events)).one()
        return int(row.id), list(row.events or [])

    def _change(self, key: str,
                change: Callable[[list[float], float], tuple[list[float], ResultT]]) -> ResultT:
        if not key or len(key) > 255:
            raise ValueError(f"window key must be 1 to 255 characters, got {key!r}")
        with self.engine.begin() as connection:
            row_id, events = self._lock(connection, key, self.clock())
            now = self.clock()  # after waiting for the lock: a claim counts when it was granted
            events, result = change(self._recent(events, now), now)
            connection.execute(update(_TABLE).where(_TABLE.c.id == row_id)
                               .values(events=[round(t, 3) for t in events], updated_at=_stamp(now)))
        return result
