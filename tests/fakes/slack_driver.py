"""Plays Slack's side towards kefu: builds the exact payloads Slack sends (Events API callbacks, slash commands,
block_actions, view_submission, url_verification; see /work/shared/protocols.md §1b) and delivers them either over
HTTP, signed as Slack signs them (§1a), to kefu's Request URL, or as Socket Mode envelopes through a `FakeSlack`.

Payloads refer to the fake's state: a user's `message` is first added to the fake's channel (so kefu can reply in
its thread), a `block_action` carries the message as it now reads in the fake, command and interaction payloads get
a fresh response_url and trigger_id from the fake, and a `view_submission` carries the view kefu opened.

    driver = SlackDriver(fake, events_url=f"{kefu_url}/slack/events")     # or SlackDriver(fake, transport="socket")
    delivery = await driver.command("/kefu", "metrics 7d", user_id="U0AGENT1", channel_id="C0TRIAGE")
    status, headers, body = delivery                                        # HTTP: what kefu answered
    ack = await fake.wait_for_ack_async(delivery.envelope_id)               # Socket Mode: what kefu acked
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp

from tests.fakes.slack import FakeSlack

Transport = Literal["http", "socket"]
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def signature_headers(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the signing secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Delivery:
    """What the driver sent and what came back. Over HTTP: `status`, `headers`, `body` of kefu's answer (it also
    unpacks as `status, headers, body = delivery`). Over Socket Mode: `envelope_id` (wait for its ack with
    `fake.wait_for_ack_async`)."""

    kind: str  # events_api | slash_commands | interactive
    payload: dict[str, Any]
    transport: Transport
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: str = ""  # the exact HTTP body sent
    envelope_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None

    def __iter__(self) -> Iterator[Any]:
        yield from (self.status, self.headers, self.body)

    def json(self) -> Any:
        return json.loads(self.body)


class SlackDriver:
    def __init__(
        self,
        fake: FakeSlack,
        *,
        events_url: str | None = None,
        transport: Transport = "http",
        signing_secret: str | None = None,
        verification_token: str = "kefu-legacy-verification-token",
        team_domain: str = "kefu-test",
    ) -> None:
        if transport == "http" and not events_url:
            raise ValueError("an HTTP driver needs events_url (kefu's Request URL, e.g. http://127.0.0.1:P/slack/events)")
        self.fake = fake
        self.events_url = events_url
        self.transport: Transport = transport
        self.signing_secret = fake.signing_secret if signing_secret is None else signing_secret
        self.verification_token = verification_token
        self.team_domain = team_domain

    # --- payloads ------------------------------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self.fake.workspace.users.get(user_id, {}).get("name", user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.fake.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.fake.team_id, "domain": self.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        return self.fake.workspace.channels.get(channel_id, channel_id.lower())

    def event_callback(self, inner_event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """The Events API envelope around an inner event."""
        kind = inner_event.get("type", "event")
        channel = inner_event.get("channel", "")
        return {
            "token": self.verification_token, "team_id": self.fake.team_id, "api_app_id": self.fake.app_id,
            "event": inner_event, "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": self.fake.team_id, "user_id": self.fake.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{kind}-{self.fake.team_id}-{channel}",
        }

    @staticmethod
    def _rich_text(text: str) -> list[dict[str, Any]]:
        return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5],
                 "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]

    def _message_event(self, kind: str, channel: str, user: str, text: str, *, thread_ts: str | None,
                       channel_type: str, subtype: str | None, bot_id: str | None, ts: str | None
                       ) -> dict[str, Any]:
        if ts is None:
            ts = self.fake.add_message(channel, user, text, thread_ts=thread_ts).ts
        event: dict[str, Any] = {"type": kind, "channel": channel, "user": user, "text": text, "ts": ts,
                                 "event_ts": ts, "team": self.fake.team_id, "blocks": self._rich_text(text)}
        if kind == "message":
            event["channel_type"] = channel_type
        if thread_ts:
            event["thread_ts"] = thread_ts
            parent = self.fake.message(channel, thread_ts)
            if parent is not None:
                event["parent_user_id"] = parent.user
        if subtype:
            event["subtype"] = subtype
        if bot_id:
            event["bot_id"] = bot_id
        if not subtype and not bot_id:
            event["client_msg_id"] = str(uuid.uuid4())
        return event

    # --- deliveries ----------------------------------------------------------------------------------------------

    async def event(self, inner_event: dict[str, Any], event_id: str | None = None, retry_num: int | None = None,
                    *, retry_reason: str = "http_timeout", bad_signature: bool = False,
                    timestamp_offset: int = 0) -> Delivery:
        """Deliver an Events API callback around `inner_event` (a fresh event_id unless given)."""
        return await self._deliver("events_api", self.event_callback(inner_event, event_id), retry_num=retry_num,
                                   retry_reason=retry_reason, bad_signature=bad_signature,
                                   timestamp_offset=timestamp_offset)

    async def message(self, channel: str, user: str, text: str, thread_ts: str | None = None, *,
                      channel_type: str = "channel", subtype: str | None = None, bot_id: str | None = None,
                      ts: str | None = None, event_id: str | None = None, retry_num: int | None = None,
                      bad_signature: bool = False, timestamp_offset: int = 0) -> Delivery:
        """A person (or, with `bot_id`/`subtype`, a bot) posts `text` in `channel` (in a thread with `thread_ts`):
        the message is added to the fake's channel and its `message` event delivered; `delivery.payload["event"]["ts"]`
        is its ts. With `ts`, the message is taken to be in the channel already (e.g. the bot's own card, to check
        that kefu ignores its own messages) and only the event is sent."""
        inner = self._message_event("message", channel, user, text, thread_ts=thread_ts, channel_type=channel_type,
                                    subtype=subtype, bot_id=bot_id, ts=ts)
        return await self.event(inner, event_id, retry_num, bad_signature=bad_signature,
                                timestamp_offset=timestamp_offset)

    async def app_mention(self, channel: str, user: str, text: str, thread_ts: str | None = None, *,
                          event_id: str | None = None) -> Delivery:
        """`text` should contain `<@{fake.bot_user_id}>` as Slack writes the mention."""
        inner = self._message_event("app_mention", channel, user, text, thread_ts=thread_ts, channel_type="channel",
                                    subtype=None, bot_id=None, ts=None)
        return await self.event(inner, event_id)

    async def command(self, command: str = "/kefu", text: str = "", *, user_id: str = "U0AGENT1",
                      channel_id: str = "C0TRIAGE", retry_num: int | None = None, bad_signature: bool = False,
                      timestamp_offset: int = 0) -> Delivery:
        """A slash command as Slack posts it (form fields; in Socket Mode the same fields as the payload dict)."""
        response_url = self.fake.new_response_url(channel=channel_id, user_id=user_id, kind="commands")
        trigger_id = self.fake.new_trigger_id(user_id)
        fields = {
            "token": self.verification_token, "team_id": self.fake.team_id, "team_domain": self.team_domain,
            "channel_id": channel_id, "channel_name": self._channel_name(channel_id), "user_id": user_id,
            "user_name": self._user(user_id)["name"], "command": command, "text": text,
            "api_app_id": self.fake.app_id, "is_enterprise_install": "false", "response_url": response_url,
            "trigger_id": trigger_id,
        }
        delivery = await self._deliver("slash_commands", fields, retry_num=retry_num, bad_signature=bad_signature,
                                       timestamp_offset=timestamp_offset)
        delivery.response_url, delivery.trigger_id = response_url, trigger_id
        return delivery

    async def block_action(self, action_id: str, value: str | None = None, *, user_id: str = "U0AGENT1",
                           channel_id: str = "C0TRIAGE", message_ts: str, block_id: str | None = None,
                           action_type: str = "button", bad_signature: bool = False,
                           timestamp_offset: int = 0) -> Delivery:
        """A click on the element `action_id` of the message at `message_ts`, which is read from the fake as it now
        stands (block_id, button text and — unless given — value come from it). `action_type="static_select"`
        sends `value` as the selected option."""
        message = self.fake.message(channel_id, message_ts)
        element = self._find_element(message.blocks if message else None, action_id)
        found_block_id, found = element if element else (None, {})
        if value is None:
            value = found.get("value")
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id or found_block_id or "actions",
                                  "type": action_type, "action_ts": self.fake.next_ts()}
        if action_type == "button":
            action["text"] = found.get("text") or {"type": "plain_text", "text": action_id, "emoji": True}
            if value is not None:
                action["value"] = value
        else:
            action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
        response_url = self.fake.new_response_url(channel=channel_id, user_id=user_id, message_ts=message_ts,
                                                  kind="actions")
        trigger_id = self.fake.new_trigger_id(user_id)
        payload = {
            "type": "block_actions", "user": self._user(user_id), "api_app_id": self.fake.app_id,
            "token": self.verification_token, "trigger_id": trigger_id, "team": self._team(),
            "enterprise": None, "is_enterprise_install": False,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                          "is_ephemeral": False},
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message": (message.as_event_message() if message else {"type": "message", "ts": message_ts, "text": ""})
            | {"team": self.fake.team_id},
            "response_url": response_url, "state": {"values": {}}, "actions": [action],
        }
        delivery = await self._deliver("interactive", payload, bad_signature=bad_signature,
                                       timestamp_offset=timestamp_offset)
        delivery.response_url, delivery.trigger_id = response_url, trigger_id
        return delivery

    @staticmethod
    def _find_element(blocks: list[dict[str, Any]] | None, action_id: str) -> tuple[str | None, dict[str, Any]] | None:
        for block in blocks or []:
            candidates = list(block.get("elements") or []) + [block.get("accessory"), block.get("element")]
            for element in candidates:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    return block.get("block_id"), element
        return None

    async def view_submission(self, callback_id: str, state_values: dict[str, dict[str, Any]], *,
                              private_metadata: str | None = None, user_id: str = "U0AGENT1",
                              view_id: str | None = None, bad_signature: bool = False) -> Delivery:
        """Submit a modal. The view is the one kefu opened (by `view_id`, else the latest with `callback_id`);
        `state_values` is `{block_id: {action_id: value}}` where a plain string stands for a plain_text_input's
        value and a dict is sent as given (e.g. `{"type": "static_select", "selected_option": {...}}`)."""
        views = self.fake.views()
        view = next((v for v in views if v["id"] == view_id), None) if view_id else next(
            (v for v in reversed(views) if v.get("callback_id") == callback_id), None)
        if view is None:
            view = {"id": view_id or f"V0DRIVER{uuid.uuid4().hex[:6].upper()}", "team_id": self.fake.team_id,
                    "type": "modal", "blocks": [], "private_metadata": "", "callback_id": callback_id,
                    "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
                    "title": {"type": "plain_text", "text": "kefu"}, "app_id": self.fake.app_id,
                    "bot_id": self.fake.bot_id, "root_view_id": None, "previous_view_id": None,
                    "external_id": "", "clear_on_close": False, "notify_on_close": False}
            view["root_view_id"] = view["id"]
        view.pop("user", None)
        values = {block: {action: ({"type": "plain_text_input", "value": value} if isinstance(value, str) else value)
                          for action, value in actions.items()}
                  for block, actions in state_values.items()}
        view = view | {"state": {"values": values}, "callback_id": callback_id,
                       "private_metadata": view.get("private_metadata", "") if private_metadata is None
                       else private_metadata}
        trigger_id = self.fake.new_trigger_id(user_id)
        payload = {
            "type": "view_submission", "team": self._team(), "user": self._user(user_id),
            "api_app_id": self.fake.app_id, "token": self.verification_token, "trigger_id": trigger_id,
            "view": view, "response_urls": [], "is_enterprise_install": False, "enterprise": None,
        }
        delivery = await self._deliver("interactive", payload, bad_signature=bad_signature)
        delivery.trigger_id = trigger_id
        return delivery

    async def url_verification(self, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
                               ) -> Delivery:
        """Slack's Request URL check (HTTP only): kefu must answer with the challenge."""
        if self.transport != "http":
            raise ValueError("url_verification only exists over HTTP")
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return await self._deliver("events_api", body)

    async def retry(self, delivery: Delivery, retry_num: int = 1, retry_reason: str = "http_timeout") -> Delivery:
        """Deliver the same payload again as Slack's retry: over HTTP with `X-Slack-Retry-Num`/`-Reason` (signed
        afresh), over Socket Mode as the same envelope with retry_attempt + 1."""
        if delivery.transport == "socket":
            assert delivery.envelope_id
            self.fake.redeliver(delivery.envelope_id, retry_reason=retry_reason)
            return Delivery(delivery.kind, delivery.payload, "socket", envelope_id=delivery.envelope_id,
                            response_url=delivery.response_url, trigger_id=delivery.trigger_id)
        again = await self._post(delivery.kind, delivery.raw, retry_num=retry_num, retry_reason=retry_reason)
        again.payload = delivery.payload
        again.response_url, again.trigger_id = delivery.response_url, delivery.trigger_id
        return again

    async def _deliver(self, kind: str, payload: dict[str, Any], *, retry_num: int | None = None,
                       retry_reason: str = "http_timeout", bad_signature: bool = False,
                       timestamp_offset: int = 0) -> Delivery:
        if self.transport == "socket":
            envelope_id = self.fake.socket_send(kind, payload, retry_attempt=retry_num or 0,
                                                retry_reason=retry_reason if retry_num else "")
            return Delivery(kind, payload, "socket", envelope_id=envelope_id)
        if kind == "events_api":
            raw = json.dumps(payload)
        elif kind == "slash_commands":
            raw = urlencode(payload)
        else:
            raw = urlencode({"payload": json.dumps(payload)})
        delivery = await self._post(kind, raw, retry_num=retry_num, retry_reason=retry_reason,
                                    bad_signature=bad_signature, timestamp_offset=timestamp_offset)
        delivery.payload = payload
        return delivery

    async def _post(self, kind: str, raw: str, *, retry_num: int | None = None, retry_reason: str = "http_timeout",
                    bad_signature: bool = False, timestamp_offset: int = 0) -> Delivery:
        assert self.events_url
        headers = {"Content-Type": "application/json" if kind == "events_api" else "application/x-www-form-urlencoded",
                   "User-Agent": SLACK_USER_AGENT}
        headers |= signature_headers(self.signing_secret, raw, int(time.time()) + timestamp_offset)
        if bad_signature:
            signature = headers["X-Slack-Signature"]
            headers["X-Slack-Signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                session.post(self.events_url, data=raw.encode(), headers=headers) as response:
            body = await response.text()
            return Delivery(kind, {}, "http", status=response.status, headers=dict(response.headers), body=body,
                            raw=raw)
