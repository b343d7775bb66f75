"""Command answers and action results in Chinese where the asker's language is "zh" (DingTalk and WeCom by
default), in English otherwise; the audit log keeps kefu's English words whatever the language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Action
from bot.settings import Settings
from handlers.actions import TicketActions
from handlers.commands import LOCAL_ADMIN
from handlers.commands.executor import CommandExecutor, executor_from_settings
from models.tables import AuditEvent
from tests.commands.conftest import ANA, MANAGER, Seeded
from tests.csat.conftest import Clock, Desk, make_desk


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Catalogue:
    """The two intents a Wrong intent press may name here."""

    intents = {"order_status": SimpleNamespace(kind="faq", severity=3),
               "damaged_item": SimpleNamespace(kind="complaint", severity=2)}

    def __contains__(self, name: object) -> bool:
        return name in self.intents

    def __getitem__(self, name: str) -> SimpleNamespace:
        return self.intents[name]

    def names(self) -> list[str]:
        return list(self.intents)


class Learner:
    catalogue = Catalogue()

    def add_examples(self, intent: str, texts: list[str]) -> None:
        pass


def test_metrics_by_region_in_chinese_are_headed_in_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    answer = executor.execute("/指标 7天 按 地区", MANAGER, platform="dingtalk", language="zh")
    assert answer.ok
    lines = answer.text.splitlines()
    assert lines[0] == "*指标 · 近7天 · 按地区*"
    assert "合计：13 个工单" in lines and "ES" in answer.text and "DE" in answer.text
    english = executor.execute("/指标 7天 按 地区", MANAGER, platform="slack")
    assert english.text.splitlines()[0] == "*Metrics · last 7 days by region*" and "Total: 13 tickets" in english.text


def test_sla_ticket_and_help_answers_in_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    sla = executor.execute("/sla", MANAGER, platform="wecom", language="zh").text
    assert sla.startswith("*SLA* · 3 个已超时，1 个即将超时（截至 2026-11-20 12:00）")
    assert "*已超时*" in sla and "*即将超时*" in sla
    missing = executor.execute("/工单 99999", MANAGER, platform="wecom", language="zh")
    assert (missing.ok, missing.text) == (False, "没有工单 #99999。")
    assert executor.execute("/帮助", MANAGER, platform="wecom", language="zh").text.startswith("kefu 命令：")


def test_errors_and_refusals_in_chinese_and_the_audit_keeps_english(engine: Engine, executor: CommandExecutor,
                                                                    seeded: Seeded) -> None:
    bad = executor.execute("/指标 7天 按 星球", MANAGER, platform="dingtalk", language="zh")
    assert not bad.ok and bad.text.startswith("“按”后面的“星球”不是维度。") and "\n用法：/metrics（/指标" in bad.text
    refused = executor.execute("/指标 7天 按客服", ANA, platform="dingtalk", language="zh")
    assert not refused.ok and refused.text.startswith("抱歉，只有经理才能查看按客服拆分的指标；你当前的身份是客服。")
    with Session(engine) as session:
        errors = [e.details["error"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "command").order_by(AuditEvent.id))]  # type: ignore[arg-type]
    assert errors[0].startswith('Unknown dimension "星球" after "按".')
    assert errors[1].startswith("Only a manager can see metrics by agent")


def test_button_results_in_chinese(engine: Engine, clock: Clock) -> None:
    desk: Desk = make_desk(engine, Settings(csat={"delay": "1h", "window": "7d"}), clock)
    ticket = desk.write("Where is my parcel?").ticket_id
    actions = TicketActions(engine, desk.pipeline, Learner(), clock=clock)

    def press(name: str, language: str = "zh", **values: str) -> str:
        result = actions.perform_sync(Action(name, ticket, "console", "mei", values, "mei", language=language))
        return result.message

    assert press("assign") == f"工单 #{ticket} 已分配给 mei。"
    assert press("assign") == f"工单 #{ticket} 已经分配给 mei，无需操作。"
    assert press("escalate").startswith(f"工单 #{ticket} 已升级到严重程度 2；首次响应截止 ")
    assert press("wrong_intent", intent="damaged_itme") == "没有“damaged_itme”这个意图，你是不是指 damaged_item？"
    assert press("wrong_intent", intent="damaged_item") == (f"工单 #{ticket} 的意图已改为 damaged_item（原为 "
                                                             "order_status）。kefu 已学会：同样的消息现在会归为 "
                                                             "damaged_item。")
    assert press("resolve") == f"工单 #{ticket} 已解决。1h 后会请客户评分。"
    assert press("resolve").startswith(f"工单 #{ticket} 已经解决（") and press("resolve").endswith("），无需操作。")
    assert press("send").startswith(f"工单 #{ticket} 已解决（") and "不能再“发送”" in press("send")
    assert press("resolve", "en").startswith(f"Ticket #{ticket} was already resolved at ")
    missing = actions.perform_sync(Action("resolve", 999_999, "console", "mei", language="zh"))
    assert (missing.ok, missing.message) == (False, "工单 #999999 不存在")


def test_resolve_typed_in_chinese_answers_in_chinese(engine: Engine, clock: Clock) -> None:
    settings = Settings(csat={"delay": "1h", "window": "7d"})
    desk = make_desk(engine, settings, clock)
    ticket = desk.write("Where is my parcel?").ticket_id
    executor = executor_from_settings(settings, engine)
    answer = executor.execute(f"/结单 {ticket}", LOCAL_ADMIN, platform="dingtalk", language="zh")
    assert (answer.ok, answer.text) == (True, f"工单 #{ticket} 已解决。1h 后会请客户评分。")
    again = executor.execute(f"/resolve {ticket}", LOCAL_ADMIN, platform="cli")
    assert again.text.startswith(f"Ticket #{ticket} was already resolved at ")
