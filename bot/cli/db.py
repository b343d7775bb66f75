"""`kefu db upgrade` / `kefu db current`: schema migrations of the configured database."""

from __future__ import annotations

import argparse

from bot.settings import load_settings
from models.db import redacted_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database schema: upgrade, current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="create or migrate the database to the latest schema")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(func=_upgrade)
    current = db_sub.add_parser("current", help="print the database's schema revision and the latest one")
    current.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from models.migrate import head_revision, upgrade

    settings = load_settings(args.config)
    upgrade(settings.database_url, args.revision)
    print(f"database {redacted_url(settings.database_url)} is at revision {head_revision()}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from models.db import create_db_engine
    from models.migrate import current_revision, head_revision

    settings = load_settings(args.config)
    engine = create_db_engine(settings.database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else "needs `kefu db upgrade`"
    print(f"current: {current or '(empty database)'}  latest: {head}  ({state})")
    return 0 if current == head else 1

