"""SQLite writers of one process take turns on a lock (models/sqlite_writer.py): the turn is held from a
transaction's first write to its end, whatever the end, and readers never wait for it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from models.db import create_db_engine
from models.sqlite_writer import is_write


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"))
    yield engine
    engine.dispose()


def turn_is_held(engine: Engine) -> bool:
    raw = engine.raw_connection()
    try:
        return bool(raw.driver_connection.writer_lock.locked())  # type: ignore[union-attr]
    finally:
        raw.close()


def test_the_turn_is_held_from_the_first_write_until_commit(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM note"))
        assert not turn_is_held(engine)  # reading takes no turn
        connection.execute(text("INSERT INTO note (body) VALUES ('a')"))
        assert turn_is_held(engine)
        connection.commit()
        assert not turn_is_held(engine)


def test_a_failed_write_gives_the_turn_back(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO note (body) VALUES ('same')"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO note (body) VALUES ('same')"))
    assert not turn_is_held(engine)
    with engine.connect() as connection:  # a transaction abandoned without commit or rollback
        connection.execute(text("INSERT INTO note (body) VALUES ('dropped')"))
    assert not turn_is_held(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM note ORDER BY id")).scalars().all() == ["same"]


def test_a_reader_does_not_wait_for_a_writer(engine: Engine) -> None:
    with engine.connect() as writer:
        writer.execute(text("INSERT INTO note (body) VALUES ('pending')"))
        with engine.connect() as reader:  # WAL: the reader sees the last commit, at once
            assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 0
        writer.commit()


def test_a_second_writer_waits_for_the_turn_then_writes(engine: Engine) -> None:
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO note (body) VALUES ('second')"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            second_done.set()

    with engine.connect() as first:
        first.execute(text("INSERT INTO note (body) VALUES ('first')"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(0.3)  # still waiting for its turn
        first.commit()
    thread.join(timeout=30)
    assert not errors
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM note ORDER BY id")).scalars().all() == ["first", "second"]


def test_many_writers_in_threads_all_land(engine: Engine) -> None:
    def write(worker: int) -> None:
        for n in range(25):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": f"{worker}-{n}"})

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM note")).scalar() == 200
    assert not turn_is_held(engine)


@pytest.mark.parametrize(("statement", "writes"), [
    ("INSERT INTO note VALUES (1)", True), ("  update note set body = 'x'", True), ("DELETE FROM note", True),
    ("REPLACE INTO note VALUES (1, 'x')", True), ("SELECT * FROM note", False), ("PRAGMA foreign_keys=ON", False),
])
def test_which_statements_take_the_turn(statement: str, writes: bool) -> None:
    assert is_write(statement) is writes
