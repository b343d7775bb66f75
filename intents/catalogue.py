"""The intent catalogue: which intents exist, their kind, severity and example phrases.

Owns the `intents.yaml` format, its validation (every error names the file, the intent, the key and, where
YAML gives it, the line), the YAML round trip, and the shipped starter catalogue (`bot/defaults/intents.yaml`,
read as package data without importing `bot`). A catalogue is immutable: adding examples returns a new one.

    intents:
      order_status:
        kind: faq                 # faq | complaint | other
        examples: ["Where is my order?", "我的订单到哪了？"]
      item_not_received:
        kind: complaint
        severity: 1               # 1 most urgent ... 3; default: complaint 2, faq 3, other 3
        threshold: 0.4            # optional per-intent out-of-scope threshold (0..1)
        examples: ["I never received my package."]
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("faq", "complaint", "other")
DEFAULT_SEVERITY = {"faq": 3, "complaint": 2, "other": 3}
UNKNOWN_INTENT = "unknown"  # reserved: the name a rejected (out-of-scope) message gets
TOP_LEVEL_KEYS = ("intents",)
INTENT_KEYS = ("kind", "severity", "threshold", "examples")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")  # becomes part of template file names: <intent>.<lang>.j2
_STARTER_PACKAGE = "bot.defaults"
_STARTER_FILE = "intents.yaml"


class CatalogueError(ValueError):
    """A catalogue that cannot be used; the message names the file, intent, key (and line where known)."""

    def __init__(
        self,
        problem: str,
        *,
        source: str = "<string>",
        intent: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.intent = intent
        self.key = key
        self.line = line
        where = source if line is None else f"{source}:{line}"
        subject = []
        if intent is not None:
            subject.append(f"intent {intent!r}")
        if key is not None:
            subject.append(f"key {key!r}")
        prefix = f"{where}: {' '.join(subject)}: " if subject else f"{where}: "
        super().__init__(prefix + problem)


@dataclass(frozen=True)
class Intent:
    """One intent: what customers mean, how it is handled (kind), how urgent (severity 1 = most urgent)."""

    name: str
    kind: str
    severity: int
    examples: tuple[str, ...]
    threshold: float | None = None


def _example_key(text: str) -> str:
    """Two examples are 'the same' when they differ only in case and spacing."""
    return " ".join(text.split()).casefold()


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass
class _Lines:
    """Line numbers (1-based) of the YAML nodes, for error messages; empty for catalogues built from dicts."""

    intents: int | None = None
    intent: dict[str, int] = field(default_factory=dict)
    key: dict[tuple[str, str], int] = field(default_factory=dict)
    example: dict[tuple[str, int], int] = field(default_factory=dict)
    top: dict[str, int] = field(default_factory=dict)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (plain PyYAML silently keeps the last one)."""

    source = "<string>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader reports unhashable keys itself
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key, line, seen[key], node)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first_line: int, mapping: yaml.MappingNode) -> None:
        self.key = key
        self.line = line
        self.first_line = first_line
        self.mapping = mapping


def _collect_lines(root: yaml.Node | None) -> _Lines:
    lines = _Lines()
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        lines.top[key_node.value] = key_node.start_mark.line + 1
        if key_node.value != "intents" or not isinstance(value_node, yaml.MappingNode):
            continue
        lines.intents = key_node.start_mark.line + 1
        for name_node, body_node in value_node.value:
            if not isinstance(name_node, yaml.ScalarNode):
                continue
            name = name_node.value
            lines.intent[name] = name_node.start_mark.line + 1
            if not isinstance(body_node, yaml.MappingNode):
                continue
            for field_node, field_value in body_node.value:
                if not isinstance(field_node, yaml.ScalarNode):
                    continue
                lines.key[(name, field_node.value)] = field_node.start_mark.line + 1
                if field_node.value == "examples" and isinstance(field_value, yaml.SequenceNode):
                    for index, item in enumerate(field_value.value):
                        lines.example[(name, index)] = item.start_mark.line + 1
    return lines


def _parse_intent(name: Any, body: Any, source: str, lines: _Lines) -> Intent:
    shown = name if isinstance(name, str) else repr(name)

    def fail(problem: str, key: str | None = None, line: int | None = None) -> CatalogueError:
        if line is None:
            line = lines.key.get((shown, key)) if key else None
            line = line or lines.intent.get(shown)
        return CatalogueError(problem, source=source, intent=shown, key=key, line=line)

    if not isinstance(name, str) or not name.strip():
        raise fail(f"an intent name must be a non-empty string, got {_type_name(name)} {name!r}")
    if not _NAME_PATTERN.match(name):
        raise fail("an intent name may hold only letters, digits, '_' and '-'")
    if name == UNKNOWN_INTENT:
        raise fail(f"{UNKNOWN_INTENT!r} is reserved for out-of-scope messages; choose another name")
    if not isinstance(body, Mapping):
        raise fail(f"expected a mapping with keys {', '.join(INTENT_KEYS)}, got {_type_name(body)}")
    for key in body:
        if key not in INTENT_KEYS:
            raise fail(f"unknown key; allowed keys are {', '.join(INTENT_KEYS)}", key=str(key))

    if "kind" not in body:
        raise fail(f"missing; expected one of {', '.join(KINDS)}", key="kind")
    kind = body["kind"]
    if kind not in KINDS:
        raise fail(f"expected one of {', '.join(KINDS)}, got {kind!r}", key="kind")

    severity = body.get("severity", DEFAULT_SEVERITY[kind])
    if isinstance(severity, bool) or severity not in (1, 2, 3) or not isinstance(severity, int):
        raise fail(f"expected 1, 2 or 3, got {severity!r}", key="severity")

    threshold = body.get("threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise fail(f"expected a number from 0 to 1, got {threshold!r}", key="threshold")
        threshold = float(threshold)

    if "examples" not in body:
        raise fail("missing; give at least one example phrase", key="examples")
    raw_examples = body["examples"]
    if not isinstance(raw_examples, list):
        raise fail(f"expected a list of example phrases, got {_type_name(raw_examples)}", key="examples")
    if not raw_examples:
        raise fail("empty; give at least one example phrase", key="examples")
    examples: list[str] = []
    seen: set[str] = set()
    for index, example in enumerate(raw_examples):
        line = lines.example.get((shown, index))
        if not isinstance(example, str):
            raise fail(
                f"example {index + 1} must be text, got {_type_name(example)} {example!r} (quote it in YAML)",
                key="examples",
                line=line,
            )
        text = example.strip()
        if not text:
            raise fail(f"example {index + 1} is blank", key="examples", line=line)
        if _example_key(text) not in seen:
            seen.add(_example_key(text))
            examples.append(text)
    return Intent(name=name, kind=kind, severity=severity, examples=tuple(examples), threshold=threshold)


def _check_examples_unique(intents: Mapping[str, Intent], source: str, lines: _Lines) -> None:
    owner: dict[str, str] = {}
    for intent in intents.values():
        for text in intent.examples:
            key = _example_key(text)
            other = owner.setdefault(key, intent.name)
            if other != intent.name:
                raise CatalogueError(
                    f"example {text!r} is also an example of intent {other!r}; "
                    "an example may belong to one intent only",
                    source=source,
                    intent=intent.name,
                    key="examples",
                    line=lines.key.get((intent.name, "examples")),
                )


class IntentCatalogue:
    """An immutable, insertion-ordered set of intents; built by `from_yaml`, `from_dict`, `load_catalogue`."""

    def __init__(self, intents: Iterable[Intent], source: str = "<memory>") -> None:
        self.source = source
        self.intents: dict[str, Intent] = {}
        for intent in intents:
            if intent.name in self.intents:
                raise CatalogueError("defined twice", source=source, intent=intent.name)
            # re-validate, so that catalogues built from Intent objects obey the same rules as YAML ones
            body: dict[str, Any] = {
                "kind": intent.kind,
                "severity": intent.severity,
                "examples": list(intent.examples),
            }
            if intent.threshold is not None:
                body["threshold"] = intent.threshold
            self.intents[intent.name] = _parse_intent(intent.name, body, source, _Lines())
        if not self.intents:
            raise CatalogueError("no intents defined", source=source, key="intents")
        _check_examples_unique(self.intents, source, _Lines())

    # -- construction --

    @classmethod
    def from_yaml(cls, text: str, source: str = "<string>") -> IntentCatalogue:
        """Parse the YAML text of an intents file; `source` names it in error messages."""
        try:
            loader = _StrictLoader(text)
        except yaml.YAMLError as exc:  # the reader refuses control characters before any parsing
            raise CatalogueError(f"invalid YAML: {exc}", source=source) from None
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        except _DuplicateKey as dup:
            lines = _collect_lines(root)
            key = dup.key
            if lines.intents is not None and _is_intents_mapping(root, dup.mapping):
                raise CatalogueError(
                    f"defined twice (first on line {dup.first_line})",
                    source=source,
                    intent=str(key),
                    line=dup.line,
                ) from None
            intent = _intent_owning(root, dup.mapping)
            raise CatalogueError(
                f"given twice (first on line {dup.first_line})",
                source=source,
                intent=intent,
                key=str(key),
                line=dup.line,
            ) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = " ".join(part for part in (exc.context, exc.problem) if part)
            raise CatalogueError(
                f"invalid YAML: {problem}", source=source, line=mark.line + 1 if mark else None
            ) from None
        except yaml.YAMLError as exc:
            raise CatalogueError(f"invalid YAML: {exc}", source=source) from None
        finally:
            loader.dispose()
        return cls._from_data(data, source, _collect_lines(root))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> IntentCatalogue:
        """Build from the already-parsed structure of an intents file ({'intents': {name: {...}}})."""
        return cls._from_data(data, source, _Lines())

    @classmethod
    def _from_data(cls, data: Any, source: str, lines: _Lines) -> IntentCatalogue:
        if not isinstance(data, Mapping):
            raise CatalogueError(
                f"expected a mapping with the key 'intents' at the top, got {_type_name(data)}", source=source
            )
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                raise CatalogueError(
                    "unknown top-level key; the file holds only 'intents'",
                    source=source,
                    key=str(key),
                    line=lines.top.get(str(key)),
                )
        if "intents" not in data:
            raise CatalogueError("missing", source=source, key="intents")
        body = data["intents"]
        if not isinstance(body, Mapping):
            raise CatalogueError(
                f"expected a mapping of intent names to intents, got {_type_name(body)}",
                source=source,
                key="intents",
                line=lines.intents,
            )
        if not body:
            raise CatalogueError("no intents defined", source=source, key="intents", line=lines.intents)
        parsed = {}
        for name, intent_body in body.items():
            intent = _parse_intent(name, intent_body, source, lines)
            parsed[intent.name] = intent
        _check_examples_unique(parsed, source, lines)
        catalogue = cls.__new__(cls)
        catalogue.source = source
        catalogue.intents = parsed
        return catalogue

    # -- output --

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for intent in self.intents.values():
            body: dict[str, Any] = {"kind": intent.kind, "severity": intent.severity}
            if intent.threshold is not None:
                body["threshold"] = intent.threshold
            body["examples"] = list(intent.examples)
            out[intent.name] = body
        return {"intents": out}

    def to_yaml(self) -> str:
        """The catalogue as intents.yaml text (readable unicode); `from_yaml(c.to_yaml()) == c`."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=1000, indent=2)

    # -- access --

    def names(self) -> list[str]:
        return list(self.intents)

    def __getitem__(self, name: str) -> Intent:
        try:
            return self.intents[name]
        except KeyError:
            raise KeyError(f"no intent {name!r} in the catalogue") from None

    def __contains__(self, name: object) -> bool:
        return name in self.intents

    def __len__(self) -> int:
        return len(self.intents)

    def __iter__(self) -> Iterator[Intent]:
        return iter(self.intents.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntentCatalogue):
            return NotImplemented
        return list(self.intents.items()) == list(other.intents.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IntentCatalogue({len(self)} intents from {self.source})"

    def labelled_examples(self) -> list[tuple[str, str]]:
        """Every example as (text, intent name), in catalogue order."""
        return [(text, intent.name) for intent in self.intents.values() for text in intent.examples]

    def with_examples(self, intent: str, texts: Iterable[str], *, move: bool = False) -> IntentCatalogue:
        """A new catalogue with `texts` added to `intent` (blank-stripped, duplicates dropped).

        A text that is already an example of another intent is an error, unless `move` is true: then it is
        taken away from that intent (an agent's correction), provided that intent keeps at least one example.
        """
        if intent not in self.intents:
            raise CatalogueError(
                f"no such intent; known intents are {', '.join(self.intents)}",
                source=self.source,
                intent=intent,
            )
        if isinstance(texts, str):
            texts = [texts]
        target = self.intents[intent]
        known = {_example_key(t) for t in target.examples}
        added: list[str] = []
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise CatalogueError(
                    f"new example {index + 1} must be non-blank text, got {text!r}",
                    source=self.source,
                    intent=intent,
                    key="examples",
                )
            text = text.strip()
            if _example_key(text) not in known:
                known.add(_example_key(text))
                added.append(text)
        updated: list[Intent] = []
        for current in self.intents.values():
            if current.name == intent:
                updated.append(_replace_examples(current, current.examples + tuple(added)))
            elif move:
                kept = tuple(t for t in current.examples if _example_key(t) not in known)
                if not kept:
                    raise CatalogueError(
                        "moving these examples away would leave it with none",
                        source=self.source,
                        intent=current.name,
                        key="examples",
                    )
                updated.append(_replace_examples(current, kept) if kept != current.examples else current)
            else:
                updated.append(current)
        return IntentCatalogue(updated, source=self.source)


def _replace_examples(intent: Intent, examples: tuple[str, ...]) -> Intent:
    return Intent(
        name=intent.name,
        kind=intent.kind,
        severity=intent.severity,
        examples=examples,
        threshold=intent.threshold,
    )


def _is_intents_mapping(root: yaml.Node | None, mapping: yaml.MappingNode) -> bool:
    if not isinstance(root, yaml.MappingNode):
        return False
    return any(
        isinstance(k, yaml.ScalarNode) and k.value == "intents" and v is mapping for k, v in root.value
    )


def _intent_owning(root: yaml.Node | None, mapping: yaml.MappingNode) -> str | None:
    """The name of the intent whose body is `mapping`, if it is one."""
    if not isinstance(root, yaml.MappingNode):
        return None
    for key_node, value_node in root.value:
        is_intents = isinstance(key_node, yaml.ScalarNode) and key_node.value == "intents"
        if is_intents and isinstance(value_node, yaml.MappingNode):
            for name_node, body_node in value_node.value:
                if body_node is mapping and isinstance(name_node, yaml.ScalarNode):
                    return name_node.value
    return None


def load_catalogue(path: str | Path) -> IntentCatalogue:
    """Read and validate an intents.yaml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError("no such file", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", source=str(path)) from None
    except OSError as exc:
        raise CatalogueError(f"cannot read: {exc.strerror}", source=str(path)) from None
    return IntentCatalogue.from_yaml(text, source=str(path))


def starter_catalogue() -> IntentCatalogue:
    """The shipped starter catalogue of cross-border e-commerce intents (bot/defaults/intents.yaml)."""
    source = f"{_STARTER_PACKAGE.replace('.', '/')}/{_STARTER_FILE}"
    # find_spec("bot") locates the package without running its code; intents must not import bot.
    spec = importlib.util.find_spec(_STARTER_PACKAGE.split(".")[0])
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location, *_STARTER_PACKAGE.split(".")[1:], _STARTER_FILE)
        if path.is_file():
            return IntentCatalogue.from_yaml(path.read_text(encoding="utf-8"), source=source)
    # not a plain folder (e.g. a zipped install): importlib.resources, which imports the empty marker package
    resource = importlib.resources.files(_STARTER_PACKAGE).joinpath(_STARTER_FILE)
    return IntentCatalogue.from_yaml(resource.read_text(encoding="utf-8"), source=source)
