"""One SQLite writer at a time within a process, queued on a lock instead of SQLite's sleeping busy handler.

SQLite allows one write transaction at a time. A connection that finds the write lock taken calls the busy
handler, which sleeps in steps of up to 100 ms and tries again: under a burst of messages on a pool of ingest
threads most writers are asleep while the lock is already free, so throughput falls and ack latency jumps to
seconds. This module puts the queue in the process: a connection takes `WriterLock` before its first write
statement (INSERT, UPDATE, DELETE, REPLACE) and gives it back the moment its transaction commits or rolls back,
and the next waiter wakes at once. Other processes on the same file (the CLI, a second replica) still meet on
SQLite's own lock and its busy timeout.

The lock is taken with a timeout: a connection that could not get it in time writes anyway and meets SQLite's
lock as before, so a lock that was never given back (a connection dropped without rollback) slows writers down
rather than stopping them.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Final

WRITE_VERBS: Final = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterLock:
    """The process's turn to write to one SQLite database; `timeout`: seconds a writer waits before it writes
    anyway (under SQLite's own lock and busy timeout)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        return self._lock.acquire(timeout=self.timeout)

    def locked(self) -> bool:
        """Whether a connection of the process holds the turn now."""
        return self._lock.locked()

    def release(self) -> None:
        self._lock.release()


def is_write(statement: str) -> bool:
    """Whether a statement makes the sqlite3 module open a write transaction (a data-changing statement)."""
    return statement.lstrip()[:7].upper().startswith(WRITE_VERBS)


def serialized_connection_class(lock: WriterLock) -> type[sqlite3.Connection]:
    """A sqlite3 connection class (`sqlite3.connect(factory=...)`) whose writers take turns on `lock`."""

    class SerializedWriterConnection(sqlite3.Connection):
        writer_lock = lock
        _holds_turn = False

        def take_turn(self) -> None:
            """Wait for the process's write turn before this connection's first write of a transaction."""
            if not self._holds_turn and not self.in_transaction:
                self._holds_turn = lock.acquire()

        def _give_back(self) -> None:
            if self._holds_turn:
                self._holds_turn = False
                lock.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._give_back()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._give_back()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._give_back()

    return SerializedWriterConnection


def take_turn_before_writes(dbapi_connection: Any, statement: str) -> None:
    """Called before each statement (SQLAlchemy's before_cursor_execute): a write waits for its turn."""
    take_turn = getattr(dbapi_connection, "take_turn", None)
    if take_turn is not None and is_write(statement):
        take_turn()
