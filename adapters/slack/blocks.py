"""Block Kit for kefu's neutral cards, modals and command answers: pure functions, no Slack client here.

A triage card reads, top to bottom: a header with the severity mark and the ticket, the key facts as fields
(customer, market, language, intent, SLA due in the team's timezone and relative to now), the customer's message
(and its translation), the suggested reply, the buttons, then the history and the rest as context lines. Every
text is cut to Slack's limits (a card Slack refuses is a card nobody sees) and escaped for mrkdwn.

Buttons carry `kefu:<action>` as action_id and a small JSON value naming the ticket (or alert) and the
suggestion they were rendered with, so a press on an old card acts on what that card showed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.messages import Card, CardButton, CardField

ACTION_PREFIX: Final = "kefu:"
EDIT_CALLBACK: Final = "kefu_edit"
WRONG_INTENT_CALLBACK: Final = "kefu_wrong_intent"
REPLY_BLOCK, REPLY_INPUT = "reply", "text"
INTENT_BLOCK, INTENT_INPUT = "intent", "intent"

SEVERITY_MARKS: Final = {1: "🔴", 2: "🟠", 3: "🟡"}
KIND_MARKS: Final = {"notice": "📣", "answer": "💬"}
BUTTON_LABELS: Final = {"send": "Send reply", "edit": "Edit & send"}
CONFIRMS: Final = {
    "resolve": ("Resolve this ticket?", "The customer gets no further reply from this card.", "Resolve"),
    "escalate": ("Escalate this ticket?", "Severity goes up one level and the SLA clock tightens.", "Escalate"),
}
# Fields shown as the card's key facts (Slack shows at most 10 fields in a section); the rest become context.
KEY_FIELDS: Final = ("Customer", "Marketplace", "Language", "Intent", "First response due", "Resolution due",
                     "Assignee", "Status", "Order", "SKU")
DUE_FIELDS: Final = ("First response due", "Resolution due")

HEADER_LIMIT, SECTION_LIMIT, FIELD_LIMIT, CONTEXT_LIMIT = 150, 3000, 2000, 3000
BUTTON_TEXT_LIMIT, MAX_FIELDS, MAX_CONTEXT_ELEMENTS, FALLBACK_LIMIT = 75, 10, 10, 3000
INPUT_LIMIT, MAX_OPTIONS, OPTION_TEXT_LIMIT = 3000, 100, 75


def escape(text: str) -> str:
    """Slack's three control characters, escaped (mrkdwn and plain `text`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(text: str, limit: int = SECTION_LIMIT) -> str:
    lines = escape(text.strip()).splitlines() or [""]
    return cut("\n".join("> " + line for line in lines), limit)


def slack_time(value: str, timezone: ZoneInfo) -> str:
    """An ISO time as "Mon 14:05 CST (in 2 hours)": absolute in the team's timezone, relative by Slack itself
    (the `<!date>` token renders in each reader's locale and stays current). Non-times pass through."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return escape(value)
    if when.tzinfo is None:
        return escape(value)
    local = when.astimezone(timezone)
    absolute = local.strftime("%a %d %b %H:%M %Z")
    return f"{absolute} (<!date^{int(when.timestamp())}^{{ago}}|{local:%Y-%m-%d %H:%M %Z}>)"


def with_mentions(text: str, card: Card) -> str:
    """The card's mentions as Slack mentions: "@mei" → <@U0123> for a Slack identity, everyone → <!here>."""
    for mention, platform, user in card.mentions:
        if platform == "slack":
            text = text.replace(escape(mention), f"<@{user}>")
        elif platform == "*" and user == "here":
            text = text.replace(escape(mention), f"<!here> {escape(mention)}")
    return text


def button_value(card: Card, button: CardButton) -> str:
    value: dict[str, int] = {}
    if card.ticket_id is not None:
        value["ticket"] = card.ticket_id
    if getattr(card, "alert_id", None) is not None:
        value["alert"] = card.alert_id  # type: ignore[attr-defined]
    if card.suggestion_id is not None and button.action in ("send", "edit"):
        value["suggestion"] = card.suggestion_id
    return json.dumps(value, separators=(",", ":"))


def parse_button_value(value: str | None) -> dict[str, int]:
    """The ids a button carries; {} for a value kefu did not write."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: item for key, item in data.items() if isinstance(item, int) and not isinstance(item, bool)}


def _button(card: Card, button: CardButton) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": ACTION_PREFIX + button.action,
        "text": {"type": "plain_text", "text": cut(BUTTON_LABELS.get(button.action, button.label),
                                                   BUTTON_TEXT_LIMIT), "emoji": True},
        "value": button_value(card, button),
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    if button.action in CONFIRMS:
        title, text, confirm = CONFIRMS[button.action]
        element["confirm"] = {"title": {"type": "plain_text", "text": title},
                              "text": {"type": "plain_text", "text": text},
                              "confirm": {"type": "plain_text", "text": confirm},
                              "deny": {"type": "plain_text", "text": "Cancel"}}
    return element


def _field_text(field: CardField, timezone: ZoneInfo) -> str:
    value = slack_time(field.value, timezone) if field.label in DUE_FIELDS else escape(field.value)
    return cut(f"*{escape(field.label)}*\n{value}", FIELD_LIMIT)


def _context(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Context blocks of mrkdwn elements (at most 10 per block), each cut to Slack's limit."""
    elements = [{"type": "mrkdwn", "text": cut(line, CONTEXT_LIMIT)} for line in lines if line.strip()]
    return [{"type": "context", "elements": elements[i:i + MAX_CONTEXT_ELEMENTS]}
            for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)]


def header_text(card: Card) -> str:
    mark = SEVERITY_MARKS.get(card.severity or 0, "") if card.kind != "metric_alert" else ""
    mark = mark or KIND_MARKS.get(card.kind, "")
    return cut(f"{mark} {card.title}".strip(), HEADER_LIMIT)


def card_blocks(card: Card, *, timezone: ZoneInfo, follow_up: bool = False) -> list[dict[str, Any]]:
    """The card as Block Kit. `follow_up`: a later message of a ticket, posted in its card's thread (the
    facts are on the card already: only the message, the suggestion and the buttons)."""
    blocks: list[dict[str, Any]] = []
    fields = list(card.fields)
    by_label = {field.label: field for field in fields}
    shown: set[str] = set()
    if follow_up:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut(
            f"*New message from the customer* (ticket #{card.ticket_id})", SECTION_LIMIT)}})
    else:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": header_text(card), "emoji": True}})
        keys = KEY_FIELDS if card.kind == "triage" else tuple(f.label for f in fields if len(f.value) <= 200)
        facts = [by_label[label] for label in keys if label in by_label][:MAX_FIELDS]
        shown.update(f.label for f in facts)
        if facts:
            blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": _field_text(f, timezone)}
                                                         for f in facts]})
    if card.body:
        text = quote(card.body) if card.kind == "triage" else cut(with_mentions(escape(card.body), card),
                                                                  SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    quoted = [(f.label, f.value) for f in fields if f.label.startswith("Translation (")]
    if card.suggested_reply:
        quoted.append((f"Suggested reply ({card.language})" if card.language else "Suggested reply",
                       card.suggested_reply))
    quoted += [(f.label, f.value) for f in fields if f.label.startswith("Suggested reply (")]
    for label, value in quoted:
        shown.add(label)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut(
            f"*{escape(label)}*\n" + quote(value), SECTION_LIMIT)}})
    if card.buttons:
        blocks.append({"type": "actions", "block_id": f"kefu_buttons_{card.ticket_id or 0}",
                       "elements": [_button(card, b) for b in card.buttons][:25]})
    rest = [f for f in fields if f.label not in shown and f.label != "History"]
    if follow_up:
        rest = [f for f in rest if f.label in ("Intent", "Language", "Auto-reply")]
    lines = [f"*{escape(f.label)}:* {slack_time(f.value, timezone) if f.label in DUE_FIELDS else escape(f.value)}"
             for f in rest]
    history = by_label.get("History")
    if history is not None and not follow_up:
        lines.append("*History*\n" + escape(history.value))
    if card.footer:
        lines.append(escape(card.footer))
    blocks.extend(_context(lines))
    return blocks[:50]


def card_text(card: Card) -> str:
    """The notification text of a card (shown in notifications and by clients without blocks)."""
    text = header_text(card)
    if card.body:
        text += ": " + card.body.strip().splitlines()[0]
    return cut(escape(text), FALLBACK_LIMIT)


def edit_modal(*, ticket_id: int, suggestion_id: int | None, text: str, language: str | None,
               metadata: dict[str, Any]) -> dict[str, Any]:
    """The *Edit & send* modal, prefilled with the suggestion (or empty)."""
    hint = f" in {language}" if language else ""
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": json.dumps({**metadata, "ticket": ticket_id, "suggestion": suggestion_id}),
        "title": {"type": "plain_text", "text": cut(f"Reply · ticket #{ticket_id}", 24)},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{
            "type": "input",
            "block_id": REPLY_BLOCK,
            "label": {"type": "plain_text", "text": f"Reply to the customer{hint}"},
            "element": {"type": "plain_text_input", "action_id": REPLY_INPUT, "multiline": True,
                        "max_length": INPUT_LIMIT, **({"initial_value": cut(text, INPUT_LIMIT)} if text else {})},
        }],
    }


def wrong_intent_modal(*, ticket_id: int, current: str | None, intents: Sequence[str],
                       metadata: dict[str, Any]) -> dict[str, Any]:
    """The *Wrong intent* modal: the catalogue's intents in a select (Slack shows at most 100)."""
    options = [{"text": {"type": "plain_text", "text": cut(name, OPTION_TEXT_LIMIT)}, "value": name}
               for name in sorted(intents)[:MAX_OPTIONS]]
    return {
        "type": "modal",
        "callback_id": WRONG_INTENT_CALLBACK,
        "private_metadata": json.dumps({**metadata, "ticket": ticket_id}),
        "title": {"type": "plain_text", "text": cut(f"Intent · ticket #{ticket_id}", 24)},
        "submit": {"type": "plain_text", "text": "Correct"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{
            "type": "input",
            "block_id": INTENT_BLOCK,
            "label": {"type": "plain_text", "text": cut(f"The right intent (kefu said {current or '?'})", 2000)},
            "element": {"type": "static_select", "action_id": INTENT_INPUT, "options": options,
                        "placeholder": {"type": "plain_text", "text": "Choose an intent"}},
        }],
    }


def answer_blocks(text: str) -> list[dict[str, Any]]:
    """A command's text answer as sections (long answers split on line boundaries), in a code-free layout."""
    chunks: list[str] = []
    current = ""
    for line in escape(text).splitlines():
        if len(current) + len(line) + 1 > SECTION_LIMIT - 10:
            chunks.append(current)
            current = ""
        current += line + "\n"
    if current.strip():
        chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": cut(chunk.rstrip("\n"), SECTION_LIMIT)}}
            for chunk in chunks[:50]]
