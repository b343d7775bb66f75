"""kefu's WeCom sender against the fake WeCom: cards as template cards, updates with response codes, token
refreshes (once), WeCom's error codes as outbox outcomes, and group robots within 20 messages a minute."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest

from adapters.wecom.client import WeComApi
from adapters.wecom.robots import GroupRobots
from adapters.wecom.sender import Recipients, WeComCardSender
from bot.messages import Card, CardButton, CardField, card_to_payload
from bot.outbox import SendError
from models.tables import OutboxItem
from tests.fakes.wecom import FakeWeCom

TRIAGE = Card(kind="triage", title="Ticket #7: not_received · severity 1", body="Ich habe mein Paket nie erhalten",
              severity=1, ticket_id=7, suggestion_id=3, suggested_reply="Es tut uns leid", language="de",
              fields=(CardField("Customer", "jonas"), CardField("Status", "new"),
                      CardField("First response due", "2026-11-20T10:00+00:00")),
              buttons=(CardButton("send", "Send", "primary"), CardButton("edit", "Edit"),
                       CardButton("assign", "Assign to me"), CardButton("escalate", "Escalate", "danger"),
                       CardButton("resolve", "Resolve"), CardButton("wrong_intent", "Wrong intent")))
_serial = iter(range(1, 10_000))


def item(card: Card, kind: str = "card", target: str = "") -> OutboxItem:
    return OutboxItem(id=next(_serial), dedup_key="k", kind=kind, channel="wecom", target=target,
                      payload=card_to_payload(card), ticket_id=card.ticket_id)


def sender(fake: FakeWeCom, robots: GroupRobots | None = None, language: str = "zh") -> WeComCardSender:
    api = WeComApi(fake.corp_id, fake.secret, api_url=fake.api_url, timeout=5)
    robots = robots or GroupRobots({}, webhook_url=fake.api_url + "webhook/send", per_minute=20, timeout=5,
                                   merged_title=str)
    return WeComCardSender(api, robots, agent_id=fake.agent_id, default=Recipients("zhangsan|lisi"),
                           language=language, timezone=ZoneInfo("Asia/Shanghai"))  # type: ignore[arg-type]


async def test_a_triage_card_is_a_chinese_button_card_naming_its_ticket(fake_wecom: FakeWeCom) -> None:
    ref = await sender(fake_wecom).send(item(TRIAGE))

    [card] = fake_wecom.cards.values()
    assert ref is not None and ref.startswith(f"tc:{card.task_id}:rc-")
    assert card.touser == "zhangsan|lisi" and card.task_id.startswith("kefu-t7-")
    assert [(b["text"], b["key"]) for b in card.card["button_list"]] == [
        ("发送回复", "kefu:send:s3"), ("分配给我", "kefu:assign"), ("升级", "kefu:escalate"), ("解决", "kefu:resolve")]
    lines = {line["keyname"]: line["value"] for line in card.card["horizontal_content_list"]}
    assert lines["客户"] == "jonas" and lines["首响截止"] == "11-20 18:00"  # in the team's timezone
    assert card.card["sub_title_text"] == "Ich habe mein Paket nie erhalten"
    assert card.card["quote_area"]["quote_text"] == "Es tut uns leid"
    assert card.card["main_title"] == {"title": "🔴 Ticket #7: not_received", "desc": "状态: new · 严重度 1"}


async def test_updates_spend_the_clicks_code_then_the_posting_code_then_post_anew(fake_wecom: FakeWeCom) -> None:
    wecom = sender(fake_wecom)
    ref = await wecom.send(item(TRIAGE))
    assert ref is not None
    task = ref.split(":")[1]
    wecom.remember_code(task, fake_wecom.click_code(task))
    resolved = Card(kind="triage", title="Ticket #7 · resolved", ticket_id=7, fields=(CardField("Status", "resolved"),))

    for _ in range(2):
        assert await wecom.send(item(resolved, "card_update", ref)) == ref
    assert len(fake_wecom.cards[task].versions) == 3
    assert fake_wecom.cards[task].card["replace_text"] == "已解决"
    again = await wecom.send(item(resolved, "card_update", ref))  # both codes spent: a new message instead
    assert again is not None and again.startswith("msg:")
    assert "Ticket #7 · resolved" in fake_wecom.markdown_to("zhangsan")[-1]


async def test_an_expired_token_is_refreshed_once_and_a_token_refused_twice_fails(fake_wecom: FakeWeCom) -> None:
    wecom = sender(fake_wecom)
    notice = Card(kind="notice", title="Daily digest", body="12 tickets")
    await wecom.send(item(notice))
    fake_wecom.expire_tokens()
    await wecom.send(item(notice))
    assert [c.errcode for c in fake_wecom.calls("message/send")] == [0, 42001, 0]
    assert len(fake_wecom.calls("gettoken")) == 2

    fake_wecom.fail("message/send", 40014, times=2)
    with pytest.raises(SendError) as refused:
        await wecom.send(item(notice))
    assert not refused.value.transient and "40014" in str(refused.value)
    assert len(fake_wecom.markdown_to("zhangsan")) == 2  # tried twice, not in a loop


@pytest.mark.parametrize(("errcode", "transient"), [(45009, True), (-1, True), (60011, False)])
async def test_wecom_errors_become_outbox_outcomes(fake_wecom: FakeWeCom, errcode: int, transient: bool) -> None:
    fake_wecom.fail("message/send", errcode)
    with pytest.raises(SendError) as failed:
        await sender(fake_wecom).send(item(TRIAGE))
    assert failed.value.transient is transient and str(errcode) in str(failed.value)
    if errcode == 45009:
        assert failed.value.retry_after and failed.value.retry_after > 0


def robots(fake: FakeWeCom, per_minute: int = 20, clock: object = None) -> GroupRobots:
    [key] = fake.robot_keys
    return GroupRobots({"alerts": key, "lost": "robot-key-unknown"}, webhook_url=fake.api_url + "webhook/send",
                       per_minute=per_minute, timeout=5, merged_title=lambda n: f"{n} 条告警", gather_seconds=0.3,
                       **({"clock": clock} if clock else {}))  # type: ignore[arg-type]


async def test_a_burst_of_25_alerts_reaches_the_robot_merged_without_loss_or_45009(fake_wecom: FakeWeCom) -> None:
    group = robots(fake_wecom)
    wecom = sender(fake_wecom, group)
    alerts = [Card(kind="sla_alert", title=f"SLA breach #{n}", body=f"Ticket #{n} waits") for n in range(25)]

    async def worker(queue: asyncio.Queue[Card]) -> None:  # the outbox sends up to 4 at once
        while not queue.empty():
            assert await wecom.send(item(queue.get_nowait(), "alert", "robot:alerts")) == "robot:alerts"

    queue: asyncio.Queue[Card] = asyncio.Queue()
    for card in alerts:
        queue.put_nowait(card)
    await asyncio.gather(*(worker(queue) for _ in range(4)))
    await group.close()

    sent = [m["body"]["markdown"]["content"] for m in fake_wecom.robot_messages]
    assert all(f"SLA breach #{n}**" in "\n".join(sent) for n in range(25))
    assert len(sent) <= 20 and not [c for c in fake_wecom.calls("webhook/send") if c.errcode]
    assert any("条告警" in content for content in sent)


async def test_a_full_robot_window_is_retried_later_and_an_unknown_key_fails(fake_wecom: FakeWeCom) -> None:
    now = [1000.0]
    group = robots(fake_wecom, per_minute=1, clock=lambda: now[0])
    await group.post("alerts", "first")
    now[0] += 15
    with pytest.raises(SendError) as full:
        await group.post("alerts", "second")
    assert full.value.transient and full.value.retry_after == pytest.approx(45)
    with pytest.raises(SendError) as unknown:
        await group.post("lost", "x")
    assert not unknown.value.transient and "93000" in str(unknown.value)
    with pytest.raises(SendError) as unnamed:
        await group.post("nobody", "x")
    assert not unnamed.value.transient and "robots: alerts, lost" in str(unnamed.value)
    await group.close()
