"""Changing a console password: `kefu agents passwd NAME` (also an agent's first password, for agents created by a
platform or by `kefu demo`) and the console's "Change password" form (current and new password), which ends the
agent's other sessions."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.webchat.console_auth import COOKIE
from bot.agent_accounts import verify_login
from bot.cli import main
from models.tables import Agent, AuditEvent
from tests.webchat.conftest import AGENT, PASSWORD, log_in, origin

NEW_PASSWORD = "a brand new passphrase"


def test_kefu_agents_passwd_sets_a_new_argon2_password_and_refuses_bad_input(
    migrated_url: str, engine: Engine, console_agents: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    with Session(engine) as session:  # created by a first Slack button press: no console password yet
        session.add(Agent(name="slack:U0KIM", role="agent", identities={"slack": "U0KIM"}))
        session.commit()

    def passwd(name: str, stdin: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["agents", "passwd", name, "--password-stdin"])

    assert passwd("MEI", f"{NEW_PASSWORD}\n") == 0
    assert "agent mei: password changed" in capsys.readouterr().out
    assert verify_login(engine, AGENT, PASSWORD) is None
    assert verify_login(engine, AGENT, NEW_PASSWORD) is not None
    assert passwd("slack:U0KIM", "kim's first password\n") == 0
    assert verify_login(engine, "slack:U0KIM", "kim's first password") is not None

    assert passwd("nobody", f"{NEW_PASSWORD}\n") == 1
    assert "no agent named 'nobody'" in capsys.readouterr().err
    assert passwd(AGENT, "short\n") == 1
    assert "password: at least 8 characters" in capsys.readouterr().err
    assert verify_login(engine, AGENT, NEW_PASSWORD) is not None  # a refused change changes nothing
    with Session(engine) as session:
        stored = session.scalars(select(Agent.password_hash).where(Agent.name == AGENT)).one()
        changes = session.scalars(select(AuditEvent).where(AuditEvent.action == "agent.password_changed")).all()
    assert stored is not None and stored.startswith("$argon2id$") and NEW_PASSWORD not in stored
    assert len(changes) == 2


async def change(client: TestClient[Any, Any], current: str, new: str, again: str | None = None,
                 headers: dict[str, str] | None = None) -> Any:
    return await client.post("/console/password", data={"current": current, "new": new, "again": again or new},
                             headers=origin(client) if headers is None else headers, allow_redirects=False)


async def test_the_console_form_changes_the_password_and_ends_the_other_sessions(
    start_kefu: Any, console_agents: None, engine: Engine
) -> None:
    kefu = await start_kefu(None, wait=False)
    other = TestClient(TestServer(kefu.client.app))  # the same agent on another computer
    await other.start_server()
    try:
        assert (await log_in(kefu.client)).status == 303
        assert (await log_in(other)).status == 303
        form = await kefu.client.get("/console/password")
        assert form.status == 200
        page = await form.text()
        assert 'name="current"' in page and 'name="new"' in page and 'name="again"' in page

        changed = await change(kefu.client, PASSWORD, NEW_PASSWORD)

        assert changed.status == 200
        assert "Password changed." in await changed.text()
        assert COOKIE in changed.cookies  # this browser stays logged in with a new session
        assert (await kefu.client.get("/console", allow_redirects=False)).status == 200
        assert (await other.get("/console", allow_redirects=False)).status == 303  # the other session ended
        assert verify_login(engine, AGENT, PASSWORD) is None
        assert verify_login(engine, AGENT, NEW_PASSWORD) is not None
    finally:
        await other.close()


async def test_the_console_form_refuses_a_wrong_current_password_a_mismatch_and_another_origin(
    start_kefu: Any, console_agents: None, engine: Engine
) -> None:
    kefu = await start_kefu(None, wait=False)
    assert (await log_in(kefu.client)).status == 303

    wrong = await change(kefu.client, "not my password", NEW_PASSWORD)
    mismatch = await change(kefu.client, PASSWORD, NEW_PASSWORD, "another passphrase")
    short = await change(kefu.client, PASSWORD, "short")
    elsewhere = await change(kefu.client, PASSWORD, NEW_PASSWORD, headers={"Origin": "https://evil.example"})

    assert wrong.status == 401 and "The current password is wrong" in await wrong.text()
    assert mismatch.status == 400 and "The two new passwords differ" in await mismatch.text()
    assert short.status == 400 and "New password: at least 8 characters" in await short.text()
    assert elsewhere.status == 403
    assert verify_login(engine, AGENT, PASSWORD) is not None  # nothing changed
    for _ in range(4):  # wrong current passwords count as failed logins
        await change(kefu.client, "still guessing", NEW_PASSWORD)
    throttled = await change(kefu.client, PASSWORD, NEW_PASSWORD)
    assert throttled.status == 429 and verify_login(engine, AGENT, PASSWORD) is not None
    kefu.client.session.cookie_jar.clear()
    assert (await kefu.client.get("/console/password", allow_redirects=False)).status == 303
