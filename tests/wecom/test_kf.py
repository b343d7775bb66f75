"""微信客服 (kf) as a customer channel, end to end: kefu in process with the real wechatpy client against the fake
WeCom; the driver announces new messages with encrypted `kf_msg_or_event` callbacks, kefu pulls them with
`kf/sync_msg` and answers with `kf/send_msg` within WeChat's 48 h / 5 replies window."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from adapters.wecom.kf import CHANNEL, WINDOW_FIELD, WeComKfChannel
from bot.messages import Action, card_from_payload
from bot.settings import SettingsError, load_settings
from models.tables import ChannelCursor, Customer, Message, OutboxItem, Ticket
from tests.e2e.conftest import RunningKefu, wait_until
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import WeComDriver
from tests.wecom.conftest import AES_KEY, TOKEN

StartKefu = Callable[..., Awaitable[RunningKefu]]
HOURS = 3600


async def start(start_kefu: StartKefu, fake: FakeWeCom) -> tuple[RunningKefu, WeComDriver]:
    kefu = await start_kefu(None, wecom={"corp_id": fake.corp_id, "kf_secret": fake.kf_secret, "token": TOKEN,
                                         "aes_key": AES_KEY, "api_url": fake.api_url})
    driver = WeComDriver(str(kefu.client.make_url("/wecom/kf/callback")), corp_id=fake.corp_id,
                         agent_id=fake.agent_id, token=TOKEN, aes_key=AES_KEY)
    return kefu, driver


def kf(kefu: RunningKefu) -> WeComKfChannel:
    assert isinstance(kefu.kefu.kf_channel, WeComKfChannel)
    return kefu.kefu.kf_channel


async def announce(kefu: RunningKefu, driver: WeComDriver, fake: FakeWeCom, token: str) -> None:
    """The callback for new kf messages, answered at once; returns when kefu has read them."""
    delivery = await driver.kf_event(token, fake.open_kfid)
    assert (delivery.status, delivery.text) == (200, "")
    await wait_until(lambda: not kf(kefu)._work, "the kf pull to finish")


def kf_messages(kefu: RunningKefu) -> list[Message]:
    with Session(kefu.engine) as session:
        return list(session.scalars(select(Message).where(Message.channel == CHANNEL, Message.direction == "in")
                                    .order_by(Message.id)))  # type: ignore[arg-type]


def ticket_items(kefu: RunningKefu, ticket_id: int) -> list[OutboxItem]:
    with Session(kefu.engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket_id)
                                    .order_by(OutboxItem.id)))  # type: ignore[arg-type]


async def test_a_spanish_faq_from_wechat_is_auto_replied_in_spanish_through_send_msg(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    assert "wecom_kf" in kefu.kefu.reply_channels()
    msgid, token = fake_wecom.customer_writes("wx-ana", "¿dónde está mi pedido?")

    await announce(kefu, driver, fake_wecom, token)

    [reply] = await fake_wecom.wait_for_async(lambda: fake_wecom.kf_texts_to("wx-ana"), "the reply on WeChat")
    assert reply.startswith("Hola") and "pedido" in reply
    [message] = kf_messages(kefu)
    assert (message.channel_message_id, message.language, message.intent) == (msgid, "es", "order_status")
    [sent] = fake_wecom.kf_sent
    assert (sent["open_kfid"], sent["msgtype"]) == (fake_wecom.open_kfid, "text")
    sync = fake_wecom.calls("kf/sync_msg")[0]
    assert (sync.body["token"], sync.body["cursor"]) == (token, "")


async def test_the_card_and_the_ticket_name_the_wechat_customer_by_their_nickname(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    _msgid, token = fake_wecom.customer_writes("wx-jonas", "Ich habe mein Paket nie erhalten, seit drei Wochen "
                                                           "warte ich", nickname="Jonas 🚲")
    fake_wecom.customer_writes("wx-nameless", "Mein Paket ist kaputt angekommen")
    _again, token = fake_wecom.customer_writes("wx-jonas", "Hallo? Noch niemand da?")

    await announce(kefu, driver, fake_wecom, token)

    first = kf_messages(kefu)[0]
    cards = await wait_until(lambda: [i for i in ticket_items(kefu, first.ticket_id or 0)
                                      if i.kind == "card" and i.status == "sent"], "the triage card")
    for card in cards:  # the ticket's first message's card, and the second message's when it is sent already
        fields = {f.label: f.value for f in card_from_payload(card.payload).fields}
        assert fields["Customer"] == "Jonas 🚲"
    with Session(kefu.engine) as session:
        names = dict(session.execute(select(Customer.external_id, Customer.name)
                                     .where(Customer.channel == CHANNEL)).all())  # type: ignore[arg-type]
    assert names == {"wx-jonas": "Jonas 🚲", "wx-nameless": None}
    [lookup] = fake_wecom.calls("kf/customer/batchget")  # one call for the page's two customers
    assert sorted(lookup.body["external_userid_list"]) == ["wx-jonas", "wx-nameless"]


async def test_a_complaint_becomes_a_triage_card_and_the_agents_reply_reaches_the_wechat_customer(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    _msgid, token = fake_wecom.customer_writes("wx-jonas", "Ich habe mein Paket nie erhalten, seit drei Wochen "
                                                           "warte ich und niemand antwortet")
    await announce(kefu, driver, fake_wecom, token)
    [message] = kf_messages(kefu)
    assert message.ticket_id is not None
    [card] = await wait_until(lambda: [i for i in ticket_items(kefu, message.ticket_id or 0)
                                       if i.kind == "card" and i.status == "sent"], "the triage card")
    assert card.channel == "console" and "Ich habe mein Paket" in card_from_payload(card.payload).body
    assert fake_wecom.kf_sent == []  # a complaint waits for a person

    result = await kefu.kefu.handle_action(Action("edit", message.ticket_id, "slack", "U-AGENT-1",
                                                  {"text": "Es tut uns leid! Wir senden Ihr Paket erneut."}))
    assert result.ok, result.message

    texts = await fake_wecom.wait_for_async(lambda: fake_wecom.kf_texts_to("wx-jonas"), "the agent's reply")
    assert texts == ["Es tut uns leid! Wir senden Ihr Paket erneut."]


async def test_a_restart_neither_rereads_nor_skips_messages(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    first, driver = await start(start_kefu, fake_wecom)
    one, token = fake_wecom.customer_writes("wx-li", "¿dónde está mi pedido?")
    await announce(first, driver, fake_wecom, token)
    await fake_wecom.wait_for_async(lambda: fake_wecom.kf_texts_to("wx-li"), "the first reply")
    await first.client.close()  # kefu stops; the customer writes meanwhile

    two, _ = fake_wecom.customer_writes("wx-li", "¿cuándo llega mi pedido?")
    three, token = fake_wecom.customer_writes("wx-mei", "¿dónde está mi pedido?")
    second, driver = await start(start_kefu, fake_wecom)
    await announce(second, driver, fake_wecom, token)

    assert [m.channel_message_id for m in kf_messages(second)] == [one, two, three]
    cursors = [c.body["cursor"] for c in fake_wecom.calls("kf/sync_msg")]
    assert cursors[0] == "" and cursors[-1] != ""  # the new process went on from the saved cursor
    with Session(second.engine) as session:
        [saved] = session.scalars(select(ChannelCursor)).all()
    assert (saved.channel, saved.key) == (CHANNEL, fake_wecom.open_kfid)


async def test_a_redelivered_callback_duplicates_nothing(start_kefu: StartKefu, fake_wecom: FakeWeCom) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    fake_wecom.kf_event("wx-ana")  # a system event: not a customer's message
    _msgid, token = fake_wecom.customer_writes("wx-ana", "¿dónde está mi pedido?")
    first = await driver.kf_event(token, fake_wecom.open_kfid)
    await wait_until(lambda: not kf(kefu)._work, "the kf pull to finish")
    await fake_wecom.wait_for_async(lambda: fake_wecom.kf_texts_to("wx-ana"), "the reply")

    retry = await driver.post_xml(first.xml)  # WeCom's retry of the same callback
    assert retry.status == 200
    await wait_until(lambda: len(fake_wecom.calls("kf/sync_msg")) >= 2, "the second pull")
    await wait_until(lambda: not kf(kefu)._work, "the second pull to finish")

    assert len(kf_messages(kefu)) == 1
    assert len(fake_wecom.kf_texts_to("wx-ana")) == 1
    assert fake_wecom.calls("kf/sync_msg")[-1].response["msg_list"] == []


async def test_a_reply_after_the_48_hour_window_fails_with_the_reason_on_the_triage_card(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    _msgid, token = fake_wecom.customer_writes("wx-olga", "Ich habe mein Paket nie erhalten, seit drei Wochen "
                                                          "warte ich", ago_seconds=49 * HOURS)
    await announce(kefu, driver, fake_wecom, token)
    [message] = kf_messages(kefu)
    ticket_id = message.ticket_id
    assert ticket_id is not None
    await wait_until(lambda: any(i.kind == "card" and i.status == "sent" for i in ticket_items(kefu, ticket_id)),
                     "the triage card")

    result = await kefu.kefu.handle_action(Action("edit", ticket_id, "slack", "U-AGENT-2",
                                                  {"text": "Wir prüfen das sofort."}))
    assert result.ok, result.message

    def window_card() -> OutboxItem | None:
        return next((i for i in ticket_items(kefu, ticket_id) if i.dedup_key.startswith("kf_window:")
                     and i.status == "sent"), None)

    card_item = await wait_until(window_card, "the card update about the window")
    [reply] = [i for i in ticket_items(kefu, ticket_id) if i.kind == "reply"]
    assert reply.status == "failed" and "48 h" in (reply.last_error or "")
    card = card_from_payload(card_item.payload)
    [field] = [f for f in card.fields if f.label == WINDOW_FIELD]
    assert "closed" in field.value and "reply by another channel" in field.value
    assert card_item.kind == "card_update" and card.ticket_id == ticket_id
    assert fake_wecom.calls("kf/send_msg") == []  # kefu knew before asking WeChat


async def test_wechats_window_refusal_fails_the_auto_reply_and_puts_a_card_before_the_team(
    start_kefu: StartKefu, fake_wecom: FakeWeCom,
) -> None:
    kefu, driver = await start(start_kefu, fake_wecom)
    fake_wecom.fail("kf/send_msg", 95001)
    _msgid, token = fake_wecom.customer_writes("wx-ana", "¿dónde está mi pedido?")
    await announce(kefu, driver, fake_wecom, token)
    [message] = kf_messages(kefu)
    ticket_id = message.ticket_id or 0

    def failed_reply() -> list[Any]:
        return [i for i in ticket_items(kefu, ticket_id) if i.kind == "reply" and i.status == "failed"]

    [reply] = await wait_until(failed_reply, "the auto-reply to fail")
    assert "errcode 95001" in (reply.last_error or "")
    [card_item] = await wait_until(lambda: [i for i in ticket_items(kefu, ticket_id)
                                            if i.kind == "card" and i.status == "sent"], "a card for the team")
    [field] = [f for f in card_from_payload(card_item.payload).fields if f.label == WINDOW_FIELD]
    assert "95001" in field.value
    with Session(kefu.engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.card_ref == card_item.result_ref


def test_the_kf_secret_alone_turns_the_wechat_customer_channel_on_and_needs_the_callback_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no kefu.toml
    for name in [name for name in os.environ if name.startswith("KEFU_")]:
        monkeypatch.delenv(name)
    kf_only = {"KEFU_WECOM_CORP_ID": "wwkefu0123456789", "KEFU_WECOM_KF_SECRET": "kf-secret",
               "KEFU_WECOM_TOKEN": TOKEN, "KEFU_WECOM_AES_KEY": AES_KEY}
    for name, value in kf_only.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.wecom.kf_enabled and not settings.wecom.enabled and settings.triage.channel == "console"

    monkeypatch.delenv("KEFU_WECOM_AES_KEY")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "wecom.aes_key" in str(caught.value)
