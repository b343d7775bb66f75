"""The console's door: login with argon2-hashed passwords, sessions, the login throttle, CSRF refusal, and every
console route closed without a session (pages redirect to the login page, the API answers 401)."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from adapters.webchat.console_auth import COOKIE
from bot.cli import main
from models.tables import Agent
from tests.webchat.conftest import AGENT, MANAGER, MANAGER_PASSWORD, PASSWORD, log_in, origin

PAGES = ["/console", "/console/tickets/1", "/console/static/console.js"]
API = [("GET", "/console/state"), ("GET", "/console/events"), ("POST", "/console/actions"),
       ("POST", "/console/commands")]


async def test_without_a_session_pages_redirect_to_the_login_and_the_api_answers_401(
    start_kefu: Any, console_agents: None
) -> None:
    kefu = await start_kefu(None, wait=False)
    for path in PAGES[:2]:
        response = await kefu.client.get(path, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/console/login"), path
    for method, path in [*API, ("GET", PAGES[2])]:
        response = await kefu.client.request(method, path, json={"text": "/sla"}, headers=origin(kefu.client),
                                             allow_redirects=False)
        assert response.status == 401, path
    login = await kefu.client.get("/console/login")
    assert login.status == 200
    page = await login.text()
    assert 'name="name"' in page and 'name="password"' in page


async def test_a_wrong_password_or_an_unknown_name_is_refused_alike(start_kefu: Any, console_agents: None) -> None:
    kefu = await start_kefu(None, wait=False)

    wrong = await log_in(kefu.client, AGENT, "not the password")
    unknown = await log_in(kefu.client, "nobody", "not the password")

    for response in (wrong, unknown):
        assert response.status == 401
        assert "Wrong name or password." in await response.text()
        assert COOKIE not in response.cookies
    assert (await kefu.client.get("/console", allow_redirects=False)).status == 303


async def test_an_agent_logs_in_with_a_strict_http_only_cookie_and_logs_out(
    start_kefu: Any, console_agents: None
) -> None:
    kefu = await start_kefu(None, wait=False)

    response = await log_in(kefu.client, MANAGER, MANAGER_PASSWORD)

    assert (response.status, response.headers["Location"]) == (303, "/console")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert (await kefu.client.get("/console", allow_redirects=False)).status == 200
    state = await (await kefu.client.get("/console/state")).json()
    assert state["agent"] == {"name": MANAGER, "role": "manager"}

    out = await kefu.client.post("/console/logout", headers=origin(kefu.client), allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/console/login")
    assert (await kefu.client.get("/console", allow_redirects=False)).status == 303


async def test_a_tampered_cookie_is_no_session(start_kefu: Any, console_agents: None) -> None:
    kefu = await start_kefu(None, wait=False)
    await log_in(kefu.client)
    [value] = [c.value for c in kefu.client.session.cookie_jar if c.key == COOKIE]
    body, signature = value.split(".")
    forged = body.replace(body[2], "A" if body[2] != "A" else "B", 1) + "." + signature
    kefu.client.session.cookie_jar.clear()
    response = await kefu.client.get("/console", cookies={COOKIE: forged}, allow_redirects=False)
    assert response.status == 303


async def test_failed_logins_are_throttled_per_address_and_name(start_kefu: Any, console_agents: None) -> None:
    kefu = await start_kefu(None, wait=False)
    for _ in range(5):
        assert (await log_in(kefu.client, AGENT, "guess")).status == 401

    blocked = await log_in(kefu.client, AGENT, PASSWORD)  # even the right password waits now

    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed logins" in await blocked.text()
    assert (await log_in(kefu.client, MANAGER, MANAGER_PASSWORD)).status == 303  # another name is not blocked


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"},
                                     {"Referer": "https://evil.example/console"}], ids=["none", "origin", "referer"])
async def test_posts_from_another_origin_are_refused(start_kefu: Any, console_agents: None,
                                                     headers: dict[str, str]) -> None:
    kefu = await start_kefu(None, wait=False)
    assert (await log_in(kefu.client)).status == 303

    for path, body in (("/console/commands", {"text": "/sla"}), ("/console/actions",
                                                                  {"action": "resolve", "ticket_id": 1})):
        response = await kefu.client.post(path, json=body, headers=headers)
        assert response.status == 403, path
        assert "kefu's own page" in (await response.json())["message"]
    login = await kefu.client.post("/console/login", data={"name": AGENT, "password": PASSWORD}, headers=headers,
                                   allow_redirects=False)
    assert login.status == 403


async def test_an_action_with_a_bad_field_is_refused_naming_it(start_kefu: Any, console_agents: None) -> None:
    kefu = await start_kefu(None, wait=False)
    await log_in(kefu.client)
    cases = [({"action": "launch", "ticket_id": 1}, "action:"), ({"action": "resolve"}, "ticket_id:"),
             ({"action": "edit", "ticket_id": 1, "text": "  "}, "text:"),
             ({"action": "wrong_intent", "ticket_id": 1}, "intent:"), ({"action": "alert_acknowledge"}, "alert_id:")]
    for body, field in cases:
        response = await kefu.client.post("/console/actions", json=body, headers=origin(kefu.client))
        assert response.status == 400
        assert (await response.json())["message"].startswith(field), body


def test_kefu_agents_add_stores_an_argon2_hash_and_refuses_bad_input(
    migrated_url: str, engine: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)

    def run(*args: str, stdin: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["agents", "add", *args, "--password-stdin"])

    assert run("amira", "--role", "manager", "--languages", "ar,en", stdin="a long password\n") == 0
    assert "agent amira (manager) added" in capsys.readouterr().out
    assert run("short", stdin="abc\n") == 1
    assert "password: at least 8 characters" in capsys.readouterr().err
    assert run("Amira", stdin="another password\n") == 1
    assert "exists already" in capsys.readouterr().err
    assert run("kim", "--languages", "en,english", stdin="a long password\n") == 1
    assert "--languages: 'english'" in capsys.readouterr().err
    with Session(engine) as session:
        agents = session.scalars(select(Agent)).all()
    [amira] = agents
    assert (amira.role, amira.languages) == ("manager", ["ar", "en"])
    assert amira.password_hash is not None and amira.password_hash.startswith("$argon2id$")
    assert "a long password" not in amira.password_hash
