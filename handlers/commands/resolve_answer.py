"""The answer of `/resolve TICKET [note]`: the ticket resolved as its card's Resolve button does.

It goes through `handlers.actions.TicketActions` (the executor supplies it), so the audit event, the card update
with its History line, the rejected suggestions and the CSAT survey (bot/csat.py) are the button's. An agent known
to kefu (by name or platform identity) resolves as themselves; the terminal (`kefu command`) and people kefu does
not know as agents resolve under their command name ("cli" for the terminal).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Action
from handlers.commands.answers import AnswerContext, CommandAnswer
from handlers.commands.parsed import ResolveCommand
from handlers.phrases import phrase
from handlers.scorecards import find_agent


def answer_resolve(command: ResolveCommand, ctx: AnswerContext) -> CommandAnswer:
    if ctx.ticket_actions is None:
        return CommandAnswer(phrase("resolve.unavailable", ctx.language), ok=False,
                             details={"error": "no ticket actions"})
    actions = ctx.ticket_actions()
    agent = next((found for name in (ctx.actor.name, *sorted(ctx.actor.identities)) if name
                  and (found := find_agent(ctx.engine, name)) is not None), None)
    values = {"note": command.note} if command.note else {}
    if agent is not None:
        result = actions.perform_sync(Action("resolve", command.ticket_id, actor_platform="console",
                                             actor_id=agent.name, values=values, actor_name=agent.name,
                                             language=ctx.language))
    else:
        who = ctx.actor.name or "cli"
        result = actions.resolve_as_system(command.ticket_id, who[:128], f"by {who} with /resolve",
                                           note=command.note, language=ctx.language)
    return CommandAnswer(result.message, ok=result.ok,
                         details={"ticket_id": command.ticket_id, "changed": result.ok and result.changed})


RESOLVE_ANSWERS: dict[type, Callable[..., CommandAnswer]] = {ResolveCommand: answer_resolve}
