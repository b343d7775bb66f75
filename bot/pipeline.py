"""The pipeline: what happens to a customer's message between its channel adapter and the outbox.

`Pipeline.ingest(inbound)` stores the message first (idempotent on the channel's message id); a rating that answers
the conversation's open CSAT survey is recorded as such (bot/csat.py) and goes no further. Otherwise it detects the
language, classifies it, scores the customer's sentiment (bot/sentiment_priority.py), files it (bot.intake, shared
with the history import: the customer, the conversation's ticket and its SLA clock), and decides: auto-reply with a
rendered template in the customer's language, or suggest (a triage card for the team channel). The outbound work is
written to the outbox in the same transaction as the message, so a crash loses nothing and a redelivery doubles
nothing. `record_agent_reply` stores an agent's answer and queues it the same way.

The pipeline knows a message's channel only as a name: it never imports an adapter. The work is synchronous
(sqlmodel); the async methods run it in a thread (`asyncio.to_thread`) and wake the outbox afterwards.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.after_sales.flow import opening_buttons
from bot.assignment.routing import TicketAssigner
from bot.csat import SurveyAnswers
from bot.customer_profiles import apply_stats, known_tier, profile_fields, raised_severity
from bot.intake import file_agent_message, file_inbound, lock_customer
from bot.logs import request_id_var
from bot.messages import Card, CardButton, CardField, Inbound, IngestResult, Reply, card_to_payload
from bot.order_context import LookupResult, OrderLookup, OrderQuery
from bot.order_context.context import card_text, hold_reason, template_variables
from bot.outbox import enqueue
from bot.replies import ReplyComposer, ReplyDecision
from bot.reply_policy import PairChange, ReplyPolicy, policy_config, shipped_faq_intents
from bot.sentiment_priority import apply_sentiment, sentiment_columns, sentiment_fields
from bot.settings import Settings
from bot.wording import Wording
from models.db import session_scope, utcnow
from models.tables import Customer, Message, Ticket

if TYPE_CHECKING:
    from intents.classifier import Prediction
    from intents.language import LanguageGuess
    from intents.sentiment import SentimentScore, SentimentScorer
    from knowledge.faq import FaqIndex
    from knowledge.templates import RenderedReply

log = logging.getLogger("kefu.pipeline")

UNKNOWN_INTENT = "unknown"
LANGUAGE_CONFIDENCE_FLOOR = 0.5  # below this the customer's stated language wins over the detected one
TRIAGE_BUTTONS = (
    CardButton("send", "Send suggested reply", "primary"),
    CardButton("edit", "Edit"),
    CardButton("assign", "Assign to me"),
    CardButton("escalate", "Escalate", "danger"),
    CardButton("resolve", "Resolve"),
    CardButton("wrong_intent", "Wrong intent"),
)


class Classifier(Protocol):
    def predict(self, text: str) -> Prediction: ...


class Templates(Protocol):
    def render(
        self, intent: str, language: str, variables: dict[str, Any], marketplace: str | None = None
    ) -> RenderedReply | None: ...


class TicketNotFound(LookupError):
    """`record_agent_reply` was given the id of a ticket that does not exist."""


def team_route(settings: Settings, ticket: Ticket) -> tuple[str, str]:
    """(team channel adapter, target) for a ticket's cards and alerts: its queue's route ([triage] routes)."""
    return settings.triage.route_for(marketplace=ticket.marketplace, region=ticket.region, language=ticket.language,
                                     severity=ticket.severity, intent=ticket.intent, customer_channel=ticket.channel)


def choose_language(guess: LanguageGuess, stated: str | None) -> str | None:
    """The message's detected language when confident, otherwise the customer's stated one, otherwise the guess.
    A stated regional tag of the detected language is kept: detected "pt", stated "pt-br" → "pt-br"."""
    if guess.code and guess.confidence >= LANGUAGE_CONFIDENCE_FLOOR:
        if stated and stated.split("-")[0] == guess.code:
            return stated
        return guess.code
    return stated or guess.code


def ticket_title(ticket: Ticket, state: str | None = None) -> Wording:
    """A ticket card's title as a wording: "Ticket #7: refund_request · severity 1", then " · resolved",
    " · escalated" or " · high-value customer" (`state`); the English is the card's `title`."""
    fields: dict[str, object] = {"ticket": ticket.id, "intent": ticket.intent, "severity": ticket.severity}
    fields["state"] = Wording(f"card_title.{state}") if state else ""
    return Wording("card_title.ticket", fields)


_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_STORED_MESSAGE = select(
    _MESSAGES.c.id, _MESSAGES.c.ticket_id, _MESSAGES.c.intent, _MESSAGES.c.confidence, _MESSAGES.c.language
).where(_MESSAGES.c.channel == bindparam("channel"), _MESSAGES.c.channel_message_id == bindparam("channel_message_id"))


class Pipeline:
    """Ingests customer messages and agent replies; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        classifier: Classifier,
        templates: Templates,
        settings: Settings,
        *,
        detect_language: Callable[[str], LanguageGuess] | None = None,
        on_enqueued: Callable[[], None] | None = None,
        reply_channels: frozenset[str] | None = None,
        policy: ReplyPolicy | None = None,
        faq: FaqIndex | None = None,
        assigner: TicketAssigner | None = None,
        sentiment: SentimentScorer | None = None,
        csat: SurveyAnswers | None = None,
        orders: OrderLookup | None = None,
        executor: Executor | None = None,
    ) -> None:
        """`on_enqueued` is called (on the event loop) after outbound work was committed; `reply_channels` are
        the customer channels that can deliver replies now (None: all), elsewhere FAQs are suggested, not sent;
        `orders` looks up the order behind a message (None: no order source is configured); `executor` runs
        `ingest` (None: asyncio's default executor) — a pool of its own keeps a burst of customer messages from
        queueing ahead of everything else the process runs in threads, and lets their encodes form batches."""
        if detect_language is None:
            from intents.language import detect_language as detect_language_default

            detect_language = detect_language_default
        self.engine = engine
        self.classifier = classifier
        self.templates = templates
        self.settings = settings
        self.detect_language = detect_language
        self.on_enqueued = on_enqueued
        self.reply_channels = reply_channels
        if policy is None:
            policy = ReplyPolicy(policy_config(settings.replies, shipped_faq_intents()))
        self.policy = policy
        self.composer = ReplyComposer(templates, policy, settings.replies, faq)  # type: ignore[arg-type]
        self.assigner = assigner or TicketAssigner(settings)  # [assignment]: who gets a ticket that needs a human
        # The customer's mood on every inbound message (None: not scored), and answers to CSAT surveys.
        self.sentiment = sentiment if settings.sentiment.enabled else None
        self.csat = csat or SurveyAnswers(engine, settings)
        self.orders = orders
        self.executor = executor

    # ---- async entry points ------------------------------------------------------------------------------

    async def ingest(self, inbound: Inbound) -> IngestResult:
        if self.executor is None:
            result = await asyncio.to_thread(self.ingest_sync, inbound)
        else:
            context = contextvars.copy_context()  # as asyncio.to_thread does: the request id goes along
            result = await asyncio.get_running_loop().run_in_executor(
                self.executor, functools.partial(context.run, self.ingest_sync, inbound))
        if result.action != "duplicate":
            self._notify()
        return result

    async def record_agent_reply(self, ticket_id: int, agent_name: str, text: str,
                                 suggestion_id: int | None = None) -> Message:
        message = await asyncio.to_thread(self.record_agent_reply_sync, ticket_id, agent_name, text, suggestion_id)
        self._notify()
        return message

    def _notify(self) -> None:
        if self.on_enqueued is not None:
            self.on_enqueued()

    # ---- ingest ------------------------------------------------------------------------------------------

    def ingest_sync(self, inbound: Inbound) -> IngestResult:
        token = request_id_var.set(inbound.request_id) if inbound.request_id else None
        try:
            return self._ingest(inbound)
        finally:
            if token is not None:
                request_id_var.reset(token)

    def _ingest(self, inbound: Inbound) -> IngestResult:
        existing = self._find_message(inbound.channel, inbound.channel_message_id)
        if existing is not None:
            return self._duplicate(existing)
        guess = self.detect_language(inbound.text)
        language = choose_language(guess, inbound.customer.language)
        answered = self._csat_answer(inbound)
        if answered is not None:
            return answered
        prediction = self.classifier.predict(inbound.text)
        mood = self.sentiment.score(inbound.text) if self.sentiment is not None else None
        # Before the transaction: a slow order source must hold no database lock (and waits at most its timeout).
        inbound, order = self._look_up_order(inbound, prediction)
        try:
            with session_scope(self.engine) as session:
                result = self._store(session, inbound, guess, language, prediction, mood=mood, order=order)
        except IntegrityError:
            # The same channel message id was stored meanwhile (a concurrent redelivery or another replica).
            existing = self._find_message(inbound.channel, inbound.channel_message_id)
            if existing is None:
                raise
            return self._duplicate(existing)
        log.info(
            "message %s on %s: %s (%.2f) in %s → %s",
            result.message_id, inbound.channel, result.intent, result.confidence, result.language, result.action,
            extra={"ticket_id": result.ticket_id, "message_id": result.message_id, "intent": result.intent,
                   "action": result.action},
        )
        return result

    def _look_up_order(self, inbound: Inbound, prediction: Prediction) -> tuple[Inbound, LookupResult | None]:
        """The message's order: its `order_id` or a number in its text (kept as the message's order id), else —
        for an order-status question or a complaint — the customer's latest order. (inbound, None) without an
        order source or anything to look up."""
        if self.orders is None:
            return inbound, None
        number = inbound.order_id or self.orders.detect(inbound.text)
        if number and not inbound.order_id:
            inbound = replace(inbound, order_id=number[:128])
        wants_latest = prediction.intent in self.settings.order_lookup.status_intents or prediction.kind == "complaint"
        if not number and not wants_latest:
            return inbound, None
        email = inbound.customer.email or (inbound.customer.id if "@" in inbound.customer.id else None)
        query = OrderQuery(order_number=number, email=email, customer_id=inbound.customer.id)
        return inbound, self.orders.lookup_blocking(query)

    def _csat_answer(self, inbound: Inbound) -> IngestResult | None:
        """The message recorded as the answer to its conversation's open CSAT survey (bot/csat.py), or None."""
        try:
            return self.csat.answer(inbound)
        except IntegrityError:  # stored meanwhile by a concurrent redelivery
            existing = self._find_message(inbound.channel, inbound.channel_message_id)
            if existing is None:
                raise
            return self._duplicate(existing)

    def _find_message(self, channel: str, channel_message_id: str) -> Row[Any] | None:
        """The stored message's id, ticket and understanding (what a redelivery is answered with), or None."""
        with self.engine.connect() as connection:
            return connection.execute(_STORED_MESSAGE, {"channel": channel, "channel_message_id": channel_message_id}
                                      ).first()

    @staticmethod
    def _duplicate(message: Row[Any]) -> IngestResult:
        log.info("message %s redelivered: nothing to do", message.id, extra={"message_id": message.id})
        assert message.id is not None and message.ticket_id is not None
        return IngestResult(
            ticket_id=message.ticket_id,
            message_id=message.id,
            intent=message.intent or UNKNOWN_INTENT,
            confidence=float(message.confidence or 0.0),
            language=message.language,
            action="duplicate",
        )

    def _store(
        self, session: Session, inbound: Inbound, guess: LanguageGuess, language: str | None, prediction: Prediction,
        *, mood: SentimentScore | None = None, order: LookupResult | None = None,
    ) -> IngestResult:
        now = utcnow()
        conversation_id = inbound.conversation_id or inbound.customer.id
        customer = lock_customer(session, inbound.channel, inbound.customer, now)
        # A high-value customer's message is one severity step more urgent than its intent alone.
        intent_severity = prediction.severity
        tier = known_tier(customer, order.stats if order else None, self.settings.customers)
        prediction = replace(prediction, severity=raised_severity(prediction.severity, tier))
        # IntegrityError here: the message was stored meanwhile → duplicate
        filed = file_inbound(session, self.settings.sla, inbound, guess, language, prediction, now,
                             customer=customer, message_fields=sentiment_columns(mood))
        customer, ticket, message = filed.customer, filed.ticket, filed.message
        if order is not None and order.stats is not None:
            apply_stats(customer, order.stats, self.settings.customers)
            session.add(customer)
        if inbound.order_id and not ticket.order_id:
            ticket.order_id = inbound.order_id
        apply_sentiment(message, ticket, prediction.severity, mood, self.settings.sentiment, self.settings.sla, now)
        complaint_after_auto = not filed.opened and self._complaint_after_auto(session, ticket, prediction)
        assert message.id is not None and ticket.id is not None

        variables = self._variables(ticket, customer, inbound, order, language)
        candidate = self.composer.candidate(
            intent=prediction.intent, kind=prediction.kind, language=language, variables=variables,
            marketplace=inbound.marketplace, text=inbound.text,
        )
        decision = self.composer.decide(
            session, candidate, confidence=float(prediction.confidence), customer_language=language,
            can_deliver=self.reply_channels is None or inbound.channel in self.reply_channels,
            auto_replies_so_far=ticket.auto_replies, complaint_after_auto=complaint_after_auto,
            holds=self._order_holds(prediction.intent, order, now),
        )
        if decision.action == "auto_replied":
            self._auto_reply(session, ticket, inbound, conversation_id, message, decision, now)
        else:
            self._suggest(session, ticket, customer, inbound, message, language, guess, prediction, decision,
                          order=order, intent_severity=intent_severity)
        session.add(ticket)
        if decision.action == "auto_replied" and decision.candidate is not None:
            # Last before the commit: every auto-reply of an intent × language pair updates the pair's row, and
            # on PostgreSQL the row stays locked until commit, so concurrent replies of a pair queue on it.
            self.policy.record_auto_sent(session, decision.candidate.key, message.language)
        return IngestResult(
            ticket_id=ticket.id, message_id=message.id, intent=prediction.intent,
            confidence=float(prediction.confidence), language=language, action=decision.action,
        )

    def _complaint_after_auto(self, session: Session, ticket: Ticket, prediction: Prediction) -> bool:
        """A complaint right after an auto-reply: never auto-reply again here, and count it against the pair."""
        if prediction.kind != "complaint" or ticket.auto_replies == 0:
            return False
        last_out = session.scalars(
            select(Message).where(Message.ticket_id == ticket.id, Message.direction == "out")
            .order_by(Message.id.desc())  # type: ignore[union-attr]
        ).first()
        if last_out is None or last_out.author_kind != "bot" or not last_out.intent:
            return False
        change = self.policy.record_negative_after_auto(session, last_out.intent, last_out.language)
        if change is not None:
            self.announce_pair_change(session, change)
        return True

    def announce_pair_change(self, session: Session, change: PairChange) -> None:
        """Tell the team channel that an intent × language pair was promoted to or demoted from auto-reply."""
        verb = "now answered automatically" if change.new_mode == "auto" else "back to suggestions for agents"
        card = Card(kind="notice", title=f"Auto-reply: {change.intent} in {change.language} is {verb}",
                    body=f"{change.old_mode} → {change.new_mode}: {change.reason}.")
        triage = self.settings.triage
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        enqueue(session, dedup_key=f"notice:pair:{change.intent}.{change.language}:{stamp}", kind="card",
                channel=triage.channel, target=triage.target, payload=card_to_payload(card))

    # ---- auto-reply or suggest ---------------------------------------------------------------------------

    @staticmethod
    def _variables(ticket: Ticket, customer: Customer, inbound: Inbound, order: LookupResult | None = None,
                   language: str | None = None) -> dict[str, Any]:
        """Template variables; a found order adds `order` (its dates written the way `language` writes them)."""
        values = {
            "customer_name": customer.name, "order_id": inbound.order_id or ticket.order_id,
            "sku": inbound.sku or ticket.sku, "marketplace": inbound.marketplace or ticket.marketplace,
            "country": customer.country, "ticket_id": ticket.id,
        }
        return {k: v for k, v in values.items() if v is not None} | template_variables(order, language)

    def _order_holds(self, intent: str, order: LookupResult | None, now: datetime) -> tuple[str, ...]:
        """Why an order-status reply must wait for a person (the order was not found, or is stuck), if it must."""
        if intent not in self.settings.order_lookup.status_intents:
            return ()
        reason = hold_reason(order, now, self.settings.order_lookup.stuck_in_transit_days)
        return (reason,) if reason else ()

    def _auto_reply(
        self, session: Session, ticket: Ticket, inbound: Inbound, conversation_id: str, message: Message,
        decision: ReplyDecision, now: datetime,
    ) -> None:
        candidate = decision.candidate
        assert ticket.id is not None and decision.text is not None and candidate is not None
        reply = Reply(ticket_id=ticket.id, conversation_id=conversation_id, customer_id=inbound.customer.id,
                      text=decision.text, language=candidate.language, kind="auto_reply")
        # The bot message's intent is the policy pair's key, so a complaint that follows can be held against it.
        session.add(Message(
            ticket_id=ticket.id, channel=inbound.channel, direction="out", author_kind="bot", author="kefu",
            text=decision.text, language=candidate.language, intent=candidate.key, created_at=now,
        ))
        enqueue(session, dedup_key=f"reply:{message.id}", kind="reply", channel=inbound.channel,
                target=conversation_id, payload=asdict(reply), ticket_id=ticket.id)
        ticket.auto_replies += 1
        # Auto-replies are not a first response (that is a person's), but no person owes one either while the
        # ticket waits on the customer: the first-response clock stops, and restarts if the customer writes again.
        ticket.status = "pending"
        if ticket.first_response_at is None:
            ticket.first_response_due = None

    def _suggest(
        self, session: Session, ticket: Ticket, customer: Customer, inbound: Inbound, message: Message,
        language: str | None, guess: LanguageGuess, prediction: Prediction, decision: ReplyDecision,
        *, order: LookupResult | None = None, intent_severity: int | None = None,
    ) -> None:
        suggestion_id = None
        if decision.text is not None and decision.candidate is not None:
            assert ticket.id is not None and message.id is not None
            suggestion_id = self.policy.record_suggestion(
                session, ticket_id=ticket.id, message_id=message.id, intent=decision.candidate.key,
                language=language, mode=decision.mode, text=decision.text,
            ).id
        card = self._triage_card(ticket, customer, inbound, language, guess, prediction, decision, suggestion_id,
                                 order=order)
        card = replace(card, fields=card.fields + sentiment_fields(message, prediction.severity,
                                                                   self.settings.sentiment))
        card = self._with_order_and_profile(session, card, ticket, customer, order, intent_severity,
                                            prediction.severity)
        channel, target = team_route(self.settings, ticket)
        if ticket.card_channel and ticket.card_channel != channel:  # keep a conversation's cards together
            channel, target = ticket.card_channel, ""
        card = self.assigner.on_intake(session, ticket, card, channel, target)
        enqueue(session, dedup_key=f"card:{ticket.id}:{message.id}", kind="card", channel=channel,
                target=target, payload=card_to_payload(card), ticket_id=ticket.id)

    def _triage_card(
        self, ticket: Ticket, customer: Customer, inbound: Inbound, language: str | None, guess: LanguageGuess,
        prediction: Prediction, decision: ReplyDecision, suggestion_id: int | None,
        *, order: LookupResult | None = None,
    ) -> Card:
        assert ticket.id is not None
        intent_text = f"{prediction.intent} ({prediction.confidence:.2f})"
        if prediction.intent == UNKNOWN_INTENT:
            intent_text += f", best guess {prediction.best_guess}"
        elif prediction.runner_up:
            intent_text += f", runner-up {prediction.runner_up} ({prediction.runner_up_confidence or 0:.2f})"
        who = customer.name or inbound.customer.id
        if customer.country:
            who += f" ({customer.country})"
        fields = [
            CardField("Customer", who),
            CardField("Language", f"{language or 'unknown'} ({guess.confidence:.2f})"),
            CardField("Intent", intent_text),
            CardField("Severity", str(ticket.severity)),
            CardField("First response due", _iso(ticket.first_response_due)),
            CardField("Resolution due", _iso(ticket.resolution_due)),
            CardField("Channel", inbound.channel),
        ]
        for label, value in (("Marketplace", inbound.marketplace or ticket.marketplace),
                             ("Order", inbound.order_id or ticket.order_id), ("SKU", inbound.sku or ticket.sku)):
            if value:
                fields.append(CardField(label, value))
        candidate = decision.candidate
        suggested = decision.text
        if candidate is not None and candidate.text is None and candidate.missing:
            fields.append(CardField("Missing for the suggested reply", ", ".join(candidate.missing)))
        team_language = self.settings.replies.team_language
        other_language = candidate is not None and candidate.language.split("-")[0] != team_language.split("-")[0]
        if suggested and candidate is not None and other_language and candidate.source.startswith("template:"):
            in_team = self.composer.in_language(candidate.key, team_language,
                                                self._variables(ticket, customer, inbound, order, team_language),
                                                inbound.marketplace)
            if in_team:
                fields.append(CardField(f"Suggested reply ({team_language})", in_team))
        fields.append(CardField("Auto-reply", f"{decision.mode}: {decision.reason}"))
        return Card(
            kind="triage", title=f"Ticket #{ticket.id}: {ticket.intent} · severity {ticket.severity}",
            title_wording=ticket_title(ticket),
            body=inbound.text, severity=ticket.severity, fields=tuple(fields), suggested_reply=suggested,
            buttons=TRIAGE_BUTTONS + opening_buttons(ticket.intent), ticket_id=ticket.id, language=language,
            suggestion_id=suggestion_id,
            footer=None if suggested else "No suggested reply: write one with Edit.",
        )

    @staticmethod
    def _with_order_and_profile(session: Session, card: Card, ticket: Ticket, customer: Customer,
                                order: LookupResult | None,
                                intent_severity: int | None, severity: int) -> Card:
        """The card with the order's status line and the customer's profile (value tier, tags, notes); a
        high-value customer's card says so in its title."""
        fields = list(card.fields)
        order_line = card_text(order, utcnow())
        if order_line:
            fields.append(CardField("Order status", order_line))
        fields.extend(profile_fields(session, customer, intent_severity, severity))
        if customer.tier != "high":
            return replace(card, fields=tuple(fields))
        return replace(card, title=card.title + " · high-value customer", fields=tuple(fields),
                       title_wording=ticket_title(ticket, state="high_value"))

    # ---- agent replies -----------------------------------------------------------------------------------

    def record_agent_reply_sync(self, ticket_id: int, agent_name: str, text: str,
                                suggestion_id: int | None = None) -> Message:
        """Store an agent's reply on a ticket and queue it to the customer; the first one sets first_response_at.
        With `suggestion_id`, the reply answers that suggestion: sent unchanged (accepted) or edited, which the
        reply policy counts for shadow-mode promotion."""
        if not text.strip():
            raise ValueError("an agent reply needs text")
        now = utcnow()
        with session_scope(self.engine) as session:
            ticket = session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None:
                raise TicketNotFound(f"ticket {ticket_id} does not exist")
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            message = file_agent_message(session, self.settings.sla, ticket, agent_name, text, now)
            reply = Reply(ticket_id=ticket_id, conversation_id=ticket.conversation_id,
                          customer_id=customer.external_id, text=text, language=ticket.language, kind="agent_reply")
            enqueue(session, dedup_key=f"agent_reply:{message.id}", kind="reply", channel=ticket.channel,
                    target=ticket.conversation_id, payload=asdict(reply), ticket_id=ticket_id)
            if suggestion_id is not None:
                change = self.policy.record_outcome(session, suggestion_id, text, actor=f"agent:{agent_name}")
                if change is not None:
                    self.announce_pair_change(session, change)
        log.info("agent %s replied on ticket %s", agent_name, ticket_id,
                 extra={"ticket_id": ticket_id, "message_id": message.id})
        return message


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "—"
