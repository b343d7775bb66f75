"""`kefu classify`, `kefu intents eval` and `kefu intents export`: the intent classifier from the command line.

- classify: JSON Lines in on stdin ({"id", "text"}), one JSON line out per good input line, in input order
  ({"id", "intent", "kind", "severity", "confidence", "language"}); a bad line is reported on stderr with its
  line number, the rest still run, and the exit code is 1. Messages are encoded in batches.
- intents eval: metrics of the classifier on a labelled JSONL file, or k-fold cross-validation of the catalogue.
- intents export: the catalogue merged with the examples learnt from agents (table IntentExample) as YAML.

The catalogue is --intents FILE, else the `intents.catalogue` setting, else the shipped starter catalogue.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from bot.message_fields import json_object_line
from bot.settings import Settings, load_settings
from intents.catalogue import CatalogueError, IntentCatalogue, load_catalogue, starter_catalogue
from intents.evaluation import EvalDataError

BATCH_SIZE = 256


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    classify = sub.add_parser(
        "classify",
        help="classify JSON Lines from stdin ({'id','text'}) into JSON Lines on stdout",
        description="Reads {\"id\": ..., \"text\": ...} per line on stdin; writes "
        "{\"id\", \"intent\", \"kind\", \"severity\", \"confidence\", \"language\"} per line on stdout.",
    )
    _catalogue_options(classify)
    classify.set_defaults(func=_classify)

    intents = sub.add_parser("intents", help="the intent catalogue: eval, export")
    intents_sub = intents.add_subparsers(dest="intents_command", metavar="ACTION", required=True)
    evaluate = intents_sub.add_parser(
        "eval",
        help="measure the classifier on labelled data (or cross-validate the catalogue)",
        description="--data FILE: JSON Lines with text, intent ('unknown' = out of scope), optional lang.",
    )
    _catalogue_options(evaluate)
    evaluate.add_argument("--data", type=Path, help="labelled JSONL file")
    evaluate.add_argument("--cv", type=int, metavar="K", help="k-fold cross-validation on the catalogue itself")
    evaluate.add_argument("--errors", type=Path, default=Path("eval-errors.jsonl"),
                          help="where to write the misclassified messages (default: eval-errors.jsonl)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(func=_eval)

    export = intents_sub.add_parser(
        "export", help="write the catalogue merged with the examples learnt from agents as YAML"
    )
    export.add_argument("--intents", type=Path, help="catalogue file (default: setting intents.catalogue)")
    export.add_argument("--out", type=Path, help="output file (default: stdout)")
    export.set_defaults(func=_export)


def _catalogue_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--intents", type=Path, help="intents.yaml (default: setting, else the shipped catalogue)")
    parser.add_argument("--embedder", help="embedder spec (default: setting intents.embedder, use-multilingual)")


def _fail(command: str, message: str) -> int:
    print(f"kefu {command}: {message}", file=sys.stderr)
    return 2


def _catalogue(args: argparse.Namespace, settings: Settings) -> IntentCatalogue:
    path = args.intents or settings.intents.catalogue
    return load_catalogue(path) if path else starter_catalogue()


def _classifier(args: argparse.Namespace, settings: Settings, catalogue: IntentCatalogue) -> Any:
    from intents.classifier import IntentClassifier
    from intents.embedders import load_embedder

    embedder = load_embedder(args.embedder or settings.intents.embedder, threads=settings.intents.threads)
    return IntentClassifier.fit(catalogue, embedder)


# -- classify --


def _classify(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        catalogue = _catalogue(args, settings)
        classifier = _classifier(args, settings, catalogue)
    except (CatalogueError, ValueError, RuntimeError) as exc:
        return _fail("classify", str(exc))
    return classify_stream(classifier, sys.stdin, sys.stdout, sys.stderr)


def _parse_line(line: str) -> tuple[Any, str]:
    record = json_object_line(line)
    if "text" not in record:
        raise ValueError("missing key 'text'")
    if not isinstance(record["text"], str):
        raise ValueError(f"key 'text' must be a string, got {type(record['text']).__name__}")
    return record.get("id"), record["text"]


def _batches(stream: IO[str], errors: TextIO) -> Iterator[tuple[list[tuple[Any, str]], int]]:
    """Good (id, text) records in batches, and how many bad lines were reported while reading them."""
    batch: list[tuple[Any, str]] = []
    bad = 0
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            batch.append(_parse_line(line))
        except ValueError as exc:
            print(f"kefu classify: line {number}: {exc}", file=errors)
            bad += 1
            continue
        if len(batch) >= BATCH_SIZE:
            yield batch, bad
            batch, bad = [], 0
    yield batch, bad


def classify_stream(classifier: Any, source: IO[str], out: TextIO, errors: TextIO) -> int:
    """Classify JSONL records from `source` to `out`; 1 if any line was bad, else 0."""
    from intents.language import detect_language

    failed = False
    for batch, bad in _batches(source, errors):
        failed = failed or bad > 0
        if not batch:
            continue
        predictions = classifier.predict_batch([text for _, text in batch])
        for (record_id, text), prediction in zip(batch, predictions, strict=True):
            row = {
                "id": record_id,
                "intent": prediction.intent,
                "kind": prediction.kind,
                "severity": prediction.severity,
                "confidence": round(prediction.confidence, 4),
                "language": detect_language(text).code,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


# -- eval --


def _eval(args: argparse.Namespace) -> int:
    from intents.evaluation import (
        check_labels,
        cross_validate,
        evaluate,
        format_report,
        load_eval_data,
        write_errors,
    )
    from intents.language import detect_language

    if args.data is None and args.cv is None:
        return _fail("intents eval", "give --data FILE (labelled JSONL) or --cv K (cross-validate the catalogue)")
    if args.cv is not None and args.cv < 2:
        return _fail("intents eval", f"--cv needs at least 2 folds, got {args.cv}")
    settings = load_settings(args.config)
    try:
        catalogue = _catalogue(args, settings)
        messages = None
        if args.data is not None:
            messages = load_eval_data(args.data)
            if not messages:
                return _fail("intents eval", f"{args.data}: no examples")
            check_labels(messages, catalogue, str(args.data))
    except (CatalogueError, EvalDataError) as exc:
        return _fail("intents eval", str(exc))

    def detect(text: str) -> str | None:
        return detect_language(text).code

    try:
        if messages is not None:
            report = evaluate(_classifier(args, settings, catalogue), messages, detect=detect)
        else:
            from intents.embedders import load_embedder

            embedder = load_embedder(args.embedder or settings.intents.embedder, threads=settings.intents.threads)
            report = cross_validate(catalogue, embedder, folds=args.cv, detect=detect)
    except (ValueError, RuntimeError) as exc:
        return _fail("intents eval", str(exc))
    write_errors(report, args.errors)
    if args.json:
        print(json.dumps(report.to_dict() | {"errors_file": str(args.errors)}, ensure_ascii=False, indent=2))
    else:
        title = f"{args.cv}-fold cross-validation of {catalogue.source}" if messages is None else str(args.data)
        print(f"{title}\n")
        print(format_report(report))
        print(f"\n{len(report.errors)} errors written to {args.errors}")
    return 0


# -- export --


def learnt_examples(database_url: str) -> list[tuple[str, str]]:
    """(intent, text) of every IntentExample row in insertion order; [] if the database has no tables yet."""
    from sqlalchemy import inspect
    from sqlmodel import Session, select

    from models import IntentExample, create_db_engine

    engine = create_db_engine(database_url)
    try:
        if not inspect(engine).has_table(IntentExample.__tablename__):
            return []
        with Session(engine) as session:
            rows = session.exec(select(IntentExample).order_by(IntentExample.id)).all()  # type: ignore[arg-type]
            return [(row.intent, row.text) for row in rows]
    finally:
        engine.dispose()


def merge_learnt(catalogue: IntentCatalogue, examples: list[tuple[str, str]], errors: TextIO) -> IntentCatalogue:
    """The catalogue plus learnt examples; an example of an intent no longer in the catalogue is skipped."""
    by_intent: dict[str, list[str]] = {}
    for intent, text in examples:
        by_intent.setdefault(intent, []).append(text)
    for intent, texts in by_intent.items():
        if intent not in catalogue:
            print(f"kefu intents export: skipped {len(texts)} learnt example(s) of intent {intent!r}, "
                  "which is not in the catalogue", file=errors)
            continue
        try:
            catalogue = catalogue.with_examples(intent, texts, move=True)
        except CatalogueError as exc:
            print(f"kefu intents export: skipped learnt examples of intent {intent!r}: {exc}", file=errors)
    return catalogue


def _export(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        catalogue = _catalogue(args, settings)
    except CatalogueError as exc:
        return _fail("intents export", str(exc))
    merged = merge_learnt(catalogue, learnt_examples(settings.database_url), sys.stderr)
    text = merged.to_yaml()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        added = sum(len(i.examples) for i in merged) - sum(len(i.examples) for i in catalogue)
        print(f"wrote {len(merged)} intents ({added} learnt examples) to {args.out}", file=sys.stderr)
    return 0
