"""One-time codes for updating a posted card in place, shared by replicas (`CardUpdateCode` rows).

Some team platforms let a card be updated only with a code they hand out once per use: WeCom gives a template card's
`response_code` when the card is posted and a fresh one with each click on it, each good for one update within
72 hours. The click reaches whichever replica WeCom calls back, the card's update goes out from whichever replica
claims it from the outbox: so the codes live here, not in a process. `take` spends the newest unspent code of a
card in one statement (on PostgreSQL the newest row not being taken by another replica right now), so two
replicas never spend the same code; `give_back` returns a code whose update failed transiently (it is still good).

The work is synchronous: async callers run it with `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from models.db import utcnow
from models.tables import CardUpdateCode

CODE_LIFETIME: Final = timedelta(hours=72)  # WeCom's: an older code is refused anyway
PRUNE_EVERY: Final = timedelta(hours=1)
CARD_KEY_LENGTH: Final = 128
CODE_LENGTH: Final = 255
_TABLE = CardUpdateCode.__table__  # type: ignore[attr-defined]


class CardUpdateCodes:
    """The update codes of the cards of team channel `channel`, over `engine`."""

    blocking = True  # the methods wait for the database

    def __init__(self, engine: Engine, channel: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.channel = channel
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._insert: Any = postgresql.insert if self._postgres else sqlite.insert
        self._pruned_at: datetime | None = None

    def remember(self, card_key: str, code: str) -> None:
        """Keep a code the platform gave for the card (a click's); a code already spent stays spent."""
        if not card_key or not code or len(card_key) > CARD_KEY_LENGTH or len(code) > CODE_LENGTH:
            return  # not a code kefu's cards carry
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(self._insert(_TABLE)
                               .values(channel=self.channel, card_key=card_key, code=code, received_at=now)
                               .on_conflict_do_nothing(index_elements=["channel", "code"]))
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            with self.engine.begin() as connection:
                connection.execute(delete(_TABLE).where(_TABLE.c.channel == self.channel,
                                                        _TABLE.c.received_at < now - CODE_LIFETIME))

    def take(self, card_key: str, posted: str | None) -> str | None:
        """Spend a code for one update of the card: its newest unspent code from a click, else `posted` (the code
        from posting the card, from its reference) unless spent already; None when there is none."""
        now = self.clock()
        newest = (select(_TABLE.c.id)
                  .where(_TABLE.c.channel == self.channel, _TABLE.c.card_key == card_key, _TABLE.c.spent_at.is_(None))
                  .order_by(_TABLE.c.id.desc()).limit(1))
        if self._postgres:
            newest = newest.with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            code = connection.scalar(
                update(_TABLE).where(_TABLE.c.id == newest.scalar_subquery(), _TABLE.c.spent_at.is_(None))
                .values(spent_at=now).returning(_TABLE.c.code)
            )
            if code is not None or not posted or len(posted) > CODE_LENGTH or len(card_key) > CARD_KEY_LENGTH:
                return code
            spent_now = connection.scalar(
                self._insert(_TABLE)
                .values(channel=self.channel, card_key=card_key, code=posted, received_at=now, spent_at=now)
                .on_conflict_do_nothing(index_elements=["channel", "code"]).returning(_TABLE.c.id)
            )
        return posted if spent_now is not None else None

    def give_back(self, card_key: str, code: str) -> None:
        """The update with `code` failed transiently: the code is still good for the next try."""
        with self.engine.begin() as connection:
            connection.execute(update(_TABLE).where(_TABLE.c.channel == self.channel, _TABLE.c.code == code)
                               .values(spent_at=None))
