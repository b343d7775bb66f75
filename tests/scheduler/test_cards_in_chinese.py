"""kefu's own cards (weekly digest, SLA alerts, metric alerts) are written in the language of the channel they go
to: Chinese on DingTalk and WeCom (their default `language`), English on Slack and the console, word for word as
before; what is stored for deduplication is the same in every language."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Card, card_from_payload
from bot.settings import Settings
from models.tables import OutboxItem
from scheduler.alerts import evaluate_rules
from scheduler.digest import WeeklyDigest
from scheduler.sla import SlaWatch
from tests.alerts.conftest import T0 as ALERT_T0
from tests.alerts.conftest import add_tickets, alert_items, cards
from tests.commands.conftest import seed
from tests.scheduler.test_digest import DIGEST_TIME
from tests.scheduler.test_sla_watch import T0, new_ticket

MIN = timedelta(minutes=1)


def everything(card: Card) -> str:
    """Every word a reader sees on the card."""
    parts = [card.title, card.body, card.footer or ""]
    parts += [f"{f.label} {f.value}" for f in card.fields]
    return "\n".join(parts)


def english_words(text: str, data: set[str]) -> set[str]:
    """The Latin-letter words of `text` that are not data (names, intents, rule names, codes)."""
    return {word for word in re.findall(r"[A-Za-z_]{2,}", text) if word not in data}


def items(engine: Engine, prefix: str) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.dedup_key.startswith(prefix))  # type: ignore
                                    .order_by(OutboxItem.id)))  # type: ignore[arg-type]


def mark_sent(engine: Engine) -> None:
    """What the outbox worker does once a card is posted: the item is sent and has a reference to edit."""
    with Session(engine) as session:
        for item in session.scalars(select(OutboxItem).where(OutboxItem.status == "pending")):
            session.execute(update(OutboxItem).where(OutboxItem.id == item.id)  # type: ignore[arg-type]
                            .values(status="sent", result_ref=f"ref-{item.id}"))
        session.commit()


# ---- the weekly digest -------------------------------------------------------------------------------------


def digest_settings(channel: str, **platforms: object) -> Settings:
    return Settings(timezone="Asia/Shanghai", scorecards={"digest_weekday": "sat", "digest_hour": 9},
                    sla={"managers": {"channel": channel, "target": "managers-room"}}, **platforms)


def test_the_weekly_digest_on_dingtalk_is_in_chinese(engine: Engine) -> None:
    seed(engine)
    run = WeeklyDigest(engine, digest_settings("dingtalk"))(DIGEST_TIME)
    assert run is not None and run.dedup_key == "digest:2026-W47"  # the key does not depend on the language
    [item] = items(engine, "digest:")
    card = card_from_payload(item.payload)
    assert card.title == "📊 团队周评分卡 · 2026-W47"
    fields = {f.label: f.value for f in card.fields}
    assert fields["统计周期"] == "周六 2026-11-14 09:00 – 周六 2026-11-21 09:00 (Asia/Shanghai)"
    assert fields["客服人数"].isdigit()
    assert card.footer == "单个客服的详情：/客服 @某人 7天"
    header = card.body.splitlines()[1].split()
    assert header == ["客服", "队列", "工单", "得分", "评级", "SLA", "达标", "CSAT"]
    rows = [line.split() for line in card.body.splitlines()[2:-1]]
    data = {"W", "Asia", "Shanghai", "SLA", "CSAT"} | {word for row in rows for word in row[:4]}
    assert english_words(everything(card), data) == set()


def test_the_weekly_digest_on_wecom_in_english_and_on_slack_keeps_its_english_words(engine: Engine) -> None:
    seed(engine)
    WeeklyDigest(engine, digest_settings("wecom", wecom={"language": "en"}))(DIGEST_TIME)
    WeeklyDigest(engine, digest_settings("slack"))(DIGEST_TIME + timedelta(days=7))
    for item in items(engine, "digest:"):
        card = card_from_payload(item.payload)
        assert card.title.startswith("📊 Weekly team scorecard · 2026-W4")
        assert [f.label for f in card.fields] == ["Period", "Agents"]
        assert card.footer == "Details per agent: /agent NAME 7d"
    empty = card_from_payload(items(engine, "digest:")[1].payload)
    assert empty.body == "No assigned tickets in the past 7 days."


def test_an_empty_week_on_wecom_says_so_in_chinese(engine: Engine) -> None:
    WeeklyDigest(engine, digest_settings("wecom"))(DIGEST_TIME)
    [item] = items(engine, "digest:")
    assert card_from_payload(item.payload).body == "过去 7 天没有已分配的工单。"


# ---- SLA alerts --------------------------------------------------------------------------------------------


def sla_settings(triage: str, managers: str) -> Settings:
    return Settings(triage={"channel": triage, "target": "triage-room"},
                    sla={"managers": {"channel": managers, "target": "managers-room"}})


def test_sla_cards_on_dingtalk_are_in_chinese_and_the_escalation_on_slack_in_english(engine: Engine) -> None:
    settings = sla_settings("dingtalk", "slack")
    ticket_id = new_ticket(engine, settings)  # unassigned, severity 1: first response due T0 + 2 h
    watch = SlaWatch(engine, settings)
    warned = watch.run_once(T0 + 91 * MIN)
    assert [e.detail for e in warned] == ["due in 29 min"]  # what `kefu sla check` prints stays English
    [warning] = items(engine, "sla:")
    assert warning.dedup_key == f"sla:{ticket_id}:first_response:warning"
    card = card_from_payload(warning.payload)
    assert card.title == f"⚠️ SLA 预警 · 工单 #{ticket_id}：首次响应还剩 29 分钟"
    assert card.body == f"待分配队列：工单 #{ticket_id} 的首次响应还剩 29 分钟。"
    assert card.mentions == (("待分配队列", "*", "here"),)  # the text the mention stands for is in the body
    fields = {f.label: f.value for f in card.fields}
    assert fields["负责人"] == "未分配" and fields["截止时间"] == "周一 2026-11-02 11:00 UTC"
    data = {"item_not_received", "webhook", "UTC", "SLA", "default"}
    assert english_words(everything(card), data) == set(), everything(card)

    watch.run_once(T0 + 125 * MIN)
    _, breach, escalation = items(engine, "sla:")
    breach_card = card_from_payload(breach.payload)
    assert breach_card.title == f"🚨 SLA 已超时 · 工单 #{ticket_id}：首次响应已超时 5 分钟"
    assert breach_card.body.endswith("已超时 5 分钟，已通知经理。")
    assert english_words(everything(breach_card), data) == set()
    assert escalation.channel == "slack"
    escalated = card_from_payload(escalation.payload)
    assert escalated.title == f"🚨 SLA escalation · ticket #{ticket_id}: first response overdue by 5 min"
    assert escalated.body == f"The first response of ticket #{ticket_id} is overdue by 5 min. Owner: unassigned."
    assert [f.label for f in escalated.fields] == ["Ticket", "Due", "Assignee", "Policy"]


def test_sla_outcome_updates_the_card_in_its_channels_language(engine: Engine) -> None:
    settings = sla_settings("wecom", "dingtalk")
    ticket_id = new_ticket(engine, settings, assignee="alice")
    watch = SlaWatch(engine, settings)
    watch.run_once(T0 + 91 * MIN)
    watch.run_once(T0 + 125 * MIN)
    mark_sent(engine)
    with Session(engine) as session:
        session.execute(update(OutboxItem).where(OutboxItem.kind == "alert")  # type: ignore[arg-type]
                        .values(status="sent"))
        session.commit()
    from tests.scheduler.test_sla_watch import change_ticket

    change_ticket(engine, ticket_id, first_response_at=T0 + 157 * MIN)
    outcome = watch.run_once(T0 + 158 * MIN)
    assert {e.detail for e in outcome} == {"breached by 37 min"}
    updates = [i for i in items(engine, "sla:") if i.kind == "card_update"]
    assert len(updates) == 3 and {u.channel for u in updates} == {"wecom", "dingtalk"}
    for update_item in updates:
        card = card_from_payload(update_item.payload)
        assert card.title == f"❌ SLA 首次响应超时 37 分钟 · 工单 #{ticket_id}"
        assert card.fields[-1].label == "结果" and card.fields[-1].value == "超时 37 分钟"
        data = {"alice", "item_not_received", "webhook", "UTC", "SLA", "default"}
        assert english_words(everything(card), data) == set(), everything(card)


# ---- metric alerts -----------------------------------------------------------------------------------------

VOLUME = {"name": "busy", "metric": "volume", "window": "1h", "warning": "> 3", "critical": "> 6"}


def test_metric_alert_and_its_resolved_notice_on_dingtalk_are_in_chinese(engine: Engine) -> None:
    settings = Settings(alerts={"rules": [{**VOLUME, "route": "leads"}],
                                "routes": {"leads": {"channel": "dingtalk", "target": "leads"}}})
    add_tickets(engine, [ALERT_T0 - (30 - i) * MIN for i in range(4)], text="where is my parcel")
    evaluate_rules(engine, settings, ALERT_T0)
    [item] = alert_items(engine)
    firing = cards(engine)[0]
    assert firing.title == "🟠 警告：busy"
    fields = {f.label: f.value for f in firing.fields}
    assert fields["指标"] == "工单量" and fields["当前值"] == "4"
    assert set(fields["阈值"].split(", ")) == {"警告 > 3", "严重 > 6"}
    assert fields["时间窗口"] == "1h" and fields["触发时间"].endswith("UTC")
    assert firing.footer == f"告警 #{firing.alert_id} · 规则 busy"
    assert firing.body.startswith("工单量 4")
    data = {"busy", "UTC", "where", "is", "my", "parcel", "webchat", "order_status", "h"}
    assert english_words(everything(firing), data) == set(), everything(firing)

    mark_sent(engine)
    evaluate_rules(engine, settings, ALERT_T0 + 60 * MIN)  # the tickets left the window
    resolved_item = alert_items(engine)[1]
    assert resolved_item.kind == "card_update" and resolved_item.dedup_key.startswith("alert:resolved:busy")
    resolved = card_from_payload(resolved_item.payload)
    assert resolved.title == "✅ 已恢复：busy"
    assert resolved.body.startswith("2026-11-20 10:00 至 2026-11-20 11:00（UTC）处于警告状态，当前值")
    assert english_words(everything(resolved), data) == set(), everything(resolved)


def test_metric_alert_on_slack_keeps_its_english_words(engine: Engine) -> None:
    settings = Settings(alerts={"rules": [{**VOLUME, "route": "leads"}],
                                "routes": {"leads": {"channel": "slack", "target": "leads"}}})
    add_tickets(engine, [ALERT_T0 - (30 - i) * MIN for i in range(4)])
    evaluate_rules(engine, settings, ALERT_T0)
    card = cards(engine)[0]
    assert card.title == "🟠 WARNING: busy"
    assert [f.label for f in card.fields] == ["Metric", "Value", "Thresholds", "Window", "Firing since"]
    assert set(dict((f.label, f.value) for f in card.fields)["Thresholds"].split(", ")) == {"warning > 3",
                                                                                             "critical > 6"}
    assert card.footer == f"alert #{card.alert_id} · rule busy"


def test_the_alert_summary_in_chinese_is_written_from_the_stored_breakdown() -> None:
    from types import SimpleNamespace

    from scheduler.alerts.dispatch import summary_text

    stored = ("Refund/return request rate 31.0% vs baseline 11.2% (+177%); 62% of the increase: SKU A-123 × "
              "region FR")
    alert = SimpleNamespace(details={"summary": stored, "breakdown": {
        "current": 31.0, "baseline": 11.2, "change": 1.77,
        "slices": [{"labels": {"sku": "A-123", "region": "FR"}, "share": 0.62}], "phrases": []}})
    assert summary_text(alert, "refund_return_request_rate", "en") == stored  # type: ignore[arg-type]
    assert summary_text(alert, "refund_return_request_rate", "zh") == \
        "退款/退货请求率 31.0%，基线 11.2%（+177%）；62% 的上升来自 商品 A-123 × 地区 FR"  # type: ignore[arg-type]
