"""Language detection of customer messages: ISO 639-1 code plus a confidence, offline, thread-safe.

Two steps. The script decides first: Hangul is Korean, kana Japanese, Han-only text Chinese, Thai script Thai,
Arabic script Arabic, Cyrillic Russian — whenever exactly one of the configured languages is written in the
text's script(s). Other text — in a script several configured languages share (the Latin alphabet: en, es, pt,
de, fr, it, nl, tr, pl, vi, id, sv), or mixing scripts ("请问 iPhone 15 什么时候到货") — goes to py3langid's naive
Bayes model over byte n-grams (its model ships inside the wheel), restricted to the languages of those scripts.
URLs, e-mail addresses and order numbers are removed first so that they do not pull a message towards English.
Text with no letters at all (empty, digits, emoji) has no language: code None, confidence 0. The confidence is
the model's probability among the candidate languages (temperature-scaled by py3langid, so that a lone word like
"ok" stays well below 0.5 and a full sentence comes near 1), or for a script-decided message the share of its
letters in that script.

Cost (kefu issue #12, measured in a fresh process with numpy loaded): loading the model takes about 1.2 s and
adds about 55 MB resident (39 MB of it the n-gram automaton, the same for any language set), then a call takes
about 0.04 ms; a `kefu serve` replica went from 597 MB to 326 MB. Loading unpacks the model through a 68 MB
temporary file in the temp folder, deleted at once. lingua's high-accuracy mode, used before, added about 300 MB.
Call `warm_up()` at start-up so that no customer message pays the load.

Accuracy on short utterances (MASSIVE test, 500 random utterances for each of its 11 default-set locales; 40
hand-written customer messages each for nl, sv, id, tr, pl, vi, th): 98.1% on MASSIVE (worst: es 95.6%), 96.1%
on the hand-written set (worst: sv and tr 92.5%, lone words such as "hej", "ja", "evet" being guesses), 99.8% on
500 English bitext customer-support messages; lingua high scored 97.4% (worst pt 92.8%) / 95.7% / 99.4% there.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier as NaiveBayes

# The main customer languages of cross-border e-commerce. Pass more codes to LanguageIdentifier to widen it.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "ja", "ko", "es", "pt", "de", "fr", "it", "nl", "ru", "ar", "tr", "pl", "vi", "th", "id", "sv",
)  # fmt: skip

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\w+"  # links and e-mail addresses
    r"|[#№]?\b(?=[A-Za-z-]*\d)[A-Za-z0-9-]{5,}\b"  # order / tracking numbers: 123-4567890, LX123456789CN
)

# The languages py3langid 0.4's shipped model knows (its labels but zxx, "no linguistic content"); pinned with it.
_MODELLED_CODES = (
    "af am an ar arz ary as az ba be bg bn br bs ca cs cy da de dz el en eo es et eu ext fa fi fo fr fy ga gcf gcr "
    "gd gl gom grc gu gug guw ha hbo he hi hr ht hu hy id ig is it ja jv ka kab kik kk km kn ko ku ky la lb lg lij "
    "ln lo lt ltg lv mg mk ml mn mr ms mt my ne nl nn no nso oc om or pa pcm pl ps pt qu ro ru rw sa sdh se si sk "
    "sl sn so sq sr st sv sw ta te tg th tk tl tr tt ug uk ur uz uzs vec vi vo wa wuu xh yo yue zh zu ace bcl crh "
    "fuv"
)
_MODELLED = frozenset(_MODELLED_CODES.split())

# The script each language is written in, for the languages whose script can decide alone. A language missing
# here (one py3langid knows but this table does not) is a candidate whatever the script of the text.
_LATIN = (
    "af an az br bs ca cs cy da de en eo es et eu fi fo fr fy ga gd gl ha hr ht hu id ig is it jv ku la lb lg ln "
    "lt lv mg ms mt nl nn no oc om pl pt qu ro rw se sk sl sn so sq st sv sw tk tl tr uz vi vo wa xh yo zu"
)
_CYRILLIC = "ba be bg kk ky mk mn ru sr tg tt uk"
_ARABIC = "ar arz ary fa ps sdh ug ur"
_DEVANAGARI = "hi mr ne sa gom"
_SCRIPT_OF_LANGUAGE: dict[str, str] = {
    **dict.fromkeys(_LATIN.split(), "latin"),
    **dict.fromkeys(_CYRILLIC.split(), "cyrillic"),
    **dict.fromkeys(_ARABIC.split(), "arabic"),
    **dict.fromkeys(_DEVANAGARI.split(), "devanagari"),
    "zh": "han", "yue": "han", "wuu": "han", "ja": "kana", "ko": "hangul", "th": "thai", "el": "greek",
    "he": "hebrew", "hy": "armenian", "ka": "georgian", "km": "khmer", "lo": "lao", "my": "myanmar",
}  # fmt: skip

# (first code point, last code point, script) of the letters the table above needs, in code point order.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"), (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"), (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"), (0x0E80, 0x0EFF, "lao"),
    (0x1000, 0x109F, "myanmar"), (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"),
    (0x1780, 0x17FF, "khmer"), (0x1E00, 0x1EFF, "latin"), (0x3040, 0x30FF, "kana"), (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"), (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"), (0xFF66, 0xFF9D, "kana"),
    (0x20000, 0x2FA1F, "han"),
)  # fmt: skip


def _script_of_letter(ch: str) -> str:
    point = ord(ch)
    for first, last, script in _SCRIPT_RANGES:
        if point < first:
            break
        if point <= last:
            return script
    return "other"


def _letters_by_script(text: str) -> dict[str, int]:
    """How many letters of `text` each script has; Han letters next to kana count as Japanese."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = _script_of_letter(ch)
            counts[script] = counts.get(script, 0) + 1
    if "kana" in counts and "han" in counts:
        counts["kana"] += counts.pop("han")
    return counts


@dataclass(frozen=True)
class LanguageGuess:
    """ISO 639-1 code ('es', 'zh'), None when the text has no letters; the detector's confidence 0..1."""

    code: str | None
    confidence: float


NO_LANGUAGE = LanguageGuess(code=None, confidence=0.0)


class LanguageIdentifier:
    """Detects the language of a text among a fixed set of languages; the n-gram model is loaded once."""

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES) -> None:
        codes = tuple(dict.fromkeys(code.strip().lower() for code in languages))
        if len(codes) < 2:
            raise ValueError(f"language detection needs at least two languages, got {list(codes)}")
        for code in codes:
            if code not in _MODELLED:
                raise ValueError(f"unknown ISO 639-1 language code {code!r}")
        self.languages = codes
        self._model: NaiveBayes | None = None
        self._lock = threading.Lock()
        # script -> the configured languages written in it; Han-only text is Chinese, or Japanese without Chinese
        by_script: dict[str, list[str]] = {}
        for code in codes:
            by_script.setdefault(_SCRIPT_OF_LANGUAGE.get(code, "any"), []).append(code)
        if "han" not in by_script and "kana" in by_script:
            by_script["han"] = by_script["kana"]
        self._by_script = {script: tuple(members) for script, members in by_script.items()}
        self._any_script = self._by_script.get("any", ())
        self._order = {code: rank for rank, code in enumerate(codes)}

    def _built(self) -> NaiveBayes:
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                model = self._model
        return model

    def _load(self) -> NaiveBayes:
        from py3langid.langid import MODEL_FILE
        from py3langid.langid import LanguageIdentifier as NaiveBayes

        full = NaiveBayes.from_model_file(MODEL_FILE, norm_probs=True)
        full.set_languages(list(self.languages))
        # A fresh identifier over only our columns, so that the all-language matrix (28 MB) is freed.
        return NaiveBayes(
            full.nb_ptc,
            full.nb_pc,
            full.nb_classes,
            full.tk_nextmove,
            full.tk_output,
            norm_probs=True,
            tk_row=full.tk_row,
        )

    def warm_up(self) -> None:
        """Load the model now (about a second) rather than on the first customer message."""
        self._built()
        for sample in ("Where is my parcel? ¿Dónde está?", "Где мой заказ?", "طلبي", "주문", "คำสั่ง"):
            self.detect(sample)

    def _candidates(self, letters: dict[str, int]) -> tuple[tuple[str, ...], float]:
        """The configured languages written in the scripts of the text (all of them when none is), in configured
        order, and the share of the text's letters in those scripts. A script alone decides only text in one
        script: "请问 iPhone 15 什么时候到货" is left to the model, which weighs the Han and the Latin n-grams."""
        members: set[str] = set()
        covered = 0
        for script, count in letters.items():
            if script in self._by_script:
                members.update(self._by_script[script])
                covered += count
        if not members:
            return self.languages, 1.0
        members.update(self._any_script)
        return tuple(code for code in self.languages if code in members), covered / sum(letters.values())

    def detect(self, text: str) -> LanguageGuess:
        """The most likely language of `text` with a confidence; short or mixed text gets a low one."""
        if not isinstance(text, str):
            raise TypeError(f"detect_language expects text (str), got {type(text).__name__}")
        cleaned = _NOISE.sub(" ", text)
        letters = _letters_by_script(cleaned)
        if not letters:
            cleaned = text  # nothing but a link or a code: look at what there is
            letters = _letters_by_script(cleaned)
            if not letters:
                return NO_LANGUAGE
        candidates, share = self._candidates(letters)
        if len(candidates) == 1:
            return LanguageGuess(code=candidates[0], confidence=share)
        allowed = set(candidates)
        scores = [(code, score) for code, score in self._built().rank(cleaned) if code in allowed]
        total = sum(score for _, score in scores)
        if not scores or total <= 0:
            return LanguageGuess(code=candidates[0], confidence=1 / len(candidates))
        # Best score first; a tie (a text without any n-gram the model knows) goes to the language listed first.
        code, score = min(scores, key=lambda item: (-item[1], self._order[item[0]]))
        return LanguageGuess(code=code, confidence=min(1.0, score / total))


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
