"""Customer sentiment: scored sensibly on a multilingual test set written for the test (the real embedding model),
stored on every inbound message, shown on the triage card, raising a strongly negative ticket's priority, and a
metric alert rules can group by SKU."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.messages import CustomerInfo, Inbound, card_from_payload
from bot.metrics import compute_metrics
from bot.pipeline import Pipeline
from bot.settings import Settings
from intents.embedders import RecentEncodings
from intents.sentiment import LexiconSentiment, SentimentClassifier, SentimentScore
from models.db import utcnow
from models.tables import Message, OutboxItem, Ticket
from tests.csat.conftest import AlwaysOrderStatus, NoTemplates
from tests.sentiment.sentences import CLEAR_CASES


@pytest.fixture(scope="module")
def sentiment(use_embedder: Any) -> SentimentClassifier:
    return SentimentClassifier.fit(use_embedder)


def test_clear_cases_are_scored_right_in_every_language(sentiment: SentimentClassifier) -> None:
    scores = sentiment.score_batch([text for _, _, text in CLEAR_CASES])
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (language, expected, _text), score in zip(CLEAR_CASES, scores, strict=True):
        total[language] += 1
        right[language] += score.label == expected
    accuracy = sum(right.values()) / len(CLEAR_CASES)
    print(f"sentiment accuracy {accuracy:.3f} on {len(CLEAR_CASES)} clear cases:",
          {language: f"{right[language]}/{total[language]}" for language in total})
    assert accuracy >= 0.9
    assert all(right[language] / total[language] >= 0.66 for language in total)
    negative = [s for (_, expected, _), s in zip(CLEAR_CASES, scores, strict=True) if expected == "negative"]
    assert sum(s.score <= -0.8 for s in negative) / len(negative) >= 0.8  # clear anger reads as strongly negative


def test_the_lexicon_fallback_gets_the_obvious_ones() -> None:
    lexicon = LexiconSentiment()
    assert lexicon.score("Terrible service, I am so disappointed").label == "negative"
    assert lexicon.score("太差了，我要投诉").label == "negative"
    assert lexicon.score("Vielen Dank, alles perfekt").label == "positive"
    assert lexicon.score("Where is my order?").label == "neutral"
    right = sum(lexicon.score(text).label == expected for _, expected, text in CLEAR_CASES)
    assert right / len(CLEAR_CASES) >= 0.55


def test_the_recent_encodings_wrapper_encodes_a_message_once() -> None:
    calls: list[list[str]] = []

    class Counting:
        name, dim = "counting", 3

        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(list(texts))
            return np.ones((len(texts), 3), dtype=np.float32)

    recent = RecentEncodings(Counting())
    recent.encode(["hello"])
    recent.encode(["hello"])
    recent.encode(["hello", "bye"])
    assert calls == [["hello"], ["bye"]]


class FixedMood:
    name = "fixed"

    def __init__(self, moods: dict[str, float]) -> None:
        self.moods = moods

    def score(self, text: str) -> SentimentScore:
        value = self.moods.get(text, 0.0)
        label = "negative" if value < -0.3 else "positive" if value > 0.3 else "neutral"
        return SentimentScore(label, value, max(0.0, -value))


def _pipeline(engine: Engine, moods: dict[str, float], **settings: Any) -> Pipeline:
    return Pipeline(engine, AlwaysOrderStatus(), NoTemplates(), Settings(**settings), sentiment=FixedMood(moods))


def _write(pipeline: Pipeline, text: str, customer: str, sku: str | None = None) -> int:
    inbound = Inbound(channel="webhook", channel_message_id=f"{customer}-{text[:10]}", text=text,
                      customer=CustomerInfo(id=customer), sku=sku)
    return pipeline.ingest_sync(inbound).ticket_id


def test_a_strongly_negative_message_raises_the_priority_and_the_card_says_why(engine: Engine) -> None:
    angry, calm = "This is a scam, where is my parcel?!", "Where is my parcel?"
    pipeline = _pipeline(engine, {angry: -0.95, calm: 0.0})
    angry_ticket = _write(pipeline, angry, "c-1")
    calm_ticket = _write(pipeline, calm, "c-2")
    with Session(engine) as session:
        tickets = {t.id: t for t in session.exec(select(Ticket))}
        messages = {m.ticket_id: m for m in session.exec(select(Message))}
        cards = {i.ticket_id: card_from_payload(i.payload) for i in session.exec(select(OutboxItem))}
    assert tickets[angry_ticket].severity == 2 and tickets[calm_ticket].severity == 3
    created = tickets[angry_ticket].created_at
    assert tickets[angry_ticket].first_response_due == created + timedelta(hours=4)  # severity 2's target
    assert (messages[angry_ticket].sentiment, messages[angry_ticket].sentiment_score) == ("negative", -0.95)
    assert messages[calm_ticket].sentiment == "neutral"
    angry_fields = {f.label: f.value for f in cards[angry_ticket].fields}
    assert angry_fields["Sentiment"] == "negative (-0.95)"
    assert angry_fields["Priority"] == "raised from severity 3 to 2: the customer is strongly negative"
    assert cards[angry_ticket].title.endswith("severity 2")
    calm_fields = {f.label: f.value for f in cards[calm_ticket].fields}
    assert calm_fields["Sentiment"] == "neutral (+0.00)" and "Priority" not in calm_fields


def test_angry_messages_do_not_ratchet_and_the_raise_can_be_switched_off(engine: Engine) -> None:
    first, second = "Scam!!", "Still nothing, scam!!"
    pipeline = _pipeline(engine, {first: -0.9, second: -0.9})
    ticket_id = _write(pipeline, first, "c-1")
    _write(pipeline, second, "c-1")
    with Session(engine) as session:
        assert session.get(Ticket, ticket_id).severity == 2  # type: ignore[union-attr]
    quiet = _pipeline(engine, {"Rubbish!!": -0.99}, sentiment={"raise_priority": False})
    with Session(engine) as session:
        assert session.get(Ticket, _write(quiet, "Rubbish!!", "c-9")).severity == 3  # type: ignore[union-attr]


def test_negative_sentiment_share_by_sku(engine: Engine) -> None:
    pipeline = _pipeline(engine, {"awful": -0.9, "meh": -0.5, "thanks": 0.9, "where": 0.0})
    for customer, text, sku in (("a", "awful", "SKU-1"), ("b", "meh", "SKU-1"), ("c", "thanks", "SKU-1"),
                                ("d", "where", "SKU-2")):
        _write(pipeline, text, customer, sku)
    now = utcnow()
    report = compute_metrics(engine, now - timedelta(hours=1), now + timedelta(hours=1), group_by="sku",
                             names=["negative_sentiment_share"])
    assert report.row("SKU-1").values["negative_sentiment_share"] == pytest.approx(200 / 3)
    assert report.row("SKU-2").values["negative_sentiment_share"] == 0.0
    assert report.total.values["negative_sentiment_share"] == 50.0
    assert report.total.counts["sentiment_scored"] == 4
