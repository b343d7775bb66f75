"""The "Assigned to … by … at" line that a press of Assign adds to the triage card's History is written in the
language of the card's channel: Chinese when the card lives on DingTalk (its default language), English on Slack."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.pipeline import Pipeline
from bot.settings import ReplySettings, Settings
from handlers.actions import TicketActions
from models.tables import Agent
from tests.test_actions import LearningFixedClassifier, fields, latest_card_update, press, suggested_ticket
from tests.test_pipeline import FixedTemplates


def actions_on(engine: Engine, channel: str) -> tuple[TicketActions, Pipeline, LearningFixedClassifier]:
    settings = Settings(triage={"channel": channel, "target": "triage-room"},
                        replies=ReplySettings(modes={"shipping_time": "shadow"}, auto_reply_min_confidence=0.6))
    classifier = LearningFixedClassifier()
    pipeline = Pipeline(engine, classifier, FixedTemplates(), settings)
    with Session(engine) as session:
        session.add(Agent(name="li.wei", role="agent", identities={"slack": "U_LI", "dingtalk": "li4220"}))
        session.add(Agent(name="mei", role="manager", identities={"slack": "U_MEI", "dingtalk": "mei4220"}))
        session.commit()
    return TicketActions(engine, pipeline, classifier), pipeline, classifier


@pytest.mark.parametrize("channel", ["dingtalk", "slack"])
def test_the_assigned_line_is_in_the_language_of_the_cards_channel(engine: Engine, channel: str) -> None:
    actions, pipeline, classifier = actions_on(engine, channel)
    ticket_id = suggested_ticket(pipeline, classifier)
    pressed = press(actions, "assign", ticket_id, who="mei4220", platform="dingtalk", agent="li.wei")
    assert pressed.ok, pressed.message
    item, card = latest_card_update(engine, ticket_id)
    assert item.channel == channel
    history = fields(card)["History"]
    if channel == "dingtalk":
        assert history.endswith(" UTC 分配给 li.wei（mei 操作）") and "Assigned" not in history
    else:
        assert history.startswith("Assigned to li.wei by mei at ") and history.endswith(" UTC")


@pytest.mark.parametrize("channel", ["dingtalk", "slack"])
def test_the_send_escalate_and_resolve_lines_are_in_the_language_of_the_cards_channel(engine: Engine,
                                                                                      channel: str) -> None:
    actions, pipeline, classifier = actions_on(engine, channel)
    ticket_id = suggested_ticket(pipeline, classifier)
    lines = []
    for name, values in (("send", {}), ("escalate", {"reason": "客户很生气"}), ("resolve", {"note": "已退款"})):
        pressed = press(actions, name, ticket_id, who="li4220", platform="dingtalk", **values)
        assert pressed.ok, pressed.message
        _item, card = latest_card_update(engine, ticket_id)
        lines.append(fields(card)["History"].splitlines()[-1])
    sent, escalated, resolved = lines
    if channel == "dingtalk":
        assert sent.endswith(" UTC li.wei 发送了建议回复")
        assert escalated.endswith(" UTC li.wei 升级为 2 级：客户很生气")
        assert resolved.endswith(" UTC li.wei 已结单：已退款")
        assert not any(word in " ".join(lines) for word in ("sent", "Escalated", "Resolved", "by"))
    else:
        assert sent.startswith("Suggested reply sent by li.wei at ") and sent.endswith(" UTC")
        assert escalated.startswith("Escalated to severity 2 by li.wei at ") and escalated.endswith(": 客户很生气")
        assert resolved.startswith("Resolved by li.wei at ") and resolved.endswith(": 已退款")
