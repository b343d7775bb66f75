"""Chinese first on DingTalk, end to end through the real dingtalk-stream SDK: a manager typing `/帮助` or
`/指标 7天 按 地区` gets kefu's words in Chinese, a typo gets a Chinese did-you-mean and a refused command a Chinese
refusal; the same kefu answers the console in English, and `[dingtalk] language = "en"` answers in English."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.dingtalk.test_dingtalk_end_to_end import complaint, dingtalk_settings
from tests.e2e.conftest import RunningKefu, wait_until
from tests.fakes.dingtalk import FakeDingTalk
from tests.webchat.conftest import MANAGER, MANAGER_PASSWORD, console_agents, log_in, origin  # noqa: F401

StartKefu = Callable[..., Awaitable[RunningKefu]]


async def start(start_kefu: StartKefu, fake: FakeDingTalk, **dingtalk: Any) -> RunningKefu:
    kefu = await start_kefu(None, dingtalk=dingtalk_settings(fake, **dingtalk))
    await wait_until(lambda: fake.connected == 1, "kefu's stream connection to DingTalk")
    return kefu


async def ask(fake: FakeDingTalk, text: str, sender: str = "manager1") -> str:
    message = fake.push_bot_message(text, sender=sender, nick="王经理")
    [reply] = await wait_until(lambda: fake.session_replies(message.session), f"the answer to {text}", timeout=60)
    return reply.text


async def test_help_and_metrics_typed_in_chinese_are_answered_in_chinese_and_the_console_stays_english(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk, console_agents: None,  # noqa: F811
) -> None:
    kefu = await start(start_kefu, fake_dingtalk)
    await complaint(kefu)

    help_answer = await ask(fake_dingtalk, "/帮助")
    assert help_answer.startswith("#### kefu 答复 · 帮助") and "kefu 命令：" in help_answer
    assert "/metrics（/指标、/数据、/统计）" in help_answer and "示例：@kefu /指标 近7天 按地区 环比" in help_answer
    metrics = await ask(fake_dingtalk, "/指标 7天 按 地区")
    assert metrics.startswith("#### kefu 答复 · 指标") and "**指标 · 近7天 · 按地区**" in metrics
    assert "合计：1 个工单" in metrics and "Metrics" not in metrics

    await log_in(kefu.client, MANAGER, MANAGER_PASSWORD)
    console = await (await kefu.client.post("/console/commands", json={"text": "/指标 7天 按 地区"},
                                            headers=origin(kefu.client))).json()
    assert console["ok"] is True and console["text"].startswith("*Metrics · last 7 days by region*")
    assert "Total: 1 tickets" in console["text"]


async def test_a_typo_gets_a_chinese_did_you_mean_and_an_agent_a_chinese_refusal(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    await start(start_kefu, fake_dingtalk)

    typo = await ask(fake_dingtalk, "/告警列")
    assert "没有“告警列”这个命令。你是不是想输入“/告警”？发送 /帮助 查看 kefu 能做什么。" in typo
    assert "用法：/metrics（/指标" in typo
    window = await ask(fake_dingtalk, "/指标 0天")
    assert "“0天”是空窗口" in window and "用法：/metrics（/指标" in window
    refused = await ask(fake_dingtalk, "/指标 7天 按客服", sender="agent7")
    assert "抱歉，只有经理才能查看按客服拆分的指标；你当前的身份是客服。" in refused


async def test_with_language_en_the_same_commands_answer_in_english(
    start_kefu: StartKefu, fake_dingtalk: FakeDingTalk,
) -> None:
    await start(start_kefu, fake_dingtalk, language="en")

    metrics = await ask(fake_dingtalk, "/指标 7天 按 地区")
    assert metrics.startswith("#### kefu answer · Metrics") and "**Metrics · last 7 days by region**" in metrics
    typo = await ask(fake_dingtalk, "/告警列")
    assert 'Unknown command "告警列". Did you mean "/告警"?' in typo and "Usage: /metrics," in typo
