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
from models.tables import Agent, AuditEvent, Customer, Feedback, Message, Ticket


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
    assert identities(engine) == {"mei": {"slack": "U0MEI"}}  # the automatic agent was merged into mei
    assert "merged slack:U0MEI (created on a first button press) into mei" in capsys.readouterr().out


def test_taking_an_automatic_agents_id_merges_its_history_into_the_linked_agent(
    engine: Engine, config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    add_agent(engine, "mei", "correct horse battery", role="manager")
    add_agent(engine, "li", "another good password")
    now = datetime.now(UTC)
    with Session(engine) as session:  # Mei pressed buttons on DingTalk before anyone linked her
        auto = acting_agent(session, "dingtalk", "manager4220", now, display_name="Mei Lin")
        li = session.scalars(select(Agent).where(Agent.name == "li")).one()
        li.identities = {"wecom": "li.wang"}
        customer = Customer(channel="webhook", external_id="c-1")
        session.add_all([auto, li, customer])
        session.flush()
        assert auto.id is not None and customer.id is not None
        tickets = [Ticket(customer_id=customer.id, channel="webhook", conversation_id=f"c-{n}", intent="refund_status",
                          kind="faq", assignee_id=auto.id if n < 3 else li.id) for n in range(4)]
        session.add_all(tickets)
        session.flush()
        message = Message(ticket_id=tickets[0].id, channel="webhook", direction="out", author_kind="agent",
                          author="Mei Lin", text="Your refund is on its way.")
        session.add(message)
        session.flush()
        assert message.id is not None
        session.add(Feedback(message_id=message.id, agent_id=auto.id, predicted_intent="order_status",
                             corrected_intent="refund_status"))
        session.add(AuditEvent(actor=f"agent:{auto.id}", action="resolve", subject_type="ticket",
                               subject_id=str(tickets[0].id)))
        session.commit()
        auto_id = auto.id

    assert main(["--config", str(config), "agents", "link", "mei", "--dingtalk", "manager4220", "--take"]) == 0
    assert main(["--config", str(config), "agents", "link", "mei", "--wecom", "li.wang", "--take"]) == 0

    out = capsys.readouterr().out
    assert "merged Mei Lin (created on a first button press) into mei" in out
    assert "merged li" not in out  # li has a console password: a person of their own, whose history stays
    with Session(engine) as session:
        agents = {a.name: a for a in session.scalars(select(Agent))}
        assert set(agents) == {"mei", "li"} and session.get(Agent, auto_id) is None
        mei_id = agents["mei"].id
        owners = [t.assignee_id for t in session.scalars(select(Ticket).order_by(Ticket.id))]  # type: ignore[arg-type]
        assert owners == [mei_id, mei_id, mei_id, agents["li"].id]
        assert session.scalars(select(Feedback.agent_id)).one() == mei_id
        assert session.scalars(select(Message.author)).one() == "mei"
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "resolve")))
        assert actors == {f"agent:{mei_id}"}
    assert TeamDesk(engine).actor_for_sync("dingtalk", "manager4220").name == "mei"


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
