"""The scheduler runner (registry, injectable clock, jobs in threads, start/stop), `kefu sla check`, and the
pipeline's deadlines following the SLA policy's business hours."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli import main
from bot.intake import due_times
from bot.settings import Settings, SettingsError, load_settings
from models.tables import OutboxItem
from scheduler.runner import SchedulerRunner, build_scheduler
from tests.scheduler.test_sla_watch import T0, make_settings, new_ticket

# ---- runner ----------------------------------------------------------------------------------------------


async def test_a_job_gets_the_injected_time_and_runs_off_the_event_loop() -> None:
    seen: list[tuple[datetime, bool]] = []
    runner = SchedulerRunner(clock=lambda: T0)
    runner.register_job("probe", 60, lambda now: seen.append((now, threading.current_thread() is main_thread)))
    main_thread = threading.current_thread()
    await runner.run_job("probe")
    assert seen == [(T0, False)]


def test_job_names_are_unique_and_intervals_positive() -> None:
    runner = SchedulerRunner()
    runner.register_job("sla_watch", 60, lambda now: None)
    with pytest.raises(ValueError, match="unique, got 'sla_watch'"):
        runner.register_job("sla_watch", 60, lambda now: None)
    with pytest.raises(ValueError, match="interval_seconds must be above 0"):
        runner.register_job("other", 0, lambda now: None)


async def test_started_scheduler_runs_jobs_repeatedly_and_survives_a_failing_job() -> None:
    ran = asyncio.Event()
    calls: list[datetime] = []
    loop = asyncio.get_running_loop()

    def job(now: datetime) -> None:
        calls.append(now)
        if len(calls) >= 2:
            loop.call_soon_threadsafe(ran.set)
        raise RuntimeError("boom")  # logged; the next run happens all the same

    runner = SchedulerRunner()
    runner.register_job("flaky", 0.05, job)
    runner.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=30)
    finally:
        await runner.stop()
    assert len(calls) >= 2


def test_kefu_registers_the_sla_watch_at_the_configured_interval(engine: Engine) -> None:
    runner = build_scheduler(make_settings(watch_interval_seconds=30), engine)
    assert runner.jobs["sla_watch"].interval_seconds == 30


async def test_the_scheduled_sla_watch_posts_through_the_runner(engine: Engine) -> None:
    settings = make_settings()
    new_ticket(engine, settings)
    runner = build_scheduler(settings, engine, clock=lambda: T0 + timedelta(hours=3))
    events = await runner.run_job("sla_watch")
    assert [e.stage for e in events] == ["breach"]


# ---- kefu sla check -----------------------------------------------------------------------------------------


def test_sla_check_dry_run_prints_and_posts_nothing(engine: Engine, migrated_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.delenv("KEFU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    ticket_id = new_ticket(engine, Settings())
    assert main(["sla", "check", "--at", "2026-11-02T12:30:00+00:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"ticket #{ticket_id} first response breach: overdue by 1 h 30 min" in out and "[would post]" in out
    with Session(engine) as session:
        assert list(session.scalars(select(OutboxItem))) == []
    assert main(["sla", "check", "--at", "2026-11-02T12:30:00+00:00"]) == 0
    assert "[posted]" in capsys.readouterr().out
    with Session(engine) as session:
        assert len(list(session.scalars(select(OutboxItem)))) == 2  # breach card and escalation


def test_sla_check_rejects_a_bad_time_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KEFU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["sla", "check", "--at", "next tuesday"]) == 2
    assert "--at 'next tuesday' is not an ISO-8601 time" in capsys.readouterr().err


# ---- settings and the pipeline's deadlines --------------------------------------------------------------------


def test_pipeline_deadlines_follow_business_hours() -> None:
    settings = Settings(sla={"business_hours": {"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00"},
                                                "holidays": ["2026-11-30"]}})
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    first, resolution = due_times(settings.sla, 1, friday_evening)
    shanghai = ZoneInfo("Asia/Shanghai")
    assert first == datetime(2026, 12, 1, 11, 0, tzinfo=shanghai)  # Monday is a holiday
    assert resolution - first > timedelta(hours=22)  # 24 working hours span nights


def test_without_business_hours_deadlines_are_wall_clock() -> None:
    first, resolution = due_times(Settings().sla, 2, T0)
    assert (first, resolution) == (T0 + timedelta(hours=4), T0 + timedelta(hours=48))
    assert first.tzinfo is not None and first.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        ({"business_hours": {"timezone": "Mars/Base"}}, "sla.business_hours.timezone"),
        ({"business_hours": {"hours": {"mon-fry": "09:00-18:00"}}}, "hours.mon-fry"),
        ({"business_hours": {"holidays": ["2026-02-30"]}}, "holidays[0]"),
        ({"pre_breach_fraction": 1.5}, "sla.pre_breach_fraction"),
        ({"policies": [{"name": "p"}]}, "sla.policies.0.channel"),
        ({"severity": {4: {"first_response_hours": 1, "resolution_hours": 2}}}, "severities are 1, 2 and 3"),
    ],
)
def test_bad_sla_settings_name_the_key(sla: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    monkeypatch.delenv("KEFU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as caught:
        load_settings(sla=sla)
    assert message in str(caught.value)


def test_old_severity_keys_keep_working() -> None:
    settings = Settings(sla={"severity": {1: {"first_response_hours": 1, "resolution_hours": 8}}})
    policy = settings.sla.policy_for()
    assert policy.targets_for(1) == (timedelta(hours=1), timedelta(hours=8))
    assert policy.targets_for(3) == (timedelta(hours=8), timedelta(hours=72))
