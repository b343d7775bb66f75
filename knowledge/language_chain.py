"""Language codes for replies: normalising a customer's language tag and the fallback chain to try.

A tag such as ``pt_BR`` or ``zh-Hant-TW`` is normalised to lower case with ``-`` separators, then shortened one
subtag at a time (``pt-br`` → ``pt``), ending with the team's default language (and its own shorter forms).
Anything that is not a plausible BCP 47-style tag counts as "language unknown" and falls back to the default.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


def normalise_language(code: str | None) -> str | None:
    """``"pt_BR"`` → ``"pt-br"``; ``None``, blank or malformed tags → ``None``."""
    if code is None:
        return None
    tag = code.strip().lower().replace("_", "-")
    return tag if _TAG.fullmatch(tag) else None


def is_language_tag(code: str) -> bool:
    """Whether ``code`` (already normalised or not) is a usable language tag."""
    return normalise_language(code) is not None


def language_chain(language: str | None, default_language: str) -> list[str]:
    """The languages to try, most specific first: ``("pt-BR", "en")`` → ``["pt-br", "pt", "en"]``.

    ``default_language`` must be a valid tag (the caller validates configuration); an unknown or malformed
    ``language`` yields the default's chain only.
    """
    default = normalise_language(default_language)
    if default is None:
        raise ValueError(f"default_language {default_language!r} is not a language code such as 'en' or 'pt-BR'")
    chain: list[str] = []
    for tag in (normalise_language(language), default):
        if tag is None:
            continue
        parts = tag.split("-")
        for end in range(len(parts), 0, -1):
            candidate = "-".join(parts[:end])
            if candidate not in chain:
                chain.append(candidate)
    return chain
