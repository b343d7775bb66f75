"""Chinese first on WeCom, end to end with the real wechatpy against the fake WeCom: a button's result and a
command's errors come in Chinese by default, and in English with `[wecom] language = "en"`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import RunningKefu
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import WeComDriver
from tests.wecom.conftest import AES_KEY, TOKEN

StartKefu = Callable[..., Awaitable[RunningKefu]]


async def start(start_kefu: StartKefu, fake: FakeWeCom, **wecom: Any) -> tuple[RunningKefu, WeComDriver]:
    kefu = await start_kefu(None, wecom={
        "corp_id": fake.corp_id, "agent_id": fake.agent_id, "secret": fake.secret, "token": TOKEN,
        "aes_key": AES_KEY, "api_url": fake.api_url, "to_user": "zhangsan", **wecom})
    driver = WeComDriver(str(kefu.client.make_url("/wecom/callback")), corp_id=fake.corp_id, agent_id=fake.agent_id,
                         token=TOKEN, aes_key=AES_KEY)
    return kefu, driver


async def press_assign(kefu: RunningKefu, fake: FakeWeCom, driver: WeComDriver) -> str:
    """A complaint's card, its *Assign to me* pressed by zhangsan: kefu's answer to him."""
    response = await kefu.post({"channel_message_id": "wecom-zh-1", "customer": {"id": "jonas-1"},
                                "text": "Ich habe mein Paket nie erhalten, seit drei Wochen warte ich"})
    ticket_id = (await response.json())["ticket_id"]
    card = await fake.wait_for_async(lambda: fake.card_for_ticket(ticket_id), "the triage card")
    assign = next(b["key"] for b in card.card["button_list"] if "assign" in b["key"])
    await driver.click("zhangsan", card.task_id, assign, fake.click_code(card.task_id))
    [told] = await fake.wait_for_async(lambda: fake.markdown_to("zhangsan"), "the answer to the presser")
    return f"{ticket_id}:{told}"


async def test_a_button_result_and_a_command_error_are_chinese(start_kefu: StartKefu, fake_wecom: FakeWeCom) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)

    ticket, told = (await press_assign(kefu, fake_wecom, driver)).split(":", 1)
    assert told == f"工单 #{ticket} 已分配给 zhangsan。"
    await driver.text("lisi", "/工单")
    [answer] = await fake_wecom.wait_for_async(lambda: fake_wecom.markdown_to("lisi"), "the command's answer")
    assert answer.startswith("“工单”后面要写工单号，例如“/ticket 1042”。\n用法：/ticket（/工单） ID")


async def test_in_english_the_same_button_and_command_answer_in_english(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom, language="en")

    ticket, told = (await press_assign(kefu, fake_wecom, driver)).split(":", 1)
    assert told == f"Ticket #{ticket} is assigned to zhangsan."
    await driver.text("lisi", "/工单")
    [answer] = await fake_wecom.wait_for_async(lambda: fake_wecom.markdown_to("lisi"), "the command's answer")
    assert answer.startswith('"工单" needs a ticket ID, e.g. "/ticket 1042".\nUsage: /ticket ID')
