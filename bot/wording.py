"""`Wording`: what the core says to a person, as a catalogue key and its fields, for answers in their language.

The core (bot/) writes its answers and refusals in English and never imports the phrase catalogue
(handlers/phrases.py), which belongs to the command and button front ends. Where a front end must write a core
message in another language, the core gives the message's `Wording` beside the English text; the front end looks
the key up in the catalogue under its own prefix ("after_sales.", "customer.error.", "money.") and writes the
fields in the asker's language. Written in English, a wording reads exactly as the core's message.

Where the core itself builds a text for a team channel (a card it enqueues), its caller in app/handlers/scheduler
hands it a `WordingWriter` (handlers.phrases.write_wording) that writes a wording in the channel's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Wording:
    """What an answer says, as a key and its fields (codes, ids, numbers, nested wordings), so that a front end
    can write it in the asker's language; the English text is always there too."""

    key: str
    fields: Mapping[str, object] = field(default_factory=dict)


class WordedError(ValueError):
    """A refusal of the core: str() is its English, `wording` its words for other languages (None where only the
    English exists)."""

    def __init__(self, message: str, wording: Wording | None = None) -> None:
        super().__init__(message)
        self.wording = wording


WordingWriter = Callable[[Wording, str], str]
"""Writes a `Wording` in a language ("en", "zh"): given to the core by the front ends, which own the catalogue."""
