"""Translating triage cards into the team's language on their way out, when a translation provider is configured.

Wraps a team channel's outbox sender: before a triage card in another language is posted, the customer's message
is translated and added to the card as a field, and the translated payload is saved on the outbox item so that a
retry (or the console reading the card later) does not translate again. A translation failure never holds a
card back: it goes out untranslated, with a log line.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.outbox import OutboxSender
from knowledge.translation import TranslationError, Translator
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
