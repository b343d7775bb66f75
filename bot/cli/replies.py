"""`kefu replies status`: every intent × language pair's reply mode, where it comes from, and its track record."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replies = sub.add_parser("replies", help="auto-reply policy: status of intent x language pairs")
    actions = replies.add_subparsers(dest="replies_command", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="print each pair's mode (off/suggest/shadow/auto), counts, acceptance")
    status.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    status.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from bot.reply_policy import ReplyPolicy, pair_statuses, policy_config, shipped_faq_intents
    from intents.catalogue import load_catalogue, starter_catalogue
    from models.migrate import open_database

    settings = load_settings(args.config)
    catalogue = load_catalogue(settings.intents.catalogue) if settings.intents.catalogue else starter_catalogue()
    policy = ReplyPolicy(policy_config(settings.replies, shipped_faq_intents()))
    engine = open_database(settings.database_url)
    try:
        with Session(engine) as session:
            rows = pair_statuses(session, policy, {intent.name: intent.kind for intent in catalogue})
    finally:
        engine.dispose()
    if args.json:
        for row in rows:
            print(json.dumps(asdict(row) | {"acceptance": row.acceptance}, ensure_ascii=False))
        return 0
    header = ("intent", "lang", "mode", "source", "accepted", "edited", "rejected", "acceptance", "auto sent",
              "negative")
    table = [header] + [
        (r.intent, r.language, r.mode, r.source, str(r.accepted), str(r.edited), str(r.rejected),
         "-" if r.acceptance is None else f"{r.acceptance:.0%}", str(r.auto_sent), str(r.negative_after_auto))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0
