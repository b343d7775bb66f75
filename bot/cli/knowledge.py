"""`kefu knowledge import FILE` and `kefu knowledge export [--out FILE]`: FAQ entries in YAML or CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    knowledge = sub.add_parser("knowledge", help="FAQ knowledge: import and export entries (YAML or CSV)")
    actions = knowledge.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    importer = actions.add_parser("import", help="add or replace FAQ entries from a .yaml/.yml/.csv file")
    importer.add_argument("file", type=Path)
    importer.set_defaults(func=_import)
    exporter = actions.add_parser("export", help="write every FAQ entry as YAML (default) or CSV")
    exporter.add_argument("--out", type=Path, help="file to write (.yaml, .yml or .csv); default: stdout, YAML")
    exporter.set_defaults(func=_export)


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from models.migrate import open_database

    settings = load_settings(args.config)
    return open_database(settings.database_url)


def _import(args: argparse.Namespace) -> int:
    from bot.faq_store import save_faq_entries
    from knowledge.faq import FaqError, read_faq_file

    try:
        entries = read_faq_file(args.file)
    except FaqError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    engine = _engine(args)
    try:
        added, updated = save_faq_entries(engine, entries)
    finally:
        engine.dispose()
    print(f"imported {len(entries)} FAQ entries from {args.file}: {added} added, {updated} replaced")
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.faq_store import load_faq_entries
    from knowledge.faq import dump_csv, dump_yaml

    engine = _engine(args)
    try:
        entries = load_faq_entries(engine)
    finally:
        engine.dispose()
    out: Path | None = args.out
    if out is not None and out.suffix.lower() not in {".yaml", ".yml", ".csv"}:
        print(f"kefu: --out {out}: expected a .yaml, .yml or .csv file name", file=sys.stderr)
        return 2
    text = dump_csv(entries) if out is not None and out.suffix.lower() == ".csv" else dump_yaml(entries)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {len(entries)} FAQ entries to {out}", file=sys.stderr)
    return 0
