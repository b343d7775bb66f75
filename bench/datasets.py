"""Loaders of the public intent datasets used by the benchmarks, and seeded k-shot sampling of training examples.

Each loader returns a `Benchmark`: the full training pool, and one or more named test sets of (text, gold intent)
pairs where the gold intent `unknown` marks out-of-scope messages. See /work/shared/datasets/README.md for the
formats and licences.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "unknown"
MASSIVE_LOCALES = ("en-US", "zh-CN", "ja-JP", "es-ES", "de-DE", "fr-FR", "pt-PT", "it-IT", "ru-RU", "ar-SA", "ko-KR")


class DatasetMissing(FileNotFoundError):
    """A dataset folder or file is not where the benchmarks look for it."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    source: str  # where the data comes from, for the report
    train: list[tuple[str, str]]  # (text, intent), the pool the k-shot catalogue is drawn from
    tests: dict[str, list[tuple[str, str]]]  # test-set name -> (text, gold intent or "unknown")


def datasets_root() -> Path:
    """$KEFU_DATASETS, else ../shared/datasets relative to the repository root."""
    env = os.environ.get("KEFU_DATASETS")
    root = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
    if not root.is_dir():
        raise DatasetMissing(f"datasets folder {root} not found; set KEFU_DATASETS to its path")
    return root


def _file(root: Path, *parts: str) -> Path:
    path = root.joinpath(*parts)
    if not path.is_file():
        raise DatasetMissing(f"dataset file {path} not found")
    return path


def intent_name(label: str) -> str:
    """A dataset label as a catalogue intent name (letters, digits, '_' and '-'): 'reverted_card_payment?'
    becomes 'reverted_card_payment_'."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", label.strip())


def _csv(path: Path, text_column: str, label_column: str) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row[text_column], intent_name(row[label_column])) for row in csv.DictReader(handle)]


def load_bitext(root: Path) -> Benchmark:
    folder = "bitext_customer_support"
    return Benchmark(
        "Bitext customer support", "bitext/customer-support-intent-detection-training-dataset (CDLA-Sharing-1.0)",
        _csv(_file(root, folder, "train.csv"), "utterance", "intent"),
        {"test": _csv(_file(root, folder, "test.csv"), "utterance", "intent")},
    )


def load_banking77(root: Path) -> Benchmark:
    return Benchmark(
        "Banking77", "PolyAI-LDN/task-specific-datasets (CC BY 4.0)",
        _csv(_file(root, "banking77", "train.csv"), "text", "category"),
        {"test": _csv(_file(root, "banking77", "test.csv"), "text", "category")},
    )


def load_clinc150(root: Path) -> Benchmark:
    data = json.loads(_file(root, "clinc150", "data_full.json").read_text(encoding="utf-8"))
    test = [(text, intent) for text, intent in data["test"]]
    test += [(text, UNKNOWN) for text, _ in data["oos_test"]]
    return Benchmark("CLINC150", "clinc/oos-eval data_full.json (CC BY 3.0)",
                     [(text, intent) for text, intent in data["train"]], {"test": test})


def _massive(path: Path) -> list[tuple[str, str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                rows.append((record["utt"], record["intent"]))
    return rows


def load_massive(root: Path) -> Benchmark:
    tests = {locale: _massive(_file(root, "massive", locale, "test.jsonl")) for locale in MASSIVE_LOCALES}
    return Benchmark("MASSIVE 1.1", "alexa/massive (CC BY 4.0)",
                     _massive(_file(root, "massive", "en-US", "train.jsonl")), tests)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def sample_k_shot(train: list[tuple[str, str]], k: int, seed: int) -> dict[str, list[str]]:
    """k distinct examples per intent (fewer if the intent has fewer), reproducible for a seed. A text is used
    for one intent only (the catalogue refuses an example under two intents)."""
    rng = random.Random(seed)
    pool: dict[str, list[str]] = {}
    for text, intent in train:
        if text.strip():
            pool.setdefault(intent, []).append(text.strip())
    taken: set[str] = set()
    shots: dict[str, list[str]] = {}
    for intent in sorted(pool):
        texts = list(dict.fromkeys(pool[intent]))
        rng.shuffle(texts)
        chosen: list[str] = []
        for text in texts:
            if _key(text) not in taken:
                taken.add(_key(text))
                chosen.append(text)
            if len(chosen) == k:
                break
        shots[intent] = chosen
    return shots
