"""What a customer's mood does to their ticket: the sentiment stored on the message, the priority raised for a
strongly negative one, and the triage card's fields that show and explain both.

The score comes from intents/sentiment.py (built once at start-up next to the intent classifier, bot/app.py). A
message scored at or below −`[sentiment] strong_negative` makes its ticket one severity step more urgent than the
message's intent alone would (severity 1 stays 1); the due times tighten from the message's time as they do for a
more severe follow-up, never later than they were. Repeated angry messages do not ratchet the ticket further:
the step is measured from the message's own severity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.intake import due_times
from bot.messages import CardField
from bot.settings import SentimentSettings, SlaSettings

if TYPE_CHECKING:
    from datetime import datetime

    from intents.sentiment import SentimentScore
    from models.tables import Message, Ticket


def strongly_negative(score: float | None, settings: SentimentSettings) -> bool:
    return score is not None and score <= -settings.strong_negative


def sentiment_columns(mood: SentimentScore | None) -> dict[str, Any]:
    """The inbound message row's sentiment columns for `mood` (none when not scored): written with the row."""
    return {} if mood is None else {"sentiment": mood.label, "sentiment_score": mood.score}


def apply_sentiment(message: Message, ticket: Ticket, message_severity: int, mood: SentimentScore | None,
                    settings: SentimentSettings, sla: SlaSettings, at: datetime) -> bool:
    """Store `mood` on the inbound `message` and raise `ticket`'s priority when it is strongly negative; True when
    the severity changed."""
    if mood is None:
        return False
    message.sentiment, message.sentiment_score = mood.label, mood.score
    if not settings.raise_priority or not strongly_negative(mood.score, settings):
        return False
    raised = max(1, message_severity - 1)
    if raised >= ticket.severity:
        return False
    first_due, resolution_due = due_times(sla, raised, at, ticket.channel, ticket.marketplace)
    ticket.severity = raised
    if ticket.first_response_at is None:
        ticket.first_response_due = min(d for d in (ticket.first_response_due, first_due) if d is not None)
    ticket.resolution_due = min(d for d in (ticket.resolution_due, resolution_due) if d is not None)
    return True


def sentiment_fields(message: Message, message_severity: int, settings: SentimentSettings) -> tuple[CardField, ...]:
    """The triage card's Sentiment field, and a Priority field explaining a raise (or why there was none)."""
    if message.sentiment is None or message.sentiment_score is None:
        return ()
    fields = [CardField("Sentiment", f"{message.sentiment} ({message.sentiment_score:+.2f})")]
    if strongly_negative(message.sentiment_score, settings) and settings.raise_priority:
        if message_severity > 1:
            fields.append(CardField("Priority", f"raised from severity {message_severity} to "
                                                f"{message_severity - 1}: the customer is strongly negative"))
        else:
            fields.append(CardField("Priority", "strongly negative customer; severity 1 is already the most urgent"))
    return tuple(fields)
