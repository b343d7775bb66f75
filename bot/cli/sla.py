"""`kefu sla check [--at ISO-8601] [--dry-run]`: run the SLA watch once, as the scheduler would, and say what it did.

Warnings, breaches, escalations and outcome updates are queued in the outbox (a running `kefu serve` sends them);
with `--dry-run` nothing is written and each line says what would be posted. `--at` evaluates as of another time
(an ISO-8601 instant with an offset, or a naive one read in the `timezone` setting). Exit code 0.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.settings import SettingsError, load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sla = sub.add_parser("sla", help="SLA watch: check")
    sla_sub = sla.add_subparsers(dest="sla_command", metavar="ACTION", required=True)
    check = sla_sub.add_parser("check", help="run the SLA watch once and print what it posts")
    check.add_argument("--at", default=None, help="evaluate as of this ISO-8601 time (default: now)")
    check.add_argument("--dry-run", action="store_true", help="post nothing, print what would be posted")
    check.set_defaults(func=_check)


def parse_at(value: str, timezone: str) -> datetime:
    """An ISO-8601 time; a naive one is read in `timezone`. A bad value raises SettingsError naming --at."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"--at {value!r} is not an ISO-8601 time such as 2026-11-23T09:30:00+08:00") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(timezone))


def _check(args: argparse.Namespace) -> int:
    from models.migrate import open_database
    from scheduler.sla import SlaWatch

    settings = load_settings(args.config)
    at = parse_at(args.at, settings.timezone) if args.at else None
    engine = open_database(settings.database_url)
    try:
        events = SlaWatch(engine, settings).run_once(at, dry_run=args.dry_run)
    finally:
        engine.dispose()
    when = at.isoformat(timespec="minutes") if at else "now"
    print(f"SLA check as of {when}: {len(events)} event(s){' (dry run)' if args.dry_run else ''}")
    for event in events:
        print(f"  {event.line()}")
    return 0
