"""The manager command parser: good, bad and ambiguous input, English and Chinese, full-width and mentions."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.commands import (
    AgentCommand,
    AlertsListCommand,
    AlertsSilenceCommand,
    AlertsUnsilenceCommand,
    CommandError,
    CommandInvocation,
    HelpCommand,
    MetricsCommand,
    ParsedCommand,
    SlaCommand,
    TicketCommand,
    TimeWindow,
    parse_command,
    usage_line,
)
from handlers.commands.help_texts import OVERVIEW_USAGE
from handlers.commands.vocabulary import DEFAULT_METRIC_ALIASES

D7 = TimeWindow.rolling(7, "d")
TODAY = TimeWindow.today()


def metrics(
    window: TimeWindow = TODAY,
    group_by: str | None = None,
    compare: bool = False,
    chart: bool = False,
    metric: str | None = None,
) -> MetricsCommand:
    return MetricsCommand(window=window, group_by=group_by, compare_previous=compare, chart=chart, metric=metric)


GOOD = [
    # /metrics, English
    ("/metrics", metrics()),
    ("/ metrics 7d", metrics(D7)),
    ("/kefu /metrics 7d", metrics(D7)),
    ("/metrics today", metrics()),
    ("/metrics 7d by intent", metrics(D7, "intent")),
    ("metrics 7d by intent", metrics(D7, "intent")),
    ("/METRICS 7D BY Intent", metrics(D7, "intent")),
    ("  /metrics    7d   by   intent  ", metrics(D7, "intent")),
    ("/metrics by region 7d chart", metrics(D7, "region", chart=True)),
    ("/metrics chart 7d by region", metrics(D7, "region", chart=True)),
    ("/metrics 24h vs prev", metrics(TimeWindow.rolling(24, "h"), compare=True)),
    ("/metrics 30d vs previous chart", metrics(TimeWindow.rolling(30, "d"), compare=True, chart=True)),
    ("/metrics compare 14d", metrics(TimeWindow.rolling(14, "d"), compare=True)),
    ("/metrics 12h", metrics(TimeWindow.rolling(12, "h"))),
    ("/metrics 2w by lang", metrics(TimeWindow.rolling(2, "w"), "language")),
    ("/metrics last 7 days", metrics(D7)),
    ("/metrics past 7days by country", metrics(D7, "region")),
    ("/metrics by geo", metrics(group_by="region")),
    ("/metrics by market", metrics(group_by="marketplace")),
    ("/metrics by mp", metrics(group_by="marketplace")),
    ("/metrics by assignee", metrics(group_by="agent")),
    ("/metrics by source", metrics(group_by="channel")),
    ("/metrics per sku graph", metrics(group_by="sku", chart=True)),
    ("/metrics 2026-11-01..2026-11-15", metrics(TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)))),
    (
        "/metrics 2026-11-01 .. 2026-11-15 by intent",
        metrics(TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)), "intent"),
    ),
    ("/metrics 2026-11-01~2026-11-15", metrics(TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)))),
    ("/metrics 2026-11-03", metrics(TimeWindow.dates(date(2026, 11, 3), date(2026, 11, 3)))),
    ("/metrics frt 7d", metrics(D7, metric="first_response_time_mean")),
    ("/metrics 7d csat by channel", metrics(D7, "channel", metric="csat_mean")),
    ("/metrics backlog_over_3d by agent", metrics(group_by="agent", metric="backlog_over_3d")),
    ("指标 满意度 30天", metrics(TimeWindow.rolling(30, "d"), metric="csat_mean")),
    ("/kefu metrics 7d", metrics(D7)),
    # /metrics, Chinese
    ("/指标 近7天 按地区 环比 图表", metrics(D7, "region", compare=True, chart=True)),
    ("指标近7天按地区", metrics(D7, "region")),
    ("数据 今天 按渠道", metrics(TODAY, "channel")),
    ("指标 最近7天 按意图", metrics(D7, "intent")),
    ("指标 7天 按国家 对比", metrics(D7, "region", compare=True)),
    ("指标 30天 按客服", metrics(TimeWindow.rolling(30, "d"), "agent")),
    ("指标 24小时 按坐席 图", metrics(TimeWindow.rolling(24, "h"), "agent", chart=True)),
    ("指标 按语言", metrics(group_by="language")),
    ("指标 按平台", metrics(group_by="marketplace")),
    ("指标 按市场", metrics(group_by="marketplace")),
    ("指标 按商品", metrics(group_by="sku")),
    ("指标 按SKU", metrics(group_by="sku")),
    ("指标 按 地区 7 天", metrics(D7, "region")),
    ("指标 2周", metrics(TimeWindow.rolling(2, "w"))),
    ("/metrics yesterday vs prev", metrics(TimeWindow.yesterday(), compare=True)),
    ("指标昨天按渠道", metrics(TimeWindow.yesterday(), "channel")),
    ("指标，7天、按地区", metrics(D7, "region")),
    ("/metrics 7d, by region; chart", metrics(D7, "region", chart=True)),
    ("指标 2026-11-01至2026-11-15", metrics(TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)))),
    # full-width, mentions
    ("／metrics ７d", metrics(D7)),
    ("／ｍｅｔｒｉｃｓ　７ｄ　ｂｙ　ｒｅｇｉｏｎ", metrics(D7, "region")),
    ("／指标　近７天", metrics(D7)),
    ("@kefu /metrics 7d", metrics(D7)),
    ("@Kefu: metrics 7d", metrics(D7)),
    ("@客服 /metrics 7d", metrics(D7)),
    ("＠客服\u2005/指标 7天", metrics(D7)),
    ("<@U0BOT> /metrics 7d", metrics(D7)),
    # /sla, /alerts
    ("/sla", SlaCommand()),
    ("@客服 sla", SlaCommand()),
    ("/alerts", AlertsListCommand()),
    ("/alerts list", AlertsListCommand()),
    ("告警", AlertsListCommand()),
    (
        "/alerts silence first_response_slow 2h",
        AlertsSilenceCommand("first_response_slow", {}, timedelta(hours=2), None),
    ),
    (
        "/alerts silence frt channel=slack region=DE 1h30m Black Friday peak",
        AlertsSilenceCommand("frt", {"channel": "slack", "region": "DE"}, timedelta(minutes=90), "Black Friday peak"),
    ),
    (
        "/alerts silence frt country=DE sev=1 lang = de 1d",
        AlertsSilenceCommand("frt", {"region": "DE", "severity": "1", "language": "de"}, timedelta(days=1), None),
    ),
    (
        '/alerts silence frt 30m "deploy in progress"',
        AlertsSilenceCommand("frt", {}, timedelta(minutes=30), "deploy in progress"),
    ),
    ("/silence frt 2h", AlertsSilenceCommand("frt", {}, timedelta(hours=2), None)),
    (  # every label a rule can group by can be silenced
        "/alerts silence refund_spike sku=A-123 kind=complaint 2h recall",
        AlertsSilenceCommand("refund_spike", {"sku": "A-123", "kind": "complaint"}, timedelta(hours=2), "recall"),
    ),
    ("告警 静默 frt 2小时 大促期间", AlertsSilenceCommand("frt", {}, timedelta(hours=2), "大促期间")),
    ("告警 静默 frt 渠道=微信 30分钟", AlertsSilenceCommand("frt", {"channel": "微信"}, timedelta(minutes=30), None)),
    ("/alerts unsilence 12", AlertsUnsilenceCommand(12)),
    ("/alerts unsilence #12", AlertsUnsilenceCommand(12)),
    ("告警 取消静默 12", AlertsUnsilenceCommand(12)),
    ("告警 取消 静默 12", AlertsUnsilenceCommand(12)),
    ("/unsilence 7", AlertsUnsilenceCommand(7)),
    # /ticket, /agent
    ("/ticket 1042", TicketCommand(1042)),
    ("/ticket #1042", TicketCommand(1042)),
    ("工单 1042", TicketCommand(1042)),
    ("工单1042", TicketCommand(1042)),
    ("/agent", AgentCommand(None, D7)),
    ("/agent me 30d", AgentCommand(None, TimeWindow.rolling(30, "d"))),
    ("/agent @alice", AgentCommand("alice", D7)),
    ("/agent 30d @alice", AgentCommand("alice", TimeWindow.rolling(30, "d"))),
    ("/agent <@U123ABC|alice> 14d", AgentCommand("U123ABC", TimeWindow.rolling(14, "d"))),
    ("/客服", AgentCommand(None, D7)),
    ("@客服 客服 @张三 30天", AgentCommand("张三", TimeWindow.rolling(30, "d"))),
    ("@客服 客服@张三", AgentCommand("张三", D7)),
    ("坐席 我 近7天", AgentCommand(None, D7)),
    # help
    ("/kefu help", HelpCommand(None)),
    ("/kefu", HelpCommand(None)),
    ("@kefu", HelpCommand(None)),
    ("@客服", HelpCommand(None)),
    ("", HelpCommand(None)),
    ("help", HelpCommand(None)),
    ("帮助", HelpCommand(None)),
    ("/kefu help metrics", HelpCommand("metrics")),
    ("/kefu help 指标", HelpCommand("metrics")),
    ("/kefu 帮助 告警", HelpCommand("alerts")),
    ("/metrics help", HelpCommand("metrics")),
    ("/ticket ?", HelpCommand("ticket")),
    ("/kefu help silence", HelpCommand("alerts")),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[text or "<empty>" for text, _ in GOOD])
def test_good_input_parses_to_the_typed_command(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(("_text", "command"), GOOD, ids=[text or "<empty>" for text, _ in GOOD])
def test_canonical_form_parses_back_to_the_same_command(_text: str, command: ParsedCommand) -> None:
    assert parse_command(command.canonical()) == command


def test_canonical_form_reads_as_english() -> None:
    command = parse_command("@客服 /指标 近7天 按地区 环比 图表")
    assert command.canonical() == "/metrics 7d by region vs prev chart"


def test_reason_and_names_keep_their_case_and_spacing() -> None:
    command = parse_command("/alerts silence FRT_Slow   2h  Waiting for  DHL  ")
    assert isinstance(command, AlertsSilenceCommand)
    assert (command.rule, command.reason) == ("FRT_Slow", "Waiting for  DHL")
    assert parse_command("/agent @Alice.Wong") == AgentCommand("Alice.Wong", D7)


def test_custom_bot_names_and_metric_aliases() -> None:
    assert parse_command("@helpdesk /metrics 7d", bot_names=("helpdesk",)) == metrics(D7)
    with pytest.raises(CommandError):
        parse_command("@kefu /metrics 7d", bot_names=("helpdesk",))
    assert parse_command("/metrics 复购率 7d", metric_aliases={"复购率": "repeat_rate"}) == metrics(
        D7, metric="repeat_rate"
    )
    with pytest.raises(CommandError, match='Unknown word "csat"'):
        parse_command("/metrics csat", metric_aliases={"复购率": "repeat_rate"})


def test_every_default_metric_alias_names_a_defined_metric() -> None:
    from bot.metrics import METRICS

    assert set(DEFAULT_METRIC_ALIASES.values()) <= set(METRICS)
    assert set(METRICS) <= set(DEFAULT_METRIC_ALIASES)


def error_of(text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    return caught.value


BAD = [
    # text, the word the error must name, the suggestion (or None), the command whose usage is shown
    ("/metircs 7d", "metircs", "/metrics", None),
    ("/alertz", "alertz", "/alerts", None),
    ("/tickte 12", "tickte", "/ticket", None),
    ("/foo", "foo", None, None),
    ("7d", "7d", "/metrics 7d", None),
    ("/metrics by regoin", "regoin", "region", "metrics"),
    ("/metrics by langauge", "langauge", "language", "metrics"),
    ("/metrics 7dys", "7dys", "7d", "metrics"),
    ("/metrics 3months", "3months", "90d", "metrics"),
    ("/metrics todya", "todya", "today", "metrics"),
    ("/metrics yesterdya", "yesterdya", "yesterday", "metrics"),
    ("/metrics chrat", "chrat", "chart", "metrics"),
    ("/metrics region", "region", "by region", "metrics"),
    ("/metrics 7d prev", "prev", "vs prev", "metrics"),
    ("/metrics vs last", "vs last", "vs prev", "metrics"),
    ("/metrics 0d", "0d", None, "metrics"),
    ("/metrics 401d", "401d", None, "metrics"),
    ("/metrics 2026-02-30", "2026-02-30", None, "metrics"),
    ("/metrics 2026-11-15..2026-11-01", "2026-11-15..2026-11-01", None, "metrics"),
    ("/metrics 2026-11-01..tomorrow", "2026-11-01..tomorrow", None, "metrics"),
    ("/metrics 1900-01-01", "1900-01-01", None, "metrics"),
    ("/sla now", "now", None, "sla"),
    ("/alerts silnce frt 2h", "silnce", "silence", "alerts"),
    ("/alerts silence frt chanel=slack 2h", "chanel", "channel", "alerts"),
    ("/alerts silence frt severity=5 2h", "severity=5", None, "alerts"),
    ("/alerts silence frt channel= 2h", "channel=2h", None, "alerts"),
    ("/alerts silence frt 2 hours-ish", "2", None, "alerts"),
    ("/alerts silence frt soon", "soon", None, "alerts"),
    ("/alerts silence frt 31d", "31d", None, "alerts"),
    ("/alerts silence frt 0m", "0m", None, "alerts"),
    ("/alerts silence 2h", "2h", None, "alerts"),
    ("/alerts silence channel=slack 2h", "channel=slack", None, "alerts"),
    ("/alerts unsilence twelve", "twelve", None, "alerts"),
    ("/alerts unsilence 12 13", "13", None, "alerts"),
    ("/ticket abc", "abc", None, "ticket"),
    ("/ticket 0", "0", None, "ticket"),
    ("/ticket 12 34", "34", None, "ticket"),
    ("/agent alice", "alice", "@alice", "agent"),
    ("/agent todya", "todya", "today", "agent"),
    ("/kefu help metircs", "metircs", "metrics", "help"),
]


@pytest.mark.parametrize(("text", "word", "suggestion", "command"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_word_suggests_and_shows_usage(
    text: str, word: str, suggestion: str | None, command: str | None
) -> None:
    error = error_of(text)
    answer = str(error)
    assert f'"{word}"' in answer
    assert error.word == word
    if suggestion is None:
        assert "Did you mean" not in answer
    else:
        assert f'Did you mean "{suggestion}"?' in answer
        assert error.suggestion == suggestion
    usage = usage_line(command) if command else OVERVIEW_USAGE
    assert answer.endswith(f"\nUsage: {usage}")
    assert "Traceback" not in answer and "Error(" not in answer


AMBIGUOUS = [
    ("/metrics 7d 30d", ['"7d"', '"30d"']),
    ("/metrics today 2026-11-01..2026-11-02", ['"today"', '"2026-11-01..2026-11-02"']),
    ("指标 7天 30天", ['"7天"', '"30天"']),
    ("/metrics by region by intent", ['"by region"', '"by intent"']),
    ("/metrics 按地区 by intent", ['"按 地区"', '"by intent"']),
    ("/metrics vs prev compare", ['"vs prev"', '"compare"']),
    ("/metrics chart 图表", ['"chart"', '"图表"']),
    ("/agent @alice @bob", ['"@alice"', '"@bob"']),
    ("/agent me @bob", ['"me"', '"@bob"']),
    ("/alerts silence frt channel=slack source=web 2h", ['"channel=slack"', '"source=web"']),
]


@pytest.mark.parametrize(("text", "named"), AMBIGUOUS, ids=[a[0] for a in AMBIGUOUS])
def test_a_duplicate_option_is_an_error_naming_both(text: str, named: list[str]) -> None:
    answer = str(error_of(text))
    for word in named:
        assert word in answer


@pytest.mark.parametrize(
    ("text", "expected_hint"),
    [
        ("/metrics by", "needs a dimension"),
        ("/metrics 7d 按", "needs a dimension"),
        ("/metrics vs", '"vs prev"'),
        ("/ticket", "needs a ticket ID"),
        ("/alerts silence", "needs the RULE"),
        ("/alerts silence frt", "Missing DURATION"),
        ("/alerts silence frt channel=slack", "Missing DURATION"),
        ("/alerts unsilence", "needs the ID"),
    ],
)
def test_missing_arguments_say_what_is_missing(text: str, expected_hint: str) -> None:
    error = error_of(text)
    assert expected_hint in str(error)
    assert error.usage in str(error)


def test_the_bot_mention_is_not_the_agent_command() -> None:
    # "@客服" first is the bot; "客服" without "@" is the scorecard; "@客服 7d" is not a command at all.
    assert parse_command("@客服 客服") == AgentCommand(None, D7)
    assert isinstance(parse_command("@客服"), HelpCommand)
    error = error_of("@客服 7天")
    assert 'Did you mean "/metrics 7天"?' in str(error)


def test_overlong_reason_and_command_are_refused_plainly() -> None:
    assert "at most 1000" in str(error_of("/alerts silence frt 2h " + "x" * 1001))
    assert "at most 2000" in str(error_of("/metrics " + "7d " * 700))


def test_invocation_keeps_the_parsed_command_or_the_error_for_the_audit_log() -> None:
    good = CommandInvocation.parse("@客服 指标 7天 按地区")
    assert good.ok and good.error is None
    assert good.audit_details() == {
        "text": "@客服 指标 7天 按地区",
        "command": "metrics",
        "canonical": "/metrics 7d by region",
        "error": None,
    }
    bad = CommandInvocation.parse("/metircs")
    assert not bad.ok and bad.command_name is None
    assert bad.error is not None and 'Did you mean "/metrics"?' in bad.error
    assert bad.audit_details()["error"] == bad.error


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_raises_nothing_but_command_error(text: str) -> None:
    try:
        parse_command(text)
    except CommandError as error:
        assert str(error).strip()


VOCABULARY = [
    "/",
    "metrics",
    "指标",
    "sla",
    "alerts",
    "告警",
    "silence",
    "静默",
    "取消静默",
    "unsilence",
    "ticket",
    "工单",
    "agent",
    "客服",
    "help",
    "帮助",
    "kefu",
    "@kefu",
    "@客服",
    "by",
    "按",
    "region",
    "地区",
    "vs",
    "prev",
    "compare",
    "chart",
    "7d",
    "7天",
    "近7天",
    "0d",
    "500d",
    "today",
    "2026-11-01..2026-11-15",
    "2026-13-01",
    "=",
    "channel=slack",
    "sev=9",
    "2h",
    "1h30m",
    "31d",
    "#12",
    "12",
    "0",
    "@",
    "@alice",
    "<@U1|a>",
    "me",
    "..",
    "~",
    "至",
    "?",
    "ｍｅｔｒｉｃｓ",
    "\u3000",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=8), st.sampled_from([" ", "", "  ", "\u3000"]))
def test_sequences_of_command_words_raise_nothing_but_command_error(words: list[str], separator: str) -> None:
    try:
        command = parse_command(separator.join(words))
    except CommandError as error:
        assert str(error).strip()
    else:
        assert parse_command(command.canonical()) == command


WINDOW_WORDS = {
    "7d": D7,
    "近7天": D7,
    "today": TODAY,
    "今天": TODAY,
    "24小时": TimeWindow.rolling(24, "h"),
    "2w": TimeWindow.rolling(2, "w"),
    "2026-11-01..2026-11-15": TimeWindow.dates(date(2026, 11, 1), date(2026, 11, 15)),
}
BY_WORDS = {
    "by region": "region",
    "按地区": "region",
    "by lang": "language",
    "按 意图": "intent",
    "per mp": "marketplace",
}
COMPARE = ["vs prev", "vs previous", "compare", "环比", "对比"]
CHART = ["chart", "图表", "graph"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["/metrics", "metrics", "指标", "@客服 /数据", "@kefu metrics", "/kefu metrics"]),
    st.one_of(st.none(), st.sampled_from(sorted(WINDOW_WORDS))),
    st.one_of(st.none(), st.sampled_from(sorted(BY_WORDS))),
    st.one_of(st.none(), st.sampled_from(COMPARE)),
    st.one_of(st.none(), st.sampled_from(CHART)),
    st.randoms(use_true_random=False),
)
def test_metrics_options_in_any_order_and_language_mean_the_same(
    head: str, window: str | None, by: str | None, compare: str | None, chart: str | None, rng: random.Random
) -> None:
    options = [o for o in (window, by, compare, chart) if o is not None]
    rng.shuffle(options)
    command = parse_command(" ".join([head, *options]))
    assert command == metrics(
        WINDOW_WORDS[window] if window else TODAY,
        BY_WORDS[by] if by else None,
        compare=compare is not None,
        chart=chart is not None,
    )
