"""The after-sales buttons of cards, whatever platform they were pressed on (dispatched from handlers.actions).

A triage card of a return-worthy intent offers *Open refund*, *Open return*… (`request_<type>`): the press opens
that request on the card's ticket (reason from the ticket's intent; amount later or with `/request`). A request
card offers the next step of its request: *Approve* / *Reject* (`approve_request`, `reject_request`, managers
only), *Item received*, *Refunded*, *Reshipped*, *Close request* (`request_received`, …). Buttons carry only the
ticket, so a step acts on the ticket's one request in the status that step follows; when the ticket has several,
the answer lists them and asks for `/returns approve ID` (or `/request ID …`) instead. A rejection from a button
records "rejected from the card" as its reason.

Every outcome is an `ActionResult`; refusals (an agent approving, a step the flow does not allow) are `ok=False`
with the desk's precise message.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.engine import Engine

from bot.after_sales.desk import AfterSalesDesk, AfterSalesError, Who
from bot.after_sales.flow import OPEN_ACTIONS, STEP_ACTIONS, next_statuses
from bot.messages import Action
from bot.settings import Settings
from bot.wording import Wording
from handlers.actions import ActionError, ActionResult, acting_agent, actor_key, check_actor
from handlers.commands.returns import after_sales_text
from models.db import session_scope

ACTION_NAMES: Final[frozenset[str]] = frozenset({*OPEN_ACTIONS, *STEP_ACTIONS, "approve_request", "reject_request"})
BUTTON_REJECT_REASON: Final[str] = "rejected from the card"


def is_after_sales_action(name: object) -> bool:
    return isinstance(name, str) and name in ACTION_NAMES


def perform_after_sales_action(engine: Engine, settings: Settings, action: Action,
                               desk: AfterSalesDesk | None = None) -> ActionResult:
    """Carry out an after-sales button press; never raises for bad input or a refused step."""
    if isinstance(action.ticket_id, bool) or not isinstance(action.ticket_id, int) or action.ticket_id < 1:
        return ActionResult(False, f"ticket_id must be a positive whole number, got {action.ticket_id!r}")
    try:
        check_actor(action.actor_platform, action.actor_id)
    except ActionError as exc:
        return ActionResult(False, exc.text(action.language))
    desk = desk or AfterSalesDesk(engine, settings)
    with session_scope(engine) as session:
        try:
            agent = acting_agent(session, action.actor_platform, action.actor_id, desk.clock(),
                                 display_name=action.actor_name,
                                 managers=settings.platform_managers(action.actor_platform))
        except ActionError as exc:
            return ActionResult(False, exc.text(action.language))
        who = Who(agent.name, actor_key(agent), agent.role in ("manager", "admin"))
    try:
        if action.name in OPEN_ACTIONS:
            outcome = desk.open_request(action.ticket_id, OPEN_ACTIONS[action.name], who)
            return ActionResult(True, after_sales_text(outcome.message, outcome.wording, action.language),
                                outcome.card)
        wanted = {"approve_request": "approved", "reject_request": "rejected"}.get(action.name) \
            or STEP_ACTIONS[action.name]
        candidates = [r for r in desk.awaiting(action.ticket_id, _statuses_before(wanted))
                      if wanted in next_statuses(r.type, r.status)]
        if not candidates:
            return ActionResult(False, after_sales_text(
                f"ticket #{action.ticket_id} has no after-sales request that can become {wanted} now; "
                f"/ticket {action.ticket_id} shows its history",
                Wording("button.none", {"ticket": action.ticket_id, "wanted": wanted}), action.language))
        if len(candidates) > 1:
            ids = ", ".join(f"#{r.id} ({r.type})" for r in candidates)
            command = "/returns approve ID" if wanted == "approved" else "/request ID …"
            wording = Wording("button.several", {
                "ticket": action.ticket_id, "count": len(candidates), "wanted": wanted,
                "ids": tuple(Wording("button.candidate", {"id": r.id, "type": r.type}) for r in candidates),
                "command": Wording("button.approve_command" if wanted == "approved" else "button.step_command")})
            return ActionResult(False, after_sales_text(
                f"ticket #{action.ticket_id} has {len(candidates)} requests that can become {wanted} ({ids}): "
                f"say which with {command}", wording, action.language))
        request_id = candidates[0].id
        assert request_id is not None
        note = BUTTON_REJECT_REASON if wanted == "rejected" else None
        outcome = desk.advance(request_id, wanted, who, note=note)
        return ActionResult(True, after_sales_text(outcome.message, outcome.wording, action.language), outcome.card)
    except AfterSalesError as exc:
        return ActionResult(False, after_sales_text(str(exc), exc.wording, action.language))


def _statuses_before(wanted: str) -> tuple[str, ...]:
    """The statuses a request may be in for `wanted` to come next (for some type)."""
    return {"approved": ("requested",), "rejected": ("requested",), "item_received": ("approved",),
            "refunded": ("approved", "item_received"), "reshipped": ("approved", "item_received"),
            "closed": ("rejected", "refunded", "reshipped")}[wanted]
