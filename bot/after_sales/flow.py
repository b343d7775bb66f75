"""The rules of after-sales requests, without a database: types, the status flow of each type, reason codes.

Every request starts `requested`; a manager approves or rejects it. What follows depends on the type:

    return    approved → item_received → refunded → closed
    exchange  approved → item_received → reshipped → closed
    refund    approved → refunded → closed          (nothing comes back: not received, a partial refund…)
    reship    approved → reshipped → closed
    rejected → closed (every type)

`check_transition` refuses any other move with a `TransitionError` naming the request, where it is and what may
come next. Returns and exchanges need the item back: approving one sends the customer the return instructions.
"""

from __future__ import annotations

from typing import Final

from bot.messages import CardButton
from bot.wording import Wording

REQUEST_TYPES: Final[tuple[str, ...]] = ("return", "refund", "exchange", "reship")
STATUSES: Final[tuple[str, ...]] = ("requested", "approved", "rejected", "item_received", "refunded", "reshipped",
                                    "closed")
FINISHED: Final[frozenset[str]] = frozenset({"closed"})
REASONS: Final[tuple[str, ...]] = ("damaged", "wrong_item", "not_received", "changed_mind", "defective", "late",
                                   "other")
NEEDS_ITEM_BACK: Final[frozenset[str]] = frozenset({"return", "exchange"})

_AFTER_APPROVAL: Final[dict[str, tuple[str, ...]]] = {
    "return": ("approved", "item_received", "refunded", "closed"),
    "exchange": ("approved", "item_received", "reshipped", "closed"),
    "refund": ("approved", "refunded", "closed"),
    "reship": ("approved", "reshipped", "closed"),
}

# The shipped catalogue's intents (bot/defaults/intents.yaml) and the reason they imply; others give "other".
INTENT_REASONS: Final[dict[str, str]] = {
    "damaged_item": "damaged",
    "wrong_item": "wrong_item",
    "item_not_received": "not_received",
    "return_policy": "changed_mind",
    "cancel_order": "changed_mind",
    "shipping_time": "late",
    "order_status": "late",
}
# Intents whose triage card offers to open a request, and which requests.
_OPENING: Final[dict[str, tuple[str, ...]]] = {
    "damaged_item": ("refund", "return", "reship"),
    "wrong_item": ("exchange", "return", "refund"),
    "item_not_received": ("reship", "refund"),
    "return_policy": ("return",),
    "refund_status": ("refund",),
}
OPEN_ACTIONS: Final[dict[str, str]] = {f"request_{kind}": kind for kind in REQUEST_TYPES}
_LABELS: Final[dict[str, str]] = {"return": "Open return", "refund": "Open refund", "exchange": "Open exchange",
                                  "reship": "Open reship"}
APPROVE_BUTTON: Final[CardButton] = CardButton("approve_request", "Approve", "primary")
REJECT_BUTTON: Final[CardButton] = CardButton("reject_request", "Reject", "danger")
STEP_ACTIONS: Final[dict[str, str]] = {"request_received": "item_received", "request_refunded": "refunded",
                                       "request_reshipped": "reshipped", "request_close": "closed"}
_STEP_LABELS: Final[dict[str, str]] = {"item_received": "Item received", "refunded": "Refunded",
                                       "reshipped": "Reshipped", "closed": "Close request"}


class TransitionError(ValueError):
    """A move the flow does not allow; str() is the answer for the person who asked, `wording` its words."""

    def __init__(self, message: str, wording: Wording | None = None) -> None:
        super().__init__(message)
        self.wording = wording


def next_statuses(request_type: str, status: str) -> tuple[str, ...]:
    """Where a request of `request_type` in `status` may go next."""
    if status == "requested":
        return ("approved", "rejected")
    if status == "rejected":
        return ("closed",)
    flow = _AFTER_APPROVAL[request_type]
    if status not in flow or status == flow[-1]:
        return ()
    return (flow[flow.index(status) + 1],)


def check_transition(request_id: int | None, request_type: str, status: str, wanted: str) -> None:
    """Return when `wanted` may follow `status` for this type; TransitionError saying why not otherwise."""
    if wanted not in STATUSES:
        raise TransitionError(f"{wanted!r} is not a request status; statuses: {', '.join(STATUSES)}",
                              Wording("transition.unknown_status", {"wanted": wanted, "statuses": STATUSES}))
    allowed = next_statuses(request_type, status)
    if wanted in allowed:
        return
    name = f"request #{request_id} ({request_type})"
    fields = {"id": request_id, "type": request_type, "status": status, "wanted": wanted, "next": allowed}
    if wanted == status:
        raise TransitionError(f"{name} is already {status}: nothing to do", Wording("transition.already", fields))
    if not allowed:
        raise TransitionError(f"{name} is {status}: it is finished and cannot become {wanted}",
                              Wording("transition.finished", fields))
    if wanted in ("item_received", "refunded", "reshipped") and wanted not in _AFTER_APPROVAL[request_type]:
        raise TransitionError(f"{name} is {status}: a {request_type} is never {wanted}; next: "
                              f"{' or '.join(allowed)}", Wording("transition.never", fields))
    raise TransitionError(f"{name} is {status}: it cannot become {wanted} yet; next: {' or '.join(allowed)}",
                          Wording("transition.not_yet", fields))


def reason_for_intent(intent: str | None) -> str:
    """The reason code a ticket's classified intent implies ("other" when it implies none)."""
    return INTENT_REASONS.get(intent or "", "other")


def opening_buttons(intent: str | None) -> tuple[CardButton, ...]:
    """The buttons a triage card of `intent` gets to open after-sales requests (none for other intents)."""
    return tuple(CardButton(f"request_{kind}", _LABELS[kind]) for kind in _OPENING.get(intent or "", ()))


def step_buttons(request_type: str, status: str) -> tuple[CardButton, ...]:
    """The buttons of a request card in `status`: Approve and Reject while requested, then the next step."""
    if status == "requested":
        return (APPROVE_BUTTON, REJECT_BUTTON)
    action = {value: key for key, value in STEP_ACTIONS.items()}
    return tuple(CardButton(action[step], _STEP_LABELS[step]) for step in next_statuses(request_type, status))
