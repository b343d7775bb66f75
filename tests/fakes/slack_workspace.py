"""The state and Web API semantics of the fake Slack workspace: channels, users, messages (with threads and edits),
ephemeral messages, files uploaded the v2 way, modal views, trigger ids, response_urls and Socket Mode tickets.

`SlackWorkspace` knows nothing about HTTP or threads: `tests/fakes/slack.py` parses requests, checks tokens, injects
faults and holds the lock; this module answers each method with Slack's real response shape and error codes
(checked against Slack's method reference; where Slack's answer is not documented, the choice is noted below).

Time comes from `now()` / `wall()`, which a test can move forward with `advance()` (trigger ids expire after 3 s and
response_urls after 30 min by this clock; no test has to sleep).
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.slack_blocks import message_block_errors, view_errors

Answer = tuple[int, dict[str, Any]]

TRIGGER_LIFETIME_SECONDS = 3.0
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60.0
RESPONSE_URL_MAX_USES = 5
MESSAGE_TEXT_LIMIT = 40_000
TS_PATTERN = re.compile(r"^\d{9,10}\.\d{6}$")

DEFAULT_USERS: dict[str, dict[str, str]] = {
    "U0AGENT1": {"name": "mei", "real_name": "Mei Lin", "tz": "Asia/Shanghai"},
    "U0AGENT2": {"name": "tom", "real_name": "Tom Becker", "tz": "Europe/Berlin"},
    "U0MANAGER": {"name": "ana", "real_name": "Ana Souza", "tz": "America/Sao_Paulo"},
}
DEFAULT_CHANNELS = ("C0TRIAGE", "C0ALERTS", "C0MANAGERS")


@dataclass
class SlackMessage:
    """A message as it now reads in a channel (chat.update edits it in place; `edits` counts the updates)."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    edits: int = 0
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (emoji name, user) as reactions.add added them

    def as_event_message(self) -> dict[str, Any]:
        """The `message` object Slack puts in API answers and interaction payloads."""
        message: dict[str, Any] = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts}
        if self.bot_id:
            message["bot_id"] = self.bot_id
        if self.blocks is not None:
            message["blocks"] = self.blocks
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.files:
            message["files"] = self.files
        if self.edits:
            message["edited"] = {"user": self.user, "ts": self.ts}
        return message


@dataclass
class EphemeralMessage:
    """A message only `user` sees: from chat.postEphemeral, or a response_url post that was not `in_channel`."""

    channel: str | None
    user: str | None
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    via: str = "chat.postEphemeral"


@dataclass
class SlackFile:
    """A file of the v2 upload flow; `content` is None until bytes reach its upload URL."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    title: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)

    def as_message_file(self) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        return {"id": self.id, "name": self.filename, "title": self.title or self.filename, "mimetype": mimetype,
                "size": len(self.content or b"")}


@dataclass
class ResponseUrl:
    """A response_url handed out in a command or interaction payload."""

    url: str
    channel: str | None
    user: str | None
    message_ts: str | None
    issued_at: float
    uses: int = 0


@dataclass
class ResponsePost:
    """One POST to a response_url, with what the fake answered (accepted posts have status 200)."""

    url: str
    body: Any
    status: int
    answer: str
    at: float


def _error(code: str, *messages: str, status: int = 200) -> Answer:
    answer: dict[str, Any] = {"ok": False, "error": code}
    if messages:
        answer["response_metadata"] = {"messages": list(messages)}
    return status, answer


def _json_arg(value: Any) -> Any:
    """Form-encoded calls carry structured arguments (blocks, view, files) as JSON strings."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


class SlackWorkspace:
    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        channels: Iterable[str] | Mapping[str, str],
        users: Mapping[str, Mapping[str, str]],
        uploads_allowed: bool,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        names = channels if isinstance(channels, Mapping) else {cid: cid.lower() for cid in channels}
        self.channels: dict[str, str] = dict(names)
        self.users: dict[str, dict[str, str]] = {uid: dict(info) for uid, info in users.items()}
        self.uploads_allowed = uploads_allowed
        self.base_url = ""  # set by the server once it listens
        self.messages: dict[str, list[SlackMessage]] = {cid: [] for cid in self.channels}
        self.ephemerals: list[EphemeralMessage] = []
        self.files: dict[str, SlackFile] = {}
        self.upload_tickets: dict[str, str] = {}  # upload URL token -> file id
        self.views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, tuple[float, str | None]] = {}  # trigger id -> (issued at, user)
        self.used_triggers: set[str] = set()
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_posts: list[ResponsePost] = []
        self.socket_tickets: set[str] = set()
        self._offset = 0.0
        self._last_ts_us = 0
        self._counter = 0
        self.methods: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "auth.test": self.auth_test,
            "users.info": self.users_info,
            "conversations.info": self.conversations_info,
            "conversations.open": self.conversations_open,
            "reactions.add": self.reactions_add,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "apps.connections.open": self.apps_connections_open,
        }

    # --- clock and identifiers -------------------------------------------------------------------------------

    def now(self) -> float:
        """Monotonic seconds by the fake's clock (what expiries are measured with)."""
        return time.monotonic() + self._offset

    def wall(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def next_ts(self) -> str:
        """A fresh message ts ("1700000000.000100" style), strictly increasing."""
        micros = max(int(self.wall() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}0FAKE{self._counter:05d}"

    def new_trigger_id(self, user: str | None = None) -> str:
        trigger = f"{int(self.wall())}.{self._counter + 1}.{secrets.token_hex(16)}"
        self._counter += 1
        self.triggers[trigger] = (self.now(), user)
        return trigger

    def new_response_url(self, *, channel: str | None, user: str | None, message_ts: str | None,
                         kind: str = "commands") -> str:
        self._counter += 1
        url = f"{self.base_url}/hooks/{kind}/{self.team_id}/{self._counter}/{secrets.token_hex(12)}"
        self.response_urls[url] = ResponseUrl(url, channel, user, message_ts, self.now())
        return url

    # --- messages ----------------------------------------------------------------------------------------------

    def find_message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def add_message(self, channel: str, *, user: str, text: str, blocks: list[dict[str, Any]] | None = None,
                    thread_ts: str | None = None, bot_id: str | None = None,
                    files: list[dict[str, Any]] | None = None, ts: str | None = None) -> SlackMessage:
        message = SlackMessage(channel=channel, ts=ts or self.next_ts(), text=text, user=user, blocks=blocks,
                               thread_ts=thread_ts, bot_id=bot_id, files=files or [])
        self.messages.setdefault(channel, []).append(message)
        self.messages[channel].sort(key=lambda m: float(m.ts))
        return message

    def _content(self, args: dict[str, Any], *, required: bool = True) -> tuple[str | None, Any, Answer | None]:
        """The text and blocks of a post/update, or the error Slack answers for them."""
        text = args.get("text")
        blocks: Any = None
        if args.get("blocks") is not None:
            try:
                blocks = _json_arg(args["blocks"])
            except ValueError:
                return None, None, _error("invalid_blocks_format")
            if not isinstance(blocks, list):
                return None, None, _error("invalid_blocks_format")
            problems = message_block_errors(blocks)
            if problems:
                return None, None, _error("invalid_blocks", *problems)
        if required and not text and not blocks and not args.get("attachments"):
            return None, None, _error("no_text")
        if text is not None and len(str(text)) > MESSAGE_TEXT_LIMIT:
            return None, None, _error("msg_too_long")
        return (None if text is None else str(text)), blocks, None

    # --- Web API methods ---------------------------------------------------------------------------------------

    def auth_test(self, args: dict[str, Any]) -> Answer:
        return 200, {"ok": True, "url": "https://kefu-test.slack.com/", "team": "kefu test", "user": "kefu",
                     "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                     "is_enterprise_install": False}

    def users_info(self, args: dict[str, Any]) -> Answer:
        user_id = args.get("user")
        if not user_id:
            return _error("invalid_arguments", "[ERROR] missing required field: user")
        if user_id == self.bot_user_id:
            info = {"name": "kefu", "real_name": "kefu", "tz": "UTC"}
        elif user_id in self.users:
            info = self.users[user_id]
        else:
            return _error("user_not_found")
        tz = info.get("tz", "UTC")
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        user = {
            "id": user_id, "team_id": self.team_id, "name": info.get("name", user_id.lower()),
            "real_name": info.get("real_name", ""), "deleted": False, "tz": tz, "tz_label": tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0, "is_bot": user_id == self.bot_user_id,
            "is_admin": False, "is_app_user": False,
            "profile": {"real_name": info.get("real_name", ""), "display_name": info.get("name", ""),
                        "email": info.get("email", f"{info.get('name', user_id.lower())}@example.com")},
        }
        if user_id == self.bot_user_id:
            user["profile"]["bot_id"] = self.bot_id
        return 200, {"ok": True, "user": user}

    def conversations_info(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        return 200, {"ok": True, "channel": {
            "id": channel, "name": self.channels[channel], "is_channel": True, "is_group": False, "is_im": False,
            "is_private": False, "is_archived": False, "is_member": True, "created": 1700000000,
            "context_team_id": self.team_id}}

    def conversations_open(self, args: dict[str, Any]) -> Answer:
        """A direct message channel with one user (the same id every time), as a bot token opens it."""
        users = [user.strip() for user in str(args.get("users") or "").split(",") if user.strip()]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("not_allowed_token_type")  # a bot opens group DMs only with extra scopes: keep it simple
        if users[0] not in self.users:
            return _error("user_not_found")
        channel = "D" + users[0][1:]
        self.channels.setdefault(channel, f"dm-{users[0]}")
        self.messages.setdefault(channel, [])
        return 200, {"ok": True, "channel": {"id": channel, "is_im": True, "user": users[0]}}

    def reactions_add(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        message = self.find_message(channel, str(args.get("timestamp") or ""))
        if message is None:
            return _error("message_not_found")
        name = str(args.get("name") or "")
        if not name:
            return _error("invalid_name")
        if (name, self.bot_user_id) in message.reactions:
            return _error("already_reacted")
        message.reactions.append((name, self.bot_user_id))
        return 200, {"ok": True}

    def chat_post_message(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        text, blocks, failure = self._content(args)
        if failure:
            return failure
        # Slack answers invalid_thread_ts for a malformed ts and silently accepts a well-formed one that names no
        # message (the reply then shows in no thread); the fake keeps such a reply with its thread_ts.
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None and not TS_PATTERN.match(str(thread_ts)):
            return _error("invalid_thread_ts", f"[ERROR] {thread_ts} is not a valid thread_ts")
        message = self.add_message(channel, user=self.bot_user_id, text=text or "", blocks=blocks,
                                   thread_ts=str(thread_ts) if thread_ts else None, bot_id=self.bot_id)
        return 200, {"ok": True, "channel": channel, "ts": message.ts, "message": message.as_event_message()}

    def chat_update(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        message = self.find_message(channel, str(args.get("ts") or ""))
        if message is None:
            return _error("message_not_found")
        if message.user != self.bot_user_id:
            return _error("cant_update_message")
        text, blocks, failure = self._content(args)
        if failure:
            return failure
        # chat.update keeps the blocks when the call has none (an empty list removes them) and keeps the text when
        # only blocks are given.
        if text is not None:
            message.text = text
        if args.get("blocks") is not None:
            message.blocks = blocks or None
        message.edits += 1
        return 200, {"ok": True, "channel": channel, "ts": message.ts, "text": message.text,
                     "message": message.as_event_message()}

    def chat_delete(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        message = self.find_message(channel, str(args.get("ts") or ""))
        if message is None:
            return _error("message_not_found")
        if message.user != self.bot_user_id:
            return _error("cant_delete_message")
        self.messages[channel].remove(message)
        return 200, {"ok": True, "channel": channel, "ts": message.ts}

    def chat_post_ephemeral(self, args: dict[str, Any]) -> Answer:
        channel = args.get("channel")
        if channel not in self.channels:
            return _error("channel_not_found")
        user = args.get("user")
        if not user:
            return _error("invalid_arguments", "[ERROR] missing required field: user")
        if user not in self.users:
            return _error("user_not_in_channel")
        text, blocks, failure = self._content(args)
        if failure:
            return failure
        ts = self.next_ts()
        self.ephemerals.append(EphemeralMessage(channel, user, ts, text or "", blocks, args.get("thread_ts")))
        return 200, {"ok": True, "message_ts": ts}

    def _exchange_trigger(self, trigger_id: Any) -> tuple[str | None, Answer | None]:
        if not trigger_id:
            return None, _error("invalid_arguments", "[ERROR] missing required field: trigger_id")
        if trigger_id in self.used_triggers:
            return None, _error("exchanged_trigger_id")
        issued = self.triggers.get(str(trigger_id))
        if issued is None:
            return None, _error("invalid_arguments", "invalid `trigger_id`")
        issued_at, user = issued
        if self.now() - issued_at > TRIGGER_LIFETIME_SECONDS:
            return None, _error("expired_trigger_id")
        self.used_triggers.add(str(trigger_id))
        return user, None

    def _parse_view(self, args: dict[str, Any]) -> tuple[dict[str, Any] | None, Answer | None]:
        try:
            view = _json_arg(args.get("view"))
        except ValueError:
            return None, _error("invalid_arguments", "[ERROR] view must be a JSON object")
        if view is None:
            return None, _error("invalid_arguments", "[ERROR] missing required field: view")
        problems = view_errors(view)
        if problems:
            return None, _error("invalid_arguments", *problems)
        return view, None

    def _store_view(self, view: dict[str, Any], *, view_id: str, user: str | None,
                    root_view_id: str | None = None, previous_view_id: str | None = None) -> dict[str, Any]:
        stored = {
            "id": view_id, "team_id": self.team_id, "type": view["type"], "title": view.get("title"),
            "submit": view.get("submit"), "close": view.get("close"), "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""), "state": {"values": {}},
            "hash": f"{int(self.wall())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id, "previous_view_id": previous_view_id,
            "app_id": self.app_id, "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
            "user": user,
        }
        self.views[view_id] = stored
        return {k: v for k, v in stored.items() if k != "user"}

    def views_open(self, args: dict[str, Any]) -> Answer:
        user, failure = self._exchange_trigger(args.get("trigger_id"))
        if failure:
            return failure
        view, failure = self._parse_view(args)
        if failure or view is None:
            return failure or _error("invalid_arguments")
        return 200, {"ok": True, "view": self._store_view(view, view_id=self._next_id("V"), user=user)}

    def views_push(self, args: dict[str, Any]) -> Answer:
        user, failure = self._exchange_trigger(args.get("trigger_id"))
        if failure:
            return failure
        view, failure = self._parse_view(args)
        if failure or view is None:
            return failure or _error("invalid_arguments")
        top = next((v for v in reversed(self.views.values()) if v["user"] == user), None)
        root = top["root_view_id"] if top else None
        previous = top["id"] if top else None
        stored = self._store_view(view, view_id=self._next_id("V"), user=user, root_view_id=root,
                                  previous_view_id=previous)
        return 200, {"ok": True, "view": stored}

    def views_update(self, args: dict[str, Any]) -> Answer:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            return _error("invalid_arguments", "[ERROR] view_id or external_id is required")
        current = self.views.get(str(view_id)) if view_id else next(
            (v for v in self.views.values() if external_id and v["external_id"] == external_id), None)
        if current is None:
            return _error("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            return _error("hash_conflict")
        view, failure = self._parse_view(args)
        if failure or view is None:
            return failure or _error("invalid_arguments")
        stored = self._store_view(view, view_id=current["id"], user=current["user"],
                                  root_view_id=current["root_view_id"], previous_view_id=current["previous_view_id"])
        return 200, {"ok": True, "view": stored}

    def files_get_upload_url_external(self, args: dict[str, Any]) -> Answer:
        # A workspace whose admins turned off file uploads answers file_uploads_disabled ("Team has disabled all
        # file uploads", Slack's method reference); `uploads_allowed=False` plays that workspace.
        if not self.uploads_allowed:
            return _error("file_uploads_disabled")
        filename = args.get("filename")
        if not filename:
            return _error("invalid_arguments", "[ERROR] missing required field: filename")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            return _error("invalid_arguments", "[ERROR] length must be an integer")
        if length <= 0:
            return _error("missing_argument")
        alt_txt = args.get("alt_txt")
        if alt_txt and len(str(alt_txt)) > 1000:
            return _error("alt_txt_too_large")
        file = SlackFile(id=self._next_id("F"), filename=str(filename), length=length, alt_txt=alt_txt)
        self.files[file.id] = file
        token = secrets.token_urlsafe(18)
        self.upload_tickets[token] = file.id
        return 200, {"ok": True, "upload_url": f"{self.base_url}/upload/v1/{token}", "file_id": file.id}

    def receive_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """Bytes POSTed to an upload URL; Slack answers `OK - <length>` as text/plain."""
        file_id = self.upload_tickets.get(token)
        if file_id is None:
            return 404, "not_found"
        self.files[file_id].content = content
        return 200, f"OK - {len(content)}"

    def files_complete_upload_external(self, args: dict[str, Any]) -> Answer:
        try:
            entries = _json_arg(args.get("files"))
        except ValueError:
            return _error("invalid_arguments", "[ERROR] files must be a JSON array")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments", "[ERROR] missing required field: files")
        channels = [c for c in str(args.get("channels") or "").split(",") if c]
        if args.get("channel_id"):
            channels.insert(0, str(args["channel_id"]))
        for channel in channels:
            if channel not in self.channels:
                return _error("channel_not_found")
        files: list[SlackFile] = []
        for entry in entries:
            file = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if file is None or file.content is None or file.completed:
                return _error("file_not_found")
            files.append(file)
        for file, entry in zip(files, entries, strict=True):
            file.completed = True
            file.title = entry.get("title") or file.filename
            file.channels = list(channels)
        thread_ts = args.get("thread_ts") or None
        for channel in channels:
            self.add_message(channel, user=self.bot_user_id, text=str(args.get("initial_comment") or ""),
                             thread_ts=thread_ts, bot_id=self.bot_id, files=[f.as_message_file() for f in files])
        return 200, {"ok": True, "files": [{"id": f.id, "title": f.title} for f in files]}

    def apps_connections_open(self, args: dict[str, Any]) -> Answer:
        ticket = str(uuid.uuid4())
        self.socket_tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return 200, {"ok": True, "url": f"{ws_base}/link/?ticket={ticket}&app_id={self.app_id}"}

    def claim_socket_ticket(self, ticket: str | None) -> bool:
        """Tickets from apps.connections.open open one connection each."""
        if ticket is None or ticket not in self.socket_tickets:
            return False
        self.socket_tickets.discard(ticket)
        return True

    # --- response_url ------------------------------------------------------------------------------------------

    def post_to_response_url(self, url: str, raw: bytes) -> tuple[int, str]:
        """A POST to a response_url. Slack allows 5 posts within 30 minutes; after that the fake answers 404 with
        `used_url` / `expired_url` (the wording of Slack's body is not documented; the status and limits are)."""
        target = self.response_urls.get(url)
        if target is None:
            return self._respond_record(url, raw, 404, "no_service")
        if self.now() - target.issued_at > RESPONSE_URL_LIFETIME_SECONDS:
            return self._respond_record(url, raw, 404, "expired_url")
        if target.uses >= RESPONSE_URL_MAX_USES:
            return self._respond_record(url, raw, 404, "used_url")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return self._respond_record(url, raw, 400, "invalid_payload")
        if not isinstance(body, dict):
            return self._respond_record(url, raw, 400, "invalid_payload")
        if _truthy(body.get("delete_original")):
            original = self.find_message(target.channel or "", target.message_ts or "")
            if original is not None:
                self.messages[original.channel].remove(original)
            target.uses += 1
            return self._respond_record(url, body, 200, "ok")
        text, blocks, failure = self._content(body)
        if failure:
            return self._respond_record(url, body, 400, failure[1]["error"])
        original = self.find_message(target.channel or "", target.message_ts or "")
        if _truthy(body.get("replace_original")) and original is not None:
            if text is not None:
                original.text = text
            if body.get("blocks") is not None:
                original.blocks = blocks or None
            original.edits += 1
        elif body.get("response_type") == "in_channel" and target.channel in self.channels:
            self.add_message(target.channel, user=self.bot_user_id, text=text or "", blocks=blocks,
                             thread_ts=body.get("thread_ts"), bot_id=self.bot_id)
        else:
            self.ephemerals.append(EphemeralMessage(target.channel, target.user, self.next_ts(), text or "", blocks,
                                                    body.get("thread_ts"), via="response_url"))
        target.uses += 1
        return self._respond_record(url, body, 200, "ok")

    def _respond_record(self, url: str, body: Any, status: int, answer: str) -> tuple[int, str]:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.response_posts.append(ResponsePost(url, body, status, answer, time.time()))
        return status, answer
