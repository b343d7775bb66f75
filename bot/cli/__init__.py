"""The `kefu` command line. Each module of this package registers its own sub-commands.

A sub-command module exposes `register(subparsers)` which adds its parser(s) and sets `func` to a callable taking
the parsed arguments and returning an exit code. Configuration errors print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__
from bot.settings import SettingsError


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import agents, alerts, command, db, demo, history, intents, knowledge, replies, serve, sla

    parser = argparse.ArgumentParser(
        prog="kefu",
        description="kefu (客服): a self-hosted chat-ops bot for cross-border e-commerce customer service.",
    )
    parser.add_argument("--config", help="path of kefu.toml (default: $KEFU_CONFIG or ./kefu.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    version = sub.add_parser("version", help="print kefu's version")
    version.set_defaults(func=lambda _args: print(f"kefu {__version__}") or 0)
    for module in (serve, db, intents, knowledge, history, replies, command, sla, alerts, agents, demo):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from models.migrate import DatabaseNotReady  # imported late: `kefu --help` need not load the ORM

        if not isinstance(exc, DatabaseNotReady):
            raise
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
