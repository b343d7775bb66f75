"""Hostile Slack requests at kefu's Request URL (`POST /slack/events`), signed with the app's signing secret so
that they reach the real slack-bolt parser and kefu's listeners: events, slash commands and interactivity payloads
of every shape are answered (200, or 400 for what is no Slack payload), never 500. Unsigned, forged and replayed
requests (outside Slack's 5-minute window) are refused with 401 before anything parses them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import CAPABILITIES
from adapters.slack.listeners import SlackListeners
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import signature_headers
from tests.hostile.conftest import Hostile, StartHostile, slack_section
from tests.hostile.strategies import IDS, hostile_settings, json_values, nasty_text, near_valid

SLACK_ANSWERS = {200, 400, 404}

users = near_valid({"id": st.sampled_from(["U0AGENT1", "U0MANAGER", ""]), "username": nasty_text(20),
                    "name": nasty_text(20)})
inner_events = near_valid({
    "type": st.sampled_from(["message", "app_mention", "reaction_added", "", "x" * 300]),
    "subtype": st.sampled_from([None, "file_share", "bot_message", "message_changed"]),
    "channel": st.sampled_from(["C0TRIAGE", "D0DM", ""]), "user": st.sampled_from(["U0AGENT1", ""]),
    "text": nasty_text(200), "ts": st.sampled_from(["1700000000.000100", "", "x"]),
    "thread_ts": st.sampled_from(["1700000000.000100", "1600000000.000001", None]), "bot_id": st.none(),
})
event_bodies = near_valid({
    "type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited", "nonsense"]),
    "token": nasty_text(10), "team_id": st.just("T0KEFU"), "api_app_id": st.just("A0KEFU"),
    "event": inner_events, "event_id": IDS, "event_time": st.integers(), "challenge": nasty_text(20),
    "authorizations": st.lists(json_values, max_size=2),
})
commands = st.fixed_dictionaries({
    "command": st.sampled_from(["/kefu", "/metrics", "/sla", "/ticket", "/agent", "/alerts", "/", "/x" * 50]),
    "text": nasty_text(200),
}, optional={"user_id": st.sampled_from(["U0AGENT1", "U0MANAGER", ""]), "channel_id": st.sampled_from(["C0TRIAGE"]),
             "user_name": nasty_text(20), "response_url": nasty_text(30), "trigger_id": nasty_text(10),
             "team_id": st.just("T0KEFU")})
actions = near_valid({"action_id": st.sampled_from(["kefu:send", "kefu:edit", "kefu:wrong_intent", "kefu:assign",
                                                    "other", ""]),
                      "value": st.sampled_from(['{"ticket": 1}', '{"ticket": 99999999999999999999}', '{"alert": -1}',
                                                "not json", "ticket:1", '{"ticket": "1"}', "[]"]),
                      "block_id": nasty_text(10), "type": st.just("button")})
views = near_valid({"callback_id": st.sampled_from(["kefu:edit", "kefu:wrong_intent", "other"]),
                    "private_metadata": st.sampled_from(['{"ticket": 1}', '{"ticket": 10000000000000000000000}',
                                                        "[]", "", "{bad"]),
                    "state": json_values, "id": IDS})
interactive = near_valid({
    "type": st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "message_action"]),
    "user": users, "team": near_valid({"id": st.just("T0KEFU")}), "api_app_id": st.just("A0KEFU"),
    "actions": st.lists(actions, max_size=2), "view": views, "trigger_id": nasty_text(10),
    "channel": near_valid({"id": st.just("C0TRIAGE")}), "response_url": nasty_text(20),
    "container": json_values, "message": json_values,
})
requests = st.one_of(
    event_bodies.map(lambda body: ("application/json", json.dumps(body))),
    commands.map(lambda fields: ("application/x-www-form-urlencoded",
                                 urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}))),
    interactive.map(lambda payload: ("application/x-www-form-urlencoded", urlencode({"payload": json.dumps(payload)}))),
    nasty_text(300).map(lambda text: ("application/json", text)),
)


@pytest.fixture
async def slack_kefu(start_hostile: StartHostile, fake_slack: FakeSlack) -> Hostile:
    return await start_hostile(slack=slack_section(fake_slack))


def body_text(raw: str) -> str:
    return raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@hostile_settings
@given(request=requests)
async def test_any_signed_slack_payload_is_answered_without_a_server_error(
    slack_kefu: Hostile, fake_slack: FakeSlack, request: tuple[str, str]
) -> None:
    content_type, raw = request
    body = body_text(raw)

    response = await slack_kefu.client.post("/slack/events", data=body.encode(), headers={
        "Content-Type": content_type, **signature_headers(fake_slack.signing_secret, body)})

    assert response.status in SLACK_ANSWERS, await response.text()


@hostile_settings
@given(headers=st.fixed_dictionaries({}, optional={
    "X-Slack-Request-Timestamp": st.one_of(st.sampled_from(["abc", "", "-1", "1e9", "9" * 30, " 1"]),
                                           st.integers().map(str)),
    "X-Slack-Signature": st.one_of(st.sampled_from(["v0=", "v0=" + "0" * 64, "v1=abc", "v0=" + "Z" * 64]),
                                   nasty_text(80).filter(lambda v: len(v) < 4000 and all(" " <= c <= "~" for c in v))),
}), raw=st.one_of(st.binary(max_size=200), st.just(b'{"type": "url_verification", "challenge": "c"}')))
async def test_unsigned_and_forged_requests_are_refused_with_401_before_parsing(
    slack_kefu: Hostile, headers: dict[str, str], raw: bytes
) -> None:
    response = await slack_kefu.client.post("/slack/events", data=raw,
                                            headers={"Content-Type": "application/json", **headers})

    assert response.status == 401, await response.text()


async def test_a_request_replayed_after_slacks_five_minute_window_is_refused(
    slack_kefu: Hostile, fake_slack: FakeSlack
) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "replayed", "token": "t"})
    for at in (time.time() - 301, time.time() + 301):
        stale = await slack_kefu.client.post("/slack/events", data=body.encode(), headers={
            "Content-Type": "application/json", **signature_headers(fake_slack.signing_secret, body, int(at))})
        assert stale.status == 401
    fresh = await slack_kefu.client.post("/slack/events", data=body.encode(), headers={
        "Content-Type": "application/json", **signature_headers(fake_slack.signing_secret, body)})
    assert fresh.status == 200 and "replayed" in await fresh.text()


class Recorder:
    """Stands in for Bolt's ack / respond / say: records what the listener answered."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append({"args": args, **kwargs})


@pytest.fixture
def listeners(slack_kefu: Hostile, fake_slack: FakeSlack) -> SlackListeners:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    return SlackListeners(slack_kefu.kefu, client, CAPABILITIES)


@hostile_settings
@given(event=inner_events, command=commands, button=interactive, view=views)
async def test_kefus_listeners_take_any_payload_shape_without_raising(
    listeners: SlackListeners, event: Any, command: Any, button: Any, view: Any
) -> None:
    """What Bolt hands kefu's listeners after it parsed a payload: each answers (or ignores) it, none raises."""
    ack, respond, say = Recorder(), Recorder(), Recorder()
    if isinstance(event, dict):
        await listeners.on_message(event)
        await listeners.on_mention(event, say)
    await listeners.on_command(ack, command, respond)
    assert ack.calls, "a slash command is always acknowledged"
    if isinstance(button, dict):
        actions = button.get("actions")
        for action in actions if isinstance(actions, list) else [{}]:
            if isinstance(action, dict):
                await listeners.on_button(Recorder(), button, action, Recorder())
        if isinstance(view, dict):
            await listeners.on_edit_submitted(Recorder(), button, view)
            await listeners.on_intent_submitted(Recorder(), button, view)
