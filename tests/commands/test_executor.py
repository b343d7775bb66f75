"""The executor's contract: permission refusals, an audit row for every invocation, no stack trace ever."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.commands import Actor
from handlers.commands import answers as answers_module
from handlers.commands.executor import CommandExecutor
from handlers.commands.parsed import SlaCommand
from models.tables import AuditEvent, Silence
from tests.commands.conftest import ANA, MANAGER, Seeded


def _audit(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "command")
                                    .order_by(AuditEvent.id)))  # type: ignore[arg-type]


def test_an_ok_command_is_audited_with_who_where_what(engine: Engine, executor: CommandExecutor,
                                                      seeded: Seeded) -> None:
    executor.execute("/metrics 7d by intent", MANAGER, platform="slack", channel_id="C42")
    [event] = _audit(engine)
    assert event.actor == "mei" and event.subject_id == "metrics"
    assert event.details["platform"] == "slack" and event.details["channel"] == "C42"
    assert event.details["text"] == "/metrics 7d by intent"
    assert event.details["canonical"] == "/metrics 7d by intent"
    assert event.details["result"] == "ok"


def test_a_bad_command_answers_the_error_and_usage_and_is_audited(engine: Engine, executor: CommandExecutor) -> None:
    answer = executor.execute("/metrics 7x", MANAGER, platform="dingtalk", channel_id="g1")
    assert not answer.ok
    assert "Usage: /metrics" in answer.text and "Traceback" not in answer.text
    [event] = _audit(engine)
    assert event.details["result"] == "error" and event.subject_id == "unparsed"
    assert event.details["text"] == "/metrics 7x"


@pytest.mark.parametrize("text", ["/metrics 7d by agent", "/agent @bo", "/alerts silence frt 1h",
                                  "/alerts unsilence 1"])
def test_an_agent_is_refused_manager_commands_politely(engine: Engine, executor: CommandExecutor,
                                                       text: str) -> None:
    answer = executor.execute(text, ANA, platform="slack", channel_id="C1")
    assert not answer.ok
    assert answer.text.startswith("Sorry — Only a manager can")
    [event] = _audit(engine)
    assert event.details["result"] == "denied" and event.details["required_role"] == "manager"
    assert event.actor == "ana"
    with Session(engine) as session:
        assert session.scalars(select(Silence)).first() is None


def test_an_agent_sees_their_own_scorecard(executor: CommandExecutor, seeded: Seeded) -> None:
    for text in ("/agent", "/agent @ana", "/agent @U_ANA"):
        answer = executor.execute(text, ANA, platform="slack", channel_id="C1")
        assert answer.ok, answer.text
        assert answer.text.startswith("*Scorecard · ana · last 7 days*")


def test_an_unexpected_failure_answers_with_a_reference_in_the_audit_row(
    engine: Engine, executor: CommandExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setitem(answers_module.ANSWERS, SlaCommand, broken)
    answer = executor.execute("/sla", MANAGER, platform="slack", channel_id="C1")
    assert not answer.ok
    assert answer.text.startswith("Sorry, internal error, reference ")
    assert "database on fire" not in answer.text
    reference = answer.text.split("reference ")[1].split(".")[0]
    [event] = _audit(engine)
    assert event.details["result"] == "internal" and event.details["reference"] == reference


def test_a_local_admin_without_a_name_gets_the_team_scorecard(engine: Engine, seeded: Seeded,
                                                              tmp_path: Path) -> None:
    from handlers.commands import LOCAL_ADMIN
    from tests.commands.conftest import NOW

    executor = CommandExecutor(engine, clock=lambda: NOW, charts_dir=tmp_path)
    answer = executor.execute("/agent", LOCAL_ADMIN, platform="cli", channel_id=None)
    assert answer.ok
    assert "Team scorecard" in answer.text
    [event] = _audit(engine)
    assert event.actor == "local-admin"


def test_unknown_agent(executor: CommandExecutor, seeded: Seeded) -> None:
    answer = executor.execute("/agent @nobody", Actor(name="mei", role="manager"), platform="slack", channel_id=None)
    assert not answer.ok and answer.text == "There is no agent called nobody."
