"""Triage cards are translated into the team's language on their way out (fake LibreTranslate server)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Card, card_from_payload, card_to_payload
from bot.outbox import enqueue
from bot.team_translation import TranslatingCardSender
from knowledge.translation import LibreTranslateClient
from models.db import session_scope
from models.tables import OutboxItem
from tests.fakes.libretranslate import running_libretranslate


class RecordingChannel:
    def __init__(self) -> None:
        self.sent: list[Card] = []

    async def send(self, item: OutboxItem) -> str | None:
        self.sent.append(card_from_payload(item.payload))
        return f"console:{item.id}"


def _card_item(engine: Engine, body: str, language: str, key: str) -> OutboxItem:
    card = Card(kind="triage", title="Ticket #1", body=body, language=language)
    with session_scope(engine) as session:
        return enqueue(session, dedup_key=key, kind="card", channel="console", target="",
                       payload=card_to_payload(card))


async def test_a_german_card_reaches_an_english_team_translated_once(engine: Engine) -> None:
    channel = RecordingChannel()
    async with running_libretranslate() as fake:
        sender = TranslatingCardSender(channel, LibreTranslateClient(fake.url), "en", engine)
        item = _card_item(engine, "Mein Paket ist nie angekommen.", "de", "card:1")
        await sender.send(item)
        await sender.send(item)  # a retry: the translation was saved with the item
    assert len(fake.requests) == 1
    assert channel.sent[0].fields[0].label == "Translation (en)"
    assert channel.sent[0].fields[0].value == "My parcel never arrived."
    with Session(engine) as session:
        stored = session.get(OutboxItem, item.id)
        assert stored is not None and stored.payload["fields"][0]["value"] == "My parcel never arrived."


async def test_cards_in_the_team_language_and_failed_translations_go_out_untouched(engine: Engine) -> None:
    channel = RecordingChannel()
    async with running_libretranslate() as fake:
        sender = TranslatingCardSender(channel, LibreTranslateClient(fake.url), "en", engine)
        await sender.send(_card_item(engine, "My parcel never arrived.", "en-GB", "card:1"))
        fake.fail_next = [503]
        await sender.send(_card_item(engine, "一直没有收到货", "zh", "card:2"))
    assert len(fake.requests) == 1  # only the Chinese card was sent for translation
    assert [card.fields for card in channel.sent] == [(), ()]


async def test_an_agents_reply_is_translated_into_the_customers_language_for_confirmation() -> None:
    from bot.team_translation import translate_for_customer

    async with running_libretranslate() as fake:
        client = LibreTranslateClient(fake.url)
        text = "We are sorry, we will resend your parcel today."
        translated = await translate_for_customer(client, text, "de-AT", "en")
        assert translated is not None and translated.text == "Es tut uns leid, wir senden Ihr Paket heute erneut."
        assert await translate_for_customer(client, text, "en-US", "en") is None  # same language: nothing to do
        fake.fail_next = [500]
        assert await translate_for_customer(client, text, "de", "en") is None  # failure: the agent sends as written
    assert [r["target"] for r in fake.requests] == ["de", "de"]
