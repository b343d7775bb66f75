"""The sqlmodel tables: customers, tickets and their messages, agents, feedback, CSAT, alerts, the outbox, audit.

Every datetime column is `UtcDateTime` (aware UTC in Python, naive UTC in the database). Enumerations are kept as
short strings (checked by the code that writes them) so that SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.db import UtcDateTime, utcnow


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False, index=True)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


TICKET_STATUSES = ("new", "open", "pending", "resolved")
INTENT_KINDS = ("faq", "complaint", "other")
AUTHOR_KINDS = ("customer", "agent", "bot")
OUTBOX_STATUSES = ("pending", "sent", "failed")


class Customer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_customer_channel_external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16)
    country: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    tier: str | None = Field(default=None, max_length=32)
    created_at: datetime = _created()
    # The profile (bot/customer_profiles.py): what order sources say about the customer's purchases (the orders
    # count, the lifetime value in hundredths of `currency`, the last order's time, when that was learnt), and the
    # team's tags. `tier` is the value tier computed from them: high | regular | new (None: no order source knew).
    email: str | None = Field(default=None, max_length=255, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    orders_count: int | None = Field(default=None)
    lifetime_value_cents: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    last_order_at: datetime | None = _utc()
    profile_updated_at: datetime | None = _utc()


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    role: str = Field(default="agent", max_length=16)  # agent | manager
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # platform name -> that platform's user id, e.g. {"slack": "U123", "dingtalk": "manager4220"}
    identities: dict[str, str] = _json()
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    created_at: datetime = _created()
    # Assignment (bot/assignment): intents or queue names the agent handles (empty: any), the weekly shift
    # calendar as written ("mon-fri 09:00-18:00 Asia/Shanghai"; None: on shift only when started by hand), how many
    # open tickets they may hold (None: no limit), and whether high-value customers may go to them.
    skills: list[str] = Field(default_factory=list,
                              sa_column=Column(JSON, nullable=False, server_default="[]"))
    shift: str | None = Field(default=None, max_length=255)
    capacity: int | None = Field(default=None)
    senior: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A shift started or stopped by hand (/shift start|stop): "on" or "off" until `shift_override_until`
    # (None: until changed again), set at `shift_override_at`; afterwards the calendar rules again.
    shift_override: str | None = Field(default=None, max_length=8)
    shift_override_at: datetime | None = _utc()
    shift_override_until: datetime | None = _utc()


class Ticket(SQLModel, table=True):
    __table_args__ = (Index("ix_ticket_conversation", "channel", "conversation_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = Field(max_length=32)
    conversation_id: str = Field(max_length=255)
    status: str = Field(default="new", max_length=16, index=True)
    intent: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    severity: int = Field(default=3)
    confidence: float = Field(default=0.0)
    language: str | None = Field(default=None, max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    # When the current assignee got the ticket (bot/assignment: fairness, and moving tickets of an agent who went
    # off shift after getting them).
    assigned_at: datetime | None = _utc()
    order_id: str | None = Field(default=None, max_length=128)
    sku: str | None = Field(default=None, max_length=128)
    marketplace: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=8)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    first_response_at: datetime | None = _utc()
    # Indexed for the backlog metric (bot.metrics): open tickets are found by `resolved_at IS NULL OR >= end`.
    resolved_at: datetime | None = _utc(index=True)
    first_response_due: datetime | None = _utc(index=True)
    resolution_due: datetime | None = _utc(index=True)
    auto_replies: int = Field(default=0)
    # Where the ticket's triage card lives on the team channel, so it can be updated in place.
    card_channel: str | None = Field(default=None, max_length=32)
    card_ref: str | None = Field(default=None, max_length=255)
    # Set by the SLA watch while the ticket is pending and its policy pauses the resolution clock.
    resolution_paused_at: datetime | None = _utc()
    # Working time (the calendar of the ticket's SLA policy) from creation to the first response and to the
    # resolution, whole seconds, recorded with first_response_at / resolved_at (bot/sla_clock.py stamps them).
    first_response_business_seconds: int | None = Field(default=None)
    resolution_business_seconds: int | None = Field(default=None)
    # When `kefu import history` opened the ticket (None: it came in live). Its SLA clocks that ran out before then
    # are history: counted by the metrics, never alerted on (bot/sla_clock.py).
    imported_at: datetime | None = _utc()


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_message_channel_message_id"),
        # The messages of a time window (metrics: agent messages and inbound messages per ticket, sentiment), read
        # from the index alone; its first column serves every other created_at range.
        Index("ix_message_window", "created_at", "direction", "author_kind", "ticket_id", "sentiment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=32)
    channel_message_id: str | None = Field(default=None, max_length=255)
    direction: str = Field(max_length=8)  # in | out
    author_kind: str = Field(max_length=16)  # customer | agent | bot
    author: str | None = Field(default=None, max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=16)
    language_confidence: float | None = Field(default=None)
    intent: str | None = Field(default=None, max_length=64)
    confidence: float | None = Field(default=None)
    sent_at: datetime | None = _utc()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)  # ix_message_window
    # The customer's mood in an inbound message (intents/sentiment.py): negative | neutral | positive, and the
    # signed score P(positive) - P(negative) in -1..1. None: not scored (outbound, imported, no model).
    sentiment: str | None = Field(default=None, max_length=16)
    sentiment_score: float | None = Field(default=None)


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    predicted_intent: str = Field(max_length=64)
    corrected_intent: str = Field(max_length=64)
    created_at: datetime = _created()


class IntentExample(SQLModel, table=True):
    """An example learnt at run time (from agents' corrections): merged into the catalogue the classifier uses."""

    __table_args__ = (UniqueConstraint("intent", "text", name="uq_intent_example"),)

    id: int | None = Field(default=None, primary_key=True)
    intent: str = Field(max_length=64, index=True)
    text: str = Field(max_length=2000)
    source: str = Field(default="feedback", max_length=32)
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id")
    created_at: datetime = _created()


class CsatResponse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    score: int  # 1..5
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _created()
    # The survey it answers and the customer's message that carried the answer (None: recorded otherwise).
    survey_id: int | None = Field(default=None, index=True)
    message_id: int | None = Field(default=None)


class Alert(SQLModel, table=True):
    __table_args__ = (Index("ix_alert_rule_group_state", "rule", "group_key", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=128)
    group_key: str = Field(default="", max_length=255)
    level: str = Field(max_length=16)  # warning | critical
    state: str = Field(default="firing", max_length=16)  # pending | firing | resolved
    value: float | None = Field(default=None)
    details: dict[str, Any] = _json()
    started_at: datetime = _created()
    notified_at: datetime | None = _utc()
    resolved_at: datetime | None = _utc()
    card_channel: str | None = Field(default=None, max_length=32)
    card_ref: str | None = Field(default=None, max_length=255)
    # Who acknowledged the alert from its card (an agent's name) and when: no repeat notifications until it
    # escalates to critical, which clears both.
    acknowledged_by: str | None = Field(default=None, max_length=128)
    acknowledged_at: datetime | None = _utc()


class Silence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    matchers: dict[str, str] = _json()  # e.g. {"rule": "first_response_slow", "channel": "slack"}
    starts_at: datetime = _created()
    ends_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)
    created_by: str | None = Field(default=None, max_length=128)
    comment: str | None = Field(default=None, max_length=1000)


class OutboxItem(SQLModel, table=True):
    """Outbound work (a reply, a card, a card update, an alert) waiting to be sent by the outbox worker.

    `dedup_key` is unique: writing the same outbound work twice (a redelivered inbound, a second replica)
    finds the existing row instead of sending twice.
    """

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=32)  # reply | card | card_update | alert
    channel: str = Field(max_length=32, index=True)  # the adapter that sends it
    target: str = Field(default="", max_length=255)  # conversation or team channel id
    payload: dict[str, Any] = _json()
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _created()
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_until: datetime | None = _utc()
    last_error: str | None = Field(default=None, max_length=2000)
    result_ref: str | None = Field(default=None, max_length=255)
    created_at: datetime = _created()
    sent_at: datetime | None = _utc()


Index("ix_outbox_due", OutboxItem.status, OutboxItem.next_attempt_at)  # type: ignore[arg-type]


class SlaNotice(SQLModel, table=True):
    """One SLA notification of a ticket: (ticket, clock, stage) is unique, so each is posted once across replicas.

    clock: first_response | resolution; stage: warning | breach | escalation, and <stage>_outcome for the in-place
    update once the clock stops. The row is inserted in the same transaction as its outbox item; `outbox_item_id`
    is the card posted (or the update queued).
    """

    __table_args__ = (UniqueConstraint("ticket_id", "clock", "stage", name="uq_sla_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    clock: str = Field(max_length=16)
    stage: str = Field(max_length=24)
    due_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    outbox_item_id: int | None = Field(default=None, foreign_key="outboxitem.id")
    created_at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    actor: str = Field(max_length=128)  # "system", "agent:3", "outbox", ...
    action: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=64)
    details: dict[str, Any] = _json()


class DeliveryReceipt(SQLModel, table=True):
    """A team platform's event as first received (Slack event_id, a DingTalk message id...): a redelivery finds
    its receipt and is not processed twice."""

    __table_args__ = (UniqueConstraint("platform", "delivery_id", name="uq_delivery_receipt"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    delivery_id: str = Field(max_length=255)
    received_at: datetime = _created()


class FaqArticle(SQLModel, table=True):
    """An FAQ entry as imported with `kefu knowledge import`: question variants and an answer per language."""

    id: str = Field(primary_key=True, max_length=64)
    intent: str | None = Field(default=None, max_length=64)
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answers: dict[str, str] = _json()
    updated_at: datetime = _created()


class Suggestion(SQLModel, table=True):
    """A reply kefu suggested to agents, and what became of it (the evidence for shadow-mode promotion)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    intent: str = Field(max_length=64)
    language: str = Field(max_length=16)
    mode: str = Field(max_length=16)  # the pair's mode when suggested: suggest | shadow | auto (blocked auto)
    text: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str = Field(default="pending", max_length=16)  # pending | accepted | edited | rejected
    decided_at: datetime | None = _utc()
    created_at: datetime = _created()


class ReplyPair(SQLModel, table=True):
    """The learnt auto-reply state of one intent × language pair (shadow → auto promotion, demotion)."""

    __table_args__ = (UniqueConstraint("intent", "language", name="uq_reply_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    intent: str = Field(max_length=64)
    language: str = Field(max_length=16)
    mode: str = Field(max_length=16)  # shadow | auto | suggest (demoted)
    accepted: int = Field(default=0)
    edited: int = Field(default=0)
    rejected: int = Field(default=0)
    auto_sent: int = Field(default=0)
    negative_after_auto: int = Field(default=0)
    changed_at: datetime = _created()


class DailyOrders(SQLModel, table=True):
    """Orders placed on one day (the shop's calendar date) in one marketplace and country, as the shop reports them
    through `POST /api/v1/orders/daily`; metrics divide by them to give rates per 1,000 orders."""

    __table_args__ = (UniqueConstraint("date", "marketplace", "country", name="uq_daily_orders"),)

    id: int | None = Field(default=None, primary_key=True)
    date: date_type = Field(index=True)
    marketplace: str = Field(max_length=64)
    country: str = Field(max_length=8)
    orders: int = Field(ge=0)
    updated_at: datetime = _created()


class ChannelCursor(SQLModel, table=True):
    """How far kefu has read a customer channel that it pulls from (微信客服's `kf/sync_msg` cursor per open_kfid):
    saved after each page is ingested, so a restart neither re-reads nor skips messages.

    One replica pulls at a time: it claims the row (`claimed_by` until `claimed_until`, renewed while it reads) and
    only the claimant saves the cursor, so the cursor never goes back. A pull asked for meanwhile (another replica's
    callback) sets `pull_again` with its callback's `pull_token`, and the claimant reads once more before letting go.
    """

    __table_args__ = (UniqueConstraint("channel", "key", name="uq_channel_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    key: str = Field(max_length=128)
    cursor: str = Field(default="", max_length=255)
    updated_at: datetime = _created()
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_until: datetime | None = _utc()
    pull_again: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    pull_token: str | None = Field(default=None, max_length=255)


class RateWindow(SQLModel, table=True):
    """The recent events of one key in a sliding window that every replica counts against (bot/shared_windows.py):
    the posts of a robot webhook in its last minute (scope "dingtalk_robot", "wecom_robot"), the failed console
    logins of an address and name (scope "console_login"). `events` are the events' times in Unix seconds, oldest
    first, never more than the window's limit; a replica locks the row while it counts and adds to it."""

    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_rate_window"),
        Index("ix_rate_window_stale", "scope", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=32)
    key: str = Field(max_length=255)
    events: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class CardUpdateCode(SQLModel, table=True):
    """A one-time code a team platform gave for updating one card in place (WeCom's template card `response_code`:
    one from posting the card, one from each click on it, each good for one update). Whichever replica receives a
    code keeps it here, whichever replica sends the card's update spends it (`spent_at`), newest unspent first."""

    __table_args__ = (
        UniqueConstraint("channel", "code", name="uq_card_update_code"),
        Index("ix_card_update_code_card", "channel", "card_key", "spent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    card_key: str = Field(max_length=128)  # the card's own id on the platform (WeCom's task_id)
    code: str = Field(max_length=255)
    received_at: datetime = _created()
    spent_at: datetime | None = _utc()


class CsatSurvey(SQLModel, table=True):
    """The satisfaction survey of one resolved ticket (bot/csat.py): at most one per ticket, asked once.

    status: scheduled (due at `due_at`) → asked (the question is in the outbox, `asked_at`) → answered
    (`answered_at`, a CsatResponse) or expired (no rating within the survey window); skipped: not asked, because
    the customer wrote again before it was due. (channel, conversation_id) is where the answer arrives.
    """

    __table_args__ = (
        UniqueConstraint("ticket_id", name="uq_csat_survey_ticket"),
        Index("ix_csat_survey_conversation", "channel", "conversation_id", "status"),
        Index("ix_csat_survey_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    channel: str = Field(max_length=32)
    conversation_id: str = Field(max_length=255)
    customer_id: str = Field(max_length=255)  # the customer's id on the channel
    language: str | None = Field(default=None, max_length=16)
    status: str = Field(default="scheduled", max_length=16)
    due_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    asked_at: datetime | None = _utc()
    answered_at: datetime | None = _utc()
    # Set when a low rating opened the follow-up card for the agent's lead.
    follow_up_at: datetime | None = _utc()
    resolved_by: str | None = Field(default=None, max_length=128)  # "agent:3", "auto" (quiet period), ...
    created_at: datetime = _created()


class AfterSalesRequest(SQLModel, table=True):
    """A return, refund, exchange or reship attached to a ticket (bot/after_sales owns the flow).

    status: requested → approved | rejected → item_received → refunded | reshipped → closed (which steps a type
    takes: bot/after_sales/flow.py); `status_changed_at` is when it entered its status (overdue reminders), and each
    step's own time is kept for the metrics. The amount is exact: `amount_minor` units of `currency`'s minor unit
    (2500 EUR = 25.00 EUR); `reporting_cents` is the same in hundredths of the reporting currency, converted when
    the request was opened (None when no rate was configured). SKU, marketplace and country are the ticket's when
    it was opened. Who did each step is in the AuditEvents of subject "after_sales_request".
    """

    __table_args__ = (Index("ix_aftersalesrequest_status_changed", "status", "status_changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    type: str = Field(max_length=16)  # return | refund | exchange | reship
    status: str = Field(default="requested", max_length=16)
    reason: str = Field(max_length=32)  # damaged | wrong_item | not_received | changed_mind | defective | late | other
    reason_source: str = Field(default="intent", max_length=16)  # intent | agent
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    reporting_cents: int | None = Field(default=None, sa_type=BigInteger)
    note: str | None = Field(default=None, sa_column=Column(Text))
    sku: str | None = Field(default=None, max_length=128)
    marketplace: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=8)
    opened_by: str = Field(max_length=128)
    created_at: datetime = _created()
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)
    decided_at: datetime | None = _utc()
    item_received_at: datetime | None = _utc()
    refunded_at: datetime | None = _utc()
    reshipped_at: datetime | None = _utc()
    closed_at: datetime | None = _utc()


class CustomerNote(SQLModel, table=True):
    """A note an agent left on a customer's profile (`/customer ID note "..."`), shown on the customer's cards."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    author: str = Field(max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _created()
