"""The fake DingTalk behaves like DingTalk toward the real dingtalk-stream SDK and plain HTTP clients: the stream
gateway hands out one-time tickets, pushes frames as DingTalk does and records the SDK's ACKs, `disconnect`
makes the SDK reconnect, and the OpenAPI, sessionWebhook and robot webhooks check tokens and signatures."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import quote_plus

import requests
from dingtalk_stream import (
    AckMessage,
    CallbackMessage,
    ChatbotHandler,
    ChatbotMessage,
    Credential,
    DingTalkStreamClient,
)

from adapters.dingtalk.stream import StreamThread
from tests.e2e.conftest import wait_until
from tests.fakes.dingtalk import FakeDingTalk, robot_sign


class RecordingHandler(ChatbotHandler):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[ChatbotMessage] = []

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        message = ChatbotMessage.from_dict(callback.data)
        self.messages.append(message)
        await asyncio.to_thread(self.reply_markdown, "回复", f"收到：{message.text.content.strip()}", message)
        return AckMessage.STATUS_OK, "OK"


async def test_the_sdk_connects_acks_frames_replies_and_reconnects_when_told_to(fake_dingtalk: FakeDingTalk) -> None:
    client = DingTalkStreamClient(Credential(fake_dingtalk.client_id, fake_dingtalk.client_secret))
    handler = RecordingHandler()
    client.register_callback_handler(ChatbotMessage.TOPIC, handler)
    stream = StreamThread(client)
    stream.start()
    try:
        await wait_until(lambda: fake_dingtalk.connected == 1, "the SDK's stream connection")
        ping = fake_dingtalk.ping()
        [pong] = await wait_until(lambda: fake_dingtalk.acks(ping), "the ping's ACK")
        opaque = json.loads(fake_dingtalk._frames[ping].frame["data"])["opaque"]
        assert pong["code"] == 200 and json.loads(pong["data"])["opaque"] == opaque

        message = fake_dingtalk.push_bot_message("/指标 7天", sender="manager1", nick="王经理")
        [ack] = await wait_until(lambda: fake_dingtalk.acks(message.frame_id), "the message's ACK")
        assert ack["code"] == 200 and json.loads(ack["data"]) == {"response": "OK"}
        [received] = handler.messages
        assert (received.message_id, received.sender_staff_id, received.text.content.strip()) == (
            message.msg_id, "manager1", "/指标 7天")
        [reply] = fake_dingtalk.session_replies(message.session)
        assert reply.body["msgtype"] == "markdown" and reply.text == "收到：/指标 7天"
        assert reply.body["at"] == {"atUserIds": ["manager1"]}

        fake_dingtalk.disconnect()
        await wait_until(lambda: fake_dingtalk.connections_opened == 2 and fake_dingtalk.connected == 1,
                         "a second connection after disconnect")
        again = fake_dingtalk.push_bot_message("still there?", sender="agent1")
        await wait_until(lambda: fake_dingtalk.acks(again.frame_id), "an ACK on the new connection")
    finally:
        await stream.stop()
    assert stream._thread is None
    await wait_until(lambda: fake_dingtalk.connected == 0, "the connection to close when the client stops")


def test_a_stream_ticket_opens_one_connection_and_wrong_credentials_get_none(fake_dingtalk: FakeDingTalk) -> None:
    refused = requests.post(f"{fake_dingtalk.base_url}/v1.0/gateway/connections/open",
                            json={"clientId": fake_dingtalk.client_id, "clientSecret": "wrong"}, timeout=5)
    assert refused.status_code == 401 and refused.json()["code"] == "InvalidAuthentication"
    opened = requests.post(f"{fake_dingtalk.base_url}/v1.0/gateway/connections/open",
                           json={"clientId": fake_dingtalk.client_id, "clientSecret": fake_dingtalk.client_secret},
                           timeout=5).json()
    assert opened["endpoint"] == f"ws://127.0.0.1:{fake_dingtalk.port}/connect"


def test_group_messages_need_a_live_access_token_and_a_known_group(fake_dingtalk: FakeDingTalk) -> None:
    client = DingTalkStreamClient(Credential(fake_dingtalk.client_id, fake_dingtalk.client_secret))
    token = client.get_access_token()
    assert token and token.startswith("tok-")
    url = f"{fake_dingtalk.base_url}/v1.0/robot/groupMessages/send"
    body: dict[str, Any] = {"robotCode": fake_dingtalk.client_id, "openConversationId": "cidTRIAGE==",
                            "msgKey": "sampleMarkdown", "msgParam": json.dumps({"title": "t", "text": "工单 #1"})}

    sent = requests.post(url, json=body, headers={"x-acs-dingtalk-access-token": token}, timeout=5)
    unknown_group = requests.post(url, json={**body, "openConversationId": "cidNOPE=="},
                                  headers={"x-acs-dingtalk-access-token": token}, timeout=5)
    fake_dingtalk.expire_tokens()
    expired = requests.post(url, json=body, headers={"x-acs-dingtalk-access-token": token}, timeout=5)

    assert sent.status_code == 200 and sent.json()["processQueryKey"]
    assert unknown_group.status_code == 400 and unknown_group.json()["code"] == "resource.not.found"
    assert expired.status_code == 401 and expired.json()["code"] == "InvalidAuthentication"
    [message] = fake_dingtalk.group_messages("cidTRIAGE==")
    assert message.param == {"title": "t", "text": "工单 #1"}


def test_a_robot_webhook_checks_the_signature_and_refuses_the_21st_message_in_a_minute(
    fake_dingtalk: FakeDingTalk,
) -> None:
    token, secret = fake_dingtalk.robots["alerts"]

    def post(sign_with: str, timestamp: int | None = None) -> dict[str, Any]:
        now = timestamp or int(time.time() * 1000)
        url = f"{fake_dingtalk.robot_url('alerts')}&timestamp={now}&sign={quote_plus(robot_sign(sign_with, now))}"
        return requests.post(url, json={"msgtype": "text", "text": {"content": "告警"}}, timeout=5).json()

    assert secret is not None
    assert post("SECwrong")["errcode"] == 310000
    assert post(secret, timestamp=int(time.time() * 1000) - 2 * 3600 * 1000)["errmsg"] == "invalid timestamp"
    answers = [post(secret)["errcode"] for _ in range(21)]
    assert answers == [0] * 20 + [130101]
    assert len([p for p in fake_dingtalk.robot_posts("alerts") if p.errcode == 0]) == 20
