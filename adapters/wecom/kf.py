"""微信客服 (WeChat Customer Service, "kf") as the customer channel "wecom_kf".

Receiving: WeCom POSTs an encrypted `kf_msg_or_event` callback (a sync Token valid 10 min and the OpenKfId) to
`/wecom/kf/callback`; it is answered at once and kefu then pulls with `kf/sync_msg` from the account's cursor,
page by page (`has_more`), using the kf secret's own access token. Each page's customer messages (origin 3) go to
`pipeline.ingest` as `Inbound`s of channel "wecom_kf" (conversation "<open_kfid>:<external_userid>"), then the
page's `next_cursor` is saved (`ChannelCursor`). A crash between the two re-reads that page, which ingest drops as
duplicates (it is idempotent on the msgid), so nothing is skipped or doubled across restarts; a redelivered
callback pulls from the saved cursor and finds nothing new. One pull of an account runs at a time across replicas:
it claims the account's cursor row (`claim_pull`, renewed while it reads; a dead replica's claim lapses after
PULL_LEASE) and saves the cursor only while it holds the claim, so the cursor never goes back. A callback that
finds a pull running (in any replica) asks it to read once more with the callback's token and returns; the pull
does so before it lets go (`finish_pull`). Unguarded, two replicas pulling at once would each ingest the same
pages (dropped as duplicates, but classified twice) and the slower one would save an older cursor over a newer
one, so the next pull would read those pages a third time.
Before a page is ingested, the nicknames of its customers not seen yet in this process are asked of
`kf/customer/batchget` (up to 100 a call), so that tickets and cards name the WeChat customer; a failure there
only leaves the names out. Non-text customer messages are ingested as a placeholder ("[image]"): the customer is
waiting for an answer, so an agent must see that they wrote. Events (origin 4) and servicers' own messages
(origin 5) are skipped.

Sending (the outbox sender of "wecom_kf", replies only): `kf/send_msg` as text. WeChat allows replies only within
48 h of the customer's last message, and at most 5 in that window; kefu checks that before sending (the last
inbound of the conversation from the messages table, the replies sent since from the outbox) and when the window
is closed (or WeCom answers 95001/95002) fails the reply permanently with the reason and puts a
"WeChat window" field on the ticket's triage card (a card update, or a new card when the ticket has none).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from aiohttp import web
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from adapters.wecom.callback import AcknowledgedWork, check_url, decrypt_callback
from adapters.wecom.client import WeComApi, send_error
from bot.messages import CardField, CustomerInfo, Inbound, IngestResult, card_to_payload
from bot.outbox import SendError, enqueue
from bot.settings import Settings, WeComSettings
from models.db import session_scope, utcnow
from models.tables import ChannelCursor, Message, OutboxItem, Ticket

log = logging.getLogger("kefu.wecom.kf")

CHANNEL: Final = "wecom_kf"
CALLBACK_PATH: Final = "/wecom/kf/callback"
SYNC_LIMIT: Final = 1000
BATCHGET_LIMIT: Final = 100  # external_userids per kf/customer/batchget
NICKNAME_CHARS: Final = 255  # Customer.name
NICKNAMES_KEPT: Final = 10_000  # customers whose nickname the process remembers (then it asks again)
CUSTOMER: Final = 3  # origin of a customer's message; 4 is a system event, 5 a servicer's message
WINDOW: Final = timedelta(hours=48)
WINDOW_REPLIES: Final = 5
TEXT_BYTES: Final = 2048  # kf/send_msg text.content
WINDOW_FIELD: Final = "WeChat window"
PULL_LEASE: Final = timedelta(seconds=60)  # a pull's claim on an account, renewed while it reads
RENEW_SECONDS: Final = 20.0  # a pull renews its claim at least this often while ingesting
# WeCom's errcodes for a closed window, as the fake answers them (protocols.md §3.6; not verified against WeCom).
WINDOW_ERRORS: Final = {95001: "WeChat allows at most 5 replies after a customer's message",
                        95002: "WeChat allows replies only within 48 h of the customer's last message"}
PLACEHOLDERS: Final = {"image": "[image]", "voice": "[voice]", "video": "[video]", "file": "[file]",
                       "location": "[location]", "link": "[link]", "business_card": "[business card]",
                       "miniprogram": "[mini program]", "msgmenu": "[menu choice]", "channels": "[channels post]"}


class KfPipeline(Protocol):
    async def ingest(self, inbound: Inbound) -> IngestResult: ...


class KfCore(Protocol):
    """What the kf channel uses of kefu (bot.app.Kefu provides it)."""

    settings: Settings
    engine: Engine | None
    pipeline: Any  # KfPipeline once the intent model has loaded, None before


def conversation_id(open_kfid: str, external_userid: str) -> str:
    return f"{open_kfid}:{external_userid}"


def parse_conversation(target: str) -> tuple[str, str]:
    """(open_kfid, external_userid) of a reply's target; SendError when it is not a kf conversation."""
    open_kfid, _, user = target.partition(":")
    if not open_kfid or not user:
        raise SendError(f"wecom_kf target {target!r}: expected '<open_kfid>:<external_userid>'", transient=False)
    return open_kfid, user


def inbound_from(message: dict[str, Any], nicknames: dict[str, str] | None = None) -> Inbound | None:
    """The `Inbound` of one sync_msg entry (the customer named by `nicknames`, external_userid → WeChat
    nickname), None for what is not a customer's message (logged)."""
    msgid, kind = str(message.get("msgid") or ""), str(message.get("msgtype") or "")
    if message.get("origin") != CUSTOMER or kind == "event":
        log.debug("kf %s (origin %s, %s) skipped: not a customer's message", msgid, message.get("origin"), kind)
        return None
    open_kfid, user = str(message.get("open_kfid") or ""), str(message.get("external_userid") or "")
    if not msgid or not open_kfid or not user:
        log.warning("kf message without msgid, open_kfid or external_userid skipped: %r", message)
        return None
    text = str((message.get("text") or {}).get("content") or "").strip() if kind == "text" else ""
    if not text:
        text = PLACEHOLDERS.get(kind, f"[{kind or 'message'}]")
    sent = message.get("send_time")
    sent_at = datetime.fromtimestamp(int(sent), UTC) if isinstance(sent, int | str) and str(sent).isdigit() else None
    name = (nicknames or {}).get(user) or None
    return Inbound(channel=CHANNEL, channel_message_id=msgid, customer=CustomerInfo(id=user, name=name), text=text,
                   conversation_id=conversation_id(open_kfid, user), sent_at=sent_at)


# ---- the cursor --------------------------------------------------------------------------------------------------


def _row(key: str) -> Any:
    table = ChannelCursor.__table__  # type: ignore[attr-defined]
    return and_(table.c.channel == CHANNEL, table.c.key == key)


def claim_pull(engine: Engine, key: str, claimant: str, token: str, now: datetime) -> str | None:
    """Claim the pulls of account `key` for `claimant` until `now` + PULL_LEASE and return its saved cursor; None
    when another pull holds the claim: that pull is asked to read once more (with `token`, when given).

    The claim is a conditional UPDATE of the account's row (the outbox's claims are the same): on PostgreSQL a
    concurrent claim waits for the row lock and then finds the row claimed, on SQLite the write lock orders them."""
    table = ChannelCursor.__table__  # type: ignore[attr-defined]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    free = or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)
    with engine.begin() as connection:
        connection.execute(dialect.insert(table).values(channel=CHANNEL, key=key, cursor="", updated_at=now)
                           .on_conflict_do_nothing(index_elements=["channel", "key"]))
    while True:
        with engine.begin() as connection:
            claimed = connection.execute(
                update(table).where(_row(key), free)
                .values(claimed_by=claimant, claimed_until=now + PULL_LEASE, pull_again=False, pull_token=None)
                .returning(table.c.cursor)
            ).first()
            if claimed is not None:
                return str(claimed.cursor or "")
            again = {"pull_again": True, **({"pull_token": token} if token else {})}
            if connection.execute(update(table).where(_row(key), ~free).values(**again)).rowcount:  # type: ignore[attr-defined]
                return None
        # the claim lapsed or was let go between the two statements: claim it now


def save_cursor(engine: Engine, key: str, cursor: str, claimant: str, now: datetime) -> bool:
    """Save how far `claimant` has read account `key` and renew its claim; False (nothing saved) when it no longer
    holds the claim (it lapsed and another pull took over from the cursor saved before)."""
    table = ChannelCursor.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        result = connection.execute(update(table).where(_row(key), table.c.claimed_by == claimant)
                                    .values(cursor=cursor, updated_at=now, claimed_until=now + PULL_LEASE))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_pull(engine: Engine, key: str, claimant: str, now: datetime) -> bool:
    """Extend `claimant`'s claim on account `key`; False when it no longer holds it."""
    table = ChannelCursor.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        result = connection.execute(update(table).where(_row(key), table.c.claimed_by == claimant)
                                    .values(claimed_until=now + PULL_LEASE))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_pull(engine: Engine, key: str, claimant: str, now: datetime) -> tuple[str, str | None] | None:
    """Let go of `claimant`'s claim on account `key`, unless a pull was asked for meanwhile: then keep the claim
    and return (the saved cursor, the asking callback's token) to read once more. None also when the claim had
    lapsed to another pull."""
    table = ChannelCursor.__table__  # type: ignore[attr-defined]
    mine = and_(_row(key), table.c.claimed_by == claimant)
    with engine.begin() as connection:
        released = connection.execute(update(table).where(mine, table.c.pull_again.is_(False))
                                      .values(claimed_by=None, claimed_until=None, pull_token=None))
        if released.rowcount:  # type: ignore[attr-defined]
            return None
        again = connection.execute(
            update(table).where(mine, table.c.pull_again.is_(True))
            .values(pull_again=False, claimed_until=now + PULL_LEASE)  # RETURNING gives the new values: keep the token
            .returning(table.c.cursor, table.c.pull_token)
        ).first()
    return None if again is None else (str(again.cursor or ""), again.pull_token)


# ---- the 48 h / 5 replies window ---------------------------------------------------------------------------------


def window_closed(session: Session, conversation: str, now: datetime) -> str | None:
    """Why WeChat would refuse a reply in `conversation` now, None while its window is open."""
    last = session.execute(
        select(Message.sent_at, Message.created_at).join(Ticket, Message.ticket_id == Ticket.id)  # type: ignore[arg-type]
        .where(Ticket.channel == CHANNEL, Ticket.conversation_id == conversation, Message.direction == "in")
        .order_by(Message.id.desc()).limit(1)  # type: ignore[union-attr]
    ).first()
    if last is None:
        return "WeChat window closed: the customer has not written to this account; reply by another channel"
    since = last.sent_at or last.created_at
    if now - since > WINDOW:
        hours = (now - since).total_seconds() / 3600
        return (f"WeChat window closed: the customer's last message was {hours:.0f} h ago and WeChat allows "
                f"replies within 48 h; reply by another channel")
    sent = session.scalar(select(func.count()).select_from(OutboxItem).where(
        OutboxItem.channel == CHANNEL, OutboxItem.kind == "reply", OutboxItem.target == conversation,
        OutboxItem.status == "sent", OutboxItem.sent_at >= since))  # type: ignore[operator]
    if (sent or 0) >= WINDOW_REPLIES:
        return (f"WeChat window closed: {sent} replies were sent since the customer's last message and WeChat "
                f"allows {WINDOW_REPLIES}; reply by another channel")
    return None


def tell_team(session: Session, settings: Settings, item: OutboxItem, reason: str) -> None:
    """Put the closed window on the ticket's triage card: an update of its card, or a new card if it has none."""
    from bot.pipeline import team_route
    from handlers.actions import last_card

    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    if ticket is None:
        return
    card = last_card(session, ticket)
    fields = [f for f in card.fields if f.label != WINDOW_FIELD] + [CardField(WINDOW_FIELD, reason)]
    card = replace(card, fields=tuple(fields))
    posted = session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id, OutboxItem.kind == "card")
                             .order_by(OutboxItem.id)).first()  # type: ignore[arg-type]
    if posted is not None:
        enqueue(session, dedup_key=f"kf_window:{item.id}", kind="card_update",
                channel=ticket.card_channel or posted.channel, target=ticket.card_ref or "",
                payload=card_to_payload(card), ticket_id=ticket.id)
    else:
        channel, target = team_route(settings, ticket)
        enqueue(session, dedup_key=f"kf_window:{item.id}", kind="card", channel=channel, target=target,
                payload=card_to_payload(card), ticket_id=ticket.id)


# ---- the channel -------------------------------------------------------------------------------------------------


class WeComKfChannel:
    """The "wecom_kf" customer channel: the kf callback's routes, the pulls, and the outbox sender of replies."""

    name = CHANNEL

    def __init__(self, settings: WeComSettings, core: KfCore) -> None:
        assert settings.kf_enabled and settings.corp_id and settings.kf_secret is not None
        assert settings.token is not None and settings.aes_key is not None
        self.core = core
        self.api = WeComApi(settings.corp_id, settings.kf_secret.get_secret_value(), api_url=settings.api_url,
                            timeout=settings.request_timeout_seconds)
        self.crypto = WeChatCrypto(settings.token.get_secret_value(), settings.aes_key.get_secret_value(),
                                   settings.corp_id)
        self._claimant = f"{socket.gethostname()}:{os.getpid()}"[:100]  # + a pull's own suffix: who reads now
        self._work = AcknowledgedWork()
        self._nicknames: dict[str, str] = {}  # external_userid → WeChat nickname ("" when WeChat gave none)

    def mount(self, app: web.Application) -> None:
        app.router.add_get(CALLBACK_PATH, self.verify)
        app.router.add_post(CALLBACK_PATH, self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        return check_url(self.crypto, request)

    async def receive(self, request: web.Request) -> web.Response:
        message = await decrypt_callback(self.crypto, request)
        if isinstance(message, web.Response):
            return message
        if message.get("MsgType") == "event" and message.get("Event") == "kf_msg_or_event":
            open_kfid, token = str(message.get("OpenKfId") or ""), str(message.get("Token") or "")
            if open_kfid:
                self._work.start(self.pull(open_kfid, token), "kefu-wecom-kf-pull")
        return web.Response(text="")  # at once: WeCom retries after 5 s

    async def close(self) -> None:
        """Let pulls in progress finish (their callbacks were acknowledged), then close the HTTP session."""
        await self._work.drain()
        self.api.close()

    async def pull(self, open_kfid: str, token: str) -> int:
        """Read account `open_kfid` from its saved cursor to the end, and once more for each pull asked for
        meanwhile; returns how many messages were ingested (0 when a pull in progress, here or in another replica,
        reads them instead). Stops at the first failure (the cursor stays before the page, the next callback reads
        it again)."""
        engine, pipeline = self.core.engine, self.core.pipeline
        if engine is None or pipeline is None:
            log.warning("kf messages of %s not read yet: kefu is still loading (the next callback reads them)",
                        open_kfid)
            return 0
        claimant = f"{self._claimant}:{uuid.uuid4().hex[:8]}"
        ingested = 0
        try:
            cursor = await asyncio.to_thread(claim_pull, engine, open_kfid, claimant, token, utcnow())
            if cursor is None:
                log.debug("kf messages of %s: the pull in progress reads them", open_kfid)
                return 0
            while True:
                ingested += await self._read(engine, pipeline, open_kfid, token, cursor, claimant)
                again = await asyncio.to_thread(finish_pull, engine, open_kfid, claimant, utcnow())
                if again is None:
                    return ingested
                cursor, token = again[0], again[1] or token
        except Exception as exc:  # the database: the claim lapses, the next callback reads on
            log.error("reading kf messages of %s stopped: %s: %s", open_kfid, type(exc).__name__, exc)
            return ingested

    async def _read(self, engine: Engine, pipeline: KfPipeline, open_kfid: str, token: str, cursor: str,
                    claimant: str) -> int:
        """One pass from `cursor` to the end of the account's messages, while `claimant` holds the claim."""
        ingested = 0
        renewed = time.monotonic()
        try:
            while True:
                body = {"cursor": cursor, "token": token, "limit": SYNC_LIMIT, "voice_format": 0,
                        "open_kfid": open_kfid}
                page = await self.api.post("kf/sync_msg", body)
                entries = [e for e in page.get("msg_list") or [] if isinstance(e, dict)]
                await self._learn_nicknames(entries)
                for entry in entries:
                    inbound = inbound_from(entry, self._nicknames)
                    if inbound is not None:
                        await pipeline.ingest(inbound)
                        ingested += 1
                    if time.monotonic() - renewed > RENEW_SECONDS:  # a long page: keep the claim
                        if not await asyncio.to_thread(renew_pull, engine, open_kfid, claimant, utcnow()):
                            log.warning("kf pull of %s lapsed; the pull that took over reads on", open_kfid)
                            return ingested
                        renewed = time.monotonic()
                cursor = str(page.get("next_cursor") or cursor)
                if not await asyncio.to_thread(save_cursor, engine, open_kfid, cursor, claimant, utcnow()):
                    log.warning("kf pull of %s lapsed; the pull that took over reads on", open_kfid)
                    return ingested
                renewed = time.monotonic()
                if not page.get("has_more"):
                    return ingested
        except Exception as exc:
            log.error("reading kf messages of %s stopped: %s", open_kfid, send_error(exc, "kf/sync_msg"))
            return ingested

    async def _learn_nicknames(self, entries: list[dict[str, Any]]) -> None:
        """Ask `kf/customer/batchget` for the nicknames of the customers of `entries` not asked about before."""
        if len(self._nicknames) > NICKNAMES_KEPT:
            self._nicknames.clear()
        users = sorted({str(e.get("external_userid")) for e in entries
                        if e.get("origin") == CUSTOMER and e.get("external_userid")} - set(self._nicknames))
        for start in range(0, len(users), BATCHGET_LIMIT):
            chunk = users[start:start + BATCHGET_LIMIT]
            try:
                answer = await self.api.post("kf/customer/batchget", {"external_userid_list": chunk,
                                                                     "need_enter_session_context": 0})
            except Exception as exc:  # the messages matter more than the names: go on without them
                log.warning("WeChat nicknames not read: %s", send_error(exc, "kf/customer/batchget"))
                return
            for customer in answer.get("customer_list") or []:
                if isinstance(customer, dict) and customer.get("external_userid"):
                    nickname = str(customer.get("nickname") or "").strip()[:NICKNAME_CHARS]
                    self._nicknames[str(customer["external_userid"])] = nickname
            for user in chunk:  # invalid or unknown ids: asked once, nameless
                self._nicknames.setdefault(user, "")

    # ---- the outbox sender ---------------------------------------------------------------------------------------

    async def send(self, item: OutboxItem) -> str | None:
        if item.kind != "reply":
            raise SendError(f"the wecom_kf channel sends replies, not {item.kind!r} items", transient=False)
        open_kfid, user = parse_conversation(item.target)
        text = str(item.payload.get("text") or "")
        size = len(text.encode())
        if not text or size > TEXT_BYTES:
            raise SendError(f"the reply is {size} bytes; WeChat takes 1 to {TEXT_BYTES}: shorten it", transient=False)
        reason = await asyncio.to_thread(self._check_window, item)
        if reason is not None:
            raise SendError(reason, transient=False)
        body = {"touser": user, "open_kfid": open_kfid, "msgid": f"kefu-{item.id}", "msgtype": "text",
                "text": {"content": text}}
        try:
            result = await self.api.post("kf/send_msg", body)
        except WeChatClientException as exc:
            if exc.errcode in WINDOW_ERRORS:
                reason = f"WeChat window closed (errcode {exc.errcode}): {WINDOW_ERRORS[exc.errcode]}; " \
                         "reply by another channel"
                await asyncio.to_thread(self._tell_team, item, reason)
                raise SendError(reason, transient=False) from None
            raise send_error(exc, "the reply (kf/send_msg)") from None
        except Exception as exc:
            raise send_error(exc, "the reply (kf/send_msg)") from None
        return str(result.get("msgid") or "") or None

    def _check_window(self, item: OutboxItem) -> str | None:
        assert self.core.engine is not None
        with session_scope(self.core.engine) as session:
            reason = window_closed(session, item.target, utcnow())
            if reason is not None:
                tell_team(session, self.core.settings, item, reason)
            return reason

    def _tell_team(self, item: OutboxItem, reason: str) -> None:
        assert self.core.engine is not None
        with session_scope(self.core.engine) as session:
            tell_team(session, self.core.settings, item, reason)
