"""kefu with WeCom, end to end: kefu in process with the real wechatpy against the fake WeCom on 127.0.0.1, and
a driver sending WeCom's encrypted callbacks. A customer writes through the inbound API, the card appears as a
template card, an agent presses a button, the customer gets the reply and the card is updated; commands are
answered to their sender; retries and forged callbacks do nothing twice or at all; alert bursts reach a robot."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from adapters.wecom import WeComTeamChannel
from bot.messages import Card, card_to_payload
from bot.outbox import enqueue
from models.tables import DeliveryReceipt, OutboxItem
from tests.e2e.conftest import RunningKefu, wait_until
from tests.fakes.callback_server import CallbackServer
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import WeComDriver
from tests.wecom.conftest import AES_KEY, TOKEN

StartKefu = Callable[..., Awaitable[RunningKefu]]
_ids = itertools.count(1)


async def start(start_kefu: StartKefu, fake: FakeWeCom, callback_url: str | None = None,
                **overrides: Any) -> tuple[RunningKefu, WeComDriver]:
    [robot_key] = fake.robot_keys
    kefu = await start_kefu(callback_url, wecom={
        "corp_id": fake.corp_id, "agent_id": fake.agent_id, "secret": fake.secret, "token": TOKEN,
        "aes_key": AES_KEY, "api_url": fake.api_url, "to_user": "zhangsan|lisi", "robots": {"alerts": robot_key}},
        **overrides)
    driver = WeComDriver(str(kefu.client.make_url("/wecom/callback")), corp_id=fake.corp_id, agent_id=fake.agent_id,
                         token=TOKEN, aes_key=AES_KEY)
    return kefu, driver


def channel(kefu: RunningKefu) -> WeComTeamChannel:
    return next(c for c in kefu.kefu.team_channels if isinstance(c, WeComTeamChannel))


async def settled(kefu: RunningKefu) -> None:
    """Every acknowledged callback has been handled."""
    await wait_until(lambda: not channel(kefu).callback._work, "the callbacks to be handled")


def count(engine: Any, model: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_complaint_becomes_a_card_and_its_send_button_reaches_the_customer_and_updates_the_card(
    start_kefu: StartKefu, fake_wecom: FakeWeCom, callback_server: CallbackServer,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom, callback_server.url)
    response = await kefu.post({"channel_message_id": f"wecom-e2e-{next(_ids)}", "customer": {"id": "jonas-1"},
                                "text": "Ich habe mein Paket nie erhalten, seit drei Wochen warte ich",
                                "marketplace": "amazon", "order_id": "A-1001"})
    assert response.status == 202, await response.text()
    ticket_id = (await response.json())["ticket_id"]

    card = await fake_wecom.wait_for_async(lambda: fake_wecom.card_for_ticket(ticket_id), "the triage card")
    assert card.touser == "zhangsan|lisi" and "Ich habe mein Paket" in card.card["sub_title_text"]
    send_key = next(b["key"] for b in card.card["button_list"] if b["text"] == "发送回复")

    delivery = await driver.click("zhangsan", card.task_id, send_key, fake_wecom.click_code(card.task_id))
    assert (delivery.status, delivery.text) == (200, "")

    [reply] = await wait_until(lambda: callback_server.received, "the reply at the customer's callback")
    assert (reply["kind"], reply["language"], reply["ticket_id"]) == ("agent_reply", "de", ticket_id)
    await fake_wecom.wait_for_async(lambda: len(card.versions) >= 2, "the card's update")
    assert "kefu:send" not in str(card.card["button_list"])  # nothing left to send on this card
    told = await fake_wecom.wait_for_async(lambda: fake_wecom.markdown_to("zhangsan"), "the answer to the presser")
    assert told[0] == f"已把建议回复发给工单 #{ticket_id} 的客户。"  # kefu's own words in WeCom's language


async def test_a_chinese_metrics_command_is_answered_to_its_sender_with_a_chart_link(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom, public_url="http://kefu.example")

    delivery = await driver.text("lisi", "/指标 7天 图表")
    assert delivery.status == 200

    [answer] = await fake_wecom.wait_for_async(lambda: fake_wecom.markdown_to("lisi"), "the command's answer")
    assert "指标 · 近7天" in answer and "图表：http://kefu.example/charts/" in answer
    chart = answer.split("http://kefu.example")[1].split()[0]
    fetched = await kefu.client.get(chart)
    assert fetched.status == 200 and (await fetched.read()).startswith(b"\x89PNG")


async def test_a_retried_callback_is_handled_once(start_kefu: StartKefu, fake_wecom: FakeWeCom) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)

    first = await driver.text("wangwu", "/kefu help")
    await fake_wecom.wait_for_async(lambda: fake_wecom.markdown_to("wangwu"), "the answer")
    retry = await driver.post_xml(first.xml)  # WeCom's retry: the same MsgId, encrypted anew
    assert retry.status == 200
    await driver.text("wangwu", "/指标 今天")
    await settled(kefu)
    await fake_wecom.wait_for_async(lambda: len(fake_wecom.markdown_to("wangwu")) >= 2, "the second answer")

    assert len(fake_wecom.markdown_to("wangwu")) == 2
    assert count(kefu.engine, DeliveryReceipt) == 2


async def test_a_forged_callback_is_refused_and_does_nothing(start_kefu: StartKefu, fake_wecom: FakeWeCom) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)

    assert await driver.verify_url("echo-1234567890") == (200, "echo-1234567890")
    assert (await driver.verify_url("echo-1234567890", bad_signature=True))[0] == 403
    forged = await driver.text("zhangsan", "/kefu help", bad_signature=True)
    other_corp = await driver.post_xml(driver.text_xml("zhangsan", "/kefu help"), receive_id="wwsomeoneelse")
    await settled(kefu)

    assert (forged.status, other_corp.status) == (403, 403)
    assert fake_wecom.calls("message/send") == [] and count(kefu.engine, DeliveryReceipt) == 0


async def test_25_alerts_in_a_minute_reach_the_robot_without_loss_and_without_45009(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, _driver = await start(start_kefu, fake_wecom)

    with Session(kefu.engine) as session:
        for n in range(25):
            card = Card(kind="sla_alert", title=f"SLA breach on ticket #{n}", body="first response overdue")
            enqueue(session, dedup_key=f"wecom-burst-{n}", kind="alert", channel="wecom", target="robot:alerts",
                    payload=card_to_payload(card))
        session.commit()
    assert kefu.kefu.outbox_worker is not None
    kefu.kefu.outbox_worker.notify()

    def all_sent() -> bool:
        with Session(kefu.engine) as session:
            statuses = session.scalars(select(OutboxItem.status).where(OutboxItem.channel == "wecom")).all()
        return len(statuses) == 25 and set(statuses) == {"sent"}

    await wait_until(all_sent, "the 25 alerts to be sent")
    text = "\n".join(m["body"]["markdown"]["content"] for m in fake_wecom.robot_messages)
    assert all(f"SLA breach on ticket #{n}**" in text for n in range(25))
    assert len(fake_wecom.robot_messages) <= 20
    assert [c.errcode for c in fake_wecom.calls("webhook/send") if c.errcode] == []
