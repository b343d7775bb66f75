"""The typed commands `parse_command` produces, one frozen dataclass per command.

Each carries a `name` (for the audit log and permissions) and `canonical()`, the command written out in its
canonical English form: parsing `canonical()` again gives an equal command, so it is what the audit log records
and what an answer can echo back as "understood as …".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

from handlers.commands.time_windows import TimeWindow, format_duration


@dataclass(frozen=True)
class MetricsCommand:
    """`/metrics [metric] [window] [by DIMENSION] [vs prev] [chart]`; the window defaults to today."""

    window: TimeWindow = field(default_factory=TimeWindow.today)
    group_by: str | None = None
    compare_previous: bool = False
    chart: bool = False
    metric: str | None = None
    name: ClassVar[str] = "metrics"

    def canonical(self) -> str:
        words = ["/metrics"]
        if self.metric:
            words.append(self.metric)
        words.append(self.window.token)
        if self.group_by:
            words += ["by", self.group_by]
        if self.compare_previous:
            words += ["vs", "prev"]
        if self.chart:
            words.append("chart")
        return " ".join(words)


@dataclass(frozen=True)
class SlaCommand:
    """`/sla`: open tickets at risk of breaching their SLA, and breached ones, oldest first."""

    name: ClassVar[str] = "sla"

    def canonical(self) -> str:
        return "/sla"


@dataclass(frozen=True)
class AlertsListCommand:
    """`/alerts`: the alerts firing now."""

    name: ClassVar[str] = "alerts"

    def canonical(self) -> str:
        return "/alerts"


@dataclass(frozen=True)
class AlertsSilenceCommand:
    """`/alerts silence RULE [LABEL=VALUE…] DURATION [reason]`; `matchers` uses canonical label names."""

    rule: str
    matchers: dict[str, str]
    duration: timedelta
    reason: str | None = None
    name: ClassVar[str] = "alerts silence"

    def __hash__(self) -> int:  # a dict field would make the generated hash fail
        return hash((self.rule, tuple(sorted(self.matchers.items())), self.duration, self.reason))

    def canonical(self) -> str:
        words = ["/alerts", "silence", self.rule]
        words += [f"{label}={value}" for label, value in self.matchers.items()]
        words.append(format_duration(self.duration))
        if self.reason:
            words.append(self.reason)
        return " ".join(words)


@dataclass(frozen=True)
class AlertsUnsilenceCommand:
    """`/alerts unsilence ID`: end a silence early."""

    silence_id: int
    name: ClassVar[str] = "alerts unsilence"

    def canonical(self) -> str:
        return f"/alerts unsilence {self.silence_id}"


@dataclass(frozen=True)
class TicketCommand:
    """`/ticket ID`: the ticket's summary, messages and timeline."""

    ticket_id: int
    name: ClassVar[str] = "ticket"

    def canonical(self) -> str:
        return f"/ticket {self.ticket_id}"


@dataclass(frozen=True)
class AgentCommand:
    """`/agent [@someone] [window]`: an agent's scorecard; `agent` None means the caller. Window defaults to 7d."""

    agent: str | None = None
    window: TimeWindow = field(default_factory=lambda: TimeWindow.rolling(7, "d"))
    name: ClassVar[str] = "agent"

    def canonical(self) -> str:
        words = ["/agent"]
        if self.agent is not None:
            words.append(f"@{self.agent}")
        words.append(self.window.token)
        return " ".join(words)


@dataclass(frozen=True)
class HelpCommand:
    """`/kefu help [topic]`: what the bot can do here; `topic` is a canonical command name or None for all."""

    topic: str | None = None
    name: ClassVar[str] = "help"

    def canonical(self) -> str:
        return "/kefu help" + (f" {self.topic}" if self.topic else "")


ParsedCommand = (
    MetricsCommand
    | SlaCommand
    | AlertsListCommand
    | AlertsSilenceCommand
    | AlertsUnsilenceCommand
    | TicketCommand
    | AgentCommand
    | HelpCommand
)
