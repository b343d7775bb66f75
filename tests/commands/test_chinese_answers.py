"""Command answers and action results in Chinese where the asker's language is "zh" (DingTalk and WeCom by
default), in English otherwise; the audit log keeps kefu's English words whatever the language."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Action
from bot.orders import DailyOrderCount, upsert_daily_orders
from bot.settings import Settings
from handlers.actions import TicketActions
from handlers.after_sales_actions import perform_after_sales_action
from handlers.commands import LOCAL_ADMIN, CommandError, parse_command
from handlers.commands.executor import CommandExecutor, executor_from_settings
from handlers.commands.returns import wording_text
from models.tables import Alert, AuditEvent, Silence
from tests.commands.conftest import ANA, MANAGER, NOW, Seeded, seed
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


# Words a Chinese answer may still show in Latin letters: data (names, intents, channels, markets, languages,
# regions, timezones, command words and codes) and the abbreviations Chinese teams use as they are.
_DATA_WORDS = {"ana", "bo", "mei", "Lucía", "webhook", "amazon", "es", "de", "ES", "DE", "UTC", "SLA", "CSAT", "SKU",
               "faq", "complaint", "sizing", "cust", "agent", "kefu", "add", "agents", "EUR", "vip", "gold", "return",
               "approved", "en", "j", "Dónde", "está", "mi", "pedido", "Está", "camino", "ID", "cust-", "nobody"}


def english_words(text: str) -> set[str]:
    """The Latin-letter words of `text` that are neither data nor code identifiers (order_status, #12)."""
    return {word for word in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'-]*", re.sub(r"\w+_\w+", "", text))
            if word not in _DATA_WORDS}


def test_sla_line_items_are_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    sla = executor.execute("/sla", MANAGER, platform="wecom", language="zh").text
    assert f"• #{seeded.open_ticket_id} 1级 item_not_received — 首次响应已超时 2 小时 — 负责人：未分配" in sla
    assert f"• #{seeded.at_risk_ticket_id} 3级 sizing — 首次响应还剩 1 小时 — 负责人：bo" in sla
    assert english_words(sla) == set()
    english = executor.execute("/sla", MANAGER, platform="slack").text
    assert f"• #{seeded.open_ticket_id} sev 1 item_not_received — first response breached 2 h ago — owner: " \
           "unassigned" in english


def test_ticket_view_is_chinese_and_the_conversation_stays_as_written(executor: CommandExecutor,
                                                                      seeded: Seeded) -> None:
    lines = executor.execute(f"/工单 {seeded.first_ana_ticket_id}", MANAGER, platform="dingtalk",
                             language="zh").text.splitlines()
    assert lines[0] == f"*工单 #{seeded.first_ana_ticket_id}* · 已解决 · order_status（faq，严重程度 3）"
    assert lines[1].endswith("· 负责人：ana · 创建于 2026-11-19 10:00")
    assert lines[2:5] == ["首次响应：用时 30 分钟", "已解决：用时 1.0 小时", "*消息*（2）"]
    assert lines[5].endswith("→ 客户 Lucía：¿Dónde está mi pedido?")
    assert lines[6].endswith("← 客服 ana：Está en camino.")
    assert english_words("\n".join(lines)) == set()
    waiting = executor.execute(f"/工单 {seeded.open_ticket_id}", MANAGER, platform="dingtalk", language="zh").text
    assert "负责人：未分配" in waiting and "首次响应：已超时 2 小时" in waiting and "解决时限：还剩 20 小时" in waiting
    assert english_words(waiting) == set()


def test_scorecards_are_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    card = executor.execute("/客服 7天 @bo", MANAGER, platform="dingtalk", language="zh").text.splitlines()
    assert card[0] == "*评分卡 · bo · 近7天*"
    assert card[1] == "得分：*50.0*（待改进） · 队列 de · amazon 第 1 名（共 1 人）"
    assert "处理工单：5" in card and "首次响应（中位数）：3.0 小时" in card and "SLA 达标率：75.0%" in card
    assert card[-1] == "分项（0-100 × 权重）：SLA 75×0.3，CSAT 50×0.25，一次解决 0×0.15"
    assert english_words("\n".join(card)) == set()
    nobody = executor.execute("/客服 7天 @mei", MANAGER, platform="dingtalk", language="zh").text
    assert nobody == "*评分卡 · mei · 近7天*\n这个时间窗口内没有分配给 mei 的工单。"
    english = executor.execute("/agent 7d @bo", MANAGER, platform="slack").text
    assert "Score: *50.0* (needs improvement) · #1 of 1 in queue de · amazon" in english


def test_queue_shift_and_assign_answers_are_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    queue = executor.execute("/队列", MANAGER, platform="wecom", language="zh").text.splitlines()
    assert queue[0] == "*待分配队列* · 2 个未结工单无人负责，最紧急的在前"
    assert queue[1] == f"• #{seeded.open_ticket_id} 1级 item_not_received · 已等待 4 小时 · 首次响应已超时 2 小时"
    assert queue[-1] == "用“/分配 工单号”领取一个。" and english_words("\n".join(queue)) == set()

    shifts = executor.execute("/值班", MANAGER, platform="wecom", language="zh").text
    assert shifts.startswith("*当前在班*（0）\n无人在班：新工单在队列中等待（/队列）。")
    assert executor.execute("/值班 上班 @bo", MANAGER, platform="wecom", language="zh").text == \
        "bo 已上班，至 周六 00:00 UTC。"
    assert executor.execute("/值班", MANAGER, platform="wecom", language="zh").text.splitlines()[1] == \
        "• bo — 至 周六 00:00 UTC，手动上班，de，未结 3"
    assert executor.execute("/值班 下班 @bo", MANAGER, platform="wecom", language="zh").text == \
        "bo 已下班，直到再次上班。3 个未结工单仍在名下，可用 /分配 转走。"
    assert executor.execute("/shift stop @bo", MANAGER, platform="slack").text == \
        "bo's shift is stopped until started again. 3 open tickets stay yours: /assign moves them."

    assigned = executor.execute(f"/分配 {seeded.open_ticket_id} @ana", MANAGER, platform="wecom", language="zh")
    assert assigned.text == f"工单 #{seeded.open_ticket_id} 已分配给 ana。"
    unknown = executor.execute(f"/分配 {seeded.open_ticket_id}", ANA.__class__(name="zoe", role="manager"),
                               platform="wecom", language="zh")
    assert unknown.text == f"kefu 不知道你是哪位客服：请写明分配给谁，例如 /分配 {seeded.open_ticket_id} @mei。"


def test_customer_answers_are_chinese_and_customer_text_is_kept(executor: CommandExecutor, seeded: Seeded) -> None:
    tagged = executor.execute("/客户 cust-1 标签 vip", MANAGER, platform="dingtalk", language="zh").text
    assert tagged.splitlines() == ["已加标签 vip。", "*Lucía* · webhook:cust-1",
                                   "客户价值：暂不清楚（订单来源中还没有这位客户）", "标签：vip"]
    noted = executor.execute("/客户 cust-1 备注 喜欢邮件联系", MANAGER, platform="dingtalk", language="zh").text
    assert noted.startswith("已添加备注。") and "\n备注：\n" in noted and noted.endswith("agent:mei: 喜欢邮件联系")
    assert executor.execute("/客户 cust-1 删除标签 gold", MANAGER, platform="dingtalk",
                            language="zh").text.startswith("该客户没有标签 gold。")
    missing = executor.execute("/客户 nobody", MANAGER, platform="dingtalk", language="zh")
    assert (missing.ok, missing.text) == (False, "没有客户“nobody”：请写客户在渠道上的 ID 或邮箱。")
    for text in (tagged, noted, missing.text):
        assert english_words(text) == set()
    english = executor.execute("/customer cust-1", MANAGER, platform="slack").text
    assert "Value tier: not known yet (no order source has seen this customer)" in english and "Tags: vip" in english


def test_returns_and_request_answers_are_chinese(engine: Engine, tmp_path: Path) -> None:
    seeded = seed(engine)
    executor = executor_from_settings(Settings(), engine, charts_dir=tmp_path)
    executor.clock = lambda: NOW
    ticket = seeded.open_ticket_id

    def ask(text: str) -> str:
        answer = executor.execute(text, MANAGER, platform="dingtalk", language="zh").text
        assert english_words(answer) == set(), answer
        return answer

    assert ask("/售后") == "没有待审批的售后申请。"
    assert ask(f"/申请 {ticket} 退货 25.00 EUR 损坏") == \
        f"已在工单 #{ticket} 上开启 退货 #1 · 待审批 · 25.00 EUR · 商品损坏；经理可用 /售后 批准 1 审批。"
    assert ask(f"/申请 {ticket} 退货") == (f"工单 #{ticket} 已有 退货 #1 · 待审批 · 25.00 EUR · 商品损坏，"
                                         "没有再开一个退货申请（请先关闭原申请）。")
    ask(f"/申请 {ticket} 退款")
    pending = ask("/售后").splitlines()
    assert pending[0] == "*2 个售后申请待审批*，最早的在前："
    assert pending[2].split() == ["ID", "工单", "类型", "金额", "原因", "SKU", "平台", "国家", "已等待"]
    assert pending[3].split()[2:] == ["退货", "25.00", "EUR", "商品损坏", "–", "–", "–", "0", "秒"]
    assert pending[-1] == "批准：/售后 批准 ID [ID…] 或 /售后 批准 全部 · 拒绝：/售后 拒绝 ID 原因"
    approved = ask("/售后 批准 全部").splitlines()
    assert approved[0] == "共 2 个申请，已批准 2 个。"
    assert approved[1].startswith(f"#1：申请 #1（退货，工单 #{ticket}）已变为“已批准”。退货说明（")
    assert approved[2] == f"#2：申请 #2（退款，工单 #{ticket}）已变为“已批准”。"
    assert ask("/申请 1 已退款") == "申请 #1（退货）当前是“已批准”，还不能变为“已退款”；下一步：已收到退货"
    assert ask("/申请 2 已补发") == "申请 #2（退款）当前是“已批准”：退款没有“已补发”这一步；下一步：已退款"
    assert ask("/申请 99 收到") == "售后申请 #99 不存在"
    stepped = executor.execute("/申请 2 已退款", ANA, platform="dingtalk", language="zh")
    assert stepped.text == f"申请 #2（退款，工单 #{ticket}）已变为“已退款”。"
    english = executor.execute("/request 2 refunded", MANAGER, platform="slack").text
    assert english == "Request #2 is already refunded: nothing to do."
    with Session(engine) as session:
        errors = [e.details.get("error") for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "command").order_by(AuditEvent.id))]  # type: ignore[arg-type]
    assert "after-sales request #99 does not exist" in errors  # the audit log keeps kefu's English


def test_the_desks_wordings_read_in_english_exactly_as_its_messages(engine: Engine) -> None:
    from bot.after_sales.desk import AfterSalesDesk, AfterSalesError, Who

    seeded = seed(engine)
    desk = AfterSalesDesk(engine, Settings(), clock=lambda: NOW)
    manager, agent = Who("mei", "agent:mei", True), Who("ana", "agent:ana", False)
    outcomes = [desk.open_request(seeded.open_ticket_id, "exchange", agent),
                desk.open_request(seeded.open_ticket_id, "exchange", agent),
                desk.open_request(seeded.open_ticket_id, "reship", agent),
                desk.approve_many(None, manager), desk.advance(1, "approved", manager),
                desk.advance(1, "item_received", agent), desk.approve_many([1, 2, 99], manager)]
    assert all(wording_text(o.wording, "en") == o.message for o in outcomes if o.wording)
    assert all(o.wording for o in outcomes)
    for attempt in (lambda: desk.advance(1, "refunded", agent), lambda: desk.advance(2, "item_received", agent),
                    lambda: desk.advance(99, "closed", agent), lambda: desk.advance(2, "rejected", agent),
                    lambda: desk.approve_many([2], agent), lambda: desk.open_request(99_999, "refund", agent)):
        with pytest.raises(AfterSalesError) as refused:
            attempt()
        assert refused.value.wording is not None and wording_text(refused.value.wording, "en") == str(refused.value)


def _orders_for_the_week(engine: Engine) -> None:
    """4,000 orders over the dates the 7 days before NOW touch (2,400 in DE, 1,600 in ES)."""
    days = [date(2026, 11, 13) + timedelta(days=i) for i in range(8)]
    upsert_daily_orders(engine, [DailyOrderCount(d, "amazon", "DE", 300) for d in days]
                        + [DailyOrderCount(d, "amazon", "ES", 200) for d in days])


def test_metrics_names_changes_and_per_order_rates_are_chinese(engine: Engine, executor: CommandExecutor,
                                                               seeded: Seeded) -> None:
    _orders_for_the_week(engine)
    lines = executor.execute("/指标 7天 环比", MANAGER, platform="dingtalk", language="zh").text.splitlines()
    assert "工单量：13  ▲ +8（+160.0%）" in lines
    assert "首次响应时长（中位数）：30 分钟  ▲ +20 分钟（+200.0%）" in lines
    assert "解决时长（中位数）：1.0 小时  = 持平" in lines and "首次响应 SLA 达标率：90.9%" in lines
    assert "一次解决率：75.0%  ▲ +75.0 个百分点" in lines and "投诉率：38.5%  ▲ +38.5 个百分点" in lines
    assert lines[-1] == "每千单（共 4,000 单）：工单 3.25 · 投诉 1.25 · 退款/退货请求 1.00"
    assert english_words("\n".join(lines)) == set()
    english = executor.execute("/metrics 7d vs prev", MANAGER, platform="slack").text.splitlines()
    assert "Resolution time (median): 1.0 h  = no change" in english
    assert "One-touch resolution: 75.0%  ▲ +75.0 pts" in english
    assert english[-1] == ("Per 1,000 orders (4,000 orders): tickets 3.25 · complaints 1.25 · refund/return requests "
                           "1.00")


def test_metrics_breakdown_table_is_headed_in_chinese(engine: Engine, executor: CommandExecutor,
                                                      seeded: Seeded) -> None:
    _orders_for_the_week(engine)
    text = executor.execute("/指标 7天 按 地区 环比", MANAGER, platform="dingtalk", language="zh").text
    rows = [line.split() for line in text.split("```")[1].strip().splitlines()]
    assert rows[0] == ["地区", "工单", "首响中位", "首响SLA", "CSAT", "投诉", "Δ", "工单", "每千单"]
    assert rows[1] == ["ES", "6", "30", "分钟", "100.0%", "5.00", "0.0%", "▲", "+1（+20.0%）", "3.8"]
    assert rows[3][0] == "（无）"  # tickets without a region
    assert english_words(text) == set()
    english = executor.execute("/metrics 7d by region vs prev", MANAGER, platform="slack").text
    assert english.split("```")[1].strip().splitlines()[0].split() == [
        "region", "Tickets", "FRT", "med", "FR", "SLA", "CSAT", "Complaints", "Δ", "Tickets", "/1k", "orders"]
    assert "\n(none) " in english


def test_alert_items_and_silences_are_chinese(engine: Engine, executor: CommandExecutor) -> None:
    with Session(engine) as session:
        session.add(Alert(rule="first_response_slow", group_key="channel=slack", level="critical", value=5.2,
                          started_at=NOW - timedelta(minutes=40)))
        session.add(Alert(rule="csat_low", level="warning", started_at=NOW - timedelta(hours=5)))
        silence = Silence(matchers={"rule": "csat_low"}, starts_at=NOW - timedelta(hours=1),
                          ends_at=NOW + timedelta(hours=1), created_by="mei")
        session.add(silence)
        session.commit()
        silence_id = silence.id
    lines = executor.execute("/告警", MANAGER, platform="wecom", language="zh").text.splitlines()
    assert lines == ["*告警* · 2 条正在触发",
                     "• 警告 csat_low — 2026-11-20 07:00 起触发（已持续 5 小时）",
                     "• 严重 first_response_slow [channel=slack] 值 5.2 — 2026-11-20 11:20 起触发（已持续 40 分钟）",
                     f"生效中的静默 1 条：#{silence_id} rule=csat_low，至 2026-11-20 13:00"]
    assert english_words("\n".join(lines)) <= {"channel", "slack", "rule"}  # the labels of alerts and silences
    english = executor.execute("/alerts", MANAGER, platform="slack").text.splitlines()
    assert english[1:] == ["• WARNING csat_low — firing since 2026-11-20 07:00 (5 h ago)",
                           "• CRITICAL first_response_slow [channel=slack] value 5.2 — firing since 2026-11-20 11:20 "
                           "(40 min ago)",
                           f"1 active silence(s): #{silence_id} rule=csat_low until 2026-11-20 13:00"]


@pytest.mark.parametrize(("typed", "chinese", "english"), [
    ("/客户", "“/客户”后面要写客户 ID 或邮箱，例如“/客户 c-42”。",
     '"/客户" needs a customer id or email, e.g. "/customer c-42".'),
    ("/客户 cust-1 喜欢", "“/客户 cust-1”后面的“喜欢”无法识别：请写 标签、删除标签 或 备注。",
     'Unknown word "喜欢" after "/客户 cust-1": write tag, untag or note.'),
    ("/客户 cust-1 备注", "“备注”后面要写内容，例如“/客户 cust-1 备注 喜欢邮件联系”。",
     '"备注" needs a value, e.g. "/客户 cust-1 备注 "prefers email"".'),
    ("/客户 cust-1 标签 大客户 老客户", "标签只能是一个词（或加引号）：“大客户”后面还有“老客户”？",
     'A tag is one word (or quoted): "大客户" then "老客户"?'),
    ("/售后 待审批 3", "“售后 待审批”后面多了“3”。", 'Unexpected "3" after "售后 待审批".'),
    ("/售后 批准", "“批准”后面要写申请号或“全部”，例如“/售后 批准 3 4”。",
     '"批准" needs request IDs or "all", e.g. "/returns approve 3 4".'),
    ("/售后 批准 全部 3", "“全部”后面多了“3”。", 'Unexpected "3" after "all".'),
    ("/售后 批准 x", "申请号应是数字，例如 42，而不是“x”。", 'The request ID is a number such as 42, not "x".'),
    ("/售后 批准 " + " ".join(str(i) for i in range(1, 102)), "给了 101 个申请号；一次最多批准 100 个（或用“全部”）。",
     "101 request IDs; approve at most 100 at once (or all)."),
    ("/售后 拒绝", "“拒绝”后面要写申请号和原因，例如“/售后 拒绝 3 商品已使用”。",
     '"拒绝" needs a request ID and the reason, e.g. "/returns reject 3 used item".'),
    ("/售后 拒绝 3", "请说明拒绝申请 #3 的原因，例如“/售后 拒绝 3 已过退货期”。",
     'Say why request #3 is rejected, e.g. "/returns reject 3 outside the return window".'),
    ("/申请 3", "“申请”后面要写工单号和类型（“/申请 42 退款 25.00 EUR”），或申请号和下一步（“/申请 3 收到”）。",
     '"申请" needs a ticket and a type ("/request 42 refund 25.00 EUR") or a request and its next step '
     '("/request 3 received").'),
    ("/申请 x 退货", "工单号或申请号应是数字，例如 42，而不是“x”。",
     'The ticket or request ID is a number such as 42, not "x".'),
    ("/request 3 refnd", "“refnd”既不是申请类型（退货、退款、换货、补发），也不是步骤（收到、已退款、已补发、关闭）。"
                         "你是不是想输入“refund”？",
     '"refnd" is neither a request type (return, refund, exchange, reship) nor a step (received, refunded, '
     'reshipped, close). Did you mean "refund"?'),
    ("/申请 3 退货 25.00", "金额“25.00”后面要写币种，例如“25.00 EUR”。",
     'The amount "25.00" needs its currency, e.g. "25.00 EUR".'),
    ("/申请 3 退货 25.001 EUR", "25.001 EUR 的小数位太多：EUR 只有 2 位小数。",
     "25.001 EUR has more decimals than EUR has (2)."),
    ("/申请 3 退货 25 XYZ", "“XYZ”不是币种代码（ISO 4217，如 EUR、USD、CNY、JPY）。",
     "'XYZ' is not an ISO 4217 currency code such as EUR, USD, CNY or JPY."),
    ("/申请 3 退货 25 EUR 坏了", "“坏了”不是原因，可写：损坏、发错、未收到、不想要、质量问题、延误 或 其他。",
     '"坏了" is not a reason: damaged, wrong_item, not_received, changed_mind, defective, late or other.'),
])
def test_customer_returns_and_request_parse_errors_are_chinese(typed: str, chinese: str, english: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(typed)
    message, usage = caught.value.text("zh").split("\n", 1)
    assert message == chinese and usage.startswith("用法：")
    typed_words_and_codes = {"c-", "x", "refnd", "refund", "EUR", "XYZ", "ISO", "USD", "CNY", "JPY"}
    assert english_words(message) <= typed_words_and_codes
    assert str(caught.value).split("\n", 1)[0] == english


def test_refused_tags_are_chinese(executor: CommandExecutor, seeded: Seeded) -> None:
    long = executor.execute("/客户 cust-1 标签 " + "x" * 41, MANAGER, platform="dingtalk", language="zh")
    assert not long.ok and long.text.startswith("标签最多 40 个字符。\n用法：")
    empty = executor.execute('/客户 cust-1 标签 ""', MANAGER, platform="dingtalk", language="zh")
    assert not empty.ok and empty.text.startswith("标签要有名字，例如 vip。\n用法：")
    english = executor.execute('/customer cust-1 tag ""', MANAGER, platform="slack")
    assert english.text.startswith("a tag needs a name, such as vip.\nUsage: /customer")


def test_desk_refusals_the_parser_catches_first_are_chinese_too(engine: Engine) -> None:
    from bot.after_sales.desk import AfterSalesDesk, AfterSalesError, Who

    seeded = seed(engine)
    desk = AfterSalesDesk(engine, Settings(), clock=lambda: NOW)
    manager, agent = Who("mei", "agent:mei", True), Who("ana", "agent:ana", False)
    ticket = seeded.open_ticket_id
    request = desk.open_request(ticket, "refund", agent).request_ids[0]
    for attempt, chinese in [
        (lambda: desk.open_request(ticket, "gift", agent), "“gift”不是申请类型；可用类型：退货，退款，换货，补发"),
        (lambda: desk.open_request(ticket, "return", agent, reason="bored"),
         "“bored”不是原因代码；可用原因：商品损坏，发错货，未收到货，不想要了，质量问题，延误，其他"),
        (lambda: desk.open_request(ticket, "return", agent, note="x" * 1001), "备注有 1001 个字符，最多 1000 个"),
        (lambda: desk.advance(request, "rejected", manager, note="x" * 1001), "原因有 1001 个字符，最多 1000 个"),
        (lambda: desk.advance(request, "lost", agent),
         "“lost”不是申请状态；可用状态：待审批，已批准，已拒绝，已收到退货，已退款，已补发，已关闭"),
    ]:
        with pytest.raises(AfterSalesError) as refused:
            attempt()
        assert refused.value.wording is not None
        assert wording_text(refused.value.wording, "zh") == chinese
        assert wording_text(refused.value.wording, "en") == str(refused.value)


def test_after_sales_button_refusals_are_chinese(engine: Engine) -> None:
    seeded = seed(engine)
    ticket = seeded.open_ticket_id

    def press(name: str, language: str = "zh") -> str:
        action = Action(name, ticket, "slack", "U_MEI", {}, "mei", language=language)
        return perform_after_sales_action(engine, Settings(), action).message

    assert press("approve_request") == f"工单 #{ticket} 没有现在能变为“已批准”的售后申请；/工单 {ticket} 可查看记录"
    assert press("approve_request", "en") == (f"ticket #{ticket} has no after-sales request that can become approved "
                                              f"now; /ticket {ticket} shows its history")
    press("request_refund")
    press("request_reship")
    assert press("approve_request") == (f"工单 #{ticket} 有 2 个申请可以变为“已批准”（#1 退款，#2 补发），"
                                        "请用 /售后 批准 ID 指明是哪一个")
    assert press("approve_request", "en") == (f"ticket #{ticket} has 2 requests that can become approved (#1 (refund), "
                                              "#2 (reship)): say which with /returns approve ID")
