"""The contract between kefu's core and a team messenger (Slack, DingTalk, WeCom, the console).

A team channel adapter is an outbox sender for the card kinds ("card", "card_update", "alert", "notice") plus a
lifecycle: `mount` adds its HTTP routes to kefu's aiohttp app (webhooks, event endpoints), `start` opens what it
keeps open (a Socket Mode or stream connection) once kefu serves, `stop` closes it. It declares what its platform
can do in `capabilities`, so that the core (help texts, command answers) degrades gracefully where a platform
cannot (no buttons → text commands, no uploads → a link).

Button presses, modal submissions and commands reach the core as calls on the app (`Kefu.handle_action`,
`Kefu.handle_alert_action`, `Kefu.handle_command`), never as database writes from the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from bot.messages import Action, AlertAction, CommandRequest
from bot.team_desk import TeamDesk
from models.tables import OutboxItem

if TYPE_CHECKING:
    from handlers.actions import ActionResult
    from handlers.commands import Actor
    from handlers.commands.answers import CommandAnswer

TEAM_CARD_KINDS = ("card", "card_update", "alert", "notice")


@dataclass(frozen=True)
class Capabilities:
    """What a team platform can do; help texts and answers read these (missing fields count as False)."""

    buttons: bool = False
    modals: bool = False
    threads: bool = False
    slash_commands: bool = False
    image_upload: bool = False
    ephemeral: bool = False
    markdown: str = "plain"  # "slack-mrkdwn", "markdown", "plain"


class TeamChannel(Protocol):
    """A team messenger as kefu's core sees it."""

    name: str
    capabilities: Capabilities

    def mount(self, app: web.Application) -> None:
        """Add the adapter's HTTP routes (if any) to kefu's web app, before it starts."""
        ...

    async def start(self) -> None:
        """Open long-lived connections (Socket Mode, streams), once kefu serves."""
        ...

    async def stop(self) -> None:
        ...

    async def send(self, item: OutboxItem) -> str | None:
        """Post or update a card (an outbox item of one of TEAM_CARD_KINDS); return its reference."""
        ...


class TeamCore(Protocol):
    """What a team channel adapter may call on kefu (bot.app.Kefu provides it)."""

    desk: TeamDesk

    async def handle_action(self, action: Action) -> ActionResult: ...

    async def handle_alert_action(self, action: AlertAction) -> ActionResult: ...

    async def handle_command(self, request: CommandRequest, actor: Actor,
                             capabilities: object | None = None) -> CommandAnswer: ...

    def intent_names(self) -> list[str]: ...

    def chart_link(self, path: Path) -> str | None: ...
