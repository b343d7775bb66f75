"""Who may run which manager command: `authorize(command, actor)` raises `PermissionDenied` or returns.

Rules: everyone (role agent and up) may run every command about the team or about themselves; these need the
manager role (or admin): metrics broken down by agent, another agent's scorecard, silencing or unsilencing alerts,
assigning a ticket to someone else, and starting or stopping someone else's shift. The terminal
(`kefu command …`) runs as `LOCAL_ADMIN`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from handlers.commands.parsed import (
    AgentCommand,
    AlertsSilenceCommand,
    AlertsUnsilenceCommand,
    AssignCommand,
    MetricsCommand,
    ParsedCommand,
    ReturnsApproveCommand,
    ReturnsPendingCommand,
    ReturnsRejectCommand,
    ShiftCommand,
)
from handlers.phrases import Phrase, say, text_in

Role = Literal["agent", "manager", "admin"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
_RANK: Final[dict[str, int]] = {role: rank for rank, role in enumerate(ROLES)}


class PermissionDenied(Exception):
    """The actor may not run the command; str() is the user-facing answer, `text(language)` the same answer in
    the asker's language."""

    def __init__(self, message: str | Phrase, *, required_role: Role) -> None:
        super().__init__(str(message))
        self.phrase = message if isinstance(message, Phrase) else None
        self.message = str(message)
        self.required_role = required_role

    def text(self, language: str | None = "en") -> str:
        return text_in(self.phrase or self.message, language)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Actor:
    """Who runs a command: `name` (None for the local administrator), `role`, and `identities`, other names the
    same person goes by (platform user ids such as "U123", display names) so that "/agent @U123" is oneself."""

    name: str | None
    role: Role = "agent"
    identities: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.role not in _RANK:
            raise ValueError(f"unknown role {self.role!r}: expected one of {', '.join(ROLES)}")
        object.__setattr__(self, "identities", frozenset(self.identities))

    def is_me(self, who: str) -> bool:
        """Whether `who` (an agent name as typed, without "@") denotes this actor; case-insensitive."""
        mine = {n.casefold() for n in (self.name, *self.identities) if n}
        return who.casefold() in mine

    def has_role(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]


LOCAL_ADMIN: Final[Actor] = Actor(name=None, role="admin")


def required_role(command: ParsedCommand, actor: Actor) -> tuple[Role, Phrase | None]:
    """The least role that may run `command` as `actor`, and what needs it (None when any agent may; str() of
    the phrase is its English: "see metrics by agent")."""
    if isinstance(command, MetricsCommand) and command.group_by == "agent":
        return "manager", say("permission.metrics_by_agent")
    if isinstance(command, AgentCommand) and command.agent is not None and not actor.is_me(command.agent):
        return "manager", say("permission.scorecard", agent=command.agent)
    if isinstance(command, AlertsSilenceCommand):
        return "manager", say("permission.silence")
    if isinstance(command, AlertsUnsilenceCommand):
        return "manager", say("permission.unsilence")
    if isinstance(command, AssignCommand) and command.agent is not None and not actor.is_me(command.agent):
        return "manager", say("permission.assign", agent=command.agent)
    if isinstance(command, ShiftCommand) and command.agent is not None and not actor.is_me(command.agent):
        key = "permission.shift_start" if command.action == "start" else "permission.shift_stop"
        return "manager", say(key, agent=command.agent)
    if isinstance(command, ReturnsPendingCommand):
        return "manager", say("permission.returns_pending")
    if isinstance(command, ReturnsApproveCommand):
        return "manager", say("permission.returns_approve")
    if isinstance(command, ReturnsRejectCommand):
        return "manager", say("permission.returns_reject")
    return "agent", None


def authorize(command: ParsedCommand, actor: Actor) -> None:
    """Return when `actor` may run `command`; raise PermissionDenied saying what needs which role otherwise."""
    role, what = required_role(command, actor)
    if actor.has_role(role):
        return
    hint = say("permission.own_numbers") if isinstance(command, MetricsCommand | AgentCommand) else ""
    raise PermissionDenied(
        say("permission.denied", role=say(f"role.{role}"), what=what, actor_role=say(f"role.{actor.role}"),
            hint=hint),
        required_role=role,
    )
