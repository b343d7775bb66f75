"""Pooled PostgreSQL connections (models/db.py): one the server dropped while it sat idle is replaced before use,
unseen by the caller; one in steady use is not checked (no extra round trip)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import models.db
from models.db import create_db_engine


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop a connection")
    engine = create_db_engine(database_url)
    killer = create_db_engine(database_url)
    try:
        first = backend_pid(engine)
        with killer.connect() as connection:  # the server ends the idle pooled connection (a restart, a firewall)
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        monkeypatch.setattr(models.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long enough to check
        second = backend_pid(engine)  # would raise OperationalError if the dead connection were handed out
        assert second != first
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_in_steady_use_is_handed_out_unchecked(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are not pooled across a network")
    engine = create_db_engine(database_url)
    pings = 0
    original = engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        nonlocal pings
        pings += 1
        return original(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for _ in range(20):
            backend_pid(engine)
        assert pings == 0
    finally:
        engine.dispose()
