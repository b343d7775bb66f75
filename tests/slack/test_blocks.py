"""Cards, modals and answers rendered as Block Kit: within the limits Slack enforces (checked by the same rules as
the fake Slack's), with the facts an agent needs, times in the team's timezone, and buttons that carry their
ticket and suggestion."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from adapters.slack.blocks import (
    ACTION_PREFIX,
    answer_blocks,
    card_blocks,
    card_text,
    edit_modal,
    parse_button_value,
    wrong_intent_modal,
)
from adapters.slack.listeners import command_text, plain_text
from bot.messages import Card, CardButton, CardField
from bot.pipeline import TRIAGE_BUTTONS
from tests.fakes.slack_blocks import message_block_errors, view_errors

SHANGHAI = ZoneInfo("Asia/Shanghai")


def triage_card(**changes: object) -> Card:
    fields = (
        CardField("Translation (en)", "I never received my parcel"),
        CardField("Customer", "Wang Wei (CN)"),
        CardField("Language", "zh (0.98)"),
        CardField("Intent", "item_not_received (0.91), runner-up order_status (0.40)"),
        CardField("Severity", "1"),
        CardField("First response due", "2026-11-23T10:00+00:00"),
        CardField("Resolution due", "2026-11-24T08:00+00:00"),
        CardField("Channel", "webhook"),
        CardField("Marketplace", "aliexpress"),
        CardField("Order", "A-1001"),
        CardField("SKU", "SKU-9"),
        CardField("Suggested reply (en)", "We are sorry: your parcel is on its way."),
        CardField("Auto-reply", "suggest: complaints always go to an agent"),
        CardField("History", "Assigned to alice at 09:14\nEscalated to severity 1 by bob at 09:20"),
    )
    card = Card(kind="triage", title="Ticket #42: item_not_received · severity 1", body="一直没有收到货 <b>&",
                severity=1, fields=fields, suggested_reply="非常抱歉，您的包裹正在路上。", buttons=TRIAGE_BUTTONS,
                ticket_id=42, language="zh", suggestion_id=7)
    return Card(**{**card.__dict__, **changes})


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_triage_card_shows_the_facts_message_suggestion_and_buttons_within_slacks_limits() -> None:
    blocks = card_blocks(triage_card(), timezone=SHANGHAI)

    assert message_block_errors(blocks) == []
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith("🔴 Ticket #42")
    facts = " ".join(field["text"] for field in blocks[1]["fields"])
    for fact in ("Wang Wei (CN)", "aliexpress", "zh (0.98)", "item_not_received", "A-1001"):
        assert fact in facts
    everything = texts(blocks)
    assert "> 一直没有收到货 &lt;b&gt;&amp;" in everything  # the customer's words, quoted and escaped
    assert "I never received my parcel" in everything and "非常抱歉" in everything
    assert "We are sorry: your parcel is on its way." in everything
    assert "Escalated to severity 1 by bob" in everything
    [actions] = [block for block in blocks if block["type"] == "actions"]
    assert [button["action_id"] for button in actions["elements"]] == [
        ACTION_PREFIX + name for name in ("send", "edit", "assign", "escalate", "resolve", "wrong_intent")]
    labels = {button["action_id"]: button["text"]["text"] for button in actions["elements"]}
    assert labels["kefu:send"] == "Send reply" and labels["kefu:edit"] == "Edit & send"
    values = {button["action_id"]: parse_button_value(button["value"]) for button in actions["elements"]}
    assert values["kefu:send"] == {"ticket": 42, "suggestion": 7}
    assert values["kefu:resolve"] == {"ticket": 42}
    assert "confirm" in next(b for b in actions["elements"] if b["action_id"] == "kefu:resolve")


def test_sla_due_times_read_in_the_team_timezone_and_relative_to_now() -> None:
    facts = " ".join(f["text"] for f in card_blocks(triage_card(), timezone=SHANGHAI)[1]["fields"])

    # 10:00 UTC is 18:00 in Shanghai; Slack renders {ago} ("in 2 hours") in each reader's locale, live.
    assert "Mon 23 Nov 18:00 CST" in facts
    assert "<!date^1795428000^{ago}|2026-11-23 18:00 CST>" in facts


def test_an_oversized_card_is_cut_to_slacks_limits_instead_of_being_refused() -> None:
    card = triage_card(body="x" * 10_000, suggested_reply="y" * 5000, title="T" * 400,
                       fields=tuple(CardField(f"Field {i}", "v" * 2500) for i in range(30)))

    blocks = card_blocks(card, timezone=SHANGHAI)

    assert message_block_errors(blocks) == []
    assert len(card_text(card)) <= 3000


def test_a_follow_up_in_the_thread_has_the_message_and_buttons_but_not_the_facts_again() -> None:
    blocks = card_blocks(triage_card(body="还是没有收到"), timezone=SHANGHAI, follow_up=True)

    assert message_block_errors(blocks) == []
    assert blocks[0]["type"] == "section" and "New message from the customer" in blocks[0]["text"]["text"]
    assert "还是没有收到" in texts(blocks)
    assert "Wang Wei" not in texts(blocks) and "History" not in texts(blocks)
    assert any(block["type"] == "actions" for block in blocks)


def test_alert_buttons_carry_the_alert_not_a_ticket() -> None:
    card = Card(kind="metric_alert", title="🔴 CRITICAL: refund_spike [marketplace=amazon]", body="refunds +180%",
                severity=1, fields=(CardField("Value", "12.5%"),), alert_id=9,
                buttons=(CardButton("alert_acknowledge", "Acknowledge", "primary"),
                         CardButton("alert_silence_2h", "Silence 2h")))

    blocks = card_blocks(card, timezone=SHANGHAI)

    assert message_block_errors(blocks) == []
    [actions] = [block for block in blocks if block["type"] == "actions"]
    assert [parse_button_value(b["value"]) for b in actions["elements"]] == [{"alert": 9}, {"alert": 9}]
    assert blocks[0]["text"]["text"] == "🔴 CRITICAL: refund_spike [marketplace=amazon]"


def test_the_edit_modal_is_prefilled_and_the_intent_modal_offers_at_most_100_intents() -> None:
    edit = edit_modal(ticket_id=42, suggestion_id=7, text="非常抱歉", language="zh", metadata={"channel": "C1"})
    intents = wrong_intent_modal(ticket_id=42, current="order_status", intents=[f"intent_{i:03}" for i in range(150)],
                                 metadata={"channel": "C1"})

    assert view_errors(edit) == [] and view_errors(intents) == []
    assert edit["blocks"][0]["element"]["initial_value"] == "非常抱歉"
    assert json.loads(edit["private_metadata"]) == {"channel": "C1", "ticket": 42, "suggestion": 7}
    assert len(intents["blocks"][0]["element"]["options"]) == 100


def test_a_long_command_answer_is_split_into_sections_slack_accepts() -> None:
    answer = "\n".join(f"row {i}: " + "x" * 80 for i in range(200))

    blocks = answer_blocks(answer)

    assert message_block_errors(blocks) == []
    assert len(blocks) > 1 and "row 199" in texts(blocks)


def test_public_answers_are_asked_for_with_a_last_word_and_thread_text_is_unwrapped_for_the_customer() -> None:
    assert command_text("/kefu", "metrics 7d chart public") == ("/kefu metrics 7d chart", True)
    assert command_text("/metrics", "7d") == ("/metrics 7d", False)
    assert command_text("/sla", "") == ("/sla", False)
    assert plain_text("See <https://shop.example/track?id=1|tracking> &amp; <https://x.example> ok") == \
        "See tracking (https://shop.example/track?id=1) & https://x.example ok"


def test_sla_alerts_mention_the_assignee_in_slack_or_call_the_channel_for_an_unassigned_ticket() -> None:
    assigned = Card(kind="sla_alert", title="⚠️ SLA warning · ticket #7",
                    body="@mei, the first response is due in 20 min.", severity=2, ticket_id=7,
                    mentions=(("@mei", "dingtalk", "ding-1"), ("@mei", "slack", "U0MEI")))
    unassigned = Card(kind="sla_alert", title="⚠️ SLA warning · ticket #8",
                      body="Unassigned: the queue, the first response is due in 20 min.", severity=2, ticket_id=8,
                      mentions=(("Unassigned: the queue", "*", "here"),))

    assert "<@U0MEI>, the first response" in texts(card_blocks(assigned, timezone=SHANGHAI))
    assert "<!here> Unassigned: the queue" in texts(card_blocks(unassigned, timezone=SHANGHAI))
