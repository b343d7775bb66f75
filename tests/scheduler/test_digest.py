"""The weekly scorecard digest: posted once per ISO week on the configured weekday and hour (team timezone), to
the managers' route, with the past 7 days' scorecards; never twice, however often and by however many runners."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import card_from_payload
from bot.settings import Settings, SettingsError, load_settings
from models.db import create_db_engine
from models.tables import OutboxItem
from scheduler.digest import WeeklyDigest
from scheduler.runner import build_scheduler
from tests.commands.conftest import seed

# Saturday 2026-11-21 09:00 in Shanghai is 01:00 UTC; the seeded team's tickets (tests/commands/conftest.py) lie
# between 2026-11-14 and 2026-11-20, inside the 7 days before it; five older ones lie before them.
DIGEST_TIME = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def make_settings() -> Settings:
    return Settings(timezone="Asia/Shanghai", scorecards={"digest_weekday": "sat", "digest_hour": 9},
                    sla={"managers": {"channel": "console", "target": "managers-room"}})


def digests(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(
            OutboxItem.dedup_key.startswith("digest:"))))  # type: ignore[union-attr]


def test_nothing_is_posted_before_the_configured_weekday_and_hour(engine: Engine) -> None:
    seed(engine)
    digest = WeeklyDigest(engine, make_settings())
    for now in (DIGEST_TIME - timedelta(minutes=1),  # Saturday 08:59 in Shanghai
                DIGEST_TIME - timedelta(days=1),  # Friday 09:00
                DIGEST_TIME + timedelta(hours=16)):  # Sunday 01:00 in Shanghai (still Saturday in UTC)
        assert digest(now) is None
    assert digests(engine) == []


def test_posts_the_past_weeks_scorecards_to_the_managers_once(engine: Engine) -> None:
    seed(engine)
    digest = WeeklyDigest(engine, make_settings())
    first = digest(DIGEST_TIME + timedelta(minutes=7))
    assert first is not None and first.posted and first.dedup_key == "digest:2026-W47"
    for hours in (1, 5, 14):  # later hourly runs the same day (14 h: 23:00 in Shanghai)
        again = digest(DIGEST_TIME + timedelta(hours=hours))
        assert again is not None and not again.posted
    [item] = digests(engine)
    assert (item.kind, item.channel, item.target, item.status) == ("notice", "console", "managers-room", "pending")
    card = card_from_payload(item.payload)
    assert card.kind == "notice"
    assert card.title == "📊 Weekly team scorecard · 2026-W47"
    rows = {line.split()[0]: line.split() for line in card.body.splitlines() if line.startswith(("ana", "bo"))}
    assert rows["ana"][1:5] == ["es", "·", "amazon", "6"]  # 6 tickets this week; the 5 older ones are left out
    assert rows["bo"][1:5] == ["de", "·", "amazon", "5"]  # 4 complaints and the sizing ticket of Friday
    assert dict((f.label, f.value) for f in card.fields)["Period"] == \
        "Sat 2026-11-14 09:00 – Sat 2026-11-21 09:00 (Asia/Shanghai)"


def test_next_week_gets_its_own_digest(engine: Engine) -> None:
    seed(engine)
    digest = WeeklyDigest(engine, make_settings())
    digest(DIGEST_TIME)
    later = digest(DIGEST_TIME + timedelta(days=7))
    assert later is not None and later.posted and later.dedup_key == "digest:2026-W48"
    assert sorted(i.dedup_key for i in digests(engine)) == ["digest:2026-W47", "digest:2026-W48"]
    assert "No assigned tickets in the past 7 days." in card_from_payload(digests(engine)[1].payload).body


def test_two_runners_on_one_database_post_one_digest(engine: Engine, migrated_url: str) -> None:
    seed(engine)
    settings = make_settings()
    engines = [create_db_engine(migrated_url) for _ in range(2)]
    runners = [build_scheduler(settings, e, clock=lambda: DIGEST_TIME) for e in engines]
    assert all(r.jobs["weekly_digest"].interval_seconds == 3600 for r in runners)
    errors: list[BaseException] = []

    def run(job: object) -> None:
        try:
            for _ in range(3):
                job(DIGEST_TIME)  # type: ignore[operator]
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(r.jobs["weekly_digest"].func,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for e in engines:
        e.dispose()
    assert errors == []
    assert [i.dedup_key for i in digests(engine)] == ["digest:2026-W47"]


@pytest.mark.parametrize(("scorecards", "key"), [({"digest_weekday": "monday"}, "scorecards.digest_weekday"),
                                                 ({"digest_hour": 24}, "scorecards.digest_hour")])
def test_bad_digest_settings_name_the_key(scorecards: dict[str, object], key: str, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.delenv("KEFU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as caught:
        load_settings(scorecards=scorecards)
    assert key in str(caught.value)
