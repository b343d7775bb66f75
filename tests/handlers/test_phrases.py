"""kefu's own words in Chinese: command help, command errors, permission refusals and window titles read in
Chinese where the asker's language is "zh", and exactly as before in English (the default)."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.metrics import METRICS
from handlers.commands import Actor, CommandError, PermissionDenied, TimeWindow, authorize, help_text, parse_command
from handlers.commands.answers import SHORT_LABELS, metric_label
from handlers.commands.help_texts import COMMAND_HELP, COMMAND_HELP_ZH
from handlers.phrases import PHRASES, language_of, phrase, say
from tests.hostile.strategies import hostile_settings, nasty_text

AGENT = Actor(name="alice", role="agent")
_CJK = re.compile("[\u4e00-\u9fff]")


def _error(text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    return caught.value


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(PHRASES))
def test_every_phrase_has_both_languages_and_chinese_needs_no_field_english_lacks(key: str) -> None:
    texts = PHRASES[key]
    assert set(texts) == {"en", "zh"} and all(texts.values())
    assert _fields(texts["zh"]) <= _fields(texts["en"]) | {"dimensions_zh"}
    assert _CJK.search(texts["zh"]) or not _CJK.search(texts["en"]) or key == "help.chinese_words"


def test_every_metric_has_a_chinese_name_and_keeps_its_english_one() -> None:
    assert {name: PHRASES[f"metric.{name}"]["en"] for name in METRICS} == {n: d.label for n, d in METRICS.items()}
    assert {name: PHRASES[f"metric.short.{name}"]["en"] for name in SHORT_LABELS} == SHORT_LABELS
    assert all(_CJK.search(PHRASES[f"metric.{name}"]["zh"]) for name in METRICS)
    assert metric_label("sla_first_response_compliance", "zh") == "首次响应 SLA 达标率"
    assert metric_label("sla_first_response_compliance") == "First response SLA met"


def test_every_command_has_chinese_help() -> None:
    assert set(COMMAND_HELP_ZH) == set(COMMAND_HELP)


def test_the_help_overview_is_chinese_with_chinese_aliases_beside_the_english_commands() -> None:
    text = help_text(language="zh")
    assert text.startswith("kefu 命令：")
    assert "/metrics（/指标、/数据、/统计） [today|24h|7d|30d|FROM..TO]" in text
    assert "示例：/指标 近7天 按地区 环比" in text  # the Chinese example is the one shown
    assert "（按客服拆分需要经理角色）" in text
    assert "Example:" not in text and "kefu commands" not in text


def test_help_on_one_command_is_chinese() -> None:
    text = help_text("告警", language="zh")
    assert text.splitlines()[0].startswith("/alerts（/告警、/报警） | /alerts silence RULE")
    assert "正在触发的告警" in text and "注意：静默和取消静默需要经理角色。" in text
    assert "示例：" in text and "Examples:" not in text


def test_english_help_is_unchanged_by_default() -> None:
    text = help_text()
    assert text.startswith("kefu commands:") and "Chinese words work too" in text
    assert "（/指标" not in text


def test_an_unknown_command_gets_a_chinese_did_you_mean() -> None:
    error = _error("/告警列")
    assert error.text("zh").startswith("没有“告警列”这个命令。你是不是想输入“/告警”？发送 /帮助 查看 kefu 能做什么。")
    assert "用法：/metrics（/指标" in error.text("zh")
    assert str(error).startswith('Unknown command "告警列". Did you mean "/告警"? Type /kefu help')


@pytest.mark.parametrize(("typed", "chinese"), [
    ("/指标 7天 按 星球", "“按”后面的“星球”不是维度。可用维度：意图（intent）、渠道（channel）、地区（region）"),
    ("/指标 0天", "“0天”是空窗口，至少写 1d。"),
    ("/指标 900天", "“900天”太长了：时间窗口最多 400 天。"),
    ("/指标 2026-11-15..2026-11-01", "的结束日期（2026-11-01）早于开始日期（2026-11-15）。"),
    ("/工单", "“工单”后面要写工单号，例如“/ticket 1042”。"),
    ("/工单 abc", "工单号应是数字，例如 1042，而不是“abc”。"),
    ("/结单", "“结单”后面要写工单号，例如“/resolve 1042”。"),
    ("/告警 静默 frt", "缺少时长：“frt”要静默多久？"),
])
def test_bad_arguments_are_explained_in_chinese_with_the_usage(typed: str, chinese: str) -> None:
    answer = _error(typed).text("zh")
    assert chinese in answer
    assert "\n用法：" in answer and "Usage" not in answer


def test_a_bad_window_keeps_its_english_wording() -> None:
    assert str(_error("/metrics 0d")) == ('"0d" is an empty window; give at least 1d.\n'
                                          "Usage: /metrics [today|24h|7d|30d|FROM..TO] [by intent|channel|region|"
                                          "agent|language|marketplace|sku] [vs prev] [chart]")


def test_a_permission_refusal_is_chinese() -> None:
    with pytest.raises(PermissionDenied) as denied:
        authorize(parse_command("/指标 7天 按客服"), AGENT)
    assert denied.value.text("zh") == ("只有经理才能查看按客服拆分的指标；你当前的身份是客服。"
                                       "你可以用 /agent（/客服）查看自己的数据。")
    assert str(denied.value) == ("Only a manager can see metrics by agent; you are signed in as an agent. "
                                 "You can see your own numbers with /agent.")


def test_window_titles_are_chinese() -> None:
    week = TimeWindow.rolling(7, "d")
    assert (week.label_in("zh"), week.previous().label_in("zh")) == ("近7天", "前7天")
    assert (week.label, week.previous().label) == ("last 7 days", "previous 7 days")
    assert TimeWindow.today().label_in("zh") == "今天" and TimeWindow.rolling(1, "h").label_in("zh") == "近1小时"


def test_languages_read_from_settings_and_nested_phrases_follow_the_language() -> None:
    assert [language_of(v) for v in ("zh", "zh-CN", "zh_Hans", "en", "fr", None)] == ["zh", "zh", "zh", "en", "en",
                                                                                       "en"]
    nested = say("permission.denied", role=say("role.manager"), what=say("permission.silence"),
                 actor_role=say("role.agent"), hint="")
    assert nested.text("zh") == "只有经理才能静默告警；你当前的身份是客服。"
    assert phrase("action.assigned", "en", ticket=42, agent="mei") == "Ticket #42 is assigned to mei."
    with pytest.raises(KeyError):
        say("no.such.phrase")


_CHINESE_WORDS = ["/指标", "/告警", "/工单", "/客服", "/帮助", "按", "地区", "星球", "7天", "0天", "近", "静默",
                  "取消静默", "对比", "图表", "{0}", "{word}", "%s"]


@hostile_settings
@given(text=st.lists(st.sampled_from(_CHINESE_WORDS) | nasty_text(12), max_size=6).map(" ".join))
def test_any_error_reads_in_chinese_without_failing(text: str) -> None:
    try:
        parse_command(text)
    except CommandError as error:
        chinese = error.text("zh")
        assert chinese.strip() and "Traceback" not in chinese
        assert ("\n用法：" in chinese) == bool(error.usage)
