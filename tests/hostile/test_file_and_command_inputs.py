"""Hostile text for kefu's other parsers: manager commands (the parser and the executor, on a real database),
intent catalogue files, reply template folders, FAQ imports and history import files. Each takes anything and
answers with its value or its own error naming the problem (CommandError, CatalogueError, TemplateError, FaqError,
FieldError), never another exception; YAML alias bombs and template loops are refused, not evaluated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.history_file import parse_history_line, scan_history
from bot.message_fields import FieldError
from handlers.commands import Actor
from handlers.commands.errors import CommandError
from handlers.commands.executor import CommandExecutor
from handlers.commands.parser import parse_command
from intents.catalogue import CatalogueError, IntentCatalogue
from knowledge.faq import FaqError, parse_csv, parse_yaml
from knowledge.templates import TemplateError, TemplateLibrary
from tests.hostile.strategies import IDS, TIMES, hostile_settings, json_values, nasty_text, near_valid

WORDS = ["/metrics", "/sla", "/alerts", "/ticket", "/agent", "/kefu", "help", "silence", "unsilence", "7d", "30d",
         "by", "region", "chart", "vs", "2026-01-01..2026-02-30", "#99999999999999999999", "-1", "指标", "近7天",
         "按地区", "@kefu", "<@U1>", "for", "2h", "99999999d", "rule=x", "reason", '"', "'", "=", "*", "today"]
commands = st.one_of(nasty_text(200), st.lists(st.sampled_from(WORDS) | nasty_text(12), max_size=8).map(" ".join))
MANAGER = Actor(name="lin", role="manager", identities=frozenset({"lin"}))

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
catalogues = st.one_of(
    nasty_text(300),
    json_values.map(lambda value: yaml.safe_dump(value, allow_unicode=True)),
    st.dictionaries(IDS, near_valid({"kind": st.sampled_from(["faq", "complaint", "other", "x"]),
                                     "severity": st.sampled_from([1, 2, 3, 0, 9, "1"]),
                                     "examples": st.lists(nasty_text(40), max_size=4),
                                     "description": nasty_text(40)}), max_size=3)
    .map(lambda intents: yaml.safe_dump({"intents": intents}, allow_unicode=True)),
    st.just("intents:\n" + BOMB.replace("\n", "\n  ")), st.just(BOMB),
    st.just("intents: !!python/object/apply:os.system ['echo pwned']"),
)
TEMPLATE_SOURCES = ["{{ order_id }}", "{% for i in range(10**9) %}x{% endfor %}", "{{ ''.__class__.__mro__ }}",
                    "{% include '/etc/passwd' %}", "{{ 9**9**9 }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
                    "{{", "{% if %}", "{{ cycler.__init__.__globals__ }}", "{{ 'x' * 100000000 }}", "{# x"]
template_names = st.sampled_from(["order_status.en.j2", "order_status.zh-CN.amazon.j2", "x.j2", ".hidden.j2",
                                  "a.b.c.d.j2", "order status.en.j2", "order_status.english.j2", "é.en.j2"])
faq_yaml = st.one_of(nasty_text(300), json_values.map(lambda value: yaml.safe_dump(value, allow_unicode=True)),
                     st.just(BOMB))
history_lines = near_valid({
    "conversation_id": IDS, "channel_message_id": IDS, "direction": st.sampled_from(["in", "out", "sideways"]),
    "customer": near_valid({"id": IDS, "language": st.sampled_from(["es", "x"]), "country": st.just("MX")}),
    "author": nasty_text(40), "text": nasty_text(200), "sent_at": TIMES, "resolved_at": TIMES,
    "order_id": IDS, "marketplace": st.just("amazon"),
})


@hostile_settings
@given(text=commands)
def test_any_command_text_parses_or_raises_a_command_error_with_usage(text: str) -> None:
    try:
        parse_command(text)
    except CommandError as exc:
        assert str(exc).strip()


@pytest.fixture
def executor(engine: Engine, tmp_path: Path) -> CommandExecutor:
    return CommandExecutor(engine, timezone="Asia/Shanghai", charts_dir=tmp_path / "charts")


@hostile_settings
@given(text=commands)
def test_the_executor_answers_any_command_text_without_raising(executor: CommandExecutor, text: str) -> None:
    answer = executor.execute(text, MANAGER, platform="console")

    assert answer.text.strip()


@hostile_settings
@given(text=catalogues)
def test_any_catalogue_file_loads_or_is_refused_with_a_catalogue_error(text: str) -> None:
    try:
        catalogue = IntentCatalogue.from_yaml(text, source="hostile.yaml")
    except CatalogueError as exc:
        assert str(exc).strip()
    else:
        assert len(catalogue) >= 1


def test_a_yaml_alias_bomb_is_refused_as_a_catalogue() -> None:
    with pytest.raises(CatalogueError):
        IntentCatalogue.from_yaml("intents:\n  greeting:\n    kind: other\n    severity: 3\n    examples:\n"
                                  + "".join(f"      - &{chr(97 + i)} x\n" for i in range(3)) + BOMB)


@hostile_settings
@given(files=st.dictionaries(template_names, st.one_of(st.sampled_from(TEMPLATE_SOURCES), nasty_text(200),
                                                         st.binary(max_size=100)), max_size=3))
def test_any_template_folder_loads_or_is_refused_with_a_template_error(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, Any]
) -> None:
    folder = tmp_path_factory.mktemp("templates")
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        (folder / name).write_bytes(data)
    try:
        library = TemplateLibrary.load(folder, include_shipped=False)
    except TemplateError as exc:
        assert str(exc).strip()
        return
    for intent in library.intents():
        for language in library.languages(intent):
            try:  # a template that loaded renders, or says why it cannot (the pipeline then suggests instead)
                library.render(intent, language, {"order_id": "A-1", "customer_name": "Ana"})
            except TemplateError as exc:
                assert str(exc).strip()


@hostile_settings
@given(text=faq_yaml, csv_text=st.one_of(nasty_text(300), st.lists(
    st.lists(st.sampled_from(["id", "language", "question", "answer", "q1", "", '"', "\n"]) | nasty_text(20),
             max_size=5).map(",".join), max_size=5).map("\n".join)))
def test_any_faq_import_loads_or_is_refused_with_a_faq_error(text: str, csv_text: str) -> None:
    for parse, source in ((parse_yaml, text), (parse_csv, csv_text)):
        try:
            parse(source)
        except FaqError as exc:
            assert str(exc).strip()


@hostile_settings
@given(line=st.one_of(history_lines.map(lambda value: json.dumps(value)), nasty_text(200)))
def test_any_history_line_is_a_message_or_a_field_error(line: str) -> None:
    try:
        message = parse_history_line(line, 1)
    except FieldError as exc:
        assert str(exc).strip()
    else:
        assert message.text.strip() and message.sent_at.tzinfo is not None


@hostile_settings
@given(lines=st.lists(st.one_of(st.binary(max_size=80), history_lines.map(
    lambda value: json.dumps(value).encode())), max_size=8))
def test_a_history_file_of_any_bytes_is_scanned_with_bad_lines_reported_by_number(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("history") / "export.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines))
    reported: list[tuple[int, str]] = []

    scanned = scan_history(path, lambda number, reason: reported.append((number, reason)))

    assert scanned.bad == len(reported) and scanned.good + scanned.bad == scanned.lines
    assert all(reason.strip() and 1 <= number <= len(lines) for number, reason in reported)
    assert sum(len(batch) for batch in scanned.batches(3)) == scanned.good



