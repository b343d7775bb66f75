"""FAQ knowledge: entries (question variants + an answer per language), their file formats, and retrieval.

Retrieval is by embedding similarity across languages: a German question finds an entry written in English, and
the answer goes out in the first language of the caller's fallback chain that the entry has. Storage of entries
belongs to the caller (kefu keeps them in its database); this module only validates, reads/writes files, and
searches.

File formats (`kefu knowledge import FILE` / `export`):
- YAML: `faqs: [{id, intent?, questions: [..], answers: {lang: text}}]`
- CSV: columns `id,intent,kind,language,text` with one row per question (`kind=question`, language optional) or
  answer (`kind=answer`, language required).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from intents.embedders import Embedder
from knowledge.language_chain import normalise_language

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # no ".": reply modes are keyed "faq:<id>.<lang>"
MAX_TEXT = 4000


class FaqError(ValueError):
    """An invalid FAQ file or entry: the message names the file, the entry (and row) and the field."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: tuple[str, ...]
    answers: dict[str, str]  # language code -> answer text
    intent: str | None = None


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float  # cosine similarity of the closest question variant, 0..1
    question: str  # the variant that matched
    language: str | None  # the language of the chosen answer; None when the entry has none in the chain
    answer: str | None


@dataclass
class _Collected:
    questions: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    intent: str | None = None


def _check_entry(raw: FaqEntry, where: str) -> FaqEntry:
    if not _ID.match(raw.id):
        raise FaqError(f"{where}: field 'id': expected lower-case letters, digits, '_' and '-' (got {raw.id!r})")
    questions = tuple(dict.fromkeys(q.strip() for q in raw.questions if q.strip()))
    if not questions:
        raise FaqError(f"{where} entry {raw.id!r}: field 'questions': at least one question is needed")
    if not raw.answers:
        raise FaqError(f"{where} entry {raw.id!r}: field 'answers': at least one answer is needed")
    answers: dict[str, str] = {}
    for language, text in raw.answers.items():
        code = normalise_language(str(language))
        if code is None:
            raise FaqError(f"{where} entry {raw.id!r}: field 'answers.{language}': not a language code like 'en'")
        if not isinstance(text, str) or not text.strip():
            raise FaqError(f"{where} entry {raw.id!r}: field 'answers.{language}': empty answer")
        answers[code] = text.strip()
    for text in (*questions, *answers.values()):
        if len(text) > MAX_TEXT:
            raise FaqError(f"{where} entry {raw.id!r}: a text is longer than {MAX_TEXT} characters")
    return FaqEntry(id=raw.id, questions=questions, answers=answers, intent=raw.intent or None)


def _unique(entries: Iterable[FaqEntry], source: str) -> list[FaqEntry]:
    seen: dict[str, FaqEntry] = {}
    for entry in entries:
        if entry.id in seen:
            raise FaqError(f"{source}: entry {entry.id!r} appears twice")
        seen[entry.id] = entry
    return list(seen.values())


def parse_yaml(text: str, source: str = "<yaml>") -> list[FaqEntry]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FaqError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) != {"faqs"} or not isinstance(data["faqs"], list):
        raise FaqError(f"{source}: expected a mapping with one key 'faqs' holding a list of entries")
    entries = []
    for index, item in enumerate(data["faqs"], start=1):
        where = f"{source} entry #{index}"
        if not isinstance(item, dict):
            raise FaqError(f"{where}: expected a mapping with id, questions, answers")
        unknown = set(item) - {"id", "intent", "questions", "answers"}
        if unknown:
            raise FaqError(f"{where}: unknown field {sorted(unknown)[0]!r} (expected id, intent, questions, answers)")
        for key in ("id", "questions", "answers"):
            if key not in item:
                raise FaqError(f"{where}: field {key!r} is missing")
        questions, answers = item["questions"], item["answers"]
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise FaqError(f"{where}: field 'questions': expected a list of strings")
        if not isinstance(answers, dict):
            raise FaqError(f"{where}: field 'answers': expected a mapping of language to text")
        entries.append(_check_entry(
            FaqEntry(id=str(item["id"]), questions=tuple(questions), answers=dict(answers),
                     intent=item.get("intent")), f"{source}",
        ))
    return _unique(entries, source)


CSV_COLUMNS = ("id", "intent", "kind", "language", "text")


def parse_csv(text: str, source: str = "<csv>") -> list[FaqEntry]:
    try:
        return _parse_csv(text, source)
    except csv.Error as exc:  # a field over the csv module's size limit, a NUL in a quoted field, ...
        raise FaqError(f"{source}: not readable as CSV: {exc}") from None


def _parse_csv(text: str, source: str) -> list[FaqEntry]:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # newline="": a lone CR is a line end, not an error
    if reader.fieldnames is None or [c.strip() for c in reader.fieldnames] != list(CSV_COLUMNS):
        raise FaqError(f"{source}: expected the header {','.join(CSV_COLUMNS)}")
    collected: dict[str, _Collected] = {}
    for row_number, row in enumerate(reader, start=2):
        where = f"{source} row {row_number}"
        if None in row or any(v is None for v in row.values()):
            raise FaqError(f"{where}: expected {len(CSV_COLUMNS)} columns")
        entry_id, kind, language, body = row["id"].strip(), row["kind"].strip(), row["language"], row["text"]
        if not entry_id:
            raise FaqError(f"{where}: field 'id' is empty")
        item = collected.setdefault(entry_id, _Collected())
        if row["intent"].strip():
            item.intent = row["intent"].strip()
        if kind == "question":
            item.questions.append(body)
        elif kind == "answer":
            if not language.strip():
                raise FaqError(f"{where}: field 'language' is required for an answer")
            code = normalise_language(language) or language
            if code in item.answers:
                raise FaqError(f"{where}: entry {entry_id!r} has two answers in {language!r}")
            item.answers[code] = body
        else:
            raise FaqError(f"{where}: field 'kind': expected 'question' or 'answer', got {kind!r}")
    return _unique(
        (_check_entry(FaqEntry(id=k, questions=tuple(v.questions), answers=v.answers, intent=v.intent), source)
         for k, v in collected.items()),
        source,
    )


def read_faq_file(path: str | Path) -> list[FaqEntry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqError(f"{path}: cannot read: {exc}") from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    if path.suffix.lower() in {".yaml", ".yml"}:
        return parse_yaml(text, str(path))
    raise FaqError(f"{path}: unknown format; expected .yaml, .yml or .csv")


def dump_yaml(entries: Sequence[FaqEntry]) -> str:
    data: dict[str, Any] = {"faqs": []}
    for entry in entries:
        item: dict[str, Any] = {"id": entry.id}
        if entry.intent:
            item["intent"] = entry.intent
        item["questions"] = list(entry.questions)
        item["answers"] = dict(entry.answers)
        data["faqs"].append(item)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def dump_csv(entries: Sequence[FaqEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        for question in entry.questions:
            writer.writerow([entry.id, entry.intent or "", "question", "", question])
        for language, answer in entry.answers.items():
            writer.writerow([entry.id, entry.intent or "", "answer", language, answer])
    return out.getvalue()


class FaqIndex:
    """Embeds every question variant once; `search` finds the entry whose closest variant is most similar."""

    def __init__(self, entries: Sequence[FaqEntry], embedder: Embedder, min_score: float = 0.55) -> None:
        self.entries = list(entries)
        self.min_score = min_score
        self._embedder = embedder
        self._owner: list[int] = []
        texts: list[str] = []
        for position, entry in enumerate(self.entries):
            for question in entry.questions:
                texts.append(question)
                self._owner.append(position)
        self._texts = texts
        self._vectors = embedder.encode(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)

    def search(self, text: str, languages: Sequence[str], *, vector: np.ndarray | None = None) -> FaqMatch | None:
        """The best entry at or above `min_score`, with its answer in the first of `languages` it has."""
        if not self._texts or not text.strip():
            return None
        query = vector if vector is not None else self._embedder.encode([text])[0]
        scores = self._vectors @ query
        best = int(np.argmax(scores))
        score = float(scores[best])
        if score < self.min_score:
            return None
        entry = self.entries[self._owner[best]]
        wanted = (normalise_language(code) for code in languages)
        language = next((code for code in wanted if code is not None and code in entry.answers), None)
        return FaqMatch(entry=entry, score=score, question=self._texts[best], language=language,
                        answer=entry.answers.get(language) if language else None)
