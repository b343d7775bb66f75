"""What kefu does with a DingTalk chatbot message (an @-mention in a group or a 1:1 message to the robot).

A text action ("/发送 42", "/send 42", what a card's button sends) becomes `core.handle_action` (or
`handle_alert_action` for an alert's "/确认告警 7"); anything else is a command ("/指标 7天", "@kefu metrics 7d",
"metrics 7d") for `core.handle_command`, both asked in the adapter's language so that the core answers in it. The
answer goes back through the message's sessionWebhook as markdown headed in that language, a chart as a link to
kefu's own server (DingTalk's media upload cannot be pointed anywhere but DingTalk). A redelivered message (the same
msgId) is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dingtalk_stream import ChatbotHandler, ChatbotMessage

from adapters.dingtalk.rendering import CHANNEL, answer_markdown, markdown_of
from adapters.dingtalk.texts import (
    ALERT_ACTION_WORDS,
    COMMAND_HEADINGS,
    TICKET_ACTION_WORDS,
    Language,
    text,
)
from bot.messages import Action, AlertAction, CommandRequest
from bot.team_channel import Capabilities, TeamCore
from handlers.commands.vocabulary import COMMAND_ALIASES, DEFAULT_BOT_NAMES

if TYPE_CHECKING:
    from handlers.actions import ActionResult

log = logging.getLogger("kefu.dingtalk")

_WORD_TO_ACTION = {word.casefold(): name for table in (TICKET_ACTION_WORDS, ALERT_ACTION_WORDS)
                   for name, words in table.items() for language_words in words.values() for word in language_words}
_ACTION = re.compile(r"^/?\s*(\S+?)\s*#?(\d+)(?:\s+(.*))?$", re.DOTALL)
_MENTION = re.compile(r"^\s*@(" + "|".join(re.escape(name) for name in DEFAULT_BOT_NAMES) + r")\b\s*", re.IGNORECASE)


@dataclass(frozen=True)
class TextAction:
    """A typed action: its name (a ticket's or an alert's), the ticket or alert id, and the words after it."""

    name: str
    subject_id: int
    rest: str


def parse_text_action(message: str) -> TextAction | None:
    """The action `message` asks for ("/发送 42", "send #42", "/编辑 42 您好…"), or None for anything else."""
    match = _ACTION.match(message.strip())
    if match is None:
        return None
    name = _WORD_TO_ACTION.get(match.group(1).casefold())
    if name is None:
        return None
    return TextAction(name, int(match.group(2)), (match.group(3) or "").strip())


def message_text(message: ChatbotMessage) -> str:
    """The words of a text message, without a leading "@kefu" typed by hand (DingTalk strips real @-mentions)."""
    content = getattr(message.text, "content", None)
    return _MENTION.sub("", content).strip() if isinstance(content, str) else ""


class DingTalkListeners:
    """Handles chatbot messages on kefu's loop; `language` is that of the adapter's own words."""

    def __init__(self, core: TeamCore, capabilities: Capabilities, language: Language) -> None:
        self.core = core
        self.capabilities = capabilities
        self.language = language

    async def on_message(self, message: ChatbotMessage, replier: ChatbotHandler) -> None:
        if message.message_type != "text" or not message.message_id or not isinstance(message.message_id, str):
            return
        if not await self.core.desk.first_delivery(CHANNEL, f"message:{message.message_id}"):
            log.info("DingTalk message %s delivered again: already handled", message.message_id)
            return
        words = message_text(message)
        if not words:
            return
        user = next((who for who in (message.sender_staff_id, message.sender_id) if isinstance(who, str) and who), "")
        nick = message.sender_nick if isinstance(message.sender_nick, str) else None
        conversation = message.conversation_id if isinstance(message.conversation_id, str) else None
        typed = parse_text_action(words)
        if typed is not None:
            reply = await self._act(typed, user, nick)
        else:
            reply = await self._answer(words, user, nick, conversation)
        title = reply.split("\n", 1)[0].lstrip("# ").strip()[:64] or text(self.language, "answer")
        sent = await asyncio.to_thread(replier.reply_markdown, title, reply, message)
        if sent is None or (isinstance(sent, dict) and sent.get("errcode") not in (0, None)):
            log.warning("the reply to DingTalk message %s did not go through the sessionWebhook: %s",
                        message.message_id, sent)

    async def _act(self, typed: TextAction, user: str, nick: str | None) -> str:
        if typed.name in ALERT_ACTION_WORDS:
            result = await self.core.handle_alert_action(AlertAction(typed.name, typed.subject_id, CHANNEL, user,
                                                                     nick, language=self.language))
            return self._result(result)
        values: dict[str, str] = {}
        if typed.name == "edit":
            if not typed.rest:
                return (f"{text(self.language, 'refused')}\n\n"
                        f"{text(self.language, 'needs_text', ticket=typed.subject_id)}")
            values = {"text": typed.rest}
        elif typed.name == "wrong_intent":
            if not typed.rest:
                return (f"{text(self.language, 'refused')}\n\n"
                        f"{text(self.language, 'needs_intent', ticket=typed.subject_id)}")
            values = {"intent": typed.rest.split()[0]}
        elif typed.name == "escalate" and typed.rest:
            values = {"reason": typed.rest}
        result = await self.core.handle_action(Action(typed.name, typed.subject_id, CHANNEL, user, values, nick,
                                                      language=self.language))
        return self._result(result)

    def _result(self, result: ActionResult) -> str:
        return f"{text(self.language, 'done' if result.ok else 'refused')}\n\n{markdown_of(result.message)}"

    async def _answer(self, words: str, user: str, nick: str | None, conversation: str | None) -> str:
        line = words if words.startswith("/") else f"/kefu {words}"
        actor = await self.core.desk.actor_for(CHANNEL, user, nick)
        request = CommandRequest(text=line, platform=CHANNEL, actor_id=user, channel_id=conversation,
                                 language=self.language)
        try:
            answer = await self.core.handle_command(request, actor, self.capabilities)
        except Exception:
            log.exception("command %r failed", line)
            return text(self.language, "error")
        chart_url = self.core.chart_link(answer.chart) if answer.chart is not None else None
        note = text(self.language, "chart_no_link") if answer.chart is not None and chart_url is None else None
        return answer_markdown(answer.text, self._heading(line), chart_url=chart_url, chart_note=note,
                               chart_label=text(self.language, "chart"))

    def _heading(self, line: str) -> str:
        words = line.lstrip("/").split()
        if words and words[0].casefold() in ("kefu", "客服") and len(words) > 1:
            words = words[1:]
        command = COMMAND_ALIASES.get(words[0].casefold()) if words else None
        heading = COMMAND_HEADINGS[self.language].get(command or "", "")
        answer = text(self.language, "answer")
        return f"{answer} · {heading}" if heading else answer
