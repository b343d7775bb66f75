"""`kefu agents link`: one person, one agent across Slack, DingTalk and WeCom — their button presses and commands on
each platform act as that agent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.agent_accounts import add_agent
from bot.cli import main
from bot.team_desk import TeamDesk
from handlers.actions import acting_agent
from models.tables import Agent


@pytest.fixture
def config(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("KEFU_VAR_DIR", str(tmp_path / "var"))
    path = tmp_path / "kefu.toml"
    path.write_text("", encoding="utf-8")
    return path


def identities(engine: Engine) -> dict[str, dict[str, str]]:
    with Session(engine) as session:
        return {a.name: dict(a.identities or {}) for a in session.scalars(select(Agent))}


def test_linked_ids_make_every_platform_act_as_the_same_agent(
    engine: Engine, config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_agent(engine, "mei", "correct horse battery", role="manager")

    code = main(["--config", str(config), "agents", "link", "mei", "--dingtalk", "manager4220", "--wecom", "mei.lin"])

    assert code == 0, capsys.readouterr().err
    assert "agent mei is dingtalk manager4220, wecom mei.lin" in capsys.readouterr().out
    assert TeamDesk(engine).actor_for_sync("wecom", "mei.lin").name == "mei"
    assert TeamDesk(engine).actor_for_sync("dingtalk", "manager4220").role == "manager"
    with Session(engine) as session:
        assert acting_agent(session, "dingtalk", "manager4220", datetime.now(UTC)).name == "mei"


def test_an_id_another_agent_holds_is_refused_unless_taken(
    engine: Engine, config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_agent(engine, "mei", "correct horse battery")
    with Session(engine) as session:  # created on a first Slack button press, before anyone linked her
        session.add(Agent(name="slack:U0MEI", role="agent", identities={"slack": "U0MEI"}))
        session.commit()

    refused = main(["--config", str(config), "agents", "link", "mei", "--slack", "U0MEI"])
    refusal = capsys.readouterr().err
    taken = main(["--config", str(config), "agents", "link", "mei", "--slack", "U0MEI", "--take"])

    assert refused == 1 and "U0MEI is slack:U0MEI's identity; add --take" in refusal
    assert taken == 0
    assert identities(engine) == {"mei": {"slack": "U0MEI"}, "slack:U0MEI": {}}


@pytest.mark.parametrize(("arguments", "code", "message"), [
    (["agents", "link", "mei"], 2, "name at least one of --slack, --dingtalk, --wecom"),
    (["agents", "link", "nobody", "--slack", "U1"], 1, "no agent named 'nobody'"),
    (["agents", "link", "mei", "--wecom", "two words"], 1, "--wecom: a user id without spaces"),
])
def test_bad_link_requests_say_what_is_wrong(engine: Engine, config: Path, capsys: pytest.CaptureFixture[str],
                                            arguments: list[str], code: int, message: str) -> None:
    add_agent(engine, "mei", "correct horse battery")

    assert main(["--config", str(config), *arguments]) == code
    assert message in capsys.readouterr().err
    assert identities(engine)["mei"] == {}
