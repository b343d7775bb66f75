"""`kefu import history` through the command line on real databases (SQLite, and PostgreSQL when configured), with
the real intent model on the tests' shop catalogue and the real language detection.

The history is two conversations a month ago: Ana writes in Spanish that her parcel never came, Lucía answers, Ana
thanks her and the ticket is resolved; Bob writes in English that his vase arrived broken, Tom answers, the ticket
stays open. The lines are written in the order a helpdesk export might use (ticket by ticket, newest first).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bot.cli import main
from bot.messages import CustomerInfo, Inbound
from bot.metrics import compute_metric
from bot.pipeline import Pipeline
from bot.settings import Settings
from models.db import utcnow
from models.tables import Agent, AuditEvent, Message, OutboxItem, SlaNotice, Suggestion, Ticket
from scheduler.sla import SlaWatch
from tests.intents.conftest import SHOP_CATALOGUE_YAML
from tests.test_pipeline import FixedClassifier, FixedTemplates

DAY = (utcnow() - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)  # a month ago, 00:00 UTC


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def iso(hours: float, offset: str = "Z") -> str:
    """An ISO 8601 time `hours` after DAY, written with a UTC offset (in that zone when it is +01:00)."""
    if offset == "+01:00":
        return (at(hours) + timedelta(hours=1)).replace(tzinfo=None).isoformat() + "+01:00"
    return at(hours).replace(tzinfo=None).isoformat() + "Z"


ANA = {"id": "c-ana", "name": "Ana", "language": "es", "country": "MX"}
BOB = {"id": "c-bob", "name": "Bob", "country": "GB"}
HISTORY: list[dict[str, Any]] = [
    {"conversation_id": "conv-b", "channel_message_id": "b-2", "direction": "out", "author": "tom",
     "text": "Sorry about that, a replacement is on its way.", "sent_at": iso(33)},
    {"conversation_id": "conv-b", "channel_message_id": "b-1", "customer": BOB, "direction": "in",
     "text": "The item arrived broken.", "sent_at": iso(31, "+01:00"), "order_id": "B-7", "sku": "VASE-1",
     "marketplace": "amazon.co.uk"},
    {"conversation_id": "conv-a", "channel_message_id": "a-4", "direction": "out", "author": "lucia",
     "text": "De nada, ¡que lo disfrutes!", "sent_at": iso(10.25), "resolved_at": iso(12)},
    {"conversation_id": "conv-a", "channel_message_id": "a-3", "customer": ANA, "direction": "in",
     "text": "Muchas gracias", "sent_at": iso(10)},
    {"conversation_id": "conv-a", "channel_message_id": "a-2", "direction": "out", "author": "lucia",
     "text": "Lo siento, te enviamos otro paquete hoy.", "sent_at": iso(9.5)},
    {"conversation_id": "conv-a", "channel_message_id": "a-1", "customer": ANA, "direction": "in",
     "text": "Nunca recibí mi paquete.", "sent_at": iso(9), "order_id": "A-1"},
]


@pytest.fixture
def workdir(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch, use_embedder: object) -> Path:
    """No kefu.toml, the test database, the shop catalogue, and the session's embedder instead of a fresh one."""
    for name in list(os.environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.yaml").write_text(SHOP_CATALOGUE_YAML, encoding="utf-8")
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("KEFU_INTENTS__CATALOGUE", str(tmp_path / "shop.yaml"))
    monkeypatch.setenv("KEFU_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setattr("intents.embedders.load_embedder", lambda *_args, **_kwargs: use_embedder)
    return tmp_path


def write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def summary(out: str) -> dict[str, int]:
    """The counts of the summary the import prints: {"lines read": 6, "messages imported": 6, ...}."""
    counts = {}
    for line in out.splitlines()[1:]:
        label, _, value = line.strip().rpartition(" ")
        counts[label.strip()] = int(value.replace(",", ""))
    return counts


def rows(engine: Engine, table: type, *where: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.scalars(select(table).where(*where).order_by(table.id)))  # type: ignore[attr-defined]


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in SQLModel.metadata.tables.items()}


def test_a_history_lands_with_its_times_intents_and_agents_and_the_metrics_see_it(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(workdir / "history.jsonl", HISTORY)
    code, out, err = run(["import", "history", str(path), "--batch-size", "2"], capsys)

    assert code == 0 and "line " not in err
    assert summary(out) == {"lines read": 6, "messages imported": 6, "already present": 0, "skipped": 0,
                            "tickets opened": 2, "tickets resolved": 1, "agents created": 2}
    ana, bob = rows(engine, Ticket)
    assert (ana.channel, ana.conversation_id, ana.intent, ana.kind, ana.severity, ana.language, ana.region) == (
        "import", "conv-a", "item_not_received", "complaint", 1, "es", "MX")
    assert (ana.created_at, ana.first_response_at, ana.resolved_at, ana.status) == (at(9), at(9.5), at(12), "resolved")
    assert ana.first_response_due == at(9) + timedelta(hours=2) and ana.resolution_due == at(9) + timedelta(hours=24)
    assert ana.order_id == "A-1" and ana.imported_at is not None
    assert (bob.conversation_id, bob.intent, bob.severity, bob.language, bob.status) == (
        "conv-b", "damaged_item", 2, "en", "open")
    assert (bob.created_at, bob.first_response_at, bob.resolved_at) == (at(31), at(33), None)  # 08:00+01:00 = 07:00Z
    assert (bob.order_id, bob.sku, bob.marketplace) == ("B-7", "VASE-1", "amazon.co.uk")

    messages = rows(engine, Message)
    assert [(m.ticket_id, m.channel_message_id, m.direction, m.author_kind, m.author) for m in messages] == [
        (ana.id, "a-1", "in", "customer", "c-ana"), (ana.id, "a-2", "out", "agent", "lucia"),
        (ana.id, "a-3", "in", "customer", "c-ana"), (ana.id, "a-4", "out", "agent", "lucia"),
        (bob.id, "b-1", "in", "customer", "c-bob"), (bob.id, "b-2", "out", "agent", "tom"),
    ]
    assert all(m.created_at == m.sent_at for m in messages)
    assert [m.created_at for m in messages] == [at(9), at(9.5), at(10), at(10.25), at(31), at(33)]
    assert [(m.intent, m.language) for m in messages if m.direction == "in"] == [
        ("item_not_received", "es"), ("thanks", "es"), ("damaged_item", "en")]

    assert [(a.name, a.role) for a in rows(engine, Agent)] == [("lucia", "agent"), ("tom", "agent")]
    assert [(e.action, e.details["name"]) for e in rows(engine, AuditEvent)] == [
        ("agent.created", "lucia"), ("agent.created", "tom")]

    start, end = DAY, DAY + timedelta(days=7)
    assert compute_metric(engine, "volume", start, end) == 2
    assert compute_metric(engine, "inbound_messages", start, end) == 3
    assert compute_metric(engine, "first_response_time_mean", start, end) == (30 * 60 + 2 * 3600) / 2
    assert compute_metric(engine, "resolution_time_mean", start, end) == 3 * 3600
    assert compute_metric(engine, "complaint_rate", start, end) == 100.0
    assert compute_metric(engine, "volume", end, end + timedelta(days=7)) == 0


def test_importing_the_same_file_again_changes_nothing(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(workdir / "history.jsonl", HISTORY)
    assert run(["import", "history", str(path)], capsys)[0] == 0
    before = row_counts(engine)
    tickets = [(t.id, t.status, t.first_response_at, t.resolved_at, t.updated_at) for t in rows(engine, Ticket)]

    code, out, _ = run(["import", "history", str(path), "--batch-size", "4"], capsys)

    assert code == 0
    assert summary(out) == {"lines read": 6, "messages imported": 0, "already present": 6, "skipped": 0,
                            "tickets opened": 0, "tickets resolved": 0, "agents created": 0}
    assert row_counts(engine) == before
    assert [(t.id, t.status, t.first_response_at, t.resolved_at, t.updated_at) for t in rows(engine, Ticket)] == tickets


def test_bad_lines_are_reported_by_number_and_skipped_and_the_good_ones_imported(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    good = HISTORY[3:]  # Ana's conversation up to her thanks
    lines: list[dict[str, Any] | str] = [
        *good,
        "{not json",
        {k: v for k, v in HISTORY[5].items() if k != "text"} | {"channel_message_id": "no-text"},
        HISTORY[5] | {"channel_message_id": "empty-id", "conversation_id": " "},
        HISTORY[5] | {"channel_message_id": "sideways", "direction": "inbound"},
        HISTORY[5] | {"channel_message_id": "naive", "sent_at": "2026-03-02T09:00:00"},
        HISTORY[5] | {"channel_message_id": "long", "text": "a" * 10_001},
        HISTORY[5] | {"channel_message_id": "typo", "resolvedAt": iso(12)},
        HISTORY[5] | {"channel_message_id": "backwards", "resolved_at": iso(8)},
        "",
        {"conversation_id": "conv-z", "channel_message_id": "z-1", "direction": "out", "author": "tom",
         "text": "Hello?", "sent_at": iso(1)},
    ]
    path = write_lines(workdir / "history.jsonl", lines)

    code, out, err = run(["import", "history", str(path)], capsys)

    assert code == 0
    reported = [line for line in err.splitlines() if line.startswith("line ")]
    assert reported == [
        "line 4: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 5: text is required",
        "line 6: conversation_id must not be empty",
        'line 7: direction must be "in" (from the customer) or "out" (from an agent), got \'inbound\'',
        "line 8: sent_at needs a UTC offset (such as +01:00 or Z), got '2026-03-02T09:00:00'",
        "line 9: text is longer than 10,000 characters (10,001)",
        "line 10: unknown field 'resolvedAt'; accepted fields: conversation_id, channel_message_id, customer, "
        "direction, author, text, sent_at, order_id, sku, marketplace, resolved_at",
        f"line 11: resolved_at ({at(8).isoformat()}) is before sent_at ({at(9).isoformat()}): "
        "a ticket's messages are sent before it is resolved",
        "line 13: an agent's message with no ticket to go on: conversation 'conv-z' has no ticket open at "
        f"{at(1).isoformat()} (a customer's message opens one)",
    ]
    assert summary(out) == {"lines read": 12, "messages imported": 3, "already present": 0, "skipped": 9,
                            "tickets opened": 1, "tickets resolved": 0, "agents created": 1}
    assert [m.channel_message_id for m in rows(engine, Message)] == ["a-1", "a-2", "a-3"]


def test_a_file_that_cannot_be_read_or_has_no_good_line_exits_1_and_writes_nothing(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = row_counts(engine)
    code, out, err = run(["import", "history", str(workdir / "missing.jsonl")], capsys)
    assert code == 1 and out == "" and "cannot read" in err and "missing.jsonl" in err

    path = write_lines(workdir / "wrong.jsonl", ["id,text", "1,hello"])
    code, out, err = run(["import", "history", str(path)], capsys)
    assert code == 1 and out == ""
    assert "line 1: not valid JSON" in err and "no line to import (2 read, 2 bad)" in err

    code, _, err = run(["import", "history", str(write_lines(workdir / "empty.jsonl", []))], capsys)
    assert code == 1 and "no line to import (0 read, 0 bad)" in err
    assert row_counts(engine) == before


def test_a_resolution_repeated_on_every_line_closes_the_ticket_once_and_a_later_message_opens_another(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket_lines = [line | {"resolved_at": iso(12)} for line in HISTORY[2:]]  # the export repeats it on each line
    later = HISTORY[5] | {"channel_message_id": "a-5", "text": "Mi paquete todavía no llega", "sent_at": iso(20)}
    path = write_lines(workdir / "history.jsonl", [later, *ticket_lines])

    code, out, _ = run(["import", "history", str(path)], capsys)

    assert code == 0 and summary(out)["tickets resolved"] == 1 and summary(out)["tickets opened"] == 2
    first, second = rows(engine, Ticket)
    assert (first.created_at, first.first_response_at, first.resolved_at, first.status) == (
        at(9), at(9.5), at(12), "resolved")
    assert [m.channel_message_id for m in rows(engine, Message, Message.ticket_id == first.id)] == [
        "a-1", "a-2", "a-3", "a-4"]
    assert (second.created_at, second.status, second.resolved_at) == (at(20), "new", None)
    assert [m.channel_message_id for m in rows(engine, Message, Message.ticket_id == second.id)] == ["a-5"]


def test_importing_posts_nothing_and_the_sla_watch_stays_quiet_about_deadlines_that_passed_before(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    unanswered = {"conversation_id": "conv-c", "channel_message_id": "c-1", "customer": {"id": "c-cy"},
                  "direction": "in", "text": "Nunca recibí mi paquete.", "sent_at": iso(40)}
    path = write_lines(workdir / "history.jsonl", [*HISTORY, unanswered])
    assert run(["import", "history", str(path)], capsys)[0] == 0
    overdue = rows(engine, Ticket, Ticket.resolved_at.is_(None))  # type: ignore[union-attr]
    assert len(overdue) == 2 and all(t.resolution_due < utcnow() for t in overdue)  # Bob's and the unanswered one
    assert rows(engine, OutboxItem) == [] and rows(engine, Suggestion) == [] and rows(engine, SlaNotice) == []

    watch = SlaWatch(engine, Settings())
    assert watch.run_once(utcnow()) == []
    assert watch.run_once(utcnow() + timedelta(days=30)) == []
    assert rows(engine, OutboxItem) == [] and rows(engine, SlaNotice) == []


def test_a_live_message_in_an_imported_conversation_is_handled_as_live(
    workdir: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(workdir / "history.jsonl", HISTORY)
    assert run(["import", "history", str(path), "--channel", "webhook"], capsys)[0] == 0
    ana, bob = rows(engine, Ticket)
    settings = Settings()
    pipeline = Pipeline(engine, FixedClassifier(), FixedTemplates(), settings)

    # Bob writes again: his ticket is still open, so the message joins it and gets its triage card.
    result = pipeline.ingest_sync(Inbound(channel="webhook", channel_message_id="live-1",
                                          customer=CustomerInfo(id="c-bob"), conversation_id="conv-b",
                                          text="Any news about the replacement?"))
    assert (result.ticket_id, result.action) == (bob.id, "suggested")
    [card] = rows(engine, OutboxItem)
    assert (card.kind, card.ticket_id, card.dedup_key) == ("card", bob.id, f"card:{bob.id}:{result.message_id}")
    [message] = rows(engine, Message, Message.id == result.message_id)
    assert message.created_at > utcnow() - timedelta(minutes=5)

    # Ana writes again: her ticket was resolved, so a new one opens, with live deadlines the watch keeps.
    again = pipeline.ingest_sync(Inbound(channel="webhook", channel_message_id="live-2",
                                         customer=CustomerInfo(id="c-ana"), conversation_id="conv-a",
                                         text="Hola otra vez"))
    assert again.ticket_id not in (ana.id, bob.id)
    [new] = rows(engine, Ticket, Ticket.id == again.ticket_id)
    assert new.imported_at is None and new.customer_id == ana.customer_id
    assert new.first_response_due is not None
    events = SlaWatch(engine, settings).run_once(new.first_response_due + timedelta(minutes=1))
    assert [(e.ticket_id, e.clock, e.stage) for e in events] == [(new.id, "first_response", "breach")]
