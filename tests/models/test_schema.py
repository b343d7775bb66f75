"""The schema: migrations match the models, and the data model behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from models import Customer, Message, OutboxItem, Ticket, session_scope
from models.db import create_db_engine
from models.migrate import current_revision, downgrade, head_revision, upgrade

EXPECTED_TABLES = {
    "agent", "alert", "auditevent", "csatresponse", "customer", "feedback", "intentexample", "message",
    "outboxitem", "replypair", "silence", "suggestion", "ticket", "faqarticle",
}


def test_migrations_create_every_table_and_match_the_models(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"models and migrations disagree; generate a migration: {differences}"


def test_upgrade_is_idempotent_and_downgrade_empties(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    db = create_db_engine(database_url)
    try:
        assert current_revision(db) == head_revision()
        downgrade(database_url, "base")
        assert not (EXPECTED_TABLES & set(inspect(db).get_table_names()))
    finally:
        db.dispose()


def _ticket(customer_id: int, **fields: object) -> Ticket:
    return Ticket(customer_id=customer_id, channel="webhook", conversation_id="c1", intent="order_status",
                  kind="faq", **fields)


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    shanghai = timezone(timedelta(hours=8))
    due = datetime(2026, 11, 23, 18, 30, tzinfo=shanghai)
    with session_scope(engine) as session:
        customer = Customer(channel="webhook", external_id="cust-1")
        session.add(customer)
        session.flush()
        session.add(_ticket(customer.id, first_response_due=due))
    with session_scope(engine) as session:
        ticket = session.exec(select(Ticket)).one()
    assert ticket.first_response_due == due
    assert ticket.first_response_due.tzinfo == UTC
    assert ticket.first_response_due.hour == 10
    assert ticket.created_at.tzinfo == UTC


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_scope(engine) as session:
        customer = Customer(channel="webhook", external_id="cust-1")
        session.add(customer)
        session.flush()
        session.add(_ticket(customer.id, first_response_due=datetime(2026, 1, 1)))
        session.flush()


def test_channel_message_id_is_unique_per_channel(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Message(channel="webhook", channel_message_id="m1", direction="in", author_kind="customer",
                            text="hi"))
        session.add(Message(channel="slack", channel_message_id="m1", direction="in", author_kind="customer",
                            text="hi"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Message(channel="webhook", channel_message_id="m1", direction="in", author_kind="customer",
                            text="again"))
    with session_scope(engine) as session:
        assert len(session.exec(select(Message)).all()) == 2


def test_outbox_dedup_key_and_customer_identity_are_unique(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(OutboxItem(dedup_key="reply:1", kind="reply", channel="webhook"))
        session.add(OutboxItem(dedup_key="reply:1", kind="reply", channel="webhook"))
        session.flush()
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Customer(channel="webhook", external_id="same"))
        session.add(Customer(channel="webhook", external_id="same"))
        session.flush()


def test_json_columns_round_trip_unicode(engine: Engine) -> None:
    payload = {"text": "一直没有收到货", "fields": [{"label": "SLA", "value": "2 h"}], "n": 3}
    with session_scope(engine) as session:
        session.add(OutboxItem(dedup_key="card:1", kind="card", channel="console", payload=payload))
    with session_scope(engine) as session:
        assert session.exec(select(OutboxItem)).one().payload == payload


def test_open_database_migrates_sqlite_but_never_a_shared_postgresql(database_url: str) -> None:
    from models.migrate import DatabaseNotReady, open_database

    if database_url.startswith("sqlite"):
        engine = open_database(database_url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
        return
    with pytest.raises(DatabaseNotReady, match="not at the latest schema: run `kefu db upgrade` first"):
        open_database(database_url)


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    from models.migrate import DatabaseNotReady, open_database

    with pytest.raises(DatabaseNotReady) as error:
        open_database("postgresql+psycopg://kefu:s3cret@127.0.0.1:1/kefu?connect_timeout=2")
    assert "cannot open database" in str(error.value) and "s3cret" not in str(error.value)
    assert "\n" not in str(error.value)
