"""Posting and updating kefu's cards in WeCom: the outbox sender of the "wecom" team channel.

Targets: "" (the configured `to_user` / `to_party`), "user:a|b", "party:2|3" (both joinable with ";") for app
messages, and "robot:<name>" for a group robot. A card with buttons is a template card; its reference is
"tc:<task_id>:<response_code>". A card update consumes a response code, each good for one update: the newest one a
click on that card brought (`remember_code`), else the one from posting the card, if not spent yet. The codes are
kept in the database (`bot.card_update_codes`) so that a click received by one replica serves the update sent by
another; a sender without a database keeps them in memory. Without an unspent code (a card older than WeCom's 72
hours, or updated more often than clicked) the updated card is posted as a new message, so the team still sees
the outcome. Cards without buttons are markdown messages ("msg:<id>").
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar
from zoneinfo import ZoneInfo

from adapters.wecom.cards import ROBOT_MARKDOWN_BYTES, markdown, template_card, wecom_buttons
from adapters.wecom.cards import task_id as make_task_id
from adapters.wecom.client import WeComApi, send_error
from adapters.wecom.robots import GroupRobots
from adapters.wecom.texts import Language, text
from bot.messages import Card, card_from_payload
from bot.outbox import SendError
from bot.team_channel import TEAM_CARD_KINDS
from models.tables import OutboxItem

log = logging.getLogger("kefu.wecom")

CHANNEL: Final = "wecom"
REF_LIMIT: Final = 255
MAX_CODES: Final = 10_000
CodeAnswerT = TypeVar("CodeAnswerT")


class ResponseCodes(Protocol):
    """Where a sender keeps the cards' response codes; `blocking`: the methods wait for I/O (run in a thread)."""

    blocking: bool

    def remember(self, card_key: str, code: str) -> None:
        """Keep a click's code for the card's next update (a code spent already stays spent)."""
        ...

    def take(self, card_key: str, posted: str | None) -> str | None:
        """Spend the card's newest unspent code from a click, else `posted` unless spent; None when none is left."""
        ...

    def give_back(self, card_key: str, code: str) -> None:
        """The update with `code` failed transiently: the code is still good."""
        ...


class LocalResponseCodes:
    """Response codes kept in this process (a sender without a database)."""

    blocking = False

    def __init__(self) -> None:
        self._fresh: OrderedDict[str, str] = OrderedDict()  # task id → newest unspent code from a click
        self._spent: OrderedDict[str, None] = OrderedDict()

    def remember(self, card_key: str, code: str) -> None:
        if code in self._spent:
            return
        self._fresh[card_key] = code
        self._fresh.move_to_end(card_key)
        while len(self._fresh) > MAX_CODES:
            self._fresh.popitem(last=False)

    def take(self, card_key: str, posted: str | None) -> str | None:
        code = self._fresh.pop(card_key, None)
        if code is None and posted is not None and posted not in self._spent:
            code = posted
        if code is not None:
            self._spent[code] = None
            while len(self._spent) > MAX_CODES:
                self._spent.popitem(last=False)
        return code

    def give_back(self, card_key: str, code: str) -> None:
        self._spent.pop(code, None)
        self._fresh.setdefault(card_key, code)


@dataclass(frozen=True)
class Recipients:
    users: str = ""
    parties: str = ""


def parse_target(target: str, default: Recipients) -> Recipients | str:
    """App message recipients of an outbox target, or a robot's name for "robot:<name>"."""
    if target.startswith("robot:"):
        return target.removeprefix("robot:")
    if not target:
        return default
    users, parties = [], []
    for part in filter(None, (piece.strip() for piece in target.split(";"))):
        kind, _, ids = part.partition(":")
        if kind == "user" and ids:
            users.append(ids)
        elif kind == "party" and ids:
            parties.append(ids)
        else:
            raise SendError(f"WeCom target {target!r}: expected 'user:a|b', 'party:2|3' or 'robot:<name>'",
                            transient=False)
    return Recipients("|".join(users), "|".join(parties))


def card_ref(task: str, code: str | None) -> str:
    ref = f"tc:{task}:{code or ''}"
    return ref if len(ref) <= REF_LIMIT else f"tc:{task}:"


def parse_card_ref(ref: str) -> tuple[str, str | None] | None:
    """(task id, response code from posting) of a template card reference; None for other references."""
    if not ref.startswith("tc:"):
        return None
    task, _, code = ref.removeprefix("tc:").partition(":")
    return (task, code or None) if task else None


class WeComCardSender:
    """Sends outbox items of the card kinds to WeCom as app `agent_id` through `api`, or through `robots`; `codes`
    keeps the cards' response codes (shared by replicas when it is a `bot.card_update_codes.CardUpdateCodes`; in
    this process's memory by default)."""

    def __init__(self, api: WeComApi, robots: GroupRobots, *, agent_id: int, default: Recipients,
                 language: Language, timezone: ZoneInfo, codes: ResponseCodes | None = None) -> None:
        self.api = api
        self.robots = robots
        self.agent_id = agent_id
        self.default = default
        self.language = language
        self.timezone = timezone
        self.codes: ResponseCodes = codes if codes is not None else LocalResponseCodes()

    def remember_code(self, task: str, code: str) -> None:
        """A click's response code: the next update of that card spends it. Waits for the database when the codes
        are shared (call it in a thread)."""
        self.codes.remember(task, code)

    async def _codes(self, method: Callable[..., CodeAnswerT], *args: Any) -> CodeAnswerT:
        return await asyncio.to_thread(method, *args) if self.codes.blocking else method(*args)

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind not in TEAM_CARD_KINDS:
            raise SendError(f"the WeCom team channel takes cards, not {item.kind!r} items", transient=False)
        card = card_from_payload(item.payload)
        if item.kind == "card_update":
            ref = parse_card_ref(item.target)
            if ref is not None:
                updated = await self._update(card, *ref)
                if updated:
                    return item.target
                log.info("no unspent response code for WeCom card %s: posting the update as a new message", ref[0])
                return await self._post(card, "", item.id or 0)
            target = item.target.removeprefix("msg:") if item.target.startswith("msg:") else item.target
            return await self._post(card, "" if item.target.startswith("msg:") else target, item.id or 0)
        return await self._post(card, item.target, item.id or 0)

    async def _post(self, card: Card, target: str, serial: int) -> str:
        recipients = parse_target(target, self.default)
        if isinstance(recipients, str):
            await self.robots.post(recipients, markdown(card, language=self.language, timezone=self.timezone,
                                                        limit=ROBOT_MARKDOWN_BYTES, mentions=True))
            return f"robot:{recipients}"
        users = "|".join(dict.fromkeys(filter(None, [*recipients.users.split("|"), *(
            user for _mention, platform, user in card.mentions if platform == CHANNEL)])))
        body: dict[str, Any] = {"touser": users, "toparty": recipients.parties, "agentid": self.agent_id}
        if wecom_buttons(card):
            task = make_task_id(card, serial)
            body |= {"msgtype": "template_card",
                     "template_card": template_card(card, task=task, language=self.language,
                                                    timezone=self.timezone)}
            result = await self._call("message/send", body, "the card")
            return card_ref(task, result.get("response_code"))
        body |= {"msgtype": "markdown", "markdown": {"content": markdown(card, language=self.language,
                                                                         timezone=self.timezone)}}
        result = await self._call("message/send", body, "the message")
        return f"msg:{result.get('msgid', '')}"

    async def _update(self, card: Card, task: str, posted_code: str | None) -> bool:
        code = await self._codes(self.codes.take, task, posted_code)  # spent now: no other replica uses it
        if code is None:
            return False
        status = next((field.value for field in card.fields if field.label == "Status"), None)
        replace = text(self.language, "resolved") if status == "resolved" else None
        body = {"atall": 1, "agentid": self.agent_id, "response_code": code,
                "template_card": template_card(card, task=task, language=self.language, timezone=self.timezone,
                                               replace_text=replace)}
        try:
            await self._call("message/update_template_card", body, "the card update")
        except SendError as exc:
            if exc.transient:  # the code is still good: the retry spends it
                await self._codes(self.codes.give_back, task, code)
                raise
            # spent elsewhere or expired: the update goes out as a new message
            log.warning("WeCom refused the update of card %s (%s)", task, exc)
            return False
        return True

    async def _call(self, endpoint: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            return await self.api.post(endpoint, body)
        except Exception as exc:
            raise send_error(exc, f"{what} ({endpoint})") from None
