"""Language detection of customer messages: ISO 639-1 code plus a confidence, offline, thread-safe.

Backed by lingua (high-accuracy mode, models inside the wheel), restricted to the languages kefu's customers
write, built once on first use. Han-only text is Chinese and text with kana is Japanese (lingua decides those
by script). URLs, e-mail addresses and order numbers are removed first so that they do not pull a message
towards English. Text with no letters at all (empty, digits, emoji) has no language: code None, confidence 0.

Cost: the first call loads lingua's models (about 3 s and 300 MB for the 18 default languages; every extra
Latin-script language adds about 25 MB), then a call takes well under a millisecond. Call `warm_up()` at
start-up so that no customer message pays the load.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# The main customer languages of cross-border e-commerce. Pass more codes to LanguageIdentifier to widen it.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "ja", "ko", "es", "pt", "de", "fr", "it", "nl", "ru", "ar", "tr", "pl", "vi", "th", "id", "sv",
)  # fmt: skip

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\w+"  # links and e-mail addresses
    r"|[#№]?\b(?=[A-Za-z-]*\d)[A-Za-z0-9-]{5,}\b"  # order / tracking numbers: 123-4567890, LX123456789CN
)


@dataclass(frozen=True)
class LanguageGuess:
    """ISO 639-1 code ('es', 'zh'), None when the text has no letters; lingua's confidence 0..1."""

    code: str | None
    confidence: float


NO_LANGUAGE = LanguageGuess(code=None, confidence=0.0)


def _language_for(code: str) -> Language:
    try:
        iso = getattr(IsoCode639_1, code.upper())
    except AttributeError:
        raise ValueError(f"unknown ISO 639-1 language code {code!r}") from None
    return Language.from_iso_code_639_1(iso)


class LanguageIdentifier:
    """Detects the language of a text among a fixed set of languages; lingua's detector is built once."""

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES) -> None:
        codes = tuple(dict.fromkeys(code.strip().lower() for code in languages))
        if len(codes) < 2:
            raise ValueError(f"language detection needs at least two languages, got {list(codes)}")
        self.languages = codes
        self._lingua_languages = [_language_for(code) for code in codes]
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()

    def _built(self) -> LanguageDetector:
        detector = self._detector
        if detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = LanguageDetectorBuilder.from_languages(*self._lingua_languages).build()
                detector = self._detector
        return detector

    def warm_up(self) -> None:
        """Build the detector and load its models now (seconds) rather than on the first customer message."""
        for sample in ("Where is my parcel? ¿Dónde está?", "Где мой заказ?", "طلبي", "주문", "คำสั่ง"):
            self.detect(sample)

    def detect(self, text: str) -> LanguageGuess:
        """The most likely language of `text` with lingua's confidence; short or mixed text gets a low one."""
        if not isinstance(text, str):
            raise TypeError(f"detect_language expects text (str), got {type(text).__name__}")
        cleaned = _NOISE.sub(" ", text)
        if not any(ch.isalpha() for ch in cleaned):
            cleaned = text  # nothing but a link or a code: let lingua look at what there is
            if not any(ch.isalpha() for ch in cleaned):
                return NO_LANGUAGE
        values = self._built().compute_language_confidence_values(cleaned)
        if not values or values[0].value <= 0:
            return NO_LANGUAGE
        best = values[0]
        return LanguageGuess(code=best.language.iso_code_639_1.name.lower(), confidence=float(best.value))


_default: LanguageIdentifier | None = None
_default_lock = threading.Lock()


def default_identifier() -> LanguageIdentifier:
    """The shared identifier over DEFAULT_LANGUAGES (built on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = LanguageIdentifier()
    return _default


def detect_language(text: str) -> LanguageGuess:
    """The language of a customer message among DEFAULT_LANGUAGES; code None (confidence 0) for no letters."""
    return default_identifier().detect(text)
