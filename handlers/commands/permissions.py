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

Role = Literal["agent", "manager", "admin"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
_RANK: Final[dict[str, int]] = {role: rank for rank, role in enumerate(ROLES)}


class PermissionDenied(Exception):
    """The actor may not run the command; str() is the user-facing answer."""

    def __init__(self, message: str, *, required_role: Role) -> None:
        super().__init__(message)
        self.message = message
        self.required_role = required_role

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


def required_role(command: ParsedCommand, actor: Actor) -> tuple[Role, str | None]:
    """The least role that may run `command` as `actor`, and what needs it (None when any agent may)."""
    if isinstance(command, MetricsCommand) and command.group_by == "agent":
        return "manager", "see metrics by agent"
    if isinstance(command, AgentCommand) and command.agent is not None and not actor.is_me(command.agent):
        return "manager", f"see the scorecard of {command.agent}"
    if isinstance(command, AlertsSilenceCommand):
        return "manager", "silence alerts"
    if isinstance(command, AlertsUnsilenceCommand):
        return "manager", "end a silence"
    if isinstance(command, AssignCommand) and command.agent is not None and not actor.is_me(command.agent):
        return "manager", f"assign tickets to {command.agent}"
    if isinstance(command, ShiftCommand) and command.agent is not None and not actor.is_me(command.agent):
        return "manager", f"{command.action} the shift of {command.agent}"
    if isinstance(command, ReturnsPendingCommand):
        return "manager", "list the after-sales requests awaiting approval"
    if isinstance(command, ReturnsApproveCommand):
        return "manager", "approve after-sales requests"
    if isinstance(command, ReturnsRejectCommand):
        return "manager", "reject after-sales requests"
    return "agent", None


def authorize(command: ParsedCommand, actor: Actor) -> None:
    """Return when `actor` may run `command`; raise PermissionDenied saying what needs which role otherwise."""
    role, what = required_role(command, actor)
    if actor.has_role(role):
        return
    hint = " You can see your own numbers with /agent." if isinstance(command, MetricsCommand | AgentCommand) else ""
    raise PermissionDenied(
        f"Only a {role} can {what}; you are signed in as {_article(actor.role)} {actor.role}.{hint}",
        required_role=role,
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
