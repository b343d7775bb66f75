"""Hostile input from browsers: the chat widget's POSTs (`/widget/api/messages`, visitor tokens), the console's
login form, its session cookie, and the JSON of its buttons and command box. Every request is answered with its
2xx/3xx or a 4xx saying what is wrong, never a 500, and a refused widget message stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import FormData
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.agent_accounts import add_agent
from tests.hostile.conftest import Hostile, StartHostile, row_counts
from tests.hostile.strategies import HUGE_INTEGERS, hostile_settings, json_values, nasty_text, near_valid

AGENT, PASSWORD = "mei", "correct horse battery"
widget_bodies = near_valid({
    "id": st.one_of(st.text("abcdefgh0123456789-_", min_size=8, max_size=64), nasty_text(70)),
    "text": nasty_text(300), "language": st.sampled_from(["es", "pt-BR", "zh-Hant-TW", "x", "é", "en-" + "a" * 20]),
})
console_actions = near_valid({
    "action": st.sampled_from(["send", "edit", "assign", "escalate", "resolve", "wrong_intent", "alert_acknowledge",
                               "alert_silence_2h", "alert_unknown", "nuke", ""]),
    "ticket_id": st.one_of(st.integers(), st.sampled_from(HUGE_INTEGERS)),
    "alert_id": st.one_of(st.integers(), st.sampled_from(HUGE_INTEGERS)),
    "suggestion_id": st.one_of(st.integers(), st.sampled_from(HUGE_INTEGERS)),
    "text": nasty_text(300), "intent": nasty_text(40),
})
cookies = st.one_of(nasty_text(120), st.builds(lambda a, b: f"{a}.{b}", nasty_text(60), nasty_text(70)),
                    st.sampled_from(["a.b", ".", "..", "eyJuIjoibWVpIn0." + "0" * 64, "é.é"]))


@pytest.fixture
async def browser_kefu(start_hostile: StartHostile, engine: Engine) -> Hostile:
    add_agent(engine, AGENT, PASSWORD)
    return await start_hostile(webchat={"messages_per_minute": 1000})


def origin(kefu: Hostile) -> dict[str, str]:
    return {"Origin": str(kefu.client.make_url("")).rstrip("/")}


async def visitor(kefu: Hostile) -> str:
    response = await kefu.client.post("/widget/api/visitors", headers=origin(kefu))
    assert response.status == 201
    return str((await response.json())["visitor"])


async def logged_in(kefu: Hostile) -> None:
    response = await kefu.client.post("/console/login", data={"name": AGENT, "password": PASSWORD},
                                      headers=origin(kefu), allow_redirects=False)
    assert response.status == 303


@hostile_settings
@given(body=widget_bodies, raw=st.one_of(st.none(), st.binary(max_size=200)))
async def test_any_widget_message_is_received_or_refused_and_a_refusal_stores_nothing(
    browser_kefu: Hostile, engine: Engine, body: Any, raw: bytes | None
) -> None:
    token = await visitor(browser_kefu) if not hasattr(browser_kefu, "token") else browser_kefu.token  # type: ignore[has-type]
    browser_kefu.token = token  # type: ignore[attr-defined]
    before = row_counts(engine)
    data = raw if raw is not None else json.dumps(body).encode()

    response = await browser_kefu.client.post("/widget/api/messages", data=data, headers={
        **origin(browser_kefu), "X-Kefu-Visitor": token, "Content-Type": "application/json"})

    assert response.status in {202, 400, 413}, await response.text()
    if response.status != 202:
        assert (await response.json())["error"]
        assert row_counts(engine) == before


@hostile_settings
@given(token=st.one_of(nasty_text(80).filter(lambda v: len(v) < 1000 and all(" " <= c <= "~" for c in v)),
                       st.sampled_from(["A" * 22 + "." + "0" * 32, "", "."])))
async def test_forged_visitor_tokens_are_refused(browser_kefu: Hostile, engine: Engine, token: str) -> None:
    before = row_counts(engine)
    body = json.dumps({"id": "client-msg-1", "text": "hello"}).encode()

    posted = await browser_kefu.client.post("/widget/api/messages", data=body, headers={
        **origin(browser_kefu), "X-Kefu-Visitor": token, "Content-Type": "application/json"})
    feed = await browser_kefu.client.get("/widget/api/events", params={"visitor": token})

    assert (posted.status, feed.status) == (401, 401)
    assert row_counts(engine) == before


@hostile_settings
@given(fields=st.dictionaries(st.sampled_from(["name", "password", "next", "name[]"]), nasty_text(100), max_size=3),
       multipart=st.booleans())
async def test_the_login_form_refuses_wrong_or_malformed_logins_with_401(
    browser_kefu: Hostile, fields: dict[str, str], multipart: bool
) -> None:
    form = FormData()
    for key, value in fields.items():
        text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        form.add_field(key, text, content_type="text/plain" if multipart else None)

    response = await browser_kefu.client.post("/console/login", data=form, headers=origin(browser_kefu),
                                              allow_redirects=False)

    assert response.status in {400, 401, 429}, await response.text()


@hostile_settings
@given(cookie=cookies, path=st.sampled_from(["/console", "/console/state", "/console/tickets/1",
                                             "/console/static/console.js", "/console/login"]))
async def test_a_forged_session_cookie_is_never_a_session(browser_kefu: Hostile, cookie: str, path: str) -> None:
    value = cookie.encode("utf-8", "replace").decode("latin-1")[:4000]  # under aiohttp's 8 KiB header limit
    if any(c in value for c in "\r\n;") or not value.isprintable():
        value = value.encode("unicode_escape").decode("ascii").replace(";", "")
    browser_kefu.client.session.cookie_jar.clear()

    response = await browser_kefu.client.get(path, headers={"Cookie": f"kefu_console={value}"},
                                             allow_redirects=False)

    assert response.status in ({200} if path == "/console/login" else {303, 401}), await response.text()


@hostile_settings
@given(body=console_actions, command=st.one_of(nasty_text(300), json_values))
async def test_console_buttons_and_commands_answer_any_json_with_a_message(
    browser_kefu: Hostile, body: Any, command: Any
) -> None:
    if not browser_kefu.client.session.cookie_jar.filter_cookies(browser_kefu.client.make_url("/")):
        await logged_in(browser_kefu)

    pressed = await browser_kefu.client.post("/console/actions", json=body, headers=origin(browser_kefu))
    typed = await browser_kefu.client.post("/console/commands", json={"text": command}, headers=origin(browser_kefu))

    assert pressed.status in {200, 400}, await pressed.text()
    assert (await pressed.json())["message"]
    assert typed.status in {200, 400}, await typed.text()
    answer = await typed.json()
    assert answer.get("text") or answer.get("message")
