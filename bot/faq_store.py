"""FAQ entries kept in the database (table FaqArticle): import, export, and loading them for retrieval."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import select

from knowledge.faq import FaqEntry
from models import FaqArticle, session_scope, utcnow


def save_faq_entries(engine: Engine, entries: Sequence[FaqEntry]) -> tuple[int, int]:
    """Insert or replace entries by id; returns (added, updated)."""
    added = updated = 0
    with session_scope(engine) as session:
        for entry in entries:
            row = session.get(FaqArticle, entry.id)
            if row is None:
                session.add(FaqArticle(id=entry.id, intent=entry.intent, questions=list(entry.questions),
                                       answers=dict(entry.answers)))
                added += 1
            else:
                row.intent, row.questions, row.answers = entry.intent, list(entry.questions), dict(entry.answers)
                row.updated_at = utcnow()
                session.add(row)
                updated += 1
    return added, updated


def load_faq_entries(engine: Engine) -> list[FaqEntry]:
    with session_scope(engine) as session:
        rows = session.exec(select(FaqArticle).order_by(FaqArticle.id)).all()
        return [FaqEntry(id=r.id, questions=tuple(r.questions), answers=dict(r.answers), intent=r.intent)
                for r in rows]
