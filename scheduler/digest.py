"""The weekly scorecard digest: once per ISO week, the team's scorecards for the past 7 days, posted to the
managers' route (`sla.managers`) as a "notice" card.

The scheduler calls `WeeklyDigest(now)` every hour (scheduler/runner.py); it posts only on
`scorecards.digest_weekday` at or after `scorecards.digest_hour` in the team's timezone (`settings.timezone`), so
a replica that was down at that hour still posts later that day. The window is the 7 days that end at that
weekday's `digest_hour` (local wall time), whatever the minute the job runs, so every replica computes the same
digest. Once per week: the outbox item's dedup key is "digest:{iso_year}-W{week:02d}" and enqueue inserts it
with ON CONFLICT DO NOTHING, so further runs and other replicas add nothing. The card is written in the language
of the managers' channel (`Settings.language_for`: Chinese on DingTalk and WeCom by default, else English).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import Card, CardField, card_to_payload
from bot.outbox import enqueue
from bot.settings import Settings
from handlers.commands.answers import grade_text, table
from handlers.phrases import PHRASES, phrase
from handlers.scorecards import Scorecard, team_scorecards
from models.tables import OutboxItem

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_INTERVAL_SECONDS = 3600.0  # hourly: the job itself waits for the configured weekday and hour


@dataclass(frozen=True)
class DigestRun:
    """What one call did: the week it is for, and whether this call enqueued the digest."""

    week: str  # "2026-W48"
    dedup_key: str
    posted: bool  # False when a run (here or on another replica) posted this week's digest already
    outbox_item_id: int | None


class WeeklyDigest:
    """The digest job over `engine` with `settings`; call it with the current (aware) time."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._zone = ZoneInfo(settings.timezone)

    def __call__(self, now: datetime) -> DigestRun | None:
        """Post this week's digest if it is due and not posted yet; None before the configured weekday/hour."""
        window = self.window(now)
        if window is None:
            return None
        start, end = window
        year, week, _ = end.astimezone(self._zone).isocalendar()
        label = f"{year}-W{week:02d}"
        dedup_key = f"digest:{label}"
        managers = self.settings.sla.managers
        with Session(self.engine) as session:
            if self._exists(session, dedup_key):
                return DigestRun(label, dedup_key, False, None)
        card = self.card(label, start, end, self.settings.language_for(managers.channel))
        with Session(self.engine) as session:
            # A replica racing this one may insert first: enqueue then returns its item and adds nothing.
            item = enqueue(session, dedup_key=dedup_key, kind="notice", channel=managers.channel,
                           target=managers.target, payload=card_to_payload(card))
            item_id = item.id
            session.commit()
        log.info("weekly digest %s enqueued for the managers' route", label)
        return DigestRun(label, dedup_key, True, item_id)

    def window(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The digest's [start, end) when `now` is on the digest weekday at or after the digest hour, else None."""
        if now.tzinfo is None:
            raise ValueError(f"the weekly digest needs a timezone-aware time, got {now.isoformat()}")
        scorecards = self.settings.scorecards
        local = now.astimezone(self._zone)
        if WEEKDAYS[local.weekday()] != scorecards.digest_weekday or local.hour < scorecards.digest_hour:
            return None
        end = datetime.combine(local.date(), time(scorecards.digest_hour), tzinfo=self._zone)
        start = datetime.combine(local.date() - timedelta(days=7), time(scorecards.digest_hour), tzinfo=self._zone)
        return start, end

    def card(self, label: str, start: datetime, end: datetime, language: str = "en") -> Card:
        """The digest card in `language`: one row per agent with tickets in [start, end), by queue then score."""
        cards = team_scorecards(self.engine, start, end, self.settings.scorecards)
        period = f"{self._local(start, language)} – {self._local(end, language)}"
        return Card(kind="notice", title=phrase("digest.title", language, week=label),
                    body=digest_body(cards, language),
                    fields=(CardField(phrase("digest.period", language), f"{period} ({self.settings.timezone})"),
                            CardField(phrase("digest.agents", language), str(len(cards)))),
                    footer=phrase("digest.footer", language))

    def _local(self, moment: datetime, language: str = "en") -> str:
        local = moment.astimezone(self._zone)
        return f"{phrase(f'weekday.{local.weekday()}', language)} {local:%Y-%m-%d %H:%M}"

    @staticmethod
    def _exists(session: Session, dedup_key: str) -> bool:
        return session.scalars(select(OutboxItem.id).where(OutboxItem.dedup_key == dedup_key)).first() is not None


def digest_body(cards: list[Scorecard], language: str = "en") -> str:
    """The scorecards as a monospace table in `language` (or a line saying there were none)."""
    if not cards:
        return phrase("digest.empty", language)

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f}%"

    def grade(value: str | None) -> str:
        return "–" if not value else grade_text(value, language) if f"grade.{value}" in PHRASES else value

    rows = [[c.agent, c.queue, str(c.handled), "–" if c.score is None else f"{c.score:.1f}", grade(c.grade),
             pct(c.sla_compliance), "–" if c.csat is None else f"{c.csat:.2f}"] for c in cards]
    header = [phrase(f"scorecard.header.{column}", language) for column in ("agent", "queue", "tickets", "score",
                                                                               "grade")]
    return table([*header, phrase("digest.header.sla", language), phrase("digest.header.csat", language)], rows)
