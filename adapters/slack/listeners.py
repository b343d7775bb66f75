"""What kefu does when Slack calls: slash commands, card buttons, modal submissions, thread replies, mentions.

Every listener turns Slack's payload into a neutral call on the core (`handle_command`, `handle_action`,
`handle_alert_action`) and Slack's way of answering: commands are acknowledged at once and answered through
`response_url` (ephemeral unless the command ends with "public"); button presses get an ephemeral answer for the
presser while the card itself is updated through the outbox; modals answer Slack's 3-second deadline with errors
shown in the form. A thread reply under a ticket's card is sent to the customer (unless it starts with "//" or
"note:", which keeps it among the team), and gets a ✅ when it went out. Redeliveries are dropped by message id.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    ACTION_PREFIX,
    EDIT_CALLBACK,
    INTENT_BLOCK,
    INTENT_INPUT,
    REPLY_BLOCK,
    REPLY_INPUT,
    WRONG_INTENT_CALLBACK,
    answer_blocks,
    cut,
    edit_modal,
    parse_button_value,
    wrong_intent_modal,
)
from adapters.slack.sender import CHANNEL, message_ref, slack_error
from bot.messages import Action, AlertAction, CommandRequest
from bot.team_channel import Capabilities, TeamCore

if TYPE_CHECKING:
    from handlers.commands.answers import CommandAnswer

log = logging.getLogger("kefu.slack")

PUBLIC_WORDS = frozenset({"public", "share", "in_channel", "公开"})
NOTE_PREFIXES = ("//", "note:", "备注")
MODAL_DEADLINE_SECONDS = 2.5  # Slack waits 3 s for a view_submission's ack
FALLBACK_LIMIT = 3000


def command_text(command: str, text: str) -> tuple[str, bool]:
    """The command line for kefu's parser and whether the answer is for the whole channel."""
    words = text.split()
    public = bool(words) and words[-1].casefold() in PUBLIC_WORDS
    if public:
        words = words[:-1]
    return " ".join([command, *words]), public


def plain_text(slack_text: str) -> str:
    """A Slack message's text as the customer should read it: links and mentions unwrapped, entities decoded."""
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", slack_text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"<[@#!][^|>]*\|([^>]+)>", r"\1", text)
    return html.unescape(text).strip()


class SlackListeners:
    """Registers kefu's listeners on a Bolt app; `client` is the bot's Web API client."""

    def __init__(self, core: TeamCore, client: AsyncWebClient, capabilities: Capabilities) -> None:
        self.core = core
        self.client = client
        self.capabilities = capabilities
        self._names: dict[str, str | None] = {}

    def register(self, app: AsyncApp) -> None:
        app.command(re.compile(r"^/.+"))(self.on_command)
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self.on_button)
        app.action(re.compile(".*"))(self.on_unknown_action)
        app.view(EDIT_CALLBACK)(self.on_edit_submitted)
        app.view(WRONG_INTENT_CALLBACK)(self.on_intent_submitted)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)

    async def name_of(self, user_id: str, payload_user: dict[str, Any] | None = None) -> str | None:
        """A user's Slack display name (what a new kefu agent is named after): from the payload, else users.info
        (remembered: names rarely change and the lookup costs a Web API call)."""
        for key in ("username", "name"):
            if isinstance(payload_user, dict) and isinstance(payload_user.get(key), str) and payload_user[key].strip():
                return str(payload_user[key]).strip()
        if user_id not in self._names:
            try:
                user = (await self.client.users_info(user=user_id))["user"]
            except SlackApiError as exc:
                log.info("users.info for %s failed: %s", user_id, slack_error(exc))
                return None
            profile = user.get("profile") or {}
            self._names[user_id] = profile.get("display_name") or user.get("name") or profile.get("real_name") or None
        return self._names[user_id]

    # ---- commands ------------------------------------------------------------------------------------------

    async def on_command(self, ack: Callable[..., Awaitable[Any]], command: dict[str, Any],
                         respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()  # within Slack's 3 s; the answer follows through response_url
        text, public = command_text(_text(command.get("command")) or "/kefu", _text(command.get("text")))
        user, channel = _text(command.get("user_id")), _text(command.get("channel_id")) or None
        try:
            answer = await self._answer(text, user, _text(command.get("user_name")) or None, channel)
        except Exception:
            log.exception("command %r failed", text)
            await respond(text="kefu could not answer that command because of an internal error; it is in "
                               "kefu's log.", response_type="ephemeral")
            return
        response_type = "in_channel" if public else "ephemeral"
        await respond(text=cut(answer.text, FALLBACK_LIMIT), blocks=answer_blocks(answer.text),
                      response_type=response_type, replace_original=False)
        if answer.chart is not None:
            note = await self._share_chart(answer.chart, channel=channel, user=user, public=public)
            if note:
                await respond(text=note, response_type="ephemeral", replace_original=False)

    async def _answer(self, text: str, user: str, user_name: str | None, channel: str | None) -> CommandAnswer:
        actor = await self.core.desk.actor_for(CHANNEL, user, user_name or await self.name_of(user))
        request = CommandRequest(text=text, platform=CHANNEL, actor_id=user, channel_id=channel)
        return await self.core.handle_command(request, actor, self.capabilities)

    async def _share_chart(self, path: Path, *, channel: str | None, user: str, public: bool,
                           thread_ts: str | None = None) -> str | None:
        """Upload a chart where its answer went (the channel, or the asker's direct messages for a private
        answer); when Slack refuses the upload, a note with a link (or the server path) instead."""
        try:
            if public and channel:
                target = channel
            else:
                opened = await self.client.conversations_open(users=user)
                target = opened["channel"]["id"]
            arguments: dict[str, Any] = {"channel": target, "file": str(path), "filename": path.name,
                                         "title": path.stem.replace("_", " ")}
            if thread_ts:
                arguments["thread_ts"] = thread_ts
            await self.client.files_upload_v2(**arguments)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("chart upload refused by Slack (%s); answering with a link", error)
            link = self.core.chart_link(path)
            where = f"see it at {link}" if link else f"it is saved on the kefu server as {path}"
            return f"Slack did not take the chart ({error}): {where}."
        except OSError as exc:
            return f"The chart could not be uploaded: {exc}."
        return None if public else "The chart is in your direct messages with kefu."

    # ---- buttons -------------------------------------------------------------------------------------------

    async def on_button(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                        respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()
        name = _text(action.get("action_id")).removeprefix(ACTION_PREFIX)
        ids = parse_button_value(_text(action.get("value")))
        user = _text(_object(body.get("user")).get("id"))
        display_name = await self.name_of(user, body.get("user"))
        channel = (_text(_object(body.get("channel")).get("id"))
                   or _text(_object(body.get("container")).get("channel_id")) or None)
        if "alert" in ids:
            result = await self.core.handle_alert_action(AlertAction(name, ids["alert"], CHANNEL, user,
                                                                     display_name))
            await respond(text=result.message, response_type="ephemeral", replace_original=False)
            return
        if "ticket" not in ids:
            await respond(text="This button carries no ticket kefu knows: the card may come from another app or "
                               "an older kefu. Use /ticket ID instead.", response_type="ephemeral",
                          replace_original=False)
            return
        ticket_id = ids["ticket"]
        if name in ("edit", "wrong_intent"):
            await self._open_modal(name, ticket_id, ids.get("suggestion"), body, channel, respond)
            return
        values = {"suggestion_id": str(ids["suggestion"])} if name == "send" and "suggestion" in ids else {}
        result = await self.core.handle_action(Action(name, ticket_id, CHANNEL, user, values, display_name))
        await respond(text=result.message, response_type="ephemeral", replace_original=False)

    async def _open_modal(self, name: str, ticket_id: int, suggestion_id: int | None, body: dict[str, Any],
                          channel: str | None, respond: Callable[..., Awaitable[Any]]) -> None:
        ticket = await self.core.desk.ticket(ticket_id)
        if ticket is None:
            await respond(text=f"Ticket #{ticket_id} does not exist (any more).", response_type="ephemeral",
                          replace_original=False)
            return
        if ticket.status == "resolved":
            await respond(text=f"Ticket #{ticket_id} is resolved: there is nothing to send or correct on it any "
                               f"more. Its history: /ticket {ticket_id}.", response_type="ephemeral",
                          replace_original=False)
            return
        metadata = {"channel": channel}
        if name == "edit":
            text = await self.core.desk.suggestion_text(suggestion_id) if suggestion_id else None
            view = edit_modal(ticket_id=ticket_id, suggestion_id=suggestion_id, text=text or "",
                              language=ticket.language, metadata=metadata)
        else:
            view = wrong_intent_modal(ticket_id=ticket_id, current=ticket.intent, intents=self.core.intent_names(),
                                      metadata=metadata)
        try:
            await self.client.views_open(trigger_id=_text(body.get("trigger_id")), view=view)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("views.open for ticket %s failed: %s", ticket_id, error)
            await respond(text=f"Slack did not open the form ({error}); press the button again.",
                          response_type="ephemeral", replace_original=False)

    async def on_unknown_action(self, ack: Callable[..., Awaitable[Any]], action: dict[str, Any],
                                respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()
        await respond(text=f"kefu does not know the button {action.get('action_id')!r}: the card may come from "
                           "an older kefu. Use /ticket ID to see the ticket now.", response_type="ephemeral",
                      replace_original=False)

    # ---- modals --------------------------------------------------------------------------------------------

    async def on_edit_submitted(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                                view: dict[str, Any]) -> None:
        metadata = _metadata(view)
        state = _object(_object(view.get("state")).get("values"))
        text = _text(_object(_object(state.get(REPLY_BLOCK)).get(REPLY_INPUT)).get("value"))
        if not text.strip():
            await ack(response_action="errors", errors={REPLY_BLOCK: "Write the reply to send."})
            return
        values = {"text": text}
        if isinstance(metadata.get("suggestion"), int):
            values["suggestion_id"] = str(metadata["suggestion"])
        await self._submit(ack, body, metadata, REPLY_BLOCK, "edit", values)

    async def on_intent_submitted(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                                  view: dict[str, Any]) -> None:
        metadata = _metadata(view)
        state = _object(_object(view.get("state")).get("values"))
        selected = _object(_object(_object(state.get(INTENT_BLOCK)).get(INTENT_INPUT)).get("selected_option"))
        if not _text(selected.get("value")):
            await ack(response_action="errors", errors={INTENT_BLOCK: "Choose the right intent."})
            return
        await self._submit(ack, body, metadata, INTENT_BLOCK, "wrong_intent", {"intent": selected["value"]})

    async def _submit(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], metadata: dict[str, Any],
                      block: str, name: str, values: dict[str, str]) -> None:
        user = _text(_object(body.get("user")).get("id"))
        ticket_id = metadata.get("ticket")
        if not isinstance(ticket_id, int):
            await ack(response_action="errors", errors={block: "This form lost its ticket; open it again."})
            return
        display_name = await self.name_of(user, body.get("user"))
        task = asyncio.ensure_future(self.core.handle_action(Action(name, ticket_id, CHANNEL, user, values,
                                                                    display_name)))
        try:
            result = await asyncio.wait_for(asyncio.shield(task), MODAL_DEADLINE_SECONDS)
        except TimeoutError:
            await ack()  # Slack's deadline: close the form, tell the result when it comes
            result = await task
        else:
            if not result.ok:
                await ack(response_action="errors", errors={block: cut(result.message, 2000)})
                return
            await ack()
        channel = metadata.get("channel")
        if channel:
            await self._ephemeral(channel, user, result.message)

    async def _ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=cut(text, FALLBACK_LIMIT),
                                                 **({"thread_ts": thread_ts} if thread_ts else {}))
        except SlackApiError as exc:
            log.warning("could not tell %s in %s: %s", user, channel, slack_error(exc))

    # ---- messages ------------------------------------------------------------------------------------------

    async def on_message(self, event: dict[str, Any]) -> None:
        if event.get("subtype") not in (None, "file_share", "thread_broadcast") or event.get("bot_id"):
            return
        channel, ts, thread_ts = _text(event.get("channel")), _text(event.get("ts")), _text(event.get("thread_ts"))
        user = _text(event.get("user"))
        if not channel or not ts or not user or not thread_ts or thread_ts == ts:
            return
        ticket = await self.core.desk.ticket_for_card(CHANNEL, message_ref(channel, thread_ts))
        if ticket is None:
            return
        text = plain_text(_text(event.get("text")))
        if not text or text.casefold().startswith(NOTE_PREFIXES):
            return
        if not await self.core.desk.first_delivery(CHANNEL, f"message:{channel}:{ts}"):
            return
        result = await self.core.handle_action(Action("edit", ticket.id, CHANNEL, user, {"text": text},
                                                      await self.name_of(user)))
        if result.ok:
            try:
                await self.client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")
            except SlackApiError as exc:
                log.info("could not mark the reply as sent: %s", slack_error(exc))
        else:
            await self._ephemeral(channel, user, f"Not sent to the customer: {result.message}", thread_ts)

    async def on_mention(self, event: dict[str, Any], say: Callable[..., Awaitable[Any]]) -> None:
        channel, ts, user = _text(event.get("channel")), _text(event.get("ts")), _text(event.get("user"))
        if not channel or not ts or event.get("bot_id"):
            return
        text = re.sub(r"^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*", "", _text(event.get("text"))).strip()
        if not await self.core.desk.first_delivery(CHANNEL, f"mention:{channel}:{ts}"):
            return
        answer = await self._answer(text if text.startswith("/") else f"/kefu {text}".strip(), user, None, channel)
        thread = _text(event.get("thread_ts")) or ts
        await say(text=cut(answer.text, FALLBACK_LIMIT), blocks=answer_blocks(answer.text), thread_ts=thread)
        if answer.chart is not None:
            note = await self._share_chart(answer.chart, channel=channel, user=user, public=True, thread_ts=thread)
            if note:
                await say(text=note, thread_ts=thread)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(_text(view.get("private_metadata")) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# Bolt hands listeners Slack's JSON as parsed: a field of an unexpected type is read as absent, not trusted.
def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
