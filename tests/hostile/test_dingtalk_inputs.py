"""Hostile DingTalk stream callbacks: what the dingtalk-stream SDK hands kefu's chatbot handler (the `data` of a
`/v1.0/im/bot/messages/get` callback) in any shape. Each is acknowledged — 200 when handled, 400 when it is no
chatbot message — and never raises out of the handler (the SDK would then send no ack and DingTalk would deliver
the poison message again and again); whatever kefu answers has a title and a text."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from dingtalk_stream import AckMessage, CallbackMessage
from hypothesis import given
from hypothesis import strategies as st

from adapters.dingtalk import CAPABILITIES
from adapters.dingtalk.listeners import DingTalkListeners, parse_text_action
from adapters.dingtalk.stream import KefuChatbotHandler
from tests.hostile.conftest import Hostile, StartHostile
from tests.hostile.strategies import IDS, hostile_settings, json_values, nasty_text, near_valid

typed = st.one_of(
    nasty_text(120),
    st.builds(lambda word, number, rest: f"/{word} {number} {rest}",
              st.sampled_from(["发送", "send", "认领", "编辑", "改意图", "升级", "解决", "确认告警", "mute", "指标"]),
              st.one_of(st.integers(min_value=0), st.sampled_from([2**63, 10**40])), nasty_text(40)),
)
messages = near_valid({
    "msgtype": st.sampled_from(["text", "picture", "richText", "file", ""]),
    "text": near_valid({"content": typed}),
    "content": json_values,
    "msgId": IDS, "senderStaffId": st.sampled_from(["manager4220", "", "staff-1"]), "senderId": IDS,
    "senderNick": nasty_text(20), "conversationId": st.sampled_from(["cidTRIAGE==", ""]),
    "conversationType": st.sampled_from(["1", "2"]), "sessionWebhookExpiredTime": st.sampled_from([0, "x", None]),
    "atUsers": st.lists(near_valid({"dingtalkId": IDS}), max_size=2), "isInAtList": st.booleans(),
    "hostingContext": json_values, "robotCode": IDS,
})


class Replies:
    """Stands in for the sessionWebhook: records the markdown kefu answered with."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def reply_markdown(self, title: str, text: str, _message: Any) -> dict[str, Any]:
        self.sent.append((title, text))
        return {"errcode": 0}


@pytest.fixture
async def handler(start_hostile: StartHostile) -> tuple[KefuChatbotHandler, Replies]:
    kefu: Hostile = await start_hostile()
    listeners = DingTalkListeners(kefu.kefu, CAPABILITIES, "zh")
    replies = Replies()
    chatbot = KefuChatbotHandler(lambda message, _replier: listeners.on_message(message, replies),  # type: ignore[arg-type]
                                 asyncio.get_running_loop())
    return chatbot, replies


def callback(data: Any) -> CallbackMessage:
    message = CallbackMessage()
    message.data = data
    return message


@hostile_settings
@given(data=messages)
async def test_any_chatbot_callback_is_acknowledged_and_every_text_message_answered(
    handler: tuple[KefuChatbotHandler, Replies], data: Any
) -> None:
    chatbot, replies = handler
    before = len(replies.sent)

    code, _message = await chatbot.process(callback(data))

    assert code in (AckMessage.STATUS_OK, AckMessage.STATUS_BAD_REQUEST)
    for title, markdown in replies.sent[before:]:  # whatever kefu answered reads as an answer
        assert title.strip() and markdown.strip()


@hostile_settings
@given(text=typed)
def test_a_typed_action_is_recognised_or_left_to_the_command_parser(text: str) -> None:
    action = parse_text_action(text)

    assert action is None or (action.name and action.subject_id >= 0)
