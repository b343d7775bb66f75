"""Reply templates per intent × language (× marketplace): loading, safety checks, fallback and rendering.

A template is a Jinja2 file named ``<intent>.<lang>.j2`` or ``<intent>.<lang>.<marketplace>.j2`` (for example
``order_status.pt.j2``, ``return_policy.en.amazon.j2``). kefu ships templates for its starter intents in
``knowledge/templates/``; a team's own folder overrides them file by file.

Templates are plain chat text, rendered in a sandbox with no filesystem, no globals, no function calls and a short
list of filters. They may only use the variables in :data:`TEMPLATE_VARIABLES`. Optional parts are written as
``{% if order_id is defined %}…{% endif %}``; a variable used outside such a test is required, and a reply that
lacks one is returned with ``text=None`` and the names of *all* missing variables, so the pipeline suggests it to
an agent instead of sending it. ``order`` is a record whose fields (:data:`RECORD_FIELDS`) are tested the same
way: ``{% if order.carrier is defined %}``; a missing field is reported as ``order.carrier``.

Everything is checked when the library is loaded (file name, size, encoding, syntax, variable names, unsafe
constructs); a problem raises :class:`TemplateError` naming the file and line. The sandbox still guards rendering.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.filters import FILTERS
from jinja2.runtime import missing
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from knowledge.language_chain import language_chain, normalise_language

__all__ = [
    "MAX_TEMPLATE_BYTES",
    "TEMPLATE_VARIABLES",
    "RenderedReply",
    "TemplateError",
    "TemplateLibrary",
    "shipped_templates_dir",
]

TEMPLATE_VARIABLES: tuple[str, ...] = (
    "customer_name",
    "order_id",
    "tracking_number",
    "tracking_url",
    "carrier",
    "sku",
    "marketplace",
    "agent_name",
    "store_name",
    "sla_promise",
    "order",
    "request_id",  # an after-sales request's number (return instructions, knowledge/templates/after_sales)
    "return_address",  # [after_sales] return_address
)
"""The variables a reply template may use; any other name is rejected when the template is loaded."""

RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "order": ("number", "status", "carrier", "tracking_number", "tracking_url", "shipped_at", "delivered_at",
              "items"),
}
"""Fields of the structured variables: ``order.status``, ``order.items`` (a list of lines such as "2 × Mug")."""

MAX_TEMPLATE_BYTES = 8 * 1024
MAX_OUTPUT_CHARS = 16_000
MAX_LOOP_DEPTH = 2
MAX_SEQUENCE_PRODUCT = 4_096  # longest string/list that `*` may build
MAX_POWER_BITS = 4_096  # largest integer that `**` may build, in bits

ALLOWED_FILTERS: frozenset[str] = frozenset(
    {
        "capitalize",
        "count",
        "d",
        "default",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "lower",
        "round",
        "string",
        "title",
        "trim",
        "truncate",
        "upper",
        "wordcount",
    }
)

_FORBIDDEN_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Block: "{% block %}",
}

_INTENT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_MARKETPLACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PLACEHOLDER = "0"  # stands in for a missing variable while looking for further missing ones


class TemplateError(ValueError):
    """A broken or unsafe reply template; the message names the file (and the line where known)."""


@dataclass(frozen=True)
class RenderedReply:
    intent: str
    language: str  # the language actually used after fallback, e.g. "pt"
    template: str  # file name used, e.g. "order_status.pt.j2"
    text: str | None  # None when variables are missing
    missing: tuple[str, ...]  # names of missing variables, sorted; empty when rendered


def shipped_templates_dir() -> Path:
    """The folder of templates that ships with kefu (``knowledge/templates``)."""
    return Path(str(files("knowledge") / "templates"))


class _Record:
    """A structured variable as templates see it: its known fields as attributes; any other field is undefined."""

    def __init__(self, variable: str, fields: Mapping[str, object]) -> None:
        self._variable = variable  # names starting with "_" are out of the sandbox's reach
        for name, value in fields.items():
            setattr(self, name, value)

    def with_field(self, name: str, value: object) -> _Record:
        fields = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return _Record(self._variable, {**fields, name: value})


def _record(variable: str, value: object) -> _Record | None:
    """A structured variable's known fields (blank ones dropped, lists as tuples of text), or None if none."""
    if not isinstance(value, Mapping):
        return None
    fields: dict[str, object] = {}
    for name in RECORD_FIELDS[variable]:
        field_value = value.get(name)
        if isinstance(field_value, list | tuple):
            lines = tuple(str(item).strip() for item in field_value if str(item).strip())
            if lines:
                fields[name] = lines
        elif field_value is not None and str(field_value).strip():
            fields[name] = str(field_value).strip()
    return _Record(variable, fields) if fields else None


class _MissingVariable(UndefinedError):
    """Raised when a template uses a documented variable that the ticket does not have."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message)
        self.name = name


class _ReportingUndefined(StrictUndefined):
    """StrictUndefined that says *which* documented variable was missing, so every one can be collected."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[JinjaTemplateError] = UndefinedError,
    ) -> None:
        if hint is None and obj is missing and name in TEMPLATE_VARIABLES:
            exc = partial(_MissingVariable, name)  # type: ignore[assignment]
        elif hint is None and isinstance(obj, _Record) and name in RECORD_FIELDS[obj._variable]:
            exc = partial(_MissingVariable, f"{obj._variable}.{name}")  # type: ignore[assignment]
        super().__init__(hint, obj, name, exc)


class _ReplySandbox(ImmutableSandboxedEnvironment):
    """The sandbox plus limits on operators that could build huge values (``'a' * 10**9``, ``9 ** 9 ** 9``)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed in reply templates")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                repeats = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if repeats and len(seq) * times > MAX_SEQUENCE_PRODUCT:
                    raise SecurityError(f"repeating a value would exceed {MAX_SEQUENCE_PRODUCT} items")
        powers = operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
        if powers and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
            raise SecurityError(f"the power would exceed {MAX_POWER_BITS} bits")
        return super().call_binop(context, operator, left, right)


def _make_environment() -> _ReplySandbox:
    env = _ReplySandbox(
        undefined=_ReportingUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=0,
    )
    env.globals.clear()  # no range, cycler, joiner, namespace, lipsum, dict
    env.filters = {name: FILTERS[name] for name in ALLOWED_FILTERS}
    return env


@dataclass(frozen=True)
class _LoadedTemplate:
    file_name: str
    path: Path
    intent: str
    language: str
    marketplace: str | None
    template: Template


_Key = tuple[str, str, str | None]  # (intent, language, marketplace)


class TemplateLibrary:
    """Every reply template kefu can use, looked up by intent, language (with fallback) and marketplace."""

    def __init__(self, templates: Mapping[_Key, _LoadedTemplate], default_language: str = "en") -> None:
        default = normalise_language(default_language)
        if default is None:
            raise ValueError(f"default_language {default_language!r} is not a language code such as 'en' or 'pt-BR'")
        self.default_language = default
        self._templates: dict[_Key, _LoadedTemplate] = dict(templates)

    @classmethod
    def load(
        cls, *folders: Path | str | None, default_language: str = "en", include_shipped: bool = True
    ) -> TemplateLibrary:
        """Load the shipped folder, then each given folder; a later file overrides an earlier one of the same
        intent, language and marketplace. ``None`` entries are ignored. Every template is checked and parsed
        now: any problem raises :class:`TemplateError` naming the file and line."""
        env = _make_environment()
        chosen: list[Path] = [shipped_templates_dir()] if include_shipped else []
        chosen += [Path(folder) for folder in folders if folder is not None]
        templates: dict[_Key, _LoadedTemplate] = {}
        for folder in chosen:
            templates.update(_load_folder(env, folder))
        return cls(templates, default_language=default_language)

    def fallback_chain(self, language: str | None) -> list[str]:
        """``"pt-BR"`` → ``["pt-br", "pt", "en"]``; ``None`` or a malformed tag → ``["en"]`` (the default)."""
        return language_chain(language, self.default_language)

    def find(self, intent: str, language: str | None, marketplace: str | None = None) -> str | None:
        """File name of the best template, or ``None``. A marketplace variant wins over the plain template in
        the same language, but a plain template in the customer's language wins over a fallback language."""
        found = self._lookup(intent, language, marketplace)
        return found.file_name if found else None

    def has_template(self, intent: str, language: str | None, marketplace: str | None = None) -> bool:
        return self._lookup(intent, language, marketplace) is not None

    def render(
        self,
        intent: str,
        language: str | None,
        variables: Mapping[str, object],
        marketplace: str | None = None,
    ) -> RenderedReply | None:
        """Render the best template with the variables that are known (``None`` and blank values count as
        unknown; names outside :data:`TEMPLATE_VARIABLES` are ignored). Returns ``None`` when no template
        exists for the intent in the fallback chain; ``text=None`` plus every missing name when the template
        needs variables that are unknown. A template that fails at render time raises :class:`TemplateError`."""
        found = self._lookup(intent, language, marketplace)
        if found is None:
            return None
        known: dict[str, object] = {}
        for name in TEMPLATE_VARIABLES:
            value = variables.get(name)
            if value is None:
                continue
            if name in RECORD_FIELDS:
                record = _record(name, value)
                if record is not None:
                    known[name] = record
                continue
            text = str(value).strip()
            if text:
                known[name] = text
        absent: list[str] = []
        context = dict(known)
        attempts = len(TEMPLATE_VARIABLES) + sum(len(fields) for fields in RECORD_FIELDS.values()) + 1
        for _ in range(attempts):
            try:
                text = _render_once(found, context)
            except _MissingVariable as exc:
                if exc.name in absent:  # cannot happen with placeholders; guard against a loop
                    raise TemplateError(f"{found.path}: variable {exc.name!r} is undefined") from None
                absent.append(exc.name)
                variable, _, field_name = exc.name.partition(".")
                if field_name:
                    current = context.get(variable)
                    record = current if isinstance(current, _Record) else _Record(variable, {})
                    context[variable] = record.with_field(field_name, _PLACEHOLDER)
                elif variable in RECORD_FIELDS:  # its fields, if used, are reported one by one
                    context[variable] = _Record(variable, {})
                else:
                    context[exc.name] = _PLACEHOLDER
                continue
            fields_missing = {name.partition(".")[0] for name in absent if "." in name}
            absent = [name for name in absent if name not in fields_missing]
            if absent:
                return RenderedReply(intent, found.language, found.file_name, None, tuple(sorted(absent)))
            return RenderedReply(intent, found.language, found.file_name, text, ())
        raise TemplateError(f"{found.path}: could not settle which variables are missing")  # pragma: no cover

    def languages(self, intent: str) -> set[str]:
        """Languages with at least one template for ``intent`` (marketplace variants included)."""
        return {language for (name, language, _) in self._templates if name == intent}

    def intents(self) -> set[str]:
        return {name for (name, _, _) in self._templates}

    def marketplaces(self, intent: str) -> set[str]:
        """Marketplaces with a dedicated variant of ``intent`` in some language."""
        return {mp for (name, _, mp) in self._templates if name == intent and mp is not None}

    def _lookup(self, intent: str, language: str | None, marketplace: str | None) -> _LoadedTemplate | None:
        market = marketplace.strip().lower() if marketplace and marketplace.strip() else None
        for tag in self.fallback_chain(language):
            if market is not None and (intent, tag, market) in self._templates:
                return self._templates[(intent, tag, market)]
            if (intent, tag, None) in self._templates:
                return self._templates[(intent, tag, None)]
        return None


def _load_folder(env: _ReplySandbox, folder: Path) -> dict[_Key, _LoadedTemplate]:
    if not folder.is_dir():
        raise TemplateError(f"template folder {folder} does not exist or is not a folder")
    root = folder.resolve()
    loaded: dict[_Key, _LoadedTemplate] = {}
    for path in sorted(folder.iterdir()):
        if not path.name.endswith(".j2") or path.name.startswith(".") or path.is_dir():
            continue
        if not path.resolve().is_relative_to(root):
            raise TemplateError(f"{path}: links to a file outside the template folder {folder}")
        template = _load_file(env, path)
        key = (template.intent, template.language, template.marketplace)
        if key in loaded:
            raise TemplateError(
                f"{path}: same intent, language and marketplace as {loaded[key].file_name}; keep only one"
            )
        loaded[key] = template
    return loaded


def _parse_file_name(path: Path) -> tuple[str, str, str | None]:
    parts = path.name[: -len(".j2")].split(".")
    usage = "template file names are <intent>.<language>.j2 or <intent>.<language>.<marketplace>.j2"
    if len(parts) not in (2, 3):
        raise TemplateError(f"{path}: {usage}")
    intent, language = parts[0], normalise_language(parts[1])
    if not _INTENT_NAME.fullmatch(intent):
        raise TemplateError(f"{path}: {intent!r} is not an intent name (letters, digits, '_' and '-'); {usage}")
    if language is None:
        raise TemplateError(f"{path}: {parts[1]!r} is not a language code such as 'en' or 'pt-BR'; {usage}")
    marketplace = parts[2].lower() if len(parts) == 3 else None
    if marketplace is not None and not _MARKETPLACE_NAME.fullmatch(marketplace):
        raise TemplateError(f"{path}: {parts[2]!r} is not a marketplace name (letters, digits, '_' and '-')")
    return intent, language, marketplace


def _load_file(env: _ReplySandbox, path: Path) -> _LoadedTemplate:
    intent, language, marketplace = _parse_file_name(path)
    size = path.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"{path}: template is {size} bytes; the limit is {MAX_TEMPLATE_BYTES} bytes (8 KiB)")
    data = path.read_bytes()
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(f"{path}: line {line}: not valid UTF-8 text") from None
    try:
        ast = env.parse(source, name=path.name, filename=str(path))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{path}: line {exc.lineno}: {exc.message}") from None
    _check_policy(ast, path)
    try:
        code = env.compile(ast, name=path.name, filename=str(path))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{path}: line {exc.lineno}: {exc.message}") from None
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    return _LoadedTemplate(path.name, path, intent, language, marketplace, template)


def _check_policy(ast: nodes.Template, path: Path) -> None:
    """Reject anything a reply template has no business doing, with the line it happens on."""

    def fail(node: nodes.Node, problem: str) -> None:
        raise TemplateError(f"{path}: line {node.lineno}: {problem}")

    def walk(node: nodes.Node, loop_depth: int) -> None:
        for kind, label in _FORBIDDEN_STATEMENTS.items():
            if isinstance(node, kind):
                fail(node, f"{label} is not allowed in reply templates")
        if isinstance(node, nodes.For):
            loop_depth += 1
            if node.recursive:
                fail(node, "recursive loops are not allowed in reply templates")
            if loop_depth > MAX_LOOP_DEPTH:
                fail(node, f"loops may be nested at most {MAX_LOOP_DEPTH} deep in reply templates")
        elif isinstance(node, nodes.Call):
            fail(node, "calling functions or methods is not allowed in reply templates")
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            fail(node, f"attribute {node.attr!r} is not allowed (names starting with '_' are internal)")
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name in RECORD_FIELDS:
            if node.attr not in RECORD_FIELDS[node.node.name]:
                fields = ", ".join(RECORD_FIELDS[node.node.name])
                fail(node, f"unknown field {node.node.name}.{node.attr}; {node.node.name} has: {fields}")
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
            fail(node, f"the string {node.value!r} is not allowed (it names Python internals)")
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
                fail(node, f"item {node.arg.value!r} is not allowed (names starting with '_' are internal)")
        elif isinstance(node, nodes.Filter | nodes.FilterBlock):
            name = node.name if isinstance(node, nodes.Filter) else node.filter.name
            if name not in ALLOWED_FILTERS:
                fail(node, f"filter {name!r} is not allowed; allowed filters: {', '.join(sorted(ALLOWED_FILTERS))}")
        elif isinstance(node, nodes.Name) and node.name == "self":
            fail(node, "'self' is not allowed in reply templates")
        for child in node.iter_child_nodes():
            walk(child, loop_depth)

    walk(ast, 0)
    unknown = meta.find_undeclared_variables(ast) - set(TEMPLATE_VARIABLES)
    if unknown:
        name = sorted(unknown)[0]
        first = next((n for n in ast.find_all(nodes.Name) if n.name == name), ast)
        raise TemplateError(
            f"{path}: line {first.lineno}: unknown variable {name!r}; "
            f"templates may use only: {', '.join(TEMPLATE_VARIABLES)}"
        )


def _render_once(found: _LoadedTemplate, context: Mapping[str, object]) -> str:
    pieces: list[str] = []
    size = 0
    try:
        for piece in found.template.generate(context):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(f"{found.path}: renders more than {MAX_OUTPUT_CHARS} characters")
            pieces.append(piece)
    except (_MissingVariable, TemplateError):
        raise
    except SecurityError as exc:
        raise TemplateError(f"{found.path}{_line_of(exc, found)}: unsafe template: {exc}") from None
    except Exception as exc:  # a broken template must never become a stack trace in the pipeline
        raise TemplateError(f"{found.path}{_line_of(exc, found)}: cannot render: {exc}") from None
    text = "".join(pieces).strip()
    if not text:
        raise TemplateError(f"{found.path}: renders to empty text")
    return text


def _line_of(exc: BaseException, found: _LoadedTemplate) -> str:
    """``": line N"`` for the template line the error happened on (Jinja maps its frames to template lines)."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == str(found.path)]
    return f": line {lines[-1]}" if lines else ""
