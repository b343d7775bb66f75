"""Language tags and the fallback chain used to pick a reply template."""

import pytest

from knowledge.language_chain import language_chain, normalise_language


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pt-BR", "pt-br"),
        ("pt_BR", "pt-br"),
        (" ZH-tw ", "zh-tw"),
        ("en", "en"),
        ("", None),
        (None, None),
        ("english!", None),
        ("e", None),
        ("12", None),
    ],
)
def test_normalise_language(raw: str | None, expected: str | None) -> None:
    assert normalise_language(raw) == expected


@pytest.mark.parametrize(
    ("language", "default", "expected"),
    [
        ("pt-BR", "en", ["pt-br", "pt", "en"]),
        ("zh-TW", "en", ["zh-tw", "zh", "en"]),
        ("zh-Hant-TW", "en", ["zh-hant-tw", "zh-hant", "zh", "en"]),
        ("en-US", "en", ["en-us", "en"]),
        (None, "en", ["en"]),
        ("not a language", "en", ["en"]),
        ("de", "pt-BR", ["de", "pt-br", "pt"]),
    ],
)
def test_language_chain(language: str | None, default: str, expected: list[str]) -> None:
    assert language_chain(language, default) == expected


def test_invalid_default_language_is_named() -> None:
    with pytest.raises(ValueError, match="default_language 'english!'"):
        language_chain("de", "english!")
