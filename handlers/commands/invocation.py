"""`CommandInvocation`: one command as typed and what became of it, for the executor's audit log.

The executor (later) builds one per command, adds who ran it where and the result, and writes an `AuditEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handlers.commands.errors import CommandError
from handlers.commands.parsed import ParsedCommand
from handlers.commands.parser import parse_command


@dataclass(frozen=True)
class CommandInvocation:
    """The text as typed, the command it parsed to (None when it did not) and the user-facing error (or None;
    in English, as the audit log keeps it; `error_in(language)` writes it in the asker's language)."""

    text: str
    parsed: ParsedCommand | None
    error: str | None = None
    exception: CommandError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, **parse_options: Any) -> CommandInvocation:
        """Parse `text` (options as for `parse_command`), keeping a CommandError as `error` instead of raising."""
        try:
            return cls(text=text, parsed=parse_command(text, **parse_options))
        except CommandError as error:
            return cls(text=text, parsed=None, error=str(error), exception=error)

    def error_in(self, language: str | None) -> str | None:
        """The user-facing error in `language` ("en", "zh"), or None when the text parsed."""
        return self.exception.text(language) if self.exception is not None else self.error

    @property
    def ok(self) -> bool:
        return self.parsed is not None

    @property
    def command_name(self) -> str | None:
        """ "metrics", "alerts silence", … or None when the text did not parse."""
        return self.parsed.name if self.parsed is not None else None

    def audit_details(self) -> dict[str, Any]:
        """JSON-ready details for an audit event: the text, the command and its canonical form, or the error."""
        return {
            "text": self.text,
            "command": self.command_name,
            "canonical": self.parsed.canonical() if self.parsed is not None else None,
            "error": self.error,
        }
