"""Reading a satisfaction rating (1-5) out of a customer's answer, in any language.

`parse_rating(text)` understands what people type after "rate us from 1 to 5": a number ("5", "4/5", "8/10",
"4 stars", "4星", "4分", "五星"), stars ("⭐⭐⭐⭐", "★★★☆☆"), or a word from the vocabulary in intents/ratings.yaml
("très bien", "不满意", "muy malo", "sehr gut"), optionally followed by a comment ("2 - the parcel came late").
Anything else is not a rating (None): "2 items are missing" or "good morning, where is my parcel" are new
questions, not answers, so a number or a word counts only when it is the whole answer or is set off from the
comment by punctuation.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

MAX_COMMENT_CHARS = 2000
_FILLED_STARS = "⭐★🌟✭✮"
_EMPTY_STARS = "☆✩"
_CJK_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
# What may follow a number to make it a score: "/5", "of 5", "out of 5", "stars", "星", "分", "點"...
_SCALE = r"(?:\s*(?:/|of|out of|von|sur|de|su|em)\s*(?P<scale>5|10)\b)?"
_UNIT = r"(?:\s*(?:stars?|étoiles?|sterne?|estrellas?|estrelas?|stelle|点|分|星|颗星|顆星|つ星)\b)?"
_NUMBER = re.compile(rf"^(?P<n>10|[0-9])(?:[.,]0)?{_SCALE}{_UNIT}", re.IGNORECASE)
_CJK_NUMBER = re.compile(r"^(?P<n>[一二两三四五])(?:颗星|顆星|星|分|つ星)")
# A comment is set off by punctuation (or nothing follows at all).
_SEPARATOR = re.compile(r"^\s*(?:$|[-–—:;,.!?。，、！？)\]~]|\s+[-–—]\s)")
_QUOTES = "\"'“”‘’「」«»"
_LEADING = " \t\r\n\"'“”‘’「」«»([-–—:;,.!?。，、！？~"


@dataclass(frozen=True)
class Rating:
    score: int  # 1..5
    comment: str | None  # what the customer wrote after the rating, if anything


@lru_cache(maxsize=1)
def rating_words() -> tuple[tuple[str, int], ...]:
    """(phrase, score) from intents/ratings.yaml, longest phrase first."""
    text = importlib.resources.files("intents").joinpath("ratings.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    pairs = [(_fold(str(word)), int(score)) for score, words in data.items() for word in words]
    for word, score in pairs:
        if not 1 <= score <= 5 or not word:
            raise ValueError(f"intents/ratings.yaml: {word!r} has score {score}; scores are 1..5")
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def parse_rating(text: str) -> Rating | None:
    """The rating `text` gives, with its comment, or None when it is not a rating (see the module docstring)."""
    normal = unicodedata.normalize("NFKC", text).strip().strip(_QUOTES).strip()
    folded = normal.casefold()
    if not folded:
        return None
    for reader in (_stars, _number, _cjk_number, _word):
        found = reader(folded)
        if found is not None:
            score, rest, explicit = found
            # "4/5 fast delivery", "⭐⭐⭐⭐ fast", "4星 物流很快": an explicit rating may be followed by a space.
            if 1 <= score <= 5 and (_SEPARATOR.match(rest) or explicit and rest[:1].isspace()):
                # The comment as typed (case kept) when folding kept the length, as it nearly always does.
                original = normal[len(normal) - len(rest):] if len(folded) == len(normal) else rest
                return Rating(score, _comment(original))
    return None


def _stars(text: str) -> tuple[int, str, bool] | None:
    filled = 0
    index = 0
    while index < len(text) and (text[index] in _FILLED_STARS + _EMPTY_STARS or text[index] in " \ufe0f"):
        filled += text[index] in _FILLED_STARS
        index += 1
    if filled == 0:
        return None
    return min(filled, 5), text[index - (text[index - 1] == " "):], True


def _number(text: str) -> tuple[int, str, bool] | None:
    match = _NUMBER.match(text)
    if match is None:
        return None
    value = int(match.group("n"))
    if match.group("scale") == "10" or value == 10 and match.group("scale") is None:
        value = round(value / 2) if value else 0
    elif value > 5:
        return None
    explicit = match.group("scale") is not None or match.group(0).strip() != match.group("n")
    return value, text[match.end():], explicit


def _cjk_number(text: str) -> tuple[int, str, bool] | None:
    match = _CJK_NUMBER.match(text)
    if match is None:
        return None
    return _CJK_DIGITS[match.group("n")], text[match.end():], True


def _word(text: str) -> tuple[int, str, bool] | None:
    for word, score in rating_words():
        if text.startswith(word):
            rest = text[len(word):]
            # An ASCII word must end there ("ok" is not "okay, but"): CJK has no spaces, punctuation decides.
            if word[-1].isalnum() and word.isascii() and rest[:1].isalnum():
                continue
            return score, rest, False
    return None


def _comment(rest: str) -> str | None:
    comment = rest.strip().lstrip(_LEADING).strip()
    return comment[:MAX_COMMENT_CHARS] or None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()
