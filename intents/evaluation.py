"""Measuring a classifier: labelled data files, the metrics, k-fold cross-validation of a catalogue, reports.

Data file: JSON Lines, one object per line with "text", "intent" (a catalogue intent, or `unknown` for an
out-of-scope message) and optional "lang" (ISO 639-1; detected when absent). Blank lines are skipped; any other
bad line raises EvalDataError naming the file and line.

Metrics (`score_predictions`): accuracy over every example (`unknown` is a label like any other); in-scope
accuracy (gold intent in scope, predicted exactly); out-of-scope recall (gold `unknown` predicted `unknown`) and
precision (predicted `unknown` that are gold `unknown`); macro-F1 over the labels seen in gold or predictions
(`unknown` included); per-language and per-intent tables; the most frequent (gold, predicted) confusions.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from intents.catalogue import UNKNOWN_INTENT, IntentCatalogue
from intents.embedders import Embedder


class EvalDataError(ValueError):
    """A data file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    intent: str  # catalogue intent or "unknown"
    lang: str | None = None


@dataclass(frozen=True)
class EvalError:
    """One misclassified message, as written to the errors file."""

    text: str
    gold: str
    predicted: str
    confidence: float
    best_guess: str
    lang: str | None


@dataclass(frozen=True)
class GroupScore:
    name: str
    support: int
    accuracy: float  # share predicted exactly (rows: gold label / language)
    precision: float | None = None  # per intent only
    recall: float | None = None
    f1: float | None = None


@dataclass
class EvalReport:
    total: int
    accuracy: float
    in_scope: int
    in_scope_accuracy: float | None
    out_of_scope: int
    oos_recall: float | None
    oos_precision: float | None
    macro_f1: float
    languages: list[GroupScore] = field(default_factory=list)
    intents: list[GroupScore] = field(default_factory=list)
    confused: list[tuple[str, str, int]] = field(default_factory=list)  # (gold, predicted, count)
    errors: list[EvalError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confused"] = [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confused]
        del data["errors"]
        data["error_count"] = len(self.errors)
        return data


def load_eval_data(path: str | Path) -> list[LabelledMessage]:
    """Read a JSONL evaluation file; EvalDataError names the line of the first bad record."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_eval_lines(lines, source=str(path))


def parse_eval_lines(lines: Sequence[str], source: str = "<data>") -> list[LabelledMessage]:
    messages: list[LabelledMessage] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise EvalDataError(f"{where}: expected a JSON object, got {type(record).__name__}")
        for key in ("text", "intent"):
            if key not in record:
                raise EvalDataError(f"{where}: missing key {key!r}")
            if not isinstance(record[key], str) or not record[key].strip():
                raise EvalDataError(f"{where}: key {key!r} must be non-empty text, got {record[key]!r}")
        lang = record.get("lang")
        if lang is not None and (not isinstance(lang, str) or not lang.strip()):
            raise EvalDataError(f"{where}: key 'lang' must be a language code such as \"es\", got {lang!r}")
        messages.append(LabelledMessage(record["text"], record["intent"].strip(), lang.strip() if lang else None))
    return messages


def check_labels(messages: Sequence[LabelledMessage], catalogue: IntentCatalogue, source: str = "<data>") -> None:
    """Raise EvalDataError if a gold intent is neither in the catalogue nor `unknown`."""
    known = set(catalogue.names()) | {UNKNOWN_INTENT}
    unknown = sorted({m.intent for m in messages} - known)
    if unknown:
        raise EvalDataError(
            f"{source}: intents not in the catalogue: {', '.join(unknown)} (use 'unknown' for out-of-scope)"
        )


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def score_predictions(
    texts: Sequence[str],
    gold: Sequence[str],
    predicted: Sequence[str],
    languages: Sequence[str | None],
    confidences: Sequence[float] | None = None,
    best_guesses: Sequence[str] | None = None,
    top_confusions: int = 10,
) -> EvalReport:
    """All metrics from gold and predicted labels (see the module docstring for definitions)."""
    n = len(gold)
    if not (len(texts) == len(predicted) == len(languages) == n):
        raise ValueError("texts, gold, predicted and languages must have the same length")
    confidences = list(confidences) if confidences is not None else [float("nan")] * n
    best_guesses = list(best_guesses) if best_guesses is not None else list(predicted)
    right = [g == p for g, p in zip(gold, predicted, strict=True)]
    in_scope = [i for i in range(n) if gold[i] != UNKNOWN_INTENT]
    oos = [i for i in range(n) if gold[i] == UNKNOWN_INTENT]
    predicted_oos = [i for i in range(n) if predicted[i] == UNKNOWN_INTENT]

    labels = sorted(set(gold) | set(predicted))
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    intents: list[GroupScore] = []
    f1s: list[float] = []
    support = Counter(gold)
    for label in labels:
        precision = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        recall = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        if support[label]:
            intents.append(GroupScore(label, support[label], recall, precision, recall, f1))

    by_language: dict[str, list[bool]] = defaultdict(list)
    for i in range(n):
        by_language[languages[i] or "?"].append(right[i])
    language_rows = [
        GroupScore(lang, len(hits), sum(hits) / len(hits))
        for lang, hits in sorted(by_language.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    confusions = Counter((gold[i], predicted[i]) for i in range(n) if not right[i])
    confused = [(g, p, c) for (g, p), c in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))]
    errors = [
        EvalError(texts[i], gold[i], predicted[i], float(confidences[i]), best_guesses[i], languages[i])
        for i in range(n)
        if not right[i]
    ]
    return EvalReport(
        total=n,
        accuracy=sum(right) / n if n else 0.0,
        in_scope=len(in_scope),
        in_scope_accuracy=_ratio(sum(right[i] for i in in_scope), len(in_scope)),
        out_of_scope=len(oos),
        oos_recall=_ratio(sum(right[i] for i in oos), len(oos)),
        oos_precision=_ratio(sum(gold[i] == UNKNOWN_INTENT for i in predicted_oos), len(predicted_oos)),
        macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        languages=language_rows,
        intents=sorted(intents, key=lambda row: (row.f1 or 0.0, row.name)),
        confused=confused[:top_confusions],
        errors=errors,
    )


def evaluate(
    classifier: Any,
    messages: Sequence[LabelledMessage],
    detect: Callable[[str], str | None] | None = None,
) -> EvalReport:
    """Classify `messages` (one batch) with an IntentClassifier and score them; `detect` fills missing langs."""
    predictions = classifier.predict_batch([m.text for m in messages])
    languages = [m.lang or (detect(m.text) if detect else None) for m in messages]
    return score_predictions(
        [m.text for m in messages],
        [m.intent for m in messages],
        [p.intent for p in predictions],
        languages,
        [p.confidence for p in predictions],
        [p.best_guess for p in predictions],
    )


def cross_validate(
    catalogue: IntentCatalogue,
    embedder: Embedder,
    folds: int = 5,
    seed: int = 0,
    detect: Callable[[str], str | None] | None = None,
) -> EvalReport:
    """k-fold cross-validation on the catalogue's own examples: each fold is classified by a classifier
    fitted (and calibrated) on the other folds. Intents with fewer examples than 2 are never held out."""
    from intents.classifier import IntentClassifier

    if folds < 2:
        raise ValueError(f"--cv needs at least 2 folds, got {folds}")
    rng = np.random.default_rng(seed)
    assignment: list[tuple[str, str, int]] = []
    for intent in catalogue:
        order = rng.permutation(len(intent.examples))
        for rank, index in enumerate(order):
            fold = rank % folds if len(intent.examples) >= 2 else -1
            assignment.append((intent.examples[index], intent.name, fold))
    texts: list[str] = []
    gold: list[str] = []
    predicted: list[Any] = []
    for fold in range(folds):
        held = [(t, name) for t, name, f in assignment if f == fold]
        if not held:
            continue
        kept: dict[str, dict[str, Any]] = {}
        for intent in catalogue:
            examples = [t for t, name, f in assignment if name == intent.name and f != fold]
            body: dict[str, Any] = {"kind": intent.kind, "severity": intent.severity, "examples": examples}
            if intent.threshold is not None:
                body["threshold"] = intent.threshold
            kept[intent.name] = body
        train = IntentCatalogue.from_dict({"intents": kept}, source=f"{catalogue.source} (fold {fold + 1})")
        classifier = IntentClassifier.fit(train, embedder, seed=seed)
        predicted.extend(classifier.predict_batch([t for t, _ in held]))
        texts.extend(t for t, _ in held)
        gold.extend(name for _, name in held)
    languages = [detect(t) if detect else None for t in texts]
    return score_predictions(
        texts,
        gold,
        [p.intent for p in predicted],
        languages,
        [p.confidence for p in predicted],
        [p.best_guess for p in predicted],
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_report(report: EvalReport, max_rows: int = 30) -> str:
    """A plain-text report for people (the CLI's default output)."""
    lines = [
        f"messages            {report.total}",
        f"accuracy            {_percent(report.accuracy)}",
        f"in-scope accuracy   {_percent(report.in_scope_accuracy)}  ({report.in_scope} in scope)",
        f"out-of-scope recall {_percent(report.oos_recall)}  ({report.out_of_scope} out of scope)",
        f"out-of-scope prec.  {_percent(report.oos_precision)}",
        f"macro-F1            {_percent(report.macro_f1)}",
        "",
        "per language         n   accuracy",
    ]
    lines += [f"  {row.name:<14} {row.support:>6}   {_percent(row.accuracy):>7}" for row in report.languages]
    lines += ["", f"per intent (worst first{', first ' + str(max_rows) if len(report.intents) > max_rows else ''})"
              "                n  precision  recall      F1"]
    for row in report.intents[:max_rows]:
        lines.append(
            f"  {row.name:<32} {row.support:>6}  {_percent(row.precision):>9} {_percent(row.recall):>7}"
            f" {_percent(row.f1):>7}"
        )
    if report.confused:
        lines += ["", "most confused (gold -> predicted)"]
        lines += [f"  {g} -> {p}: {c}" for g, p, c in report.confused]
    return "\n".join(lines)


def write_errors(report: EvalReport, path: str | Path) -> None:
    """The misclassified messages as JSON Lines."""
    with Path(path).open("w", encoding="utf-8") as out:
        for error in report.errors:
            out.write(json.dumps(asdict(error), ensure_ascii=False) + "\n")
