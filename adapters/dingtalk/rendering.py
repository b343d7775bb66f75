"""kefu's cards and command answers in DingTalk's formats: markdown (DingTalk's dialect: `#` headings, `**bold**`,
`> ` quotes, links, a hard line break as two spaces), ActionCards for the robot OpenAPI (`sampleActionCard2..5`:
up to five buttons) and robot-webhook bodies.

A button is a `dtmd://dingtalkclient/sendMessage` link: pressing it sends the text action ("/发送 42") as the
presser's own message to the robot, which carries it out like the button. Actions that need words (Edit, Wrong
intent) cannot be one click: the card shows what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from adapters.dingtalk.texts import Language, action_word, text
from bot.messages import Card
from handlers.phrases import card_field_label, card_title

CHANNEL = "dingtalk"
ONE_CLICK_ACTIONS = frozenset({"send", "assign", "escalate", "resolve", "alert_acknowledge", "alert_silence_2h",
                               "alert_show_tickets"})
TYPED_ACTIONS = ("edit", "wrong_intent")
MAX_BUTTONS = 5  # sampleActionCard5
SEVERITY_MARKS = {1: "🔴", 2: "🟠", 3: "🔵"}
TITLE_LIMIT = 64


@dataclass(frozen=True)
class RenderedCard:
    """A card ready for DingTalk: a short title (what notifications show), markdown, one-click buttons as
    (label, dtmd URL) and who it @-mentions."""

    title: str
    markdown: str
    buttons: tuple[tuple[str, str], ...] = ()
    at_user_ids: tuple[str, ...] = ()
    at_all: bool = False


def action_command(language: Language, action: str, subject_id: int) -> str:
    return f"/{action_word(language, action)} {subject_id}"


def dtmd_link(command: str) -> str:
    """A link that, pressed in DingTalk, sends `command` to the conversation as the presser's message."""
    return "dtmd://dingtalkclient/sendMessage?content=" + quote(command, safe="")


def markdown_of(core_text: str) -> str:
    """The core's light markdown (*bold*, ``` blocks) in DingTalk's dialect, line breaks kept."""
    lines: list[str] = []
    for line in core_text.replace("\r\n", "\n").split("\n"):
        if line.strip().startswith("```"):
            continue
        lines.append(re.sub(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])", r"**\1**", line))
    return "  \n".join(lines)


def _quoted(value: str) -> str:
    return "\n".join("> " + line for line in value.strip().splitlines() or [""])


def render_card(card: Card, language: Language, *, heading: str | None = None) -> RenderedCard:
    """`card` in DingTalk markdown; `heading` (e.g. "跟进") goes before its title."""
    mark = SEVERITY_MARKS.get(card.severity or 0, "")
    title = f"{mark} {card_title(card, language)}".strip()
    if heading:
        title = f"【{heading}】{title}"
    parts = [f"#### {title}"]
    if card.body:
        label = text(language, "customer_wrote") if card.kind == "triage" else ""
        parts.append((f"**{label}**\n\n" if label else "") + _quoted(card.body))
    if card.fields:
        parts.append("  \n".join(f"**{card_field_label(field.label, language)}**: {markdown_of(field.value)}"
                                 for field in card.fields))
    if card.suggested_reply:
        parts.append(f"**{text(language, 'suggested_reply')}**\n\n{_quoted(card.suggested_reply)}")
    if card.footer:
        parts.append(markdown_of(card.footer))
    subject = card.alert_id if card.alert_id is not None else card.ticket_id
    buttons: list[tuple[str, str]] = []
    typed: list[str] = []
    for button in card.buttons:
        if subject is None:
            break
        if button.action in ONE_CLICK_ACTIONS and len(buttons) < MAX_BUTTONS:
            label = text(language, button.action)
            buttons.append((label, dtmd_link(action_command(language, button.action, subject))))
            typed.append(action_command(language, button.action, subject))
        elif button.action in TYPED_ACTIONS:
            usage = "edit_usage" if button.action == "edit" else "intent_usage"
            typed.append(text(language, usage, ticket=subject))
    if typed:
        parts.append(f"{text(language, 'commands_hint')} " + " · ".join(typed))
    at_ids = tuple(dict.fromkeys(user for _name, platform, user in card.mentions if platform == CHANNEL and user))
    at_all = any(platform == "*" for _name, platform, _user in card.mentions)
    if at_ids or at_all:
        parts.append(" ".join([f"@{user}" for user in at_ids] + (["@所有人" if language == "zh" else "@all"]
                                                                 if at_all else [])))
    return RenderedCard(title=title[:TITLE_LIMIT], markdown="\n\n".join(parts), buttons=tuple(buttons),
                        at_user_ids=at_ids, at_all=at_all)


def group_message(card: RenderedCard) -> tuple[str, dict[str, Any]]:
    """(msgKey, msgParam) of `card` for the robot OpenAPI (groupMessages/send)."""
    if not card.buttons:
        return "sampleMarkdown", {"title": card.title, "text": card.markdown}
    if len(card.buttons) == 1:
        label, url = card.buttons[0]
        return "sampleActionCard", {"title": card.title, "text": card.markdown, "singleTitle": label,
                                    "singleURL": url}
    param: dict[str, Any] = {"title": card.title, "text": card.markdown}
    for number, (label, url) in enumerate(card.buttons, start=1):
        param[f"actionTitle{number}"] = label
        param[f"actionURL{number}"] = url
    return f"sampleActionCard{len(card.buttons)}", param


def with_links(card: RenderedCard) -> str:
    """The card's markdown with its buttons as links underneath (where a message can have no buttons)."""
    if not card.buttons:
        return card.markdown
    return card.markdown + "\n\n" + " | ".join(f"[{label}]({url})" for label, url in card.buttons)


def answer_markdown(answer: str, heading: str, *, chart_url: str | None = None,
                    chart_note: str | None = None, chart_label: str = "") -> str:
    """A command's answer as a markdown reply: a heading in the platform's language, the core's text, the chart."""
    parts = [f"#### {heading}", markdown_of(answer)]
    if chart_url:
        parts.append(f"[📈 {chart_label}]({chart_url})")
    elif chart_note:
        parts.append(chart_note)
    return "\n\n".join(parts)
