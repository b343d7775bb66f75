"""`kefu command "…"`: the answer printed, a chart path printed, exit code 1 for a bad command."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.cli import main
from models.db import create_db_engine
from models.tables import AuditEvent, Customer, Ticket


@pytest.fixture
def cli_env(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KEFU_CONFIG", raising=False)
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("KEFU_VAR_DIR", str(tmp_path / "var"))
    engine = create_db_engine(migrated_url)
    with Session(engine) as session:
        customer = Customer(channel="webhook", external_id="c1")
        session.add(customer)
        session.flush()
        for intent in ("order_status", "order_status", "sizing"):
            session.add(Ticket(customer_id=customer.id, channel="webhook", conversation_id=intent, intent=intent,
                               kind="faq"))
        session.commit()
    engine.dispose()
    return migrated_url


def test_kefu_command_prints_the_answer(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["command", "/metrics 7d by intent"]) == 0
    out = capsys.readouterr().out
    assert "*Metrics · last 7 days by intent*" in out
    rows = [line.split()[:2] for line in out.split("```")[1].strip().splitlines()[1:]]
    assert rows == [["order_status", "2"], ["sizing", "1"]]
    engine = create_db_engine(cli_env)
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "command")).one()
    engine.dispose()
    assert event.actor == "local-admin" and event.details["platform"] == "cli"


def test_kefu_command_saves_a_chart_and_prints_its_path(cli_env: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["command", "/metrics", "24h", "chart"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Chart saved to "))
    path = Path(line.removeprefix("Chart saved to "))
    assert path.is_file() and path.parent == (tmp_path / "var" / "charts").resolve()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kefu_command_bad_input(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["command", "/metrcs 7d"]) == 1
    out = capsys.readouterr().out
    assert 'Did you mean "/metrics"?' in out
    assert main(["command", "--timezone", "Mars/Olympus", "/sla"]) == 2
    assert "--timezone 'Mars/Olympus' is not an IANA timezone" in capsys.readouterr().err
