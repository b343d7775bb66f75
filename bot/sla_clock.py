"""The state of a ticket's SLA clocks at one instant: the one definition of "at risk" and "breached".

Both the SLA watch (scheduler/sla.py, which posts warning and breach cards) and the `/sla` command
(handlers/commands/answers.py, which lists them) ask `clock_states`, so they always agree:

- a clock *runs* while it has a deadline and has not stopped: the first-response clock until the first
  response; the resolution clock until resolution, except while the ticket is pending under a policy that pauses
  it (or carries a pause mark the watch has not settled yet); a clock that ran out before its ticket was
  imported (`kefu import history`, Ticket.imported_at) never runs: that breach is history for the metrics, not
  news to alert on;
- a running clock is *breached* once `now` is at or past its deadline;
- it is a *warning* (at risk) when the working time left before the deadline, in the policy's business calendar,
  is at most `pre_breach_fraction` × its target; a ticket due Monday 09:30 is not at risk on Saturday;
- otherwise it is *ok*.

It also records the facts the business-hours metrics read (bot/metrics), once, when they happen, the way
Chatwoot's reporting events do: `stamp_first_response` and `stamp_resolution` set `first_response_at` /
`resolved_at` AND the working time since the ticket's creation in its policy's calendar
(`first_response_business_seconds` / `resolution_business_seconds`, whole seconds; a 24/7 policy gives the
wall-clock time). Every path that answers or resolves a ticket goes through them (the pipeline's agent replies,
the Resolve action, the history import). The resolution time leaves out the pause the SLA watch excuses: a
ticket resolved while its resolution clock is paused (pending, `resolution_paused_at` set) does not count the
working time since the pause began, just as the watch moves its deadline by that time. Earlier pauses that
already ended are counted: the watch folds them into `resolution_due` and keeps no record of their length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import ResolvedSlaPolicy, SlaSettings
from models.tables import Ticket

CLOCK_NAMES = ("first_response", "resolution")
STAGES = ("ok", "warning", "breach")


@dataclass(frozen=True)
class ClockState:
    """One running SLA clock of a ticket as of some instant."""

    clock: str  # first_response | resolution
    stage: str  # ok | warning | breach
    due: datetime
    target: timedelta  # the policy's target for the ticket's severity
    left: timedelta  # working time left before `due` (zero once breached)
    overdue: timedelta  # wall-clock time past `due` (zero before it)


def clock_stage(due: datetime, target: timedelta, policy: ResolvedSlaPolicy, now: datetime,
                pre_breach_fraction: float) -> tuple[str, timedelta]:
    """(stage, working time left) of one clock due at `due` with `target`, as of `now`."""
    if now.tzinfo is None:
        raise ValueError(f"SLA clocks need a timezone-aware time, got {now.isoformat()}")
    if now >= due:
        return "breach", timedelta(0)
    left = policy.calendar.working_time(now, due)
    if left <= target * pre_breach_fraction:
        return "warning", left
    return "ok", left


def running_clocks(ticket: Ticket, policy: ResolvedSlaPolicy) -> list[tuple[str, datetime, timedelta]]:
    """(clock, due, target) of each clock of `ticket` that is running, first response first."""
    if ticket.resolved_at is not None or ticket.status == "resolved":
        return []
    first_target, resolution_target = policy.targets_for(ticket.severity)
    clocks: list[tuple[str, datetime, timedelta]] = []
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        clocks.append(("first_response", ticket.first_response_due, first_target))
    paused = ticket.status == "pending" and policy.pause_resolution_when_pending
    if ticket.resolution_due is not None and not paused and ticket.resolution_paused_at is None:
        clocks.append(("resolution", ticket.resolution_due, resolution_target))
    if ticket.imported_at is not None:
        imported = ticket.imported_at
        clocks = [clock for clock in clocks if clock[1] > imported]
    return clocks


def clock_states(ticket: Ticket, policy: ResolvedSlaPolicy, now: datetime,
                 pre_breach_fraction: float) -> list[ClockState]:
    """The state of each running clock of `ticket` under `policy` as of `now`, first response first."""
    states: list[ClockState] = []
    for clock, due, target in running_clocks(ticket, policy):
        stage, left = clock_stage(due, target, policy, now, pre_breach_fraction)
        overdue = now - due if now > due else timedelta(0)
        states.append(ClockState(clock, stage, due, target, left, overdue))
    return states


def stamp_first_response(ticket: Ticket, at: datetime, sla: SlaSettings) -> bool:
    """Record the ticket's first (agent) response at `at` with its working time since creation; False, changing
    nothing, when the ticket was answered before."""
    if ticket.first_response_at is not None:
        return False
    calendar = sla.policy_for(ticket.channel, ticket.marketplace).calendar
    ticket.first_response_at = at
    ticket.first_response_business_seconds = _whole_seconds(calendar.working_time(ticket.created_at, at))
    return True


def stamp_resolution(ticket: Ticket, at: datetime, sla: SlaSettings) -> None:
    """Record the ticket's resolution at `at` with its working time since creation, less a pause still running
    (see the module docstring). The caller sets the status."""
    calendar = sla.policy_for(ticket.channel, ticket.marketplace).calendar
    worked = calendar.working_time(ticket.created_at, at)
    paused_at = ticket.resolution_paused_at
    if paused_at is not None and ticket.created_at <= paused_at < at:
        worked -= calendar.working_time(paused_at, at)
    ticket.resolved_at = at
    ticket.resolution_business_seconds = _whole_seconds(worked)


def _whole_seconds(value: timedelta) -> int:
    return round(value.total_seconds())
