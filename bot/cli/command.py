"""`kefu command "/metrics 7d by intent"`: run any manager command from the terminal as the local administrator.

Prints the answer; a chart is saved under `<var_dir>/charts` (or --charts-dir) and its path printed. Exit code 0
when the command answered, 1 when it was refused or failed (the answer says why). For scripts, cron digests and
operators without a messenger.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.settings import SettingsError, load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = sub.add_parser("command", help='run a manager command, e.g. kefu command "/metrics 7d by intent"')
    command.add_argument("text", nargs="+", help="the command as typed in a messenger (quote it)")
    command.add_argument("--timezone", default=None,
                         help="IANA timezone for windows and times shown (default: the `timezone` setting)")
    command.add_argument("--charts-dir", type=Path, default=None,
                         help="where charts are saved (default: <var_dir>/charts)")
    command.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from handlers.commands import LOCAL_ADMIN
    from handlers.commands.executor import executor_from_settings
    from models.migrate import open_database

    if args.timezone is not None:
        try:
            ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"--timezone {args.timezone!r} is not an IANA timezone such as Europe/Berlin") from None
    settings = load_settings(args.config)
    engine = open_database(settings.database_url)
    try:
        executor = executor_from_settings(settings, engine, timezone=args.timezone, charts_dir=args.charts_dir)
        answer = executor.execute(" ".join(args.text), LOCAL_ADMIN, platform="cli", channel_id=None)
    finally:
        engine.dispose()
    print(answer.text)
    if answer.chart is not None:
        print(f"Chart saved to {answer.chart}")
    sys.stdout.flush()
    return 0 if answer.ok else 1
