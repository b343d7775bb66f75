"""A card's field labels and title on DingTalk (and the title on WeCom) are written in the configured language
(the core writes them in English): a Chinese team reads 客户 / 首响截止 / 建议回复（de）, an English one the labels
as they are."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from adapters.dingtalk.rendering import render_card
from adapters.wecom.cards import title_of
from bot.messages import Card, CardField, card_from_payload, card_to_payload
from bot.pipeline import ticket_title
from models.tables import Ticket

TRIAGE = Card(
    kind="triage", title="Ticket #7: refund_request · severity 1", body="Das Paket ist beschädigt", severity=1,
    fields=(CardField("Customer", "jonas (DE)"), CardField("Language", "de (0.99)"),
            CardField("Intent", "refund_request (0.91)"), CardField("First response due", "2026-11-20T10:00:00+00:00"),
            CardField("Suggested reply (en)", "We are sorry about the damage."),
            CardField("Auto-reply", "suggest: complaint"), CardField("Customer value", "high"),
            CardField("Assignee", "mei"), CardField("History", "10:05 UTC escalated")),
    ticket_id=7,
)


def labels(markdown: str) -> list[str]:
    return re.findall(r"\*\*([^*]+)\*\*: ", markdown)


def test_a_chinese_team_reads_the_labels_in_chinese() -> None:
    markdown = render_card(TRIAGE, "zh").markdown
    assert labels(markdown) == ["客户", "语言", "意图", "首响截止", "建议回复（en）", "自动回复", "客户价值", "处理人",
                                "记录"]
    assert "jonas (DE)" in markdown and "We are sorry about the damage." in markdown  # values are data


def test_an_english_team_reads_the_labels_as_the_core_wrote_them() -> None:
    assert labels(render_card(TRIAGE, "en").markdown) == [field.label for field in TRIAGE.fields]


def test_a_label_the_catalogue_does_not_know_is_shown_as_it_is() -> None:
    card = Card(kind="notice", title="x", fields=(CardField("Warehouse", "Shenzhen"),))
    assert labels(render_card(card, "zh").markdown) == ["Warehouse"]


def test_a_ticket_cards_title_is_written_in_the_teams_language_and_survives_the_outbox() -> None:
    ticket = Ticket(id=7, intent="refund_request", severity=1, channel="webhook", conversation_id="c", customer_id=1)
    card = replace(TRIAGE, title="Ticket #7: refund_request · severity 1 · escalated",
                   title_wording=ticket_title(ticket, "escalated"))
    stored = card_from_payload(json.loads(json.dumps(card_to_payload(card))))  # as the outbox keeps it
    assert stored == card
    assert render_card(stored, "zh").title == "🔴 工单 #7：refund_request · 1级 · 已升级"
    assert render_card(stored, "en").title == "🔴 Ticket #7: refund_request · severity 1 · escalated"
    assert title_of(stored, "zh") == "🔴 工单 #7：refund_request · 已升级"  # WeCom shows the severity beside it
    assert title_of(stored, "en") == "🔴 Ticket #7: refund_request · escalated"
