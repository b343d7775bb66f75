"""The fake Slack and the driver, checked with the real slack_sdk / slack_bolt clients: what they send is understood,
what the fake answers is what the SDKs expect from Slack (successes, errors, 429s, uploads, Socket Mode), and what
the driver sends verifies and routes in Bolt as Slack's own requests do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver

BUTTONS = [{"type": "actions", "block_id": "card-actions", "elements": [
    {"type": "button", "action_id": "send_reply", "text": {"type": "plain_text", "text": "Send reply"},
     "value": "ticket-7"},
    {"type": "button", "action_id": "resolve", "text": {"type": "plain_text", "text": "Resolve"}, "value": "ticket-7"},
]}]


def web_client(fake: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.bot_token, base_url=fake.api_url)


async def test_a_posted_then_updated_message_reads_as_updated(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    posted = await client.chat_postMessage(channel="C0TRIAGE", text="New complaint", blocks=BUTTONS)
    reply = await client.chat_postMessage(channel="C0TRIAGE", text="Follow-up", thread_ts=posted["ts"])
    updated = await client.chat_update(channel="C0TRIAGE", ts=posted["ts"], text="Replied by @mei",
                                       blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Replied"}}])

    assert updated["ts"] == posted["ts"] and float(reply["ts"]) > float(posted["ts"])
    card, follow_up = fake_slack.channel_messages("C0TRIAGE")
    assert (card.ts, card.text, card.user, card.edits) == (posted["ts"], "Replied by @mei", "UKEFUBOT", 1)
    assert card.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "Replied"}}]
    assert (follow_up.text, follow_up.thread_ts) == ("Follow-up", posted["ts"])
    with pytest.raises(SlackApiError) as unknown:
        await client.chat_update(channel="C0TRIAGE", ts="1600000000.000001", text="x")
    assert unknown.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as nowhere:
        await client.chat_postMessage(channel="C0NOWHERE", text="x")
    assert nowhere.value.response["error"] == "channel_not_found"


async def test_a_wrong_token_is_refused_and_nothing_is_posted(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as wrong:
        await web_client(fake_slack, "xoxb-not-ours").chat_postMessage(channel="C0TRIAGE", text="hi")
    with pytest.raises(SlackApiError) as app_token:
        await web_client(fake_slack, fake_slack.app_token).chat_postMessage(channel="C0TRIAGE", text="hi")

    assert wrong.value.response["error"] == "invalid_auth"
    assert app_token.value.response["error"] == "not_allowed_token_type"
    assert fake_slack.channel_messages("C0TRIAGE") == []


async def test_a_rate_limited_call_answers_429_with_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=7)
    client = web_client(fake_slack)

    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C0TRIAGE", text="card")
    await client.chat_postMessage(channel="C0TRIAGE", text="card")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"
    assert [m.text for m in fake_slack.channel_messages("C0TRIAGE")] == ["card"]


async def test_the_sdk_rate_limit_retry_handler_rides_out_429s(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=2, retry_after=0)  # Slack says >= 1; 0 keeps the test fast
    client = web_client(fake_slack)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))

    await client.chat_postMessage(channel="C0TRIAGE", text="card")

    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 429, 200]
    assert [m.text for m in fake_slack.channel_messages("C0TRIAGE")] == ["card"]


async def test_invalid_blocks_are_refused_saying_what_is_wrong(fake_slack: FakeSlack) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "send", "text": {"type": "plain_text", "text": "Send"}, "value": "1"},
            {"type": "button", "action_id": "send", "text": {"type": "plain_text", "text": "y" * 76}},
        ]},
    ]
    with pytest.raises(SlackApiError) as refused:
        await web_client(fake_slack).chat_postMessage(channel="C0TRIAGE", text="card", blocks=blocks)

    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        "[ERROR] duplicate action_id 'send': each action_id must be unique in the message "
        "[json-pointer:/blocks/1/elements/1/action_id]",
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/1/elements/1/text/text]",
    ]
    assert fake_slack.channel_messages("C0TRIAGE") == []


async def test_files_upload_v2_lands_the_file_in_the_thread(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    parent = await client.chat_postMessage(channel="C0MANAGERS", text="/kefu metrics 7d chart")
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

    uploaded = await client.files_upload_v2(channel="C0MANAGERS", content=chart, filename="metrics.png",
                                            title="Metrics 7d", initial_comment="First response times",
                                            thread_ts=parent["ts"])

    file_id = uploaded["file"]["id"]
    stored = fake_slack.file(file_id)
    assert stored is not None and stored.content == chart and stored.channels == ["C0MANAGERS"]
    message = fake_slack.thread_replies("C0MANAGERS", parent["ts"])[0]
    assert message.text == "First response times"
    assert message.files == [{"id": file_id, "name": "metrics.png", "title": "Metrics 7d", "mimetype": "image/png",
                              "size": len(chart)}]


async def test_a_workspace_without_uploads_refuses_them(fake_slack: FakeSlack) -> None:
    fake_slack.set_uploads_allowed(False)

    with pytest.raises(SlackApiError) as refused:
        await web_client(fake_slack).files_upload_v2(channel="C0MANAGERS", content=b"png", filename="m.png")

    assert refused.value.response["error"] == "file_uploads_disabled"
    assert fake_slack.channel_messages("C0MANAGERS") == []


async def test_a_response_url_takes_five_posts_as_slack_shows_them(fake_slack: FakeSlack) -> None:
    card = await web_client(fake_slack).chat_postMessage(channel="C0TRIAGE", text="card", blocks=BUTTONS)
    url = fake_slack.new_response_url(channel="C0TRIAGE", user_id="U0AGENT1", message_ts=card["ts"])
    webhook = AsyncWebhookClient(url)

    answers = [await webhook.send(text="Only you see this"),
               await webhook.send(text="Everyone sees this", response_type="in_channel"),
               await webhook.send(text="Replied by @mei", replace_original=True),
               await webhook.send(text="4"), await webhook.send(text="5"), await webhook.send(text="6")]

    assert [(a.status_code, a.body) for a in answers] == [(200, "ok")] * 5 + [(404, "used_url")]
    assert [m.text for m in fake_slack.channel_messages("C0TRIAGE")] == ["Replied by @mei", "Everyone sees this"]
    assert [e.text for e in fake_slack.ephemeral_messages("C0TRIAGE", "U0AGENT1")] == ["Only you see this", "4", "5"]
    assert [body["text"] for body in fake_slack.wait_for_response(url, count=5)] == [
        "Only you see this", "Everyone sees this", "Replied by @mei", "4", "5"]


async def test_views_open_takes_a_fresh_trigger_id_once(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    view = {"type": "modal", "callback_id": "edit_reply", "title": {"type": "plain_text", "text": "Edit reply"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [{"type": "input", "block_id": "reply", "label": {"type": "plain_text", "text": "Reply"},
                        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True}}]}
    trigger = fake_slack.new_trigger_id("U0AGENT1")
    late = fake_slack.new_trigger_id("U0AGENT1")

    opened = await client.views_open(trigger_id=trigger, view=view)
    with pytest.raises(SlackApiError) as again:
        await client.views_open(trigger_id=trigger, view=view)
    fake_slack.advance_clock(3.5)
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id=late, view=view)

    assert opened["view"]["id"].startswith("V") and opened["view"]["callback_id"] == "edit_reply"
    assert again.value.response["error"] == "exchanged_trigger_id"
    assert expired.value.response["error"] == "expired_trigger_id"
    assert [v["id"] for v in fake_slack.views()] == [opened["view"]["id"]]


async def test_socket_mode_hello_envelope_ack_and_reconnect_on_disconnect(fake_slack: FakeSlack) -> None:
    received: list[SocketModeRequest] = []

    async def acknowledge(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client = SocketModeClient(app_token=fake_slack.app_token, web_client=web_client(fake_slack))
    client.socket_mode_request_listeners.append(acknowledge)
    try:
        await client.connect()
        first = fake_slack.socket_send("events_api", {"type": "event_callback", "event_id": "Ev1"})
        assert await fake_slack.wait_for_ack_async(first) == {"envelope_id": first}

        fake_slack.socket_disconnect("refresh_requested")
        await fake_slack.wait_for_socket_connections_async(2)
        second = fake_slack.socket_send("slash_commands", {"command": "/kefu", "text": "sla"})
        assert await fake_slack.wait_for_ack_async(second) == {"envelope_id": second}
    finally:
        await client.close()

    assert [(r.type, r.envelope_id) for r in received] == [("events_api", first), ("slash_commands", second)]
    tickets = {c.response["url"] for c in fake_slack.calls("apps.connections.open")}
    assert len(tickets) == 2 and all(url.startswith(f"ws://127.0.0.1:{fake_slack.port}/link/") for url in tickets)


async def test_a_dropped_socket_is_reconnected_and_a_redelivered_envelope_says_so(fake_slack: FakeSlack) -> None:
    received: list[tuple[str, int]] = []

    async def acknowledge(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append((request.envelope_id, request.retry_attempt or 0))
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    # A short ping interval lets the client notice the dead socket within a second.
    client = SocketModeClient(app_token=fake_slack.app_token, web_client=web_client(fake_slack), ping_interval=0.3)
    client.socket_mode_request_listeners.append(acknowledge)
    try:
        await client.connect()
        await fake_slack.wait_for_socket_connections_async(1)
        fake_slack.socket_drop()
        await fake_slack.wait_for_socket_connections_async(2)
        envelope = fake_slack.socket_send("events_api", {"type": "event_callback", "event_id": "Ev2"})
        await fake_slack.wait_for_ack_async(envelope)
        fake_slack.redeliver(envelope)
        for _ in range(250):
            if len(fake_slack.acks(envelope)) == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await client.close()

    assert received == [(envelope, 0), (envelope, 1)]
    assert len(fake_slack.calls("apps.connections.open")) == 2


async def test_socket_mode_accepts_only_fresh_tickets(fake_slack: FakeSlack) -> None:
    opened = await web_client(fake_slack, fake_slack.app_token).apps_connections_open(app_token=fake_slack.app_token)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(opened["url"]) as ws:
            hello = await ws.receive_json(timeout=5)
        for url in (opened["url"], opened["url"].replace("ticket=", "ticket=x")):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url)
            assert refused.value.status == 401

    assert (hello["type"], hello["connection_info"]) == ("hello", {"app_id": fake_slack.app_id})
    with pytest.raises(SlackApiError) as bot_token:
        await web_client(fake_slack).apps_connections_open(app_token=fake_slack.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"


@pytest.fixture
async def verifying_receiver(fake_slack: FakeSlack) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A Request URL that answers 200 only to requests slack_sdk's SignatureVerifier accepts (401 otherwise)."""
    seen: list[dict[str, Any]] = []
    verifier = SignatureVerifier(fake_slack.signing_secret)

    async def receive(request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        valid = verifier.is_valid_request(body, dict(request.headers))
        seen.append({"body": body, "headers": dict(request.headers), "valid": valid})
        return web.Response(status=200 if valid else 401, text="ok" if valid else "invalid request")

    app = web.Application()
    app.router.add_post("/slack/events", receive)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/slack/events")), seen


async def test_the_driver_signs_as_slack_does(fake_slack: FakeSlack,
                                              verifying_receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = verifying_receiver
    driver = SlackDriver(fake_slack, events_url=url)

    signed = await driver.command("/kefu", "metrics 7d", user_id="U0MANAGER", channel_id="C0MANAGERS")
    retried = await driver.retry(signed, retry_num=2)
    tampered = await driver.command("/kefu", "sla", bad_signature=True)
    stale = await driver.message("C0TRIAGE", "U0AGENT1", "hi", timestamp_offset=-600)

    assert [d.status for d in (signed, retried, tampered, stale)] == [200, 200, 401, 401]
    assert seen[1]["body"] == seen[0]["body"]
    assert (seen[1]["headers"]["X-Slack-Retry-Num"], seen[1]["headers"]["X-Slack-Retry-Reason"]) == (
        "2", "http_timeout")
    status, headers, body = signed
    assert (status, body) == (200, "ok")


@pytest.fixture(params=["http", "socket"])
async def bolt_app(request: pytest.FixtureRequest, fake_slack: FakeSlack
                   ) -> AsyncIterator[tuple[AsyncApp, SlackDriver, list[tuple[str, Any]]]]:
    """A Bolt AsyncApp on the fake (its Request URL served in this loop, or its Socket Mode connection open), the
    driver for that transport, and what its listeners saw."""
    seen: list[tuple[str, Any]] = []
    app = AsyncApp(client=web_client(fake_slack), signing_secret=fake_slack.signing_secret)

    @app.command("/kefu")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        seen.append(("command", (command["text"], command["user_id"], command["channel_id"])))
        await ack(f"working on {command['text']}")

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.append(("message", (event["text"], event.get("thread_ts"), event["user"])))

    @app.action("send_reply")
    async def send_reply(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        seen.append(("action", (action["value"], action["block_id"], body["container"]["message_ts"],
                                body["user"]["id"])))

    @app.view("edit_reply")
    async def edit_reply(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append(("view", (view["state"]["values"]["reply"]["text"]["value"], view["private_metadata"])))

    if request.param == "http":
        async with TestServer(app.web_app(), host="127.0.0.1") as server:
            yield app, SlackDriver(fake_slack, events_url=str(server.make_url("/slack/events"))), seen
        return
    handler = AsyncSocketModeHandler(app, fake_slack.app_token)
    await handler.connect_async()
    try:
        await fake_slack.wait_for_socket_connections_async(1)
        yield app, SlackDriver(fake_slack, transport="socket"), seen
    finally:
        await handler.close_async()


async def test_driver_payloads_route_in_bolt_on_both_transports(
        fake_slack: FakeSlack, bolt_app: tuple[AsyncApp, SlackDriver, list[tuple[str, Any]]]) -> None:
    app, driver, seen = bolt_app
    card = await web_client(fake_slack).chat_postMessage(channel="C0TRIAGE", text="card", blocks=BUTTONS)

    command = await driver.command("/kefu", "metrics 7d", user_id="U0MANAGER", channel_id="C0MANAGERS")
    message = await driver.message("C0TRIAGE", "U0AGENT1", "customer says thanks", thread_ts=card["ts"])
    click = await driver.block_action("send_reply", user_id="U0AGENT1", channel_id="C0TRIAGE", message_ts=card["ts"])
    submit = await driver.view_submission("edit_reply", {"reply": {"text": "Sorry, resent today"}},
                                          private_metadata="ticket-7")

    if driver.transport == "http":
        assert [d.status for d in (command, message, click, submit)] == [200] * 4
        assert command.body == "working on metrics 7d"
    else:
        acks = [await fake_slack.wait_for_ack_async(d.envelope_id or "") for d in (command, message, click, submit)]
        assert acks[0] == {"envelope_id": command.envelope_id, "payload": {"text": "working on metrics 7d"}}
    for _ in range(200):
        if len(seen) == 4:
            break
        await asyncio.sleep(0.02)
    assert sorted(seen) == sorted([
        ("command", ("metrics 7d", "U0MANAGER", "C0MANAGERS")),
        ("message", ("customer says thanks", card["ts"], "U0AGENT1")),
        ("action", ("ticket-7", "card-actions", card["ts"], "U0AGENT1")),
        ("view", ("Sorry, resent today", "ticket-7")),
    ])
    assert message.payload["event"]["ts"] in [m.ts for m in fake_slack.thread_replies("C0TRIAGE", card["ts"])]
