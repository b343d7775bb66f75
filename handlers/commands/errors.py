"""The user-facing error of manager commands: what was wrong, a suggestion, and the usage line.

`CommandError` is the only exception `parse_command` lets out; its `str()` is the whole answer a user sees, so an
adapter can post it as it is. It never carries a stack trace or Python repr.
"""

from __future__ import annotations


class CommandError(ValueError):
    """A command that could not be understood: `message` says what was wrong, `usage` how to write it.

    `word` is the offending word as the user typed it (None when nothing specific was wrong, e.g. a missing
    argument) and `suggestion` the "did you mean" candidate, if any (already part of `message`).
    """

    def __init__(self, message: str, usage: str, *, word: str | None = None, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.word = word
        self.suggestion = suggestion

    def __str__(self) -> str:
        if not self.usage:
            return self.message
        return f"{self.message}\nUsage: {self.usage}"
