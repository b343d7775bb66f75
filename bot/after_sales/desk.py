"""`AfterSalesDesk`: opens after-sales requests on tickets and moves them through their flow, in the database.

Every change holds a row lock for its transaction (the ticket's when opening, the request's when moving it: an
UPDATE first, so SQLite takes its write lock too), so two agents, two replicas or a double click take turns and
the second sees what the first did: a second "open refund" on a ticket with an unfinished refund is refused, a
second approval answers "already approved". Each change writes one AuditEvent (subject "after_sales_request")
naming who and when, and queues in the same transaction what it sends:

- the request's card (a notice card on the ticket's triage route, dedup key `after_sales:<id>:card`), edited in
  place after each step (a card update of the posted card; a card not posted yet is rewritten instead);
- on approving a return or an exchange, the return instructions (`return_approved.<lang>.j2`, in the ticket's
  language) as the approver's reply to the customer, through the outbox like any agent reply, at most once.

Approving and rejecting need the manager role. Refusals are `AfterSalesError`s whose str() is the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.after_sales.flow import (
    FINISHED,
    NEEDS_ITEM_BACK,
    REASONS,
    REQUEST_TYPES,
    TransitionError,
    Wording,
    check_transition,
    reason_for_intent,
    step_buttons,
)
from bot.after_sales.money import MINOR_UNITS, Money, convert_to_cents
from bot.intake import file_agent_message
from bot.messages import Card, CardField, Reply, card_to_payload
from bot.outbox import enqueue
from bot.pipeline import team_route
from bot.settings import Settings
from knowledge.templates import TemplateLibrary
from models.db import lock_row, session_scope, utcnow
from models.tables import AfterSalesRequest, AuditEvent, Customer, OutboxItem, Ticket

log = logging.getLogger("kefu.after_sales")

SUBJECT: Final[str] = "after_sales_request"
INSTRUCTIONS_TEMPLATE: Final[str] = "return_approved"
MAX_NOTE_CHARS: Final[int] = 1000
MAX_BATCH: Final[int] = 200  # requests one "/returns approve all" approves
_STEP_TIMES: Final[dict[str, str]] = {"approved": "decided_at", "rejected": "decided_at",
                                      "item_received": "item_received_at", "refunded": "refunded_at",
                                      "reshipped": "reshipped_at", "closed": "closed_at"}


class AfterSalesError(Exception):
    """The change cannot be made; str() is the answer for the person who asked (in English), `wording` its words
    for other languages (None where only the English text exists)."""

    def __init__(self, message: str, wording: Wording | None = None) -> None:
        super().__init__(message)
        self.wording = wording


@dataclass(frozen=True)
class Who:
    """Who makes a change: their name (shown on cards), how audit events name them, and whether a manager."""

    name: str
    key: str
    manager: bool = False


@dataclass(frozen=True)
class Outcome:
    """What a change did: the answer, the requests it concerns and the request card as it now reads."""

    message: str
    request_ids: tuple[int, ...] = ()
    card: Card | None = None
    changed: bool = True
    wording: Wording | None = None  # `message` as a key and fields, for answers in other languages


def shipped_after_sales_templates() -> Path:
    """The folder of the shipped return-instruction templates (knowledge/templates/after_sales)."""
    from knowledge.templates import shipped_templates_dir

    return shipped_templates_dir() / "after_sales"


def load_instruction_templates(settings: Settings) -> TemplateLibrary:
    """The shipped return-instruction templates, then the team's folder (file by file, the team's win)."""
    return TemplateLibrary.load(shipped_after_sales_templates(), settings.after_sales.templates_dir,
                                default_language=settings.replies.default_language, include_shipped=False)


def money_of(request: AfterSalesRequest) -> Money | None:
    if request.amount_minor is None or request.currency not in MINOR_UNITS:
        return None
    return Money(request.amount_minor, request.currency)  # type: ignore[arg-type]


def describe(request: AfterSalesRequest) -> str:
    """"refund #3 · requested · 25.00 EUR · damaged"."""
    money = money_of(request)
    parts = [f"{request.type} #{request.id}", request.status, *([str(money)] if money else []), request.reason]
    return " · ".join(parts)


def describe_wording(request: AfterSalesRequest) -> Wording:
    """`describe(request)` as a wording: "{type} #{id} · {status}{amount} · {reason}"."""
    money = money_of(request)
    return Wording("request", {"type": request.type, "id": request.id, "status": request.status,
                               "amount": f" · {money}" if money else "", "reason": request.reason})


class AfterSalesDesk:
    """Opens and moves after-sales requests; see the module docstring."""

    def __init__(self, engine: Engine, settings: Settings, templates: TemplateLibrary | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.templates = templates if templates is not None else load_instruction_templates(settings)
        self.clock = clock

    # ---- opening -----------------------------------------------------------------------------------------

    def open_request(self, ticket_id: int, request_type: str, who: Who, *, amount: Money | None = None,
                     reason: str | None = None, note: str | None = None,
                     now: datetime | None = None) -> Outcome:
        """Open a request of `request_type` on the ticket; the reason defaults to the one its intent implies."""
        now = now or self.clock()
        if request_type not in REQUEST_TYPES:
            raise AfterSalesError(f"{request_type!r} is not a request type; types: {', '.join(REQUEST_TYPES)}",
                                  Wording("not_a_type", {"type": request_type, "types": REQUEST_TYPES}))
        if reason is not None and reason not in REASONS:
            raise AfterSalesError(f"{reason!r} is not a reason code; reasons: {', '.join(REASONS)}",
                                  Wording("not_a_reason", {"reason": reason, "reasons": REASONS}))
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise AfterSalesError(f"the note is {len(note)} characters; at most {MAX_NOTE_CHARS}",
                                  Wording("note_too_long", {"length": len(note), "limit": MAX_NOTE_CHARS}))
        with session_scope(self.engine) as session:
            ticket: Ticket | None = lock_row(session, Ticket, ticket_id)
            if ticket is None:
                raise AfterSalesError(f"ticket #{ticket_id} does not exist",
                                      Wording("ticket_missing", {"ticket": ticket_id}))
            open_one = session.scalars(
                select(AfterSalesRequest).where(AfterSalesRequest.ticket_id == ticket_id,
                                                AfterSalesRequest.type == request_type,
                                                AfterSalesRequest.status.not_in(FINISHED))  # type: ignore[attr-defined]
            ).first()
            if open_one is not None:
                return Outcome(f"Ticket #{ticket_id} already has {describe(open_one)}: no second {request_type} "
                               f"was opened (close that one first).", (open_one.id or 0,),
                               self._card(session, open_one, ticket), changed=False,
                               wording=Wording("already_open", {"ticket": ticket_id, "type": request_type,
                                                                "request": describe_wording(open_one)}))
            customer = session.get(Customer, ticket.customer_id)
            request = AfterSalesRequest(
                ticket_id=ticket_id, type=request_type, status="requested",
                reason=reason or reason_for_intent(ticket.intent), reason_source="agent" if reason else "intent",
                note=note or None, sku=ticket.sku, marketplace=ticket.marketplace,
                country=ticket.region or (customer.country if customer else None), opened_by=who.name[:128],
                created_at=now, status_changed_at=now,
            )
            if amount is not None:
                request.amount_minor, request.currency = amount.minor, amount.currency
                rate = self.settings.after_sales.rate_to_reporting(amount.currency)
                request.reporting_cents = convert_to_cents(amount, rate) if rate is not None else None
            session.add(request)
            session.flush()
            assert request.id is not None
            self._audit(session, who, "after_sales.open", request, now,
                        {"ticket_id": ticket_id, "type": request_type, "reason": request.reason,
                         "amount": str(amount) if amount else None, "note": request.note})
            card = self._card(session, request, ticket)
            channel, target = request_route(self.settings, ticket)
            enqueue(session, dedup_key=f"after_sales:{request.id}:card", kind="card", channel=channel,
                    target=target, payload=card_to_payload(card))
            log.info("after-sales %s opened on ticket %s by %s", describe(request), ticket_id, who.name,
                     extra={"ticket_id": ticket_id})
            return Outcome(f"Opened {describe(request)} on ticket #{ticket_id}; a manager approves it with "
                           f"/returns approve {request.id}.", (request.id,), card,
                           wording=Wording("opened", {"ticket": ticket_id, "id": request.id,
                                                      "request": describe_wording(request)}))

    # ---- moving --------------------------------------------------------------------------------------------

    def advance(self, request_id: int, wanted: str, who: Who, *, note: str | None = None,
                now: datetime | None = None) -> Outcome:
        """Move the request to `wanted` (approved, rejected, item_received, refunded, reshipped, closed)."""
        now = now or self.clock()
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise AfterSalesError(f"the reason is {len(note)} characters; at most {MAX_NOTE_CHARS}",
                                  Wording("reason_too_long", {"length": len(note), "limit": MAX_NOTE_CHARS}))
        with session_scope(self.engine) as session:
            request: AfterSalesRequest | None = lock_row(session, AfterSalesRequest, request_id)
            if request is None:
                raise AfterSalesError(f"after-sales request #{request_id} does not exist",
                                      Wording("request_missing", {"id": request_id}))
            ticket = session.get(Ticket, request.ticket_id)
            assert ticket is not None
            if wanted in ("approved", "rejected") and not who.manager:
                verb = "approve" if wanted == "approved" else "reject"
                raise AfterSalesError(f"Only a manager can {verb} after-sales requests; {who.name} is not a "
                                      f"manager. Ask a manager (they see it in /returns pending).",
                                      Wording(f"manager_only.{verb}", {"name": who.name}))
            if wanted == request.status:
                return Outcome(f"Request #{request.id} is already {wanted}: nothing to do.", (request_id,),
                               self._card(session, request, ticket), changed=False,
                               wording=Wording("already", {"id": request.id, "status": wanted}))
            try:
                check_transition(request.id, request.type, request.status, wanted)
            except TransitionError as exc:
                raise AfterSalesError(str(exc), exc.wording) from None
            if wanted == "rejected" and not (note or "").strip():
                raise AfterSalesError(f"say why request #{request_id} is rejected: /returns reject "
                                      f"{request_id} REASON", Wording("needs_reason", {"id": request_id}))
            before = request.status
            request.status, request.status_changed_at = wanted, now
            setattr(request, _STEP_TIMES[wanted], now)
            session.add(request)
            details: dict[str, Any] = {"from": before, "to": wanted, "note": note or None}
            sent, sent_wording = "", None
            if wanted == "approved" and request.type in NEEDS_ITEM_BACK:
                sent, sent_wording = self._send_instructions(session, request, ticket, who, now)
                details["instructions"] = sent or None
            audit = self._audit(session, who, f"after_sales.{wanted}", request, now, details)
            card = self._edit_card(session, request, ticket, audit)
            answer = f"Request #{request.id} ({request.type}, ticket #{ticket.id}) is now {wanted}."
            if sent:
                answer += f" {sent}"
            return Outcome(answer, (request_id,), card, wording=Wording("moved", {
                "id": request.id, "type": request.type, "ticket": ticket.id, "status": wanted,
                "sent": sent_wording or ""}))

    def approve_many(self, request_ids: Sequence[int] | None, who: Who, *,
                     now: datetime | None = None) -> Outcome:
        """Approve each request (None: every request awaiting approval, oldest first), each in its own
        transaction: one that cannot be approved is reported and the others still are."""
        if not who.manager:
            raise AfterSalesError(f"Only a manager can approve after-sales requests; {who.name} is not a manager. "
                                  "Ask a manager (they see them in /returns pending).",
                                  Wording("manager_only.batch", {"name": who.name}))
        now = now or self.clock()
        if request_ids is None:
            with Session(self.engine) as session:
                request_ids = list(session.scalars(
                    select(AfterSalesRequest.id).where(AfterSalesRequest.status == "requested")
                    .order_by(AfterSalesRequest.created_at, AfterSalesRequest.id).limit(MAX_BATCH)  # type: ignore[arg-type]
                ))
            if not request_ids:
                return Outcome("No after-sales request is waiting for approval.", changed=False,
                               wording=Wording("none_waiting"))
        approved: list[int] = []
        lines: list[str] = []
        results: list[Wording] = []
        for request_id in dict.fromkeys(request_ids):
            try:
                outcome = self.advance(request_id, "approved", who, now=now)
            except AfterSalesError as exc:
                lines.append(f"#{request_id}: not approved: {exc}")
                results.append(Wording("batch.refused", {"id": request_id, "error": exc.wording or str(exc)}))
                continue
            if outcome.changed:
                approved.append(request_id)
            lines.append(f"#{request_id}: {outcome.message}")
            results.append(Wording("batch.done", {"id": request_id, "result": outcome.wording or outcome.message}))
        head = f"Approved {len(approved)} of {len(lines)} request{'s' if len(lines) != 1 else ''}."
        return Outcome("\n".join([head, *lines]), tuple(approved), changed=bool(approved),
                       wording=Wording("batch.1" if len(lines) == 1 else "batch.n",
                                       {"approved": len(approved), "count": len(lines), "results": tuple(results)}))

    # ---- reading -------------------------------------------------------------------------------------------

    def pending(self, limit: int = 50) -> tuple[list[AfterSalesRequest], int]:
        """The requests awaiting approval, oldest first (at most `limit`), and how many there are in all."""
        with Session(self.engine) as session:
            waiting = select(AfterSalesRequest).where(AfterSalesRequest.status == "requested")
            rows = list(session.scalars(waiting.order_by(AfterSalesRequest.created_at,  # type: ignore[arg-type]
                                                         AfterSalesRequest.id).limit(limit)))  # type: ignore[arg-type]
            total = len(list(session.scalars(select(AfterSalesRequest.id)
                                             .where(AfterSalesRequest.status == "requested"))))
            return rows, total

    def awaiting(self, ticket_id: int, statuses: Sequence[str]) -> list[AfterSalesRequest]:
        """The ticket's requests in one of `statuses`, oldest first."""
        with Session(self.engine) as session:
            return list(session.scalars(
                select(AfterSalesRequest).where(AfterSalesRequest.ticket_id == ticket_id,
                                                AfterSalesRequest.status.in_(statuses))  # type: ignore[attr-defined]
                .order_by(AfterSalesRequest.id)  # type: ignore[arg-type]
            ))

    # ---- cards ---------------------------------------------------------------------------------------------

    def _card(self, session: Session, request: AfterSalesRequest, ticket: Ticket) -> Card:
        """The request's card as it reads now: its facts, the History of its audit events, the next buttons."""
        return request_card(session, request, ticket)

    def _edit_card(self, session: Session, request: AfterSalesRequest, ticket: Ticket, audit: AuditEvent) -> Card:
        card = self._card(session, request, ticket)
        item = session.scalars(select(OutboxItem).where(
            OutboxItem.dedup_key == f"after_sales:{request.id}:card")).first()  # type: ignore[arg-type]
        if item is None:
            return card
        if item.result_ref:
            enqueue(session, dedup_key=f"after_sales:{request.id}:card:{audit.id}", kind="card_update",
                    channel=item.channel, target=item.result_ref, payload=card_to_payload(card))
        elif item.status == "pending":  # not posted yet: it goes out as it now reads
            item.payload = card_to_payload(card)
            session.add(item)
        return card

    # ---- instructions --------------------------------------------------------------------------------------

    def _send_instructions(self, session: Session, request: AfterSalesRequest, ticket: Ticket, who: Who,
                           now: datetime) -> tuple[str, Wording]:
        """Queue the return instructions to the customer as `who`'s reply; what was done, for the answer."""
        key = f"after_sales:{request.id}:instructions"
        if session.scalars(select(OutboxItem.id).where(OutboxItem.dedup_key == key)).first() is not None:  # type: ignore[arg-type]
            return "The return instructions were sent before.", Wording("instructions.before")
        customer = session.get(Customer, ticket.customer_id)
        assert customer is not None
        variables = {"customer_name": customer.name, "order_id": ticket.order_id, "sku": request.sku or ticket.sku,
                     "marketplace": ticket.marketplace, "request_id": request.id,
                     "return_address": self.settings.after_sales.return_address}
        rendered = self.templates.render(INSTRUCTIONS_TEMPLATE, ticket.language, variables, ticket.marketplace)
        if rendered is None:
            return ("No return-instructions template was found: tell the customer how to send the item back.",
                    Wording("instructions.none"))
        if rendered.text is None:
            missing = ", ".join(rendered.missing)
            return (f"The return instructions ({rendered.template}) need {missing}: "
                    "tell the customer how to send the item back.",
                    Wording("instructions.missing", {"template": rendered.template, "missing": missing}))
        message = file_agent_message(session, self.settings.sla, ticket, who.name, rendered.text, now)
        assert ticket.id is not None
        reply = Reply(ticket_id=ticket.id, conversation_id=ticket.conversation_id, customer_id=customer.external_id,
                      text=rendered.text, language=rendered.language, kind="agent_reply")
        enqueue(session, dedup_key=key, kind="reply", channel=ticket.channel, target=ticket.conversation_id,
                payload=asdict(reply), ticket_id=ticket.id)
        return (f"The return instructions ({rendered.template}) went to the customer (message {message.id}).",
                Wording("instructions.sent", {"template": rendered.template, "message": message.id}))

    # ---- audit ---------------------------------------------------------------------------------------------

    @staticmethod
    def _audit(session: Session, who: Who, action: str, request: AfterSalesRequest, now: datetime,
               details: dict[str, Any]) -> AuditEvent:
        event = AuditEvent(actor=who.key[:128], action=action, subject_type=SUBJECT, subject_id=str(request.id),
                           details={"by": who.name, **details}, at=now)
        session.add(event)
        session.flush()
        return event


def request_route(settings: Settings, ticket: Ticket) -> tuple[str, str]:
    """Where a ticket's request cards go: its triage route, or the team channel its own card is on."""
    channel, target = team_route(settings, ticket)
    if ticket.card_channel and ticket.card_channel != channel:
        channel, target = ticket.card_channel, ""
    return channel, target


def request_card(session: Session, request: AfterSalesRequest, ticket: Ticket, *, title: str | None = None,
                 body: str | None = None) -> Card:
    """A request's card: type, status, reason, amount, where from, its History and the buttons of its next step
    (they act on the ticket's request in that status: see handlers/after_sales_actions.py)."""
    money = money_of(request)
    fields = [CardField("Request", f"{request.type} #{request.id}"), CardField("Status", request.status),
              CardField("Reason", request.reason + (" (from the intent)" if request.reason_source == "intent" else ""))]
    if money is not None:
        fields.append(CardField("Amount", str(money)))
    for label, value in (("SKU", request.sku), ("Marketplace", request.marketplace), ("Country", request.country)):
        if value:
            fields.append(CardField(label, value))
    if request.note:
        fields.append(CardField("Note", request.note))
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject_type == SUBJECT,
                                                      AuditEvent.subject_id == str(request.id))
                             .order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    history = [f"{event.action.removeprefix('after_sales.')} by {event.details.get('by', event.actor)} at "
               f"{event.at.strftime('%Y-%m-%d %H:%M UTC')}"
               + (f": {event.details['note']}" if event.details.get("note") and event.action != "after_sales.open"
                  else "") for event in events]
    if history:
        fields.append(CardField("History", "\n".join(history)))
    commands = {"requested": f"/returns approve {request.id} · /returns reject {request.id} REASON"}
    footer = commands.get(request.status) or (f"/request {request.id} " + " | ".join(
        button.action.removeprefix("request_") for button in step_buttons(request.type, request.status))
        if step_buttons(request.type, request.status) else None)
    card = Card(kind="notice", title=title or f"After-sales: {request.type} #{request.id} on ticket #{ticket.id} · "
                                              f"{request.status}",
                body=body or "", fields=tuple(fields), buttons=step_buttons(request.type, request.status),
                ticket_id=ticket.id, footer=footer, language=ticket.language)
    return replace(card, buttons=card.buttons if request.status not in FINISHED else ())
