"""Engine and session construction for SQLite (WAL) and PostgreSQL, and the UTC datetime column type."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from models.sqlite_writer import WriterLock, serialized_connection_class, take_turn_before_writes

PING_AFTER_IDLE_SECONDS = 1.0  # a pooled PostgreSQL connection idle this long is checked before use
WRITER_TURN_TIMEOUT = 10.0  # seconds a SQLite writer queues in the process before meeting SQLite's own lock
MAX_ROW_ID = 2**63 - 1  # the largest id SQLite's INTEGER and PostgreSQL's BIGINT hold


def is_row_id(value: object) -> bool:
    """Whether `value` can be a row's id: an int (not a bool) from 1 to MAX_ROW_ID. A bigger number (from a forged
    button, say) makes the database driver raise instead of finding no row."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC: the only kind of datetime kefu stores."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC (identical on SQLite and PostgreSQL); loads them back as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column; use models.utcnow() or tz-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def redacted_url(url: str) -> str:
    """The URL without its password, for log lines and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`. SQLite gets WAL, foreign keys, a busy timeout, its parent folder created, and its
    writers queued in the process (models/sqlite_writer.py)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        writers = WriterLock(timeout=WRITER_TURN_TIMEOUT)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30,
                                                             "factory": serialized_connection_class(writers)})

        @event.listens_for(engine, "before_cursor_execute")
        def _writer_turn(connection: Any, _cursor: object, statement: str, *_args: object) -> None:
            take_turn_before_writes(connection.connection.dbapi_connection, statement)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=10)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use when it sat idle for PING_AFTER_IDLE_SECONDS (the server may have
    restarted or a firewall dropped it meanwhile); a dead one is replaced, unseen by the caller. A connection in
    steady use is not pinged: SQLAlchemy's pre-ping would cost three of the nineteen round trips of an ingested
    message. Should the server drop a busy connection, its next statement fails once, SQLAlchemy renews the whole
    pool, and the caller's retry (the API's 503, the outbox's and scheduler's next round) goes through."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: object, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: object) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"an idle pooled connection is gone: {type(exc).__name__}") from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_row(session: Session, model: Any, row_id: int) -> Any:
    """The row `row_id` of `model`, locked for the rest of the session's transaction, or None when there is none.
    An UPDATE that changes nothing takes the lock: a row lock on PostgreSQL, the write lock at once on SQLite
    (where SELECT ... FOR UPDATE does not exist)."""
    table = model.__table__
    result = session.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return session.get(model, row_id, populate_existing=True)
