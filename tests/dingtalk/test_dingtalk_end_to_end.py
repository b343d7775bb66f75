"""kefu with DingTalk, end to end: the real dingtalk-stream SDK in kefu against the fake DingTalk on 127.0.0.1. A
customer writes through the inbound API, the card appears in the DingTalk group, an agent presses a button (the
text action it sends), the customer gets the reply at the callback receiver and the card is followed up; a
manager's Chinese command is answered; a burst of alerts reaches a robot webhook whole; a redelivered message is
handled once."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, select
from sqlmodel import Session

from bot.messages import Card, CardButton, card_to_payload
from bot.outbox import enqueue
from models.tables import Agent, DeliveryReceipt, OutboxItem
from tests.e2e.conftest import RunningKefu, wait_until
from tests.fakes.callback_server import CallbackServer
from tests.fakes.dingtalk import FakeDingTalk, GroupMessage

TRIAGE = "cidTRIAGE=="
_ids = itertools.count(1)
StartKefu = Callable[..., Awaitable[RunningKefu]]


def dingtalk_settings(fake: FakeDingTalk, **extra: Any) -> dict[str, Any]:
    _token, secret = fake.robots["alerts"]
    return {"client_id": fake.client_id, "client_secret": fake.client_secret, "api_url": fake.base_url,
            "open_conversation_id": TRIAGE, "managers": ["manager1"],
            "robots": {"alerts": {"url": fake.robot_url("alerts"), "secret": secret}}, **extra}


async def start(start_kefu: StartKefu, fake: FakeDingTalk, callback_url: str | None = None,
                **overrides: Any) -> RunningKefu:
    kefu = await start_kefu(callback_url, dingtalk=dingtalk_settings(fake), **overrides)
    await wait_until(lambda: fake.connected == 1, "kefu's stream connection to DingTalk")
    return kefu


async def complaint(kefu: RunningKefu) -> dict[str, Any]:
    response = await kefu.post({"channel_message_id": f"dingtalk-e2e-{next(_ids)}", "customer": {"id": "jonas-1"},
                                "text": "Ich habe mein Paket nie erhalten, seit drei Wochen warte ich",
                                "marketplace": "amazon", "order_id": "A-1001"})
    assert response.status == 202, await response.text()
    answer: dict[str, Any] = await response.json()
    assert answer["action"] == "suggested"
    return answer


def card_messages(fake: FakeDingTalk, ticket_id: int) -> list[GroupMessage]:
    return [m for m in fake.group_messages(TRIAGE) if f"工单 #{ticket_id}：" in m.param.get("title", "")]


async def test_a_complaint_becomes_a_card_whose_send_button_reaches_the_customer_and_follows_up_the_card(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk, callback_server: CallbackServer,
) -> None:
    kefu = await start(start_kefu, fake_dingtalk, callback_server.url)
    answer = await complaint(kefu)
    ticket = answer["ticket_id"]

    [card] = await wait_until(lambda: card_messages(fake_dingtalk, ticket), "the triage card in the group")
    assert card.msg_key.startswith("sampleActionCard") and card.param["actionTitle1"] == "发送建议回复"
    assert "Ich habe mein Paket nie erhalten" in card.param["text"]
    pressed = unquote(card.param["actionURL1"]).split("content=", 1)[1]
    assert pressed == f"/发送 {ticket}"

    message = fake_dingtalk.push_bot_message(pressed, sender="mei01", nick="mei")

    [reply] = await wait_until(lambda: callback_server.received, "the reply at the customer's callback")
    assert (reply["kind"], reply["language"], reply["ticket_id"]) == ("agent_reply", "de", ticket)
    [said] = await wait_until(lambda: fake_dingtalk.session_replies(message.session), "the answer to mei")
    assert said.text.startswith("✅ 已完成") and f"#{ticket}" in said.text
    [_card, update] = await wait_until(lambda: card_messages(fake_dingtalk, ticket)[1:] and
                                       card_messages(fake_dingtalk, ticket), "the card's follow-up")
    assert "卡片已更新" in update.param["title"] and "mei" in update.param["text"]
    assert "发送建议回复" not in update.param.get("actionTitle1", "")  # nothing left to send
    with Session(kefu.engine) as session:
        agent = session.scalars(select(Agent).where(Agent.name == "mei")).one()
        assert agent.identities == {"dingtalk": "mei01"}

    await kefu.client.close()  # kefu stops: its stream client lets go of the connection
    await wait_until(lambda: fake_dingtalk.connected == 0, "the stream connection to close")


async def test_a_chinese_metrics_command_is_answered_in_chinese_headed_markdown_with_the_chart_link(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    kefu = await start(start_kefu, fake_dingtalk, public_url="https://kefu.example.com")
    await complaint(kefu)

    message = fake_dingtalk.push_bot_message("/指标 7天 图表", sender="manager1", nick="王经理")

    [reply] = await wait_until(lambda: fake_dingtalk.session_replies(message.session), "the command's answer",
                               timeout=60)
    assert reply.body["msgtype"] == "markdown"
    assert reply.text.startswith("#### kefu 答复 · 指标") and "**指标 · 近7天**" in reply.text
    assert "[📈 查看图表](https://kefu.example.com/charts/" in reply.text
    chart = reply.text.split("(https://kefu.example.com", 1)[1].split(")", 1)[0]
    fetched = await kefu.client.get(chart)
    assert fetched.status == 200 and (await fetched.read()).startswith(b"\x89PNG")


async def test_25_alerts_in_a_minute_reach_the_robot_webhook_whole_without_a_130101(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    kefu = await start(start_kefu, fake_dingtalk)
    with Session(kefu.engine) as session:
        for number in range(1, 26):
            card = Card(kind="metric_alert", title=f"Alert {number}: complaints spiking", body=f"{number} over",
                        alert_id=number, buttons=(CardButton("alert_acknowledge", "Acknowledge"),))
            enqueue(session, dedup_key=f"burst:{number}", kind="alert", channel="dingtalk", target="robot:alerts",
                    payload=card_to_payload(card))
        session.commit()
    assert kefu.kefu.outbox_worker is not None
    kefu.kefu.outbox_worker.notify()

    def all_sent() -> bool:
        with Session(kefu.engine) as session:
            return session.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.target == "robot:alerts", OutboxItem.status == "sent")) == 25

    await wait_until(all_sent, "all 25 alerts sent")
    posts = fake_dingtalk.robot_posts("alerts")
    assert all(post.errcode == 0 for post in posts) and len(posts) <= 20
    shown = "\n".join(post.body["markdown"]["text"] for post in posts)
    assert all(f"Alert {number}: complaints spiking" in shown for number in range(1, 26))


async def test_a_redelivered_stream_message_is_handled_once(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    kefu = await start(start_kefu, fake_dingtalk)

    first = fake_dingtalk.push_bot_message("/指标 今天", sender="manager1")
    await wait_until(lambda: fake_dingtalk.acks(first.frame_id), "the first delivery's ACK")
    again = fake_dingtalk.push_bot_message("/指标 今天", sender="manager1", msg_id=first.msg_id)
    [ack] = await wait_until(lambda: fake_dingtalk.acks(again.frame_id), "the redelivery's ACK")

    assert ack["code"] == 200
    assert len(fake_dingtalk.session_replies(first.session)) == 1
    assert fake_dingtalk.session_replies(again.session) == []
    with Session(kefu.engine) as session:
        assert session.scalar(select(func.count()).select_from(DeliveryReceipt).where(
            DeliveryReceipt.platform == "dingtalk")) == 1


async def test_a_typed_edit_without_words_is_refused_in_chinese_and_resolve_closes_the_ticket(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    kefu = await start(start_kefu, fake_dingtalk)
    ticket = (await complaint(kefu))["ticket_id"]
    await wait_until(lambda: card_messages(fake_dingtalk, ticket), "the triage card in the group")

    empty = fake_dingtalk.push_bot_message(f"/编辑 {ticket}", sender="mei01", nick="mei")
    [refused] = await wait_until(lambda: fake_dingtalk.session_replies(empty.session), "the refusal")
    resolve = fake_dingtalk.push_bot_message(f"@kefu /解决 {ticket}", sender="mei01", nick="mei")
    [resolved] = await wait_until(lambda: fake_dingtalk.session_replies(resolve.session), "the resolve's answer")

    assert refused.text.startswith("⚠️ 未完成") and f"/编辑 {ticket} 您好" in refused.text
    assert resolved.text.startswith("✅ 已完成")
    [_card, update] = await wait_until(lambda: card_messages(fake_dingtalk, ticket)[1:] and
                                       card_messages(fake_dingtalk, ticket), "the card's follow-up")
    assert "resolved" in update.param["text"] and update.msg_key == "sampleMarkdown"  # no buttons left
