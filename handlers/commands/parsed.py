"""The typed commands `parse_command` produces, one frozen dataclass per command.

Each carries a `name` (for the audit log and permissions) and `canonical()`, the command written out in its
canonical English form: parsing `canonical()` again gives an equal command, so it is what the audit log records
and what an answer can echo back as "understood as …".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar, Protocol

from handlers.commands.time_windows import TimeWindow, format_duration


class Word(Protocol):
    """A word as the parser splits it: the text typed, its casefolded key and where it starts in the source."""

    @property
    def text(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def start(self) -> int: ...


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
class AssignCommand:
    """`/assign TICKET @agent`: give the ticket to the agent (`agent` None: to the caller)."""

    ticket_id: int
    agent: str | None = None
    name: ClassVar[str] = "assign"

    def canonical(self) -> str:
        return f"/assign {self.ticket_id}" + (f" @{self.agent}" if self.agent is not None else "")


@dataclass(frozen=True)
class QueueCommand:
    """`/queue [intent|language]`: open unassigned tickets, most urgent and oldest first, optionally only one
    intent (`intent`) or one customer language (`language`)."""

    intent: str | None = None
    language: str | None = None
    name: ClassVar[str] = "queue"

    def canonical(self) -> str:
        return " ".join(["/queue", *(x for x in (self.intent, self.language) if x)])


@dataclass(frozen=True)
class ShiftCommand:
    """`/shift [start|stop] [@agent]`: who is on shift now, or start / stop a shift (`agent` None: the caller's)."""

    action: str = "show"  # show | start | stop
    agent: str | None = None
    name: ClassVar[str] = "shift"

    def canonical(self) -> str:
        words = ["/shift"]
        if self.action != "show":
            words.append(self.action)
        if self.agent is not None:
            words.append(f"@{self.agent}")
        return " ".join(words)


@dataclass(frozen=True)
class HelpCommand:
    """`/kefu help [topic]`: what the bot can do here; `topic` is a canonical command name or None for all."""

    topic: str | None = None
    name: ClassVar[str] = "help"

    def canonical(self) -> str:
        return "/kefu help" + (f" {self.topic}" if self.topic else "")


@dataclass(frozen=True)
class ReturnsPendingCommand:
    """`/returns [pending]`: the after-sales requests awaiting approval (handlers/commands/returns.py)."""

    name: ClassVar[str] = "returns pending"

    def canonical(self) -> str:
        return "/returns pending"


@dataclass(frozen=True)
class ReturnsApproveCommand:
    """`request_ids` None: every request awaiting approval."""

    request_ids: tuple[int, ...] | None
    name: ClassVar[str] = "returns approve"

    def canonical(self) -> str:
        ids = "all" if self.request_ids is None else " ".join(str(i) for i in self.request_ids)
        return f"/returns approve {ids}"


@dataclass(frozen=True)
class ReturnsRejectCommand:
    request_id: int
    reason: str
    name: ClassVar[str] = "returns reject"

    def canonical(self) -> str:
        return f"/returns reject {self.request_id} {self.reason}"


@dataclass(frozen=True)
class RequestOpenCommand:
    ticket_id: int
    request_type: str
    amount: str | None = None  # as typed, checked: "25.00"
    currency: str | None = None
    reason: str | None = None
    note: str | None = None
    name: ClassVar[str] = "request"

    def canonical(self) -> str:
        words = ["/request", str(self.ticket_id), self.request_type]
        if self.amount is not None and self.currency is not None:
            words += [self.amount, self.currency]
        if self.reason:
            words.append(self.reason)
        if self.note:
            words.append(self.note)
        return " ".join(words)


@dataclass(frozen=True)
class RequestStepCommand:
    request_id: int
    status: str  # item_received | refunded | reshipped | closed
    note: str | None = None
    name: ClassVar[str] = "request step"

    def canonical(self) -> str:
        word = {"item_received": "received", "closed": "close"}.get(self.status, self.status)
        return f"/request {self.request_id} {word}" + (f" {self.note}" if self.note else "")


@dataclass(frozen=True)
class ResolveCommand:
    """`/resolve TICKET [note]`: resolve a ticket (as the card's Resolve button does) with an optional note."""

    ticket_id: int
    note: str | None = None
    name: ClassVar[str] = "resolve"

    def canonical(self) -> str:
        return f"/resolve {self.ticket_id}" + (f" {self.note}" if self.note else "")


@dataclass(frozen=True)
class CustomerCommand:
    """`/customer WHO [tag X | untag X | note TEXT]`: a customer's profile, or a change to its tags and notes
    (handlers/commands/customers.py); `action` None shows the profile."""

    who: str
    action: str | None = None  # tag | untag | note
    value: str | None = None
    name: ClassVar[str] = "customer"

    def canonical(self) -> str:
        if self.action is None:
            return f"/customer {self.who}"
        value = f'"{self.value}"' if self.action == "note" or " " in (self.value or "") else self.value
        return f"/customer {self.who} {self.action} {value}"


ParsedCommand = (
    MetricsCommand
    | SlaCommand
    | AlertsListCommand
    | AlertsSilenceCommand
    | AlertsUnsilenceCommand
    | TicketCommand
    | AgentCommand
    | AssignCommand
    | ResolveCommand
    | QueueCommand
    | ShiftCommand
    | ReturnsPendingCommand
    | ReturnsApproveCommand
    | ReturnsRejectCommand
    | RequestOpenCommand
    | RequestStepCommand
    | CustomerCommand
    | HelpCommand
)
