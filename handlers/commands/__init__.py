"""Manager commands, whatever platform they come from: parsing to typed commands, time windows, permissions, help.

`parse_command(text)` gives a typed command or raises `CommandError` (str() is the user's answer);
`authorize(command, actor)` raises `PermissionDenied`; `help_text(topic)` is the plain-text help. Errors, refusals
and help are English by default and Chinese on request (`error.text("zh")`, `help_text(language="zh")`; the words
are in handlers.phrases). Running a command (querying metrics, writing silences and the audit log) is the
executor's job, not this package's.
"""

from handlers.commands.errors import CommandError
from handlers.commands.help_texts import COMMAND_HELP, help_text, usage_line
from handlers.commands.invocation import CommandInvocation
from handlers.commands.parsed import (
    AgentCommand,
    AlertsListCommand,
    AlertsSilenceCommand,
    AlertsUnsilenceCommand,
    HelpCommand,
    MetricsCommand,
    ParsedCommand,
    SlaCommand,
    TicketCommand,
)
from handlers.commands.parser import parse_command
from handlers.commands.permissions import LOCAL_ADMIN, Actor, PermissionDenied, Role, authorize, required_role
from handlers.commands.time_windows import TimeWindow, TimeWindowError, format_duration, parse_duration

__all__ = [
    "COMMAND_HELP",
    "LOCAL_ADMIN",
    "Actor",
    "AgentCommand",
    "AlertsListCommand",
    "AlertsSilenceCommand",
    "AlertsUnsilenceCommand",
    "CommandError",
    "CommandInvocation",
    "HelpCommand",
    "MetricsCommand",
    "ParsedCommand",
    "PermissionDenied",
    "Role",
    "SlaCommand",
    "TicketCommand",
    "TimeWindow",
    "TimeWindowError",
    "authorize",
    "format_duration",
    "help_text",
    "parse_command",
    "parse_duration",
    "required_role",
    "usage_line",
]
