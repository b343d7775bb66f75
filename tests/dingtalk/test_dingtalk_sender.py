"""The DingTalk outbox sender against the fake DingTalk: cards as Chinese ActionCards in the group, updates as
follow-ups, DingTalk's errors as outbox outcomes, and robot webhooks kept under 20 messages a minute by merging
and putting off, never by dropping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import unquote

import aiohttp
import pytest
from sqlalchemy.engine import Engine

from adapters.dingtalk.openapi import DingTalkOpenApi
from adapters.dingtalk.robots import RobotWebhook
from adapters.dingtalk.sender import DingTalkCardSender
from adapters.dingtalk.texts import Language
from bot.messages import Card, CardButton, CardField, card_to_payload
from bot.outbox import SendError
from bot.team_desk import TeamDesk
from models.tables import OutboxItem
from tests.fakes.dingtalk import FakeDingTalk

TRIAGE = "cidTRIAGE=="
BUTTONS = (CardButton("send", "Send suggested reply", "primary"), CardButton("edit", "Edit"),
           CardButton("assign", "Assign to me"), CardButton("escalate", "Escalate", "danger"),
           CardButton("resolve", "Resolve"), CardButton("wrong_intent", "Wrong intent"))
TRIAGE_CARD = Card(kind="triage", title="Ticket #42: not_received · severity 1", body="Mein Paket ist nie angekommen",
                   severity=1, fields=(CardField("Marketplace", "amazon"),), suggested_reply="Es tut uns leid …",
                   buttons=BUTTONS, ticket_id=42, suggestion_id=7, mentions=(("@mei", "dingtalk", "mei01"),))


def alert_card(number: int) -> Card:
    return Card(kind="metric_alert", title=f"Alert {number}: first response slow", body=f"value {number}h",
                alert_id=number, buttons=(CardButton("alert_acknowledge", "Acknowledge"),))


def item(card: Card, *, kind: str = "card", target: str = "", number: int = 1) -> OutboxItem:
    return OutboxItem(id=number, dedup_key=f"test:{number}", kind=kind, channel="dingtalk", target=target,
                      payload=card_to_payload(card), ticket_id=None, status="pending", attempts=1)


@dataclass
class Senders:
    make: Callable[..., DingTalkCardSender]


@pytest.fixture
async def senders(fake_dingtalk: FakeDingTalk, engine: Engine) -> AsyncIterator[Senders]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    def make(*, per_minute: int = 20, language: Language = "zh") -> DingTalkCardSender:
        openapi = DingTalkOpenApi(fake_dingtalk.base_url, fake_dingtalk.client_id, fake_dingtalk.client_secret,
                                  lambda: session)
        token, secret = fake_dingtalk.robots["alerts"]
        robots = {"alerts": RobotWebhook("alerts", fake_dingtalk.robot_url("alerts"), secret, lambda: session,
                                         per_minute=per_minute, merged_title=lambda count: f"{count} 条告警")}
        return DingTalkCardSender(openapi, robots, TeamDesk(engine), robot_code=fake_dingtalk.client_id,
                                  default_conversation=TRIAGE, language=language)

    yield Senders(make)
    await session.close()


async def test_a_triage_card_is_a_chinese_action_card_whose_buttons_send_the_text_actions(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    ref = await senders.make().send(item(TRIAGE_CARD))

    [message] = fake_dingtalk.group_messages(TRIAGE)
    assert ref == f"{TRIAGE}:{message.process_query_key}"
    assert message.msg_key == "sampleActionCard4"
    assert [message.param[f"actionTitle{n}"] for n in range(1, 5)] == ["发送建议回复", "认领", "升级", "解决"]
    assert unquote(message.param["actionURL1"]) == "dtmd://dingtalkclient/sendMessage?content=/发送 42"
    text = message.param["text"]
    assert "Mein Paket ist nie angekommen" in text and "建议回复" in text and "Es tut uns leid" in text
    assert "/编辑 42 回复内容" in text and "/改意图 42 意图名" in text and "@mei01" in text


async def test_in_english_the_labels_and_actions_are_english(fake_dingtalk: FakeDingTalk, senders: Senders) -> None:
    await senders.make(language="en").send(item(TRIAGE_CARD))

    [message] = fake_dingtalk.group_messages(TRIAGE)
    assert message.param["actionTitle2"] == "Assign to me"
    assert unquote(message.param["actionURL2"]).endswith("content=/assign 42")


async def test_a_card_update_is_a_follow_up_in_the_cards_group_and_keeps_the_cards_reference(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    sender = senders.make()
    ref = await sender.send(item(TRIAGE_CARD))
    resolved = Card(kind="triage", title="Ticket #42: not_received · severity 1", body="Mein Paket",
                    fields=(CardField("Status", "resolved by mei"),), ticket_id=42)

    assert await sender.send(item(resolved, kind="card_update", target=ref or "", number=2)) == ref

    first, update = fake_dingtalk.group_messages(TRIAGE)
    assert update.msg_key == "sampleMarkdown" and "卡片已更新" in update.param["title"]
    assert "resolved by mei" in update.param["text"]


async def test_an_expired_token_is_renewed_once_and_the_card_goes_out(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    sender = senders.make()
    await sender.send(item(TRIAGE_CARD))
    fake_dingtalk.expire_tokens()

    await sender.send(item(TRIAGE_CARD, number=2))

    assert len(fake_dingtalk.group_messages(TRIAGE)) == 2
    assert [call.status for call in fake_dingtalk.calls()] == [200, 401, 200]


@pytest.mark.parametrize(("status", "code", "retry_after", "transient", "expected"), [
    (429, "Throttling.Api", 3, True, 3.0),
    (403, "Forbidden.AccessDenied.QpsLimitForApi", None, True, 1.0),
    (503, "ServiceUnavailable", None, True, None),
    (400, "resource.not.found", None, False, None),
])
async def test_dingtalks_errors_become_outbox_outcomes(
    fake_dingtalk: FakeDingTalk, senders: Senders, status: int, code: str, retry_after: int | None,
    transient: bool, expected: float | None,
) -> None:
    fake_dingtalk.fail_next("/v1.0/robot/groupMessages/send", status, code, "说明", retry_after=retry_after)

    with pytest.raises(SendError) as caught:
        await senders.make().send(item(TRIAGE_CARD))

    assert caught.value.transient is transient and caught.value.retry_after == expected
    assert code in str(caught.value)


async def test_a_card_for_no_group_or_an_unknown_robot_fails_saying_what_to_set(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    sender = senders.make()
    sender.default_conversation = None

    with pytest.raises(SendError, match="KEFU_DINGTALK_OPEN_CONVERSATION_ID") as no_group:
        await sender.send(item(TRIAGE_CARD))
    with pytest.raises(SendError, match="no DingTalk robot named 'oncall'.*alerts") as no_robot:
        await sender.send(item(alert_card(1), target="robot:oncall"))

    assert not no_group.value.transient and not no_robot.value.transient
    assert fake_dingtalk.group_messages() == [] and fake_dingtalk.robot_posts() == []


async def test_alerts_sent_together_go_to_the_robot_as_one_signed_message(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    sender = senders.make()

    refs = await asyncio.gather(*(sender.send(item(alert_card(n), target="robot:alerts", number=n))
                                  for n in range(1, 5)))

    [post] = fake_dingtalk.robot_posts("alerts")
    assert post.errcode == 0 and post.body["msgtype"] == "markdown"
    assert post.body["markdown"]["title"] == "4 条告警"
    assert all(f"Alert {n}: first response slow" in post.body["markdown"]["text"] for n in range(1, 5))
    assert len(set(refs)) == 1 and refs[0] == "robot:alerts:1"


async def test_when_the_robots_minute_is_used_up_a_send_is_put_off_not_sent_into_130101(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    sender = senders.make(per_minute=2)
    await sender.send(item(alert_card(1), target="robot:alerts"))
    await sender.send(item(alert_card(2), target="robot:alerts", number=2))

    with pytest.raises(SendError) as caught:
        await sender.send(item(alert_card(3), target="robot:alerts", number=3))

    assert caught.value.transient and caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
    assert [post.errcode for post in fake_dingtalk.robot_posts("alerts")] == [0, 0]


async def test_a_130101_from_dingtalk_puts_the_robot_off_for_a_minute(
    fake_dingtalk: FakeDingTalk, senders: Senders,
) -> None:
    fake_dingtalk.robot_limit = 1  # someone else has nearly used up the robot's minute
    sender = senders.make()
    await sender.send(item(alert_card(1), target="robot:alerts"))

    with pytest.raises(SendError) as refused:
        await sender.send(item(alert_card(2), target="robot:alerts", number=2))
    with pytest.raises(SendError) as put_off:
        await sender.send(item(alert_card(3), target="robot:alerts", number=3))

    assert refused.value.transient and refused.value.retry_after == 60 and "130101" in str(refused.value)
    assert put_off.value.transient and "waiting" in str(put_off.value)
    assert [post.errcode for post in fake_dingtalk.robot_posts("alerts")] == [0, 130101]
