"""The neutral message types that cross between adapters and the core. No platform detail lives here.

Adapters turn platform payloads into `Inbound`, `Action`, `AlertAction` and `CommandRequest`; the core answers
with `Reply` (to a customer) and `Card` (to a team channel). Each team adapter renders a `Card` in its platform's
format.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.wording import Wording

IngestAction = Literal["auto_replied", "suggested", "duplicate", "csat_answered"]


@dataclass(frozen=True)
class CustomerInfo:
    id: str
    name: str | None = None
    language: str | None = None
    country: str | None = None
    email: str | None = None  # lets order sources find the customer's orders


@dataclass(frozen=True)
class Inbound:
    """A customer's message as a customer-channel adapter hands it to the pipeline."""

    channel: str  # adapter name: "webhook", "webchat", "wecom_kf", ...
    channel_message_id: str  # unique per channel: redeliveries carry the same id
    customer: CustomerInfo
    text: str
    conversation_id: str | None = None  # default: one conversation per customer
    sent_at: datetime | None = None
    order_id: str | None = None
    sku: str | None = None
    marketplace: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class IngestResult:
    ticket_id: int
    message_id: int
    intent: str
    confidence: float
    language: str | None
    action: IngestAction


@dataclass(frozen=True)
class Reply:
    """Text for a customer, sent through the customer's channel by the outbox."""

    ticket_id: int
    conversation_id: str
    customer_id: str
    text: str
    language: str | None
    # csat_survey: kefu asks for a 1-5 rating (bot/csat.py); csat_thanks: kefu thanks for one.
    kind: Literal["auto_reply", "agent_reply", "csat_survey", "csat_thanks"]


@dataclass(frozen=True)
class CardButton:
    action: str  # send | edit | assign | escalate | resolve | wrong_intent; alert_acknowledge | alert_silence_2h | ...
    label: str
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True)
class CardField:
    label: str
    value: str


@dataclass(frozen=True)
class Card:
    """A platform-neutral card for a team channel (triage item, SLA or metric alert, command answer)."""

    kind: Literal["triage", "sla_alert", "metric_alert", "notice", "answer"]
    title: str
    body: str = ""
    severity: int | None = None
    fields: tuple[CardField, ...] = ()
    suggested_reply: str | None = None
    buttons: tuple[CardButton, ...] = ()
    ticket_id: int | None = None
    footer: str | None = None
    language: str | None = None  # the customer's language, for translation into the team's
    suggestion_id: int | None = None  # the Suggestion row behind suggested_reply (shadow-mode bookkeeping)
    alert_id: int | None = None  # the metric Alert behind the card: its buttons are `AlertAction`s on it
    # Who the text calls on, per platform: ("@mei", "slack", "U0123") → the Slack card mentions <@U0123>; the
    # platform "*" with id "here" calls on everyone in the channel (an unassigned ticket's queue).
    mentions: tuple[tuple[str, str, str], ...] = ()
    # The title as a catalogue wording (bot/wording.py), so that a team platform writes it in its own language;
    # `title` is its English. None: the title is only in `title`.
    title_wording: Wording | None = None


def card_to_payload(card: Card) -> dict[str, Any]:
    """A card as the JSON-able dict stored in an outbox item's payload."""
    return asdict(card)


def card_from_payload(payload: dict[str, Any]) -> Card:
    """The card stored by `card_to_payload`, as team-channel senders rebuild it."""
    data = dict(payload)
    data["fields"] = tuple(CardField(**f) for f in data.get("fields", ()))
    data["buttons"] = tuple(CardButton(**b) for b in data.get("buttons", ()))
    data["mentions"] = tuple(tuple(m) for m in data.get("mentions", ()))
    wording = data.get("title_wording")
    data["title_wording"] = None if wording is None else _wording_from_payload(wording)
    return Card(**data)


def _wording_from_payload(data: dict[str, Any]) -> Wording:
    fields = {name: _wording_from_payload(value) if isinstance(value, dict) and set(value) == {"key", "fields"}
              else value for name, value in (data.get("fields") or {}).items()}
    return Wording(str(data["key"]), fields)


@dataclass(frozen=True)
class MessageRef:
    """Where a posted card lives on a team channel, so it can be updated in place."""

    channel: str
    ref: str


@dataclass(frozen=True)
class Action:
    """A button press or modal submission coming back from a team channel."""

    name: str
    ticket_id: int
    actor_platform: str
    actor_id: str
    values: dict[str, str] = field(default_factory=dict)
    actor_name: str | None = None  # the presser's display name on the platform: a new agent is named after it
    language: str = "en"  # of kefu's words in the result ("zh" from DingTalk and WeCom by default)


@dataclass(frozen=True)
class AlertAction:
    """A metric alert card's button pressed on a team channel (Acknowledge, Silence 2h, Show tickets): `name` is
    the button's action, `alert_id` the card's `Card.alert_id`."""

    name: str
    alert_id: int
    actor_platform: str
    actor_id: str
    actor_name: str | None = None
    language: str = "en"  # of kefu's words in the result ("zh" from DingTalk and WeCom by default)


@dataclass(frozen=True)
class CommandRequest:
    """A slash command typed on any platform, before parsing."""

    text: str  # e.g. "/metrics 7d by region"
    platform: str
    actor_id: str
    channel_id: str | None = None
    language: str = "en"  # of kefu's own words in the answer: "en", or "zh" (DingTalk and WeCom by default)
