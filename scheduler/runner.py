"""The scheduler runner: periodic jobs on APScheduler's AsyncIOScheduler, inside `kefu serve`'s event loop.

A job is a synchronous function of "now" (its database work is synchronous); the runner calls it in a worker
thread with the time from its injectable clock, never two runs of one job at once (missed runs coalesce into
one). Jobs must be idempotent across replicas (they claim their work in the database); the runner only paces them.

    runner = SchedulerRunner()
    runner.register_job("sla_watch", 60, SlaWatch(engine, settings))
    runner.start()            # inside a running event loop
    ...
    await runner.stop()

`build_scheduler(settings, engine)` registers kefu's jobs (the SLA watch, metric alerts, the weekly scorecard
digest, housekeeping, off-shift reassignment with automatic assignment, CSAT surveys, resolving quiet tickets;
further jobs add themselves there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot.settings import Settings
from models.db import utcnow

log = logging.getLogger(__name__)

JobFunc = Callable[[datetime], Any]


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    func: JobFunc


class SchedulerRunner:
    """A registry of named periodic jobs and the APScheduler instance that runs them."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self._scheduler: AsyncIOScheduler | None = None

    def register_job(self, name: str, interval_seconds: float, func: JobFunc) -> Job:
        """Add a job run every `interval_seconds` as `func(now)` in a thread. Names are unique."""
        if not name or name in self.jobs:
            raise ValueError(f"job name must be non-empty and unique, got {name!r}")
        if interval_seconds <= 0:
            raise ValueError(f"job {name!r}: interval_seconds must be above 0, got {interval_seconds}")
        if self._scheduler is not None:
            raise RuntimeError(f"job {name!r}: register jobs before the scheduler starts")
        job = Job(name, float(interval_seconds), func)
        self.jobs[name] = job
        return job

    async def run_job(self, name: str) -> Any:
        """Run one job now (in a thread), as the scheduler would; errors are logged and re-raised."""
        job = self.jobs[name]
        now = self.clock()
        try:
            return await asyncio.to_thread(job.func, now)
        except Exception:
            log.exception("scheduled job %s failed", name)
            raise

    async def _tick(self, name: str) -> None:
        with contextlib.suppress(Exception):  # logged in run_job; the next run tries again
            await self.run_job(name)

    def start(self) -> None:
        """Start the jobs on the running event loop."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone="UTC")
        for job in self.jobs.values():
            scheduler.add_job(self._tick, IntervalTrigger(seconds=job.interval_seconds), args=[job.name],
                              id=job.name, name=job.name, coalesce=True, max_instances=1,
                              misfire_grace_time=max(1, int(job.interval_seconds)))
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(f"{j.name} every {j.interval_seconds:g}s"
                                                    for j in self.jobs.values()) or "no jobs")

    async def stop(self) -> None:
        """Stop scheduling; a run in progress finishes in its thread."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            await asyncio.sleep(0)


def build_scheduler(settings: Settings, engine: Engine, clock: Callable[[], datetime] = utcnow,
                    *, reply_channels: frozenset[str] | None = None) -> SchedulerRunner:
    """kefu's scheduler with its jobs registered; `reply_channels`: the customer channels that can deliver replies
    (CSAT surveys are not asked elsewhere; None: all)."""
    from scheduler.after_sales import AfterSalesReminders
    from scheduler.alerts import AlertEvaluation
    from scheduler.assignment import OffShiftReassignment
    from scheduler.auto_resolve import AutoResolveJob
    from scheduler.csat_surveys import CsatSurveyJob
    from scheduler.digest import DIGEST_INTERVAL_SECONDS, WeeklyDigest
    from scheduler.housekeeping import HOUSEKEEPING_INTERVAL_SECONDS, ReceiptPruning
    from scheduler.sla import SlaWatch

    runner = SchedulerRunner(clock)
    runner.register_job("sla_watch", settings.sla.watch_interval_seconds, SlaWatch(engine, settings, clock))
    runner.register_job("metric_alerts", settings.alerts.evaluation_interval_seconds, AlertEvaluation(engine, settings))
    runner.register_job("weekly_digest", DIGEST_INTERVAL_SECONDS, WeeklyDigest(engine, settings))
    runner.register_job("delivery_receipts", HOUSEKEEPING_INTERVAL_SECONDS, ReceiptPruning(engine))
    if settings.assignment.mode == "auto":
        runner.register_job("off_shift_reassignment", settings.assignment.reassign_interval_seconds,
                            OffShiftReassignment(engine, settings, clock))
    runner.register_job("after_sales_reminders", settings.after_sales.reminder_interval_seconds,
                        AfterSalesReminders(engine, settings, clock))
    if settings.csat.enabled:
        runner.register_job("csat_surveys", settings.csat.interval_seconds,
                            CsatSurveyJob(engine, settings, reply_channels))
    if settings.tickets.auto_resolve_seconds is not None:
        runner.register_job("auto_resolve", settings.csat.interval_seconds, AutoResolveJob(engine, settings, clock))
    return runner
