"""`kefu import history FILE.jsonl [--channel NAME] [--batch-size N]`: load past conversations from another
helpdesk without replying or alerting (bot/history_import.py files them, bot/history_file.py reads the file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bot.message_fields import MAX_TEXT_CHARS
from bot.settings import load_settings

if TYPE_CHECKING:
    from bot.history_import import BatchClassifier, ImportSummary

DEFAULT_CHANNEL = "import"
BATCH_SIZE = 500
CHANNEL_MAX_CHARS = 32  # Ticket.channel, Message.channel
PROGRESS_EVERY = 5000

DESCRIPTION = f"""\
Load past conversations (a team moving from another helpdesk exports, say, its last 90 days) so that metrics and
alert baselines have history from the first day. Customer messages are classified as live ones are; tickets,
first responses and resolutions get their historical times. Nothing is sent, posted or alerted: no reply, no
triage card, and the SLA watch leaves alone the deadlines that had already passed when the ticket was imported.

FILE.jsonl has one JSON object per message:
  {{"conversation_id": "...", "channel_message_id": "...",
   "customer": {{"id": "...", "name"?, "language"?, "country"?}},   (optional on "out" lines)
   "direction": "in" | "out", "author"?, "text": "...", "sent_at": "2026-03-01T10:00:00+01:00",
   "order_id"?, "sku"?, "marketplace"?, "resolved_at"?}}
"in" is the customer's message, "out" an agent's (`author` becomes a kefu agent when unknown; the first "out"
message of a ticket is its first response). `resolved_at` resolves the line's ticket at that time (it may repeat
on every line of a ticket). Times need a UTC offset or Z. The file may be in any order: it is read twice and
filed in time order. Unknown fields, missing or empty required fields, a bad direction, a time without offset,
texts over {MAX_TEXT_CHARS:,} characters, and agents' messages with no ticket to go on (no earlier customer
message, or the ticket resolved) are reported as "line N: reason" on stderr and skipped; the rest are
imported. Importing the same file again changes nothing (a message is known by its channel and
channel_message_id); an interrupted import is completed by running it again.
"""

EPILOG = """\
exit status: 0 when the file was read and at least one line was good (imported, or present already), even if
other lines were skipped; 1 when the file cannot be read or no line of it is good; 2 for a configuration error.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importer = sub.add_parser("import", help="load data from elsewhere: history (past conversations)")
    actions = importer.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    history = actions.add_parser(
        "history", help="load past conversations from a JSONL export, without replying or alerting",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    history.add_argument("file", type=Path, metavar="FILE.jsonl", help="one JSON object per message")
    history.add_argument("--channel", type=_channel_name, default=DEFAULT_CHANNEL,
                         help="the customer channel the conversations belong to (default: %(default)s); name the "
                              "live channel, e.g. webhook, so that a customer writing again joins their open "
                              "imported ticket")
    history.add_argument("--batch-size", type=_positive, default=BATCH_SIZE, metavar="N",
                         help="lines filed per transaction (default: %(default)s)")
    history.set_defaults(func=_history)


def _channel_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > CHANNEL_MAX_CHARS or any(c.isspace() for c in name):
        raise argparse.ArgumentTypeError(
            f"{value!r}: a channel name is 1 to {CHANNEL_MAX_CHARS} characters without spaces")
    return name


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def _report(line: int, reason: str) -> None:
    print(f"line {line}: {reason}", file=sys.stderr)


def _progress(done: int, total: int) -> None:
    print(f"kefu import history: {done:,} of {total:,} lines filed", file=sys.stderr, flush=True)


def _history(args: argparse.Namespace) -> int:
    from bot.history_file import HistoryFileChanged, scan_history

    settings = load_settings(args.config)
    try:
        history = scan_history(args.file, _report)
    except OSError as exc:
        print(f"kefu import history: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if history.good == 0:
        print(f"kefu import history: {args.file}: no line to import ({history.lines:,} read, {history.bad:,} bad)",
              file=sys.stderr)
        return 1

    from bot.app import load_intent_model
    from bot.history_import import HistoryImport
    from models.migrate import open_database

    engine = open_database(settings.database_url)
    try:
        classifier = cast("BatchClassifier", load_intent_model(settings, engine))  # an IntentClassifier
        importer = HistoryImport(engine, classifier, settings, channel=args.channel, report=_report,
                                 progress=_progress, progress_every=PROGRESS_EVERY, batch_size=args.batch_size)
        summary = importer.run(history)
    except HistoryFileChanged as exc:
        print(f"kefu import history: {exc}; what was filed stays: run the import again", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(_summary(args.file, args.channel, summary))
    return 0


def _summary(path: Path, channel: str, summary: ImportSummary) -> str:
    rows = (("lines read", summary.lines), ("messages imported", summary.imported),
            ("already present", summary.present), ("skipped", summary.skipped),
            ("tickets opened", summary.tickets_opened), ("tickets resolved", summary.tickets_resolved),
            ("agents created", summary.agents_created))
    width = max(len(f"{value:,}") for _, value in rows)
    lines = [f"imported {path} into channel {channel!r}:"]
    lines += [f"  {label:<18}{value:>{width},}" for label, value in rows]
    return "\n".join(lines)
