"""kefu's neutral cards in WeCom's formats: pure functions, no client here.

A card with buttons becomes a `template_card` of type `button_interaction` (an app message): the title and the
state on top, the customer's message, the key facts as up to six key/value lines, the suggested reply as a quote,
and up to six buttons. WeCom has no forms, so *Edit* and *Wrong intent* are left out (the console has them).
A card without buttons (a notice, an SLA alert, a resolved alert) becomes markdown, for an app message or a
group robot. Texts are cut to WeCom's limits, measured in characters for card parts and in UTF-8 bytes for
markdown.

Ids travel in what WeCom echoes back on a click: the card's `task_id` names the ticket or alert
("kefu-t<ticket>-<n>", "kefu-a<alert>-<n>") and each button's `key` the action ("kefu:send", "kefu:send:s<id>"
with the suggestion the card showed).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from adapters.wecom.texts import Language, field_label, text
from bot.messages import Card, CardButton
from handlers.phrases import card_title

KEY_PREFIX: Final = "kefu:"
BUTTON_ACTIONS: Final = ("send", "assign", "escalate", "resolve", "alert_acknowledge", "alert_silence_2h",
                         "alert_show_tickets")
KEY_FIELDS: Final = ("Customer", "Marketplace", "Language", "Intent", "First response due", "Assignee", "Status",
                     "Order", "Metric", "Value", "Thresholds", "Window")
TIME_FIELDS: Final = ("First response due", "Resolution due", "Firing since")
SEVERITY_MARKS: Final = {1: "🔴", 2: "🟠", 3: "🟡"}

TITLE_LIMIT, DESC_LIMIT, SUBTITLE_LIMIT, QUOTE_LIMIT = 36, 44, 112, 300
VALUE_LIMIT, MAX_LINES, MAX_BUTTONS, BUTTON_TEXT_LIMIT = 26, 6, 6, 10
APP_MARKDOWN_BYTES, ROBOT_MARKDOWN_BYTES = 2048, 4096
_TASK = re.compile(r"kefu-(?:(t|a)(\d+)-)?(\d+)")


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def cut_bytes(value: str, limit: int) -> str:
    """`value` in at most `limit` UTF-8 bytes (markdown limits count bytes), cut on a character boundary."""
    data = value.encode()
    if len(data) <= limit:
        return value
    return data[: limit - 3].decode(errors="ignore") + "…"


def task_id(card: Card, serial: int) -> str:
    """The card's task id: unique per app (one per posted card) and naming the card's ticket or alert."""
    if card.ticket_id is not None:
        return f"kefu-t{card.ticket_id}-{serial}"
    if card.alert_id is not None:
        return f"kefu-a{card.alert_id}-{serial}"
    return f"kefu-{serial}"


def parse_task_id(value: str) -> dict[str, int]:
    """{"ticket": id} or {"alert": id} of a task id kefu wrote; {} for any other."""
    match = _TASK.fullmatch(value or "")
    if match is None or match.group(1) is None:
        return {}
    return {"ticket" if match.group(1) == "t" else "alert": int(match.group(2))}


def button_key(card: Card, button: CardButton) -> str:
    key = KEY_PREFIX + button.action
    if button.action == "send" and card.suggestion_id is not None:
        key += f":s{card.suggestion_id}"
    return key


def parse_button_key(key: str) -> tuple[str, int | None] | None:
    """(action, suggestion id) of a button key kefu wrote; None for any other."""
    if not key.startswith(KEY_PREFIX):
        return None
    action, _, extra = key.removeprefix(KEY_PREFIX).partition(":")
    if action not in BUTTON_ACTIONS:
        return None
    suggestion = int(extra[1:]) if extra.startswith("s") and extra[1:].isdigit() else None
    return action, suggestion


def wecom_buttons(card: Card) -> list[CardButton]:
    """The card's buttons WeCom can carry (no forms: Edit and Wrong intent stay in the console)."""
    return [button for button in card.buttons if button.action in BUTTON_ACTIONS][:MAX_BUTTONS]


def shown_time(value: str, timezone: ZoneInfo) -> str:
    """An ISO time as "11-20 18:00" in the team's timezone; anything else as it is."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        return value
    return when.astimezone(timezone).strftime("%m-%d %H:%M")


def _value(label: str, value: str, timezone: ZoneInfo) -> str:
    return shown_time(value, timezone) if label in TIME_FIELDS else value


def title_of(card: Card, language: Language = "en") -> str:
    """The card's title in `language` with its severity mark; the severity in it goes (the card shows it beside
    the title)."""
    mark = SEVERITY_MARKS.get(card.severity or 0, "") if card.kind == "triage" else ""
    title = card_title(card, language)
    if card.severity is not None:
        title = _SEVERITY_IN_TITLE.sub("", title)
    return f"{mark} {title}".strip()


_SEVERITY_IN_TITLE = re.compile(r" · (?:severity \d\b|\d级)")


def template_card(card: Card, *, task: str, language: Language, timezone: ZoneInfo,
                  replace_text: str | None = None) -> dict[str, Any]:
    """The card as a `button_interaction` template card. A card without buttons (an update after the ticket
    was resolved) keeps one greyed-out button showing `replace_text`."""
    fields = {field.label: field.value for field in card.fields}
    lines = [{"keyname": field_label(language, label), "value": cut(_value(label, fields[label], timezone),
                                                                      VALUE_LIMIT)}
             for label in KEY_FIELDS if fields.get(label)][:MAX_LINES]
    desc = " · ".join(part for part in (
        fields.get("Status") and f"{field_label(language, 'Status')}: {fields['Status']}",
        card.severity and f"{field_label(language, 'Severity')} {card.severity}",
    ) if part)
    buttons = [{"text": cut(text(language, b.action), BUTTON_TEXT_LIMIT), "key": button_key(card, b),
                "style": 1 if b.style == "primary" else (3 if b.style == "danger" else 2)}
               for b in wecom_buttons(card)]
    body: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "kefu"},
        "main_title": {"title": cut(title_of(card, language), TITLE_LIMIT),
                       **({"desc": cut(desc, DESC_LIMIT)} if desc else {})},
        "task_id": task,
    }
    if card.body.strip():
        body["sub_title_text"] = cut(card.body.strip(), SUBTITLE_LIMIT)
    if lines:
        body["horizontal_content_list"] = lines
    if card.suggested_reply:
        label = text(language, "suggested_reply") + (f" ({card.language})" if card.language else "")
        body["quote_area"] = {"type": 0, "title": label, "quote_text": cut(card.suggested_reply, QUOTE_LIMIT)}
    if buttons:
        body["button_list"] = buttons
    else:
        body["button_list"] = [{"text": text(language, "done"), "key": KEY_PREFIX + "done", "style": 2}]
        body["replace_text"] = replace_text or text(language, "done")
    return body


def with_mentions(value: str, card: Card) -> str:
    """The card's mentions as WeCom markdown mentions ("@mei" → <@zhangsan>), for group robots."""
    for mention, platform, user in card.mentions:
        if platform == "wecom":
            value = value.replace(mention, f"<@{user}>")
    return value


def markdown(card: Card, *, language: Language, timezone: ZoneInfo, limit: int = APP_MARKDOWN_BYTES,
             mentions: bool = False) -> str:
    """The card as WeCom markdown (title, body, facts, history, footer), cut to `limit` bytes."""
    lines = [f"**{title_of(card, language)}**"]
    if card.body.strip():
        body = card.body.strip()
        lines.append("> " + "\n> ".join(body.splitlines()) if card.kind == "triage" else body)
    for field in card.fields:
        if field.label == "History":
            continue
        lines.append(f"{field_label(language, field.label)}: "
                     f"<font color=\"comment\">{_value(field.label, field.value, timezone)}</font>")
    if card.suggested_reply:
        lines.append(f"{text(language, 'suggested_reply')}:\n> {card.suggested_reply}")
    history = next((field.value for field in card.fields if field.label == "History"), None)
    if history:
        lines.append(f"{field_label(language, 'History')}:\n{history}")
    if card.footer:
        lines.append(f"<font color=\"comment\">{card.footer}</font>")
    rendered = "\n".join(lines)
    return cut_bytes(with_mentions(rendered, card) if mentions else rendered, limit)
