"""Shared fixtures: a fresh, migrated database per test on SQLite and (when KEFU_TEST_DATABASE_URL is set) PostgreSQL.

PostgreSQL isolation: each test gets its own schema on the test database, selected through the connection's
search_path, so tests never see each other's rows and the URL works for subprocesses too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from models.db import create_db_engine

POSTGRES_URL = os.environ.get("KEFU_TEST_DATABASE_URL")


def _backends() -> list[object]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason="KEFU_TEST_DATABASE_URL is not set"),
            ],
        ),
    ]


def _postgres_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables), removed after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kefu-test.db'}"
        return
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_db_engine(_postgres_schema_url(POSTGRES_URL, "public"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The URL of a database migrated to the latest schema."""
    from models.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on a fresh, migrated database (SQLite and PostgreSQL)."""
    db_engine = create_db_engine(migrated_url)
    yield db_engine
    db_engine.dispose()


@pytest.fixture(scope="session")
def use_embedder():  # type: ignore[no-untyped-def]
    """The real default embedder (USE multilingual), loaded once per test session."""
    from intents.embedders import load_embedder

    return load_embedder("use-multilingual")
