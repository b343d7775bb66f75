"""Customer sentiment: negative / neutral / positive for a message in any language, without the network.

Owns the sentiment model and its examples (intents/sentiment.yaml):

- `SentimentClassifier`: a small softmax head (intents.classifier.fit_softmax) on the sentence embeddings of the
  loaded multilingual model, trained at start-up on the examples (several languages; the embedding space is
  shared across languages, so a language with few examples still scores sensibly). `score(text)` gives the label,
  P(negative) and the signed score P(positive) − P(negative) in −1..1.
- `LexiconSentiment`: the fallback when no embedding model is loaded: counts the example file's mood words.

A message is *strongly negative* when P(negative) reaches the caller's threshold (settings `[sentiment]`); the
pipeline raises such a ticket's priority.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
import yaml

from intents.classifier import fit_softmax
from intents.embedders import Embedder

SENTIMENTS = ("negative", "neutral", "positive")
_FIT_STEPS = 300


@dataclass(frozen=True)
class SentimentScore:
    """The mood of one message: `label`, the signed `score` (−1 very negative … +1 very positive) and
    `negative`, the probability of the negative class (what "strongly negative" is measured on)."""

    label: str
    score: float
    negative: float


class SentimentScorer(Protocol):
    name: str

    def score(self, text: str) -> SentimentScore: ...


@lru_cache(maxsize=1)
def _example_file() -> dict[str, object]:
    text = importlib.resources.files("intents").joinpath("sentiment.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("intents/sentiment.yaml must be a mapping of moods")
    return data


def sentiment_examples() -> dict[str, list[str]]:
    """The shipped examples per mood, every language together."""
    data = _example_file()
    examples: dict[str, list[str]] = {}
    for mood in SENTIMENTS:
        by_language = data.get(mood)
        if not isinstance(by_language, dict):
            raise ValueError(f"intents/sentiment.yaml: {mood!r} must map languages to lists of messages")
        examples[mood] = [str(text) for texts in by_language.values() for text in texts]
    return examples


class SentimentClassifier:
    """The softmax head over embeddings; see the module docstring. Thread-safe for reading (immutable)."""

    def __init__(self, embedder: Embedder, weights: np.ndarray, bias: np.ndarray) -> None:
        self.embedder = embedder
        self.weights = weights
        self.bias = bias
        self.name = f"embedding-head:{embedder.name}"

    @classmethod
    def fit(cls, embedder: Embedder, examples: Mapping[str, Sequence[str]] | None = None,
            *, encoder: Embedder | None = None) -> SentimentClassifier:
        """Train on `examples` (default: the shipped ones). `encoder` encodes the examples (e.g. a disk-cached
        wrapper of `embedder`); messages are encoded with `embedder`."""
        examples = examples or sentiment_examples()
        texts: list[str] = []
        labels: list[int] = []
        for index, mood in enumerate(SENTIMENTS):
            mood_texts = list(examples.get(mood, ()))
            if not mood_texts:
                raise ValueError(f"sentiment examples: no example of {mood!r}")
            texts += mood_texts
            labels += [index] * len(mood_texts)
        vectors = (encoder or embedder).encode(texts).astype(np.float32)
        weights, bias = fit_softmax(vectors, np.asarray(labels), len(SENTIMENTS), steps=_FIT_STEPS)
        return cls(embedder, weights, bias)

    def score(self, text: str) -> SentimentScore:
        return self.score_vectors(self.embedder.encode([text]))[0]

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        return self.score_vectors(self.embedder.encode(list(texts))) if texts else []

    def score_vectors(self, vectors: np.ndarray) -> list[SentimentScore]:
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights + self.bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        return [_from_probabilities(row) for row in probabilities]


def _from_probabilities(row: np.ndarray) -> SentimentScore:
    negative, _neutral, positive = (float(p) for p in row)
    return SentimentScore(label=SENTIMENTS[int(np.argmax(row))], score=round(positive - negative, 4),
                          negative=round(negative, 4))


class LexiconSentiment:
    """Mood words counted in the message (the example file's `lexicon`): the fallback without an embedder."""

    name = "lexicon"

    def __init__(self, lexicon: Mapping[str, Sequence[str]] | None = None) -> None:
        if lexicon is None:
            raw = _example_file().get("lexicon")
            lexicon = raw if isinstance(raw, dict) else {}
        self.words = {mood: tuple(_fold(str(w)) for w in lexicon.get(mood, ())) for mood in ("negative", "positive")}

    def score(self, text: str) -> SentimentScore:
        folded = _fold(text)
        hits = {mood: sum(1 for word in words if _contains(folded, word)) for mood, words in self.words.items()}
        negative, positive = hits["negative"], hits["positive"]
        if negative == positive:
            return SentimentScore("neutral", 0.0, 0.0)
        total = negative + positive
        score = (positive - negative) / total
        # One angry word and nothing kind gives 0.67, two 0.8, three 0.86: more words, stronger.
        share = negative / (total + 0.5)
        return SentimentScore("negative" if negative > positive else "positive", round(score, 4), round(share, 4))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _contains(text: str, word: str) -> bool:
    if not word.isascii():  # CJK and other scripts: no spaces between words, and stems ("ужасн") match inside
        return word in text
    return re.search(rf"\b{re.escape(word)}", text) is not None
