"""`kefu alerts evaluate [--at ISO-8601] [--dry-run]`: run every metric alert rule once and print the outcome."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.settings import SettingsError, load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = sub.add_parser("alerts", help="metric alert rules: evaluate")
    actions = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    evaluate = actions.add_parser(
        "evaluate", help="evaluate every alert rule once, post what a scheduled run would post, print each rule")
    evaluate.add_argument("--at", help="evaluate as of this time, ISO-8601 (default: now; no offset means UTC)")
    evaluate.add_argument("--dry-run", action="store_true", help="store and post nothing, only print")
    evaluate.set_defaults(func=_evaluate)


def parse_at(value: str | None) -> datetime:
    """--at as an aware UTC datetime; SettingsError naming the option when it is not ISO-8601."""
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"--at {value!r} is not an ISO-8601 time such as 2026-11-23T09:00:00+08:00") from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def _evaluate(args: argparse.Namespace) -> int:
    from models.migrate import open_database
    from scheduler.alerts import evaluate_rules
    from scheduler.alerts.dispatch import format_value

    at = parse_at(args.at)
    settings = load_settings(args.config)
    engine = open_database(settings.database_url)
    try:
        report = evaluate_rules(engine, settings, at, dry_run=args.dry_run)
    finally:
        engine.dispose()
    mode = " (dry run: nothing stored or posted)" if args.dry_run else ""
    print(f"alert rules as of {report.at.isoformat()}{mode}")
    failed = 0
    for rule in report.rules:
        if rule.error:
            failed += 1
            print(f"{rule.rule} ({rule.metric}): ERROR {rule.error}")
            continue
        if not rule.groups:
            print(f"{rule.rule} ({rule.metric}): no data")
        for group in rule.groups:
            name = f"{rule.rule}[{group.group_key}]" if group.group_key else rule.rule
            level = f" {group.level}" if group.level else ""
            line = f"{name} ({rule.metric}): {group.state}{level} value {format_value(rule.metric, group.value)}"
            if group.thresholds:
                line += f"; {group.thresholds}"
            if group.note:
                line += f"; {group.note}"
            if group.notified:
                line += f"; {'would post' if args.dry_run else 'posted'} {group.notified}"
            if group.held:
                line += f"; held: {group.held}"
            print(line)
            if group.summary:
                print(f"    {group.summary}")
    print(f"{report.notifications} notification(s) {'would be ' if args.dry_run else ''}queued")
    return 1 if failed else 0
