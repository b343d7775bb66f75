"""The text actions agents type to the DingTalk robot (what a card's buttons send): Chinese and English words,
"#42" or "42", the words after the number; anything else is a command for the core."""

from __future__ import annotations

import pytest

from adapters.dingtalk.listeners import TextAction, parse_text_action


@pytest.mark.parametrize(("typed", "expected"), [
    ("/发送 42", TextAction("send", 42, "")),
    ("/send #42", TextAction("send", 42, "")),
    ("认领42", TextAction("assign", 42, "")),
    ("/编辑 42 您好，包裹\n已经寄出。", TextAction("edit", 42, "您好，包裹\n已经寄出。")),
    ("/改意图 42 order_status", TextAction("wrong_intent", 42, "order_status")),
    ("/ESCALATE 7 customer threatens a chargeback", TextAction("escalate", 7, "customer threatens a chargeback")),
    ("/确认告警 3", TextAction("alert_acknowledge", 3, "")),
    ("/mute 3", TextAction("alert_silence_2h", 3, "")),
])
def test_a_typed_action_names_the_action_its_ticket_or_alert_and_the_words_after(typed: str,
                                                                                 expected: TextAction) -> None:
    assert parse_text_action(typed) == expected


@pytest.mark.parametrize("typed", ["/指标 7天", "/工单 42", "/send", "/send7d", "metrics 7d", "/发送 四十二"])
def test_commands_and_actions_without_a_number_are_not_actions(typed: str) -> None:
    assert parse_text_action(typed) is None
