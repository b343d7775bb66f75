"""Translation between the team's language and the customer's, when a translation provider is configured.

Cards: `TranslatingCardSender` wraps a team channel's outbox sender. Before a triage card in another language is
posted, the customer's message is translated and added to the card as a field, and the translated payload is saved
on the outbox item so that a retry (or the console reading the card later) does not translate again. A translation
failure never holds a card back: it goes out untranslated, with a log line.

Replies: `translate_for_customer` turns an agent's free-text reply into the customer's language, for the agent to
confirm before it is sent (the team channel shows both).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.outbox import OutboxSender
from knowledge.translation import Translation, TranslationError, Translator
from models.db import session_scope
from models.tables import OutboxItem

log = logging.getLogger("kefu.translation")


def translation_label(team_language: str) -> str:
    return f"Translation ({team_language})"


class TranslatingCardSender:
    def __init__(self, inner: OutboxSender, translator: Translator, team_language: str, engine: Engine) -> None:
        self.inner = inner
        self.translator = translator
        self.team_language = team_language
        self.engine = engine

    async def send(self, item: OutboxItem) -> str | None:
        if self._needs_translation(item):
            await self._translate(item)
        return await self.inner.send(item)

    def _needs_translation(self, item: OutboxItem) -> bool:
        payload = item.payload
        language = payload.get("language")
        if item.kind != "card" or payload.get("kind") != "triage" or not language or not payload.get("body"):
            return False
        if str(language).split("-")[0] == self.team_language.split("-")[0]:
            return False
        label = translation_label(self.team_language)
        return not any(field.get("label") == label for field in payload.get("fields", ()))

    async def _translate(self, item: OutboxItem) -> None:
        payload = item.payload
        try:
            translation = await self.translator.translate(payload["body"], target=self.team_language,
                                                          source=payload["language"])
        except TranslationError as exc:
            log.warning("card of ticket %s goes out untranslated: %s", item.ticket_id, exc,
                        extra={"ticket_id": item.ticket_id})
            return
        fields = list(payload.get("fields", ()))
        fields.insert(0, {"label": translation_label(self.team_language), "value": translation.text})
        item.payload = {**payload, "fields": fields}
        await asyncio.to_thread(self._save, item.id, item.payload)

    def _save(self, item_id: int | None, payload: dict[str, object]) -> None:
        with session_scope(self.engine) as session:
            session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(payload=payload))  # type: ignore[arg-type]


async def translate_for_customer(translator: Translator, text: str, customer_language: str | None,
                                 team_language: str) -> Translation | None:
    """The agent's `text` in the customer's language; None when no translation is needed or it failed."""
    if not customer_language or customer_language.split("-")[0] == team_language.split("-")[0] or not text.strip():
        return None
    try:
        return await translator.translate(text, target=customer_language, source=team_language)
    except TranslationError as exc:
        log.warning("reply not translated to %s: %s", customer_language, exc)
        return None

