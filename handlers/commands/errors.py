"""The user-facing error of manager commands: what was wrong, a suggestion, and the usage line.

`CommandError` is the only exception `parse_command` lets out; its `str()` is the whole answer a user sees in
English, so an adapter can post it as it is, and `text(language)` the same answer in the asker's language
(handlers.phrases). It never carries a stack trace or Python repr. Usage lines keep the English command words; in
Chinese each command also shows its Chinese aliases (`/metrics（/指标、/数据、/统计）`).
"""

from __future__ import annotations

import re
from typing import Final

from handlers.commands.vocabulary import COMMAND_ALIASES
from handlers.phrases import Phrase, language_of, phrase

# A command word in a usage line: "/metrics", "/alerts" (each of "a | b" alternatives), "/kefu help".
_USAGE_COMMAND_RE: Final = re.compile(r"(?<![\w/])/(?:kefu )?([a-z]+)")


class CommandError(ValueError):
    """A command that could not be understood: `message` says what was wrong, `usage` how to write it.

    `message` and `usage` are a `Phrase` where kefu has the words in every language (plain text otherwise).
    `word` is the offending word as the user typed it (None when nothing specific was wrong, e.g. a missing
    argument) and `suggestion` the "did you mean" candidate, if any (already part of `message`).
    """

    def __init__(self, message: str | Phrase, usage: str | Phrase, *, word: str | None = None,
                 suggestion: str | None = None) -> None:
        super().__init__(str(message))
        self.phrase = message if isinstance(message, Phrase) else None
        self.message = str(message)
        self.usage_phrase = usage if isinstance(usage, Phrase) else None
        self.usage = str(usage)
        self.word = word
        self.suggestion = suggestion

    def text(self, language: str | None = "en") -> str:
        """The whole answer in `language` ("en" or "zh")."""
        lang = language_of(language)
        message = self.phrase.text(lang) if self.phrase is not None else self.message
        if not self.usage:
            return message
        usage = self.usage_phrase.text(lang) if self.usage_phrase is not None else usage_in(self.usage, lang)
        return f"{message}\n{phrase('command.usage', lang, usage=usage)}"

    def __str__(self) -> str:
        return self.text("en")


def usage_in(usage: str, language: str | None) -> str:
    """A usage line for `language`: as it is in English; in Chinese each command's first mention is followed by its
    Chinese aliases ("/metrics（/指标、/数据、/统计） [today|7d]")."""
    if language_of(language) != "zh":
        return usage
    shown: set[str] = set()

    def with_aliases(match: re.Match[str]) -> str:
        command = COMMAND_ALIASES.get(match.group(1))
        if command is None or command in shown:
            return match.group(0)
        shown.add(command)
        chinese = [alias for alias, name in COMMAND_ALIASES.items() if name == command and not alias.isascii()]
        return f"{match.group(0)}（{'、'.join('/' + alias for alias in chinese)}）" if chinese else match.group(0)

    return _USAGE_COMMAND_RE.sub(with_aliases, usage)
