"""Schema migrations with alembic, driven from code: `kefu db upgrade` and the start-up check of `kefu serve`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from models.db import create_db_engine, is_sqlite, redacted_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(url: str) -> bool:
    engine = create_db_engine(url)
    try:
        return current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating the SQLite file and its folder when needed)."""
    _run(url, command.upgrade, revision)


def downgrade(url: str, revision: str) -> None:
    _run(url, command.downgrade, revision)


def _run(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_db_engine(url)  # also creates the SQLite parent folder and sets WAL
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            step(config, revision)
    finally:
        engine.dispose()


__all__ = [
    "MIGRATIONS_DIR", "DatabaseNotReady", "alembic_config", "current_revision", "downgrade", "head_revision",
    "is_at_head", "open_database", "upgrade",
]


class DatabaseNotReady(Exception):
    """The database cannot be used: unreachable, or a PostgreSQL schema behind the code. One line for operators."""


def open_database(url: str) -> Engine:
    """An engine on a database at the latest schema. SQLite (one process, kefu's own file) is migrated on the
    spot; a shared PostgreSQL database is never migrated behind the operator's back: run `kefu db upgrade`."""
    try:
        if is_sqlite(url):
            upgrade(url)
        elif not is_at_head(url):
            raise DatabaseNotReady(
                f"database {redacted_url(url)} is not at the latest schema: run `kefu db upgrade` first")
        return create_db_engine(url)
    except DatabaseNotReady:
        raise
    except Exception as exc:  # unreachable server, bad credentials, unreadable file
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        raise DatabaseNotReady(f"cannot open database {redacted_url(url)}: {reason}") from None
