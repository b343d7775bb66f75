"""`parse_command`: one parser for manager commands from every platform, text in, typed command out.

What it accepts, before the grammar of each command (see help_texts for that):
- a leading "/" or none ("/metrics 7d", "metrics 7d"), and "/kefu CMD …" as a namespace ("/kefu help");
- bot mentions first ("@kefu", "@客服", Slack's "<@U123>"), which DingTalk and WeCom put before the command;
  "@客服" with the "@" is the bot, "客服" without it is the agent scorecard command;
- any case, extra spaces, full-width characters (NFKC: "／metrics ７d"), Chinese words with or without spaces
  ("/指标 近7天 按地区", "指标近7天按地区"), "7 days" as "7days";
- "CMD help" as help on that command.

Anything else raises `CommandError`, whose str() names the bad word, suggests a close word ("did you mean …?")
and gives the usage line. An empty command (or a bare mention) is a request for help.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from handlers.commands.customers import CJK_WORDS as CUSTOMER_CJK_WORDS
from handlers.commands.customers import parse_customer
from handlers.commands.errors import CommandError
from handlers.commands.help_texts import OVERVIEW_USAGE, usage_line
from handlers.commands.parsed import (
    AgentCommand,
    AlertsListCommand,
    AlertsSilenceCommand,
    AlertsUnsilenceCommand,
    AssignCommand,
    HelpCommand,
    MetricsCommand,
    ParsedCommand,
    QueueCommand,
    ResolveCommand,
    ShiftCommand,
    SlaCommand,
    TicketCommand,
)
from handlers.commands.returns import CJK_WORDS as RETURNS_CJK_WORDS
from handlers.commands.returns import parse_request, parse_returns
from handlers.commands.time_windows import (
    DATE_RANGE_SPACING_RE,
    MAX_SILENCE,
    UNIT_WORDS,
    TimeWindow,
    TimeWindowError,
    parse_duration,
    parse_window_word,
)
from handlers.commands.vocabulary import (
    ALERT_SUBCOMMANDS,
    BY_WORDS,
    CHART_WORDS,
    COMMAND_ALIASES,
    COMPARE_WORDS,
    DEFAULT_BOT_NAMES,
    DEFAULT_METRIC_ALIASES,
    DIMENSION_ALIASES,
    DIMENSIONS,
    HELP_TOPICS,
    HELP_WORDS,
    MATCHER_LABEL_ALIASES,
    MATCHER_LABELS,
    NAMESPACE_WORDS,
    PREVIOUS_WORDS,
    SELF_WORDS,
    SHIFT_ACTIONS,
    VS_WORDS,
    WINDOW_EXAMPLES,
    WINDOW_FILLER_WORDS,
)
from handlers.phrases import Phrase, say

MAX_COMMAND_LENGTH: Final[int] = 2000
MAX_REASON_LENGTH: Final[int] = 1000
MAX_NAME_LENGTH: Final[int] = 128

# Words are separated by spaces and by the commas people type between options ("指标，7天、按地区").
_WORD_RE: Final = re.compile(r"[^\s,、;]+")
_INVISIBLE_RE: Final = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CJK_RE: Final = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_WINDOW_RE: Final = re.compile(r"(?:最近|近|过去)?[0-9]{1,6}(?:个小时|小时|钟头|天|日|个星期|星期|周)")
_ASCII_RUN_RE: Final = re.compile(r"[A-Za-z0-9_#.\-]+")
_ID_RE: Final = re.compile(r"#?([0-9]{1,18})")
_SLACK_MENTION_RE: Final = re.compile(r"<@([A-Za-z0-9_.\-]+)(?:\|[^>]*)?>")
_RULE_RE: Final = re.compile(r"[\w.:/\-]{1,128}")
_REASON_QUOTES: Final[str] = "\"'“”‘’「」『』"

_TOP_WORDS: Final[frozenset[str]] = frozenset({"今天", "今日", "昨天", "昨日", "取消"})
# The dimensions as a Chinese error lists them: "意图（intent）、渠道（channel）…".
_DIMENSIONS_ZH: Final[str] = "、".join(
    f"{next((a for a, d in DIMENSION_ALIASES.items() if d == name and not a.isascii()), name)}（{name}）"
    for name in DIMENSIONS
)


@dataclass(frozen=True)
class _Word:
    text: str  # as typed, after NFKC (case kept: names, rules and reasons keep theirs)
    start: int  # offsets in the normalised text
    end: int

    @property
    def key(self) -> str:
        return self.text.casefold()


def parse_command(
    text: str,
    *,
    bot_names: Sequence[str] = DEFAULT_BOT_NAMES,
    metric_aliases: Mapping[str, str] | None = None,
) -> ParsedCommand:
    """The typed command `text` asks for; raises CommandError (and nothing else) for anything it cannot parse.

    `bot_names` are the mentions stripped from the start ("@kefu"); `metric_aliases` maps the metric words
    /metrics accepts (casefolded) to metric names, by default `vocabulary.DEFAULT_METRIC_ALIASES`.
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(say("command.too_long", length=len(text), limit=MAX_COMMAND_LENGTH), OVERVIEW_USAGE)
    source = normalise(text)
    source = _strip_mentions(source, bot_names)
    aliases = {k.casefold(): v for k, v in (metric_aliases or DEFAULT_METRIC_ALIASES).items()}
    words = _without_slash(tokenise(source, extra_vocabulary=aliases))
    if words and words[0].key in NAMESPACE_WORDS:
        words = _without_slash(words[1:])
    if not words:
        return HelpCommand(None)
    head, args = words[0], words[1:]
    command = COMMAND_ALIASES.get(head.key)
    if command is None:
        raise _unknown_command(head)
    if command != "help" and args and args[0].key in HELP_WORDS:
        topic = {"silence": "alerts", "unsilence": "alerts"}.get(command, command)
        if len(args) > 1:
            raise _unexpected(args[1], usage_line("help"), after=f"{head.text} {args[0].text}")
        return HelpCommand(topic)
    if command == "metrics":
        return _parse_metrics(args, aliases)
    if command == "sla":
        if args:
            raise _unexpected(args[0], usage_line("sla"), after="/sla",
                              note=say("command.takes_nothing", command="/sla"))
        return SlaCommand()
    if command == "alerts":
        return _parse_alerts(head, args, source)
    if command == "silence":
        return _parse_silence(head, args, source)
    if command == "unsilence":
        return _parse_unsilence(head, args)
    if command == "ticket":
        return _parse_ticket(head, args)
    if command == "agent":
        return _parse_agent(args)
    if command == "assign":
        return _parse_assign(head, args)
    if command == "resolve":
        return _parse_resolve(head, args, source)
    if command == "queue":
        return _parse_queue(args)
    if command == "shift":
        return _parse_shift(args)
    if command == "returns":
        return parse_returns(head, args, source)
    if command == "request":
        return parse_request(head, args, source)
    if command == "customer":
        return parse_customer(head, args, source)
    return _parse_help(head, args)


# -- normalising and splitting --------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII, ideographic space to space), no invisible characters, date ranges joined."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    return DATE_RANGE_SPACING_RE.sub(r"\1..\3", text)


def _strip_mentions(text: str, bot_names: Sequence[str]) -> str:
    names = "|".join(re.escape(unicodedata.normalize("NFKC", n)) for n in bot_names if n)
    pattern = re.compile(
        rf"\s*(?:@(?:{names})(?=$|[\s,:;/!?])|<@[^>\s]*>)[\s,:;]*" if names else r"\s*<@[^>\s]*>[\s,:;]*",
        re.IGNORECASE,
    )
    position = 0
    while True:
        match = pattern.match(text, position)
        if not match or match.end() == position:
            break
        position = match.end()
    # Keep offsets meaningful: blank the mentions out instead of cutting them.
    return " " * position + text[position:]


def tokenise(source: str, extra_vocabulary: Iterable[str] = ()) -> list[_Word]:
    """Words separated by spaces or commas; Chinese runs split into known words; "7 days" joined into "7days"."""
    vocabulary = _cjk_vocabulary(extra_vocabulary)
    words: list[_Word] = []
    for match in _WORD_RE.finditer(source):
        word = _Word(match.group(), match.start(), match.end())
        if _CJK_RE.search(word.text) and not word.text.startswith("@"):
            words.extend(_segment(word, vocabulary) or [word])
        else:
            words.append(word)
    joined: list[_Word] = []
    for word in words:
        previous = joined[-1] if joined else None
        if previous and re.fullmatch(r"[0-9]{1,6}", previous.text) and word.key in UNIT_WORDS:
            joined[-1] = _Word(previous.text + word.text, previous.start, word.end)
        else:
            joined.append(word)
    return joined


def _cjk_vocabulary(extra: Iterable[str]) -> tuple[str, ...]:
    tables: list[Iterable[str]] = [
        COMMAND_ALIASES,
        DIMENSION_ALIASES,
        BY_WORDS,
        COMPARE_WORDS,
        CHART_WORDS,
        WINDOW_FILLER_WORDS,
        SELF_WORDS,
        ALERT_SUBCOMMANDS,
        MATCHER_LABEL_ALIASES,
        HELP_WORDS,
        SHIFT_ACTIONS,
        _TOP_WORDS,
        RETURNS_CJK_WORDS,
        CUSTOMER_CJK_WORDS,
        extra,
    ]
    words = {w for table in tables for w in table if _CJK_RE.search(w)}
    return tuple(sorted(words, key=len, reverse=True))


def _segment(word: _Word, vocabulary: Sequence[str]) -> list[_Word] | None:
    """Split a word with Chinese characters into known words ("指标近7天按地区"); None when it does not split."""
    pieces: list[_Word] = []
    text, i = word.text, 0
    while i < len(text):
        if text[i] == "@":
            length = len(text) - i
        else:
            length = 0
            window = _CJK_WINDOW_RE.match(text, i)
            if window:
                length = window.end() - i
            for known in vocabulary:
                if len(known) > length and text[i : i + len(known)].casefold() == known:
                    length = len(known)
                    break
            run = _ASCII_RUN_RE.match(text, i)
            if run and run.end() - i > length:
                length = run.end() - i
        if length == 0:
            return None
        pieces.append(_Word(text[i : i + length], word.start + i, word.start + i + length))
        i += length
    return pieces if len(pieces) > 1 else None


def _without_slash(words: list[_Word]) -> list[_Word]:
    """The words with the command's leading "/" removed ("/metrics" and "/ metrics" alike)."""
    if not words or not words[0].text.startswith("/"):
        return words
    stripped = words[0].text.lstrip("/")
    if not stripped:
        return words[1:]
    return [_Word(stripped, words[0].end - len(stripped), words[0].end), *words[1:]]


# -- errors -----------------------------------------------------------------------------------------------------


def _did_you_mean(word: str, vocabulary: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word.casefold(), sorted(set(vocabulary)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _with_hint(message: Phrase, suggestion: str | None) -> Phrase:
    return say("hint.did_you_mean", message=message, suggestion=suggestion) if suggestion else message


def _unknown_command(head: _Word) -> CommandError:
    suggestion = _did_you_mean(head.key, [*COMMAND_ALIASES, *NAMESPACE_WORDS])
    if suggestion is not None:
        # English aliases ("alert") are suggested by their command's name ("/alerts"); Chinese ones as they are.
        suggestion = f"/{COMMAND_ALIASES.get(suggestion, suggestion) if suggestion.isascii() else suggestion}"
    else:
        try:
            if parse_window_word(head.text) is not None:
                suggestion = f"/metrics {head.text}"
        except TimeWindowError:
            pass
    message = _with_hint(say("command.unknown", word=head.text), suggestion)
    return CommandError(
        say("command.unknown.more", message=message), OVERVIEW_USAGE, word=head.text, suggestion=suggestion
    )


def _unexpected(word: _Word, usage: str, *, after: str, note: Phrase | None = None) -> CommandError:
    message = say("command.unexpected", word=word.text, after=after)
    if note is not None:
        message = say("hint.note", message=message, note=note)
    return CommandError(message, usage, word=word.text)


def _window_error(error: TimeWindowError, usage: str) -> CommandError:
    return CommandError(error.phrase or error.message, usage, word=error.word, suggestion=error.suggestion)


def _window(word: _Word, usage: str) -> TimeWindow | None:
    try:
        return parse_window_word(word.text)
    except TimeWindowError as error:
        raise _window_error(error, usage) from None


def _is_window_ahead(args: Sequence[_Word], index: int) -> bool:
    """Whether args[index] is a rolling window word (so a filler word before it, "last 7d", can be skipped)."""
    if index >= len(args):
        return False
    try:
        window = parse_window_word(args[index].text)
    except TimeWindowError:
        return False
    return window is not None and window.kind == "rolling"


def _once(seen: dict[str, str], option: str, typed: str, usage: str, what: Phrase) -> None:
    if option in seen:
        raise CommandError(say("command.twice", what=what, first=seen[option], second=typed), usage, word=typed)
    seen[option] = typed


# -- the commands -------------------------------------------------------------------------------------------------


def _parse_metrics(args: Sequence[_Word], metric_aliases: Mapping[str, str]) -> MetricsCommand:
    usage = usage_line("metrics")
    seen: dict[str, str] = {}
    window: TimeWindow | None = None
    group_by: str | None = None
    compare = chart = False
    metric: str | None = None
    i = 0
    while i < len(args):
        word, key = args[i], args[i].key
        following = args[i + 1] if i + 1 < len(args) else None
        if key in BY_WORDS:
            if following is None:
                raise CommandError(say("metrics.needs_dimension", word=word.text, dimensions=", ".join(DIMENSIONS),
                                       dimensions_zh=_DIMENSIONS_ZH), usage, word=word.text)
            dimension = DIMENSION_ALIASES.get(following.key)
            if dimension is None:
                suggestion = _did_you_mean(following.key, DIMENSION_ALIASES)
                message = _with_hint(say("metrics.unknown_dimension", word=following.text, by=word.text), suggestion)
                raise CommandError(
                    say("metrics.dimensions", message=message, dimensions=", ".join(DIMENSIONS),
                        dimensions_zh=_DIMENSIONS_ZH),
                    usage, word=following.text, suggestion=suggestion,
                )
            _once(seen, "by", f"{word.text} {following.text}", usage, say("option.breakdown"))
            group_by = dimension
            i += 2
            continue
        if key in VS_WORDS:
            if following is None or following.key not in PREVIOUS_WORDS:
                typed = f"{word.text} {following.text}" if following else word.text
                raise CommandError(say("metrics.not_comparison", typed=typed), usage, word=typed,
                                   suggestion="vs prev")
            _once(seen, "compare", f"{word.text} {following.text}", usage, say("option.comparison"))
            compare = True
            i += 2
            continue
        if key in COMPARE_WORDS:
            _once(seen, "compare", word.text, usage, say("option.comparison"))
            compare = True
        elif key in CHART_WORDS:
            _once(seen, "chart", word.text, usage, say("option.chart"))
            chart = True
        elif key in WINDOW_FILLER_WORDS and _is_window_ahead(args, i + 1):
            pass
        elif (parsed_window := _window(word, usage)) is not None:
            _once(seen, "window", word.text, usage, say("option.window"))
            window = parsed_window
        elif key in metric_aliases:
            _once(seen, "metric", word.text, usage, say("option.metric"))
            metric = metric_aliases[key]
        else:
            raise _unknown_metrics_word(word, metric_aliases, usage)
        i += 1
    return MetricsCommand(
        window=window or TimeWindow.today(), group_by=group_by, compare_previous=compare, chart=chart, metric=metric
    )


def _unknown_metrics_word(word: _Word, metric_aliases: Mapping[str, str], usage: str) -> CommandError:
    key = word.key
    if key in DIMENSION_ALIASES:
        suggestion: str | None = f"by {key}"
    elif key in PREVIOUS_WORDS:
        suggestion = "vs prev"
    else:
        vocabulary = [*WINDOW_EXAMPLES, "by", "vs", "prev", "previous", *COMPARE_WORDS, *CHART_WORDS, *metric_aliases]
        suggestion = _did_you_mean(key, vocabulary)
        if suggestion is None:
            dimension = _did_you_mean(key, DIMENSION_ALIASES)
            suggestion = f"by {dimension}" if dimension else None
    message = _with_hint(say("command.unknown_word", word=word.text, command="/metrics"), suggestion)
    return CommandError(message, usage, word=word.text, suggestion=suggestion)


def _parse_alerts(head: _Word, args: Sequence[_Word], source: str) -> ParsedCommand:
    usage = usage_line("alerts")
    if not args:
        return AlertsListCommand()
    sub_word, rest = args[0], args[1:]
    if sub_word.key == "取消" and rest and rest[0].key == "静默":
        sub_word, rest = _Word(sub_word.text + rest[0].text, sub_word.start, rest[0].end), rest[1:]
    subcommand = ALERT_SUBCOMMANDS.get(sub_word.key)
    if subcommand is None:
        suggestion = _did_you_mean(sub_word.key, ALERT_SUBCOMMANDS)
        message = _with_hint(say("command.unknown_word_after", word=sub_word.text, after=head.text), suggestion)
        raise CommandError(message, usage, word=sub_word.text, suggestion=suggestion)
    if subcommand == "list":
        if rest:
            raise _unexpected(rest[0], usage, after=f"{head.text} {sub_word.text}")
        return AlertsListCommand()
    if subcommand == "silence":
        return _parse_silence(sub_word, rest, source)
    return _parse_unsilence(sub_word, rest)


def _parse_silence(head: _Word, args: Sequence[_Word], source: str) -> ParsedCommand:
    usage = usage_line("alerts")
    args = _join_equals(args)
    if args and args[0].key in HELP_WORDS and len(args) == 1:
        return HelpCommand("alerts")
    if not args:
        raise CommandError(
            say("silence.needs_rule", head=head.text, example="/alerts silence first_response_slow 2h"), usage
        )
    rule_word = args[0]
    if parse_duration(rule_word.text) is not None:
        raise CommandError(say("silence.rule_is_duration", word=rule_word.text), usage, word=rule_word.text)
    if "=" in rule_word.text:
        raise CommandError(say("silence.rule_is_label", word=rule_word.text, head=head.text), usage,
                           word=rule_word.text)
    if not _RULE_RE.fullmatch(rule_word.text):
        raise CommandError(say("silence.not_a_rule", word=rule_word.text), usage, word=rule_word.text)
    matchers: dict[str, str] = {}
    typed_labels: dict[str, str] = {}
    i = 1
    while i < len(args) and "=" in args[i].text:
        label, value = _matcher(args[i], usage)
        if label in matchers:
            raise CommandError(say("silence.label_twice", label=label, first=typed_labels[label], second=args[i].text),
                               usage, word=args[i].text)
        matchers[label], typed_labels[label] = value, args[i].text
        i += 1
    if i >= len(args):
        last = args[i - 1] if i > 1 else None
        if last is not None and parse_duration(last.text.partition("=")[2]) is not None:
            raise CommandError(say("silence.label_value_not_duration", word=last.text,
                                   value=last.text.partition("=")[2]), usage, word=last.text)
        raise CommandError(say("silence.needs_duration", rule=rule_word.text), usage)
    duration_word = args[i]
    duration = parse_duration(duration_word.text)
    if duration is None:
        raise CommandError(say("silence.not_a_duration", word=duration_word.text), usage, word=duration_word.text)
    if duration <= timedelta(0):
        raise CommandError(say("silence.too_short", word=duration_word.text), usage, word=duration_word.text)
    if duration > MAX_SILENCE:
        raise CommandError(say("silence.too_long", word=duration_word.text), usage, word=duration_word.text)
    reason: str | None = None
    if i + 1 < len(args):
        reason = source[args[i + 1].start :].strip().strip(_REASON_QUOTES).strip() or None
        if reason is not None and len(reason) > MAX_REASON_LENGTH:
            raise CommandError(say("command.text_too_long", what=say("noun.reason"), length=len(reason),
                                   limit=MAX_REASON_LENGTH), usage)
    return AlertsSilenceCommand(rule=rule_word.text, matchers=matchers, duration=duration, reason=reason)


def _join_equals(args: Sequence[_Word]) -> list[_Word]:
    """Join "channel = slack", "channel= slack" and "channel =slack" into one word "channel=slack"."""
    joined: list[_Word] = []
    for word in args:
        previous = joined[-1] if joined else None
        if previous is not None and (previous.text.endswith("=") or word.text.startswith("=")):
            joined[-1] = _Word(previous.text + word.text, previous.start, word.end)
        else:
            joined.append(word)
    return joined


def _matcher(word: _Word, usage: str) -> tuple[str, str]:
    typed_label, _, value = word.text.partition("=")
    label = MATCHER_LABEL_ALIASES.get(typed_label.casefold())
    if label is None:
        if typed_label.casefold() == "rule":
            raise CommandError(say("silence.rule_as_label", word=word.text), usage, word=word.text)
        suggestion = _did_you_mean(typed_label, MATCHER_LABEL_ALIASES)
        message = _with_hint(say("silence.unknown_label", label=typed_label, word=word.text), suggestion)
        raise CommandError(
            say("silence.labels", message=message, labels=", ".join(MATCHER_LABELS)), usage, word=typed_label,
            suggestion=suggestion,
        )
    value = value.strip(_REASON_QUOTES)
    if not value:
        raise CommandError(say("silence.no_value", word=word.text, label=typed_label), usage, word=word.text)
    if label == "severity" and value not in {"1", "2", "3"}:
        raise CommandError(say("silence.severity", word=word.text), usage, word=word.text)
    if len(value) > MAX_NAME_LENGTH:
        raise CommandError(say("silence.value_too_long", label=typed_label, limit=MAX_NAME_LENGTH), usage,
                           word=typed_label)
    return label, value


def _parse_unsilence(head: _Word, args: Sequence[_Word]) -> AlertsUnsilenceCommand:
    usage = usage_line("alerts")
    if not args:
        raise CommandError(say("command.needs_silence_id", head=head.text, example="/alerts unsilence 12"), usage)
    if len(args) > 1:
        raise _unexpected(args[1], usage, after=f"{head.text} {args[0].text}")
    return AlertsUnsilenceCommand(silence_id=_number(args[0], say("noun.silence_id"), usage, 12))


def _parse_ticket(head: _Word, args: Sequence[_Word]) -> TicketCommand:
    usage = usage_line("ticket")
    if not args:
        raise CommandError(say("command.needs_ticket", head=head.text, example="/ticket 1042"), usage)
    if len(args) > 1:
        raise _unexpected(args[1], usage, after=f"{head.text} {args[0].text}")
    return TicketCommand(ticket_id=_number(args[0], say("noun.ticket_id"), usage, 1042))


def _number(word: _Word, what: Phrase, usage: str, example: int) -> int:
    match = _ID_RE.fullmatch(word.text)
    if not match or int(match.group(1)) == 0:
        raise CommandError(say("command.not_a_number", what=what, example=example, word=word.text), usage,
                           word=word.text)
    return int(match.group(1))


def _parse_agent(args: Sequence[_Word]) -> AgentCommand:
    usage = usage_line("agent")
    seen: dict[str, str] = {}
    agent: str | None = None
    window: TimeWindow | None = None
    for i, word in enumerate(args):
        slack = _SLACK_MENTION_RE.fullmatch(word.text)
        if slack or word.text.startswith("@"):
            name = slack.group(1) if slack else word.text[1:].rstrip(",，:;")
            if not name or len(name) > MAX_NAME_LENGTH:
                raise CommandError(say("command.not_an_agent", word=word.text), usage, word=word.text)
            _once(seen, "agent", word.text, usage, say("option.agent"))
            agent = name
        elif word.key in SELF_WORDS:
            _once(seen, "agent", word.text, usage, say("option.agent"))
            agent = None
        elif word.key in WINDOW_FILLER_WORDS and _is_window_ahead(args, i + 1):
            continue
        elif (parsed_window := _window(word, usage)) is not None:
            _once(seen, "window", word.text, usage, say("option.window"))
            window = parsed_window
        else:
            suggestion = _did_you_mean(word.key, [*WINDOW_EXAMPLES, *SELF_WORDS])
            if suggestion is None and len(word.text) <= MAX_NAME_LENGTH:
                suggestion = f"@{word.text}"
            message = _with_hint(say("command.unknown_word", word=word.text, command="/agent"), suggestion)
            raise CommandError(message, usage, word=word.text, suggestion=suggestion)
    return AgentCommand(agent=agent, window=window or TimeWindow.rolling(7, "d"))


def _mentioned_agent(word: _Word, usage: str) -> str | None:
    """The agent an "@name" (or Slack's "<@U123>") word names; None when the word is no mention."""
    slack = _SLACK_MENTION_RE.fullmatch(word.text)
    if not slack and not word.text.startswith("@"):
        return None
    name = slack.group(1) if slack else word.text[1:].rstrip(",，:;")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise CommandError(say("command.not_an_agent", word=word.text), usage, word=word.text)
    return name


def _parse_assign(head: _Word, args: Sequence[_Word]) -> AssignCommand:
    usage = usage_line("assign")
    if not args:
        raise CommandError(say("command.needs_ticket_and_agent", head=head.text, example="/assign 1042 @mei"), usage)
    ticket_id = _number(args[0], say("noun.ticket_id"), usage, 1042)
    if len(args) > 2:
        raise _unexpected(args[2], usage, after=f"{head.text} {args[0].text} {args[1].text}")
    if len(args) == 1 or args[1].key in SELF_WORDS:
        return AssignCommand(ticket_id=ticket_id, agent=None)
    name = _mentioned_agent(args[1], usage)
    if name is None:
        if len(args[1].text) > MAX_NAME_LENGTH:
            raise CommandError(say("command.not_an_agent", word=f"{args[1].text[:40]}…"), usage)
        name = args[1].text
    return AssignCommand(ticket_id=ticket_id, agent=name)


_LANGUAGE_RE: Final = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")


def _parse_queue(args: Sequence[_Word]) -> QueueCommand:
    usage = usage_line("queue")
    if not args:
        return QueueCommand()
    if len(args) > 1:
        raise _unexpected(args[1], usage, after=f"/queue {args[0].text}", note=say("command.queue_one"))
    word = args[0]
    if len(word.text) > MAX_NAME_LENGTH or not re.fullmatch(r"[\w.\-]+", word.text):
        raise CommandError(say("command.queue_word", word=word.text), usage, word=word.text)
    if _LANGUAGE_RE.fullmatch(word.key):
        return QueueCommand(language=word.key)
    return QueueCommand(intent=word.text)


def _parse_shift(args: Sequence[_Word]) -> ShiftCommand:
    usage = usage_line("shift")
    seen: dict[str, str] = {}
    action, agent = "show", None
    for word in args:
        name = _mentioned_agent(word, usage)
        if name is not None:
            _once(seen, "agent", word.text, usage, say("option.agent"))
            agent = name
        elif word.key in SHIFT_ACTIONS:
            _once(seen, "action", word.text, usage, say("option.shift_action"))
            action = SHIFT_ACTIONS[word.key]
        elif word.key in SELF_WORDS:
            _once(seen, "agent", word.text, usage, say("option.agent"))
        else:
            suggestion = _did_you_mean(word.key, SHIFT_ACTIONS)
            message = _with_hint(say("command.unknown_word", word=word.text, command="/shift"), suggestion)
            raise CommandError(message, usage, word=word.text, suggestion=suggestion)
    if agent is not None and action == "show":
        raise CommandError(say("command.shift_what", agent=agent), usage)
    return ShiftCommand(action=action, agent=agent)


def _parse_help(head: _Word, args: Sequence[_Word]) -> HelpCommand:
    usage = usage_line("help")
    if not args:
        return HelpCommand(None)
    if len(args) > 1:
        raise _unexpected(args[1], usage, after=f"{head.text} {args[0].text}")
    topic = COMMAND_ALIASES.get(args[0].key)
    if topic is None and args[0].key in NAMESPACE_WORDS:
        return HelpCommand(None)
    if topic is None:
        suggestion = _did_you_mean(args[0].key, [*COMMAND_ALIASES, *HELP_TOPICS])
        message = _with_hint(say("command.no_help", topic=args[0].text), suggestion)
        raise CommandError(message, usage, word=args[0].text, suggestion=suggestion)
    topic = {"silence": "alerts", "unsilence": "alerts", "help": None}.get(topic, topic)
    return HelpCommand(topic)


def _parse_resolve(head: _Word, args: Sequence[_Word], source: str) -> ResolveCommand:
    usage = usage_line("resolve")
    if not args:
        raise CommandError(say("command.needs_ticket", head=head.text, example="/resolve 1042"), usage)
    ticket_id = _number(args[0], say("noun.ticket_id"), usage, 1042)
    note = source[args[1].start:].strip().strip(_REASON_QUOTES).strip() if len(args) > 1 else ""
    if len(note) > MAX_REASON_LENGTH:
        raise CommandError(say("command.text_too_long", what=say("noun.note"), length=len(note),
                               limit=MAX_REASON_LENGTH), usage)
    return ResolveCommand(ticket_id=ticket_id, note=note or None)
