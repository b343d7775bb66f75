"""Help text of manager commands: every command with usage and an example; per-command help; platform hints."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from handlers.commands import COMMAND_HELP, CommandError, help_text, parse_command


def test_overview_lists_every_command_with_its_usage_and_an_example() -> None:
    text = help_text()
    for name, entry in COMMAND_HELP.items():
        assert entry.usage in text, name
        assert entry.examples[0] in text, name
    assert "/kefu help" in text


def test_every_example_in_the_help_parses() -> None:
    for entry in COMMAND_HELP.values():
        for example in entry.examples:
            parse_command(example)


@pytest.mark.parametrize("topic", ["metrics", "指标", "METRICS"])
def test_per_command_help(topic: str) -> None:
    text = help_text(topic)
    assert text.startswith(COMMAND_HELP["metrics"].usage)
    assert "/指标 近7天 按地区 环比" in text
    assert "manager" in text
    assert "/sla" not in text


def test_help_on_a_parsed_help_command_topic() -> None:
    command = parse_command("/kefu help 告警")
    assert "/alerts silence RULE" in help_text(command.topic)  # type: ignore[union-attr]


def test_platforms_without_slash_commands_or_images_get_fitting_examples() -> None:
    text = help_text("metrics", SimpleNamespace(slash_commands=False, image_upload=False), mention="@客服")
    assert "  @客服 /metrics 7d by intent" in text
    assert "Charts cannot be shown here" in text
    assert "Mention the bot first (@kefu)" in help_text(None, SimpleNamespace(slash_commands=False))


def test_unknown_topic_is_a_command_error() -> None:
    with pytest.raises(CommandError, match='no help on "weather"'):
        help_text("weather")
