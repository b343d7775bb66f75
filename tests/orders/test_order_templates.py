"""Order-aware reply templates: the shipped where-is-my-order replies tell the real status in each main language
and fall back to the general answer when no order is known; `order` fields are checked like other variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.templates import TemplateError, TemplateLibrary

SHIPPED = {"number": "#1042", "status": "shipped", "carrier": "YunExpress", "tracking_number": "YT2412345678901234",
           "tracking_url": "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234",
           "shipped_at": "3 Nov 2026", "items": ["2 × Ceramic mug"]}
SHIPPED_WORDS = {"en": "it shipped on 3 Nov 2026 with YunExpress", "de": "am 3 Nov 2026 mit YunExpress verschickt",
                 "es": "se envió el 3 Nov 2026 con YunExpress", "fr": "expédiée le 3 Nov 2026 avec YunExpress",
                 "it": "spedito il 3 Nov 2026 con YunExpress", "pt": "enviado em 3 Nov 2026 pela YunExpress",
                 "zh": "已于3 Nov 2026通过 YunExpress 发货", "ja": "3 Nov 2026にYunExpressにて発送済み"}


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary.load()


@pytest.mark.parametrize("language", sorted(SHIPPED_WORDS))
def test_a_shipped_order_is_told_with_carrier_date_and_link(library: TemplateLibrary, language: str) -> None:
    rendered = library.render("order_status", language, {"order": SHIPPED, "customer_name": "Ana"})
    assert rendered is not None and rendered.language == language and rendered.text is not None
    assert SHIPPED_WORDS[language] in rendered.text
    assert "#1042" in rendered.text
    assert rendered.text.endswith(SHIPPED["tracking_url"]) or SHIPPED["tracking_url"] in rendered.text


@pytest.mark.parametrize(("language", "words"), [
    ("en", "it was delivered on 6 Nov 2026"), ("de", "Sie wurde am 06.11.2026 zugestellt"),
    ("es", "se entregó el 06/11/2026"), ("fr", "elle a été livrée le 06/11/2026"), ("zh", "已于2026年11月6日送达"),
])
def test_a_delivered_order_says_when(library: TemplateLibrary, language: str, words: str) -> None:
    dates = {"en": "6 Nov 2026", "de": "06.11.2026", "es": "06/11/2026", "fr": "06/11/2026", "zh": "2026年11月6日"}
    order = {"number": "#7", "status": "delivered", "delivered_at": dates[language]}
    rendered = library.render("order_status", language, {"order": order})
    assert rendered is not None and rendered.text is not None and words in rendered.text


def test_a_tracking_number_without_a_link_is_given_as_a_number(library: TemplateLibrary) -> None:
    order = {"number": "#8", "status": "shipped", "tracking_number": "LP00123456789012"}
    rendered = library.render("order_status", "de", {"order": order})
    assert rendered is not None and rendered.text is not None
    assert rendered.text.endswith("Ihre Sendungsnummer lautet LP00123456789012.")


@pytest.mark.parametrize("language", ["en", "de", "es", "fr", "zh"])
def test_without_an_order_the_general_answer_is_given(library: TemplateLibrary, language: str) -> None:
    plain = library.render("order_status", language, {"order_id": "#1042"})
    assert plain is not None and plain.text is not None and plain.missing == ()
    assert "#1042" in plain.text
    assert "YunExpress" not in plain.text


def _library_with(tmp_path: Path, source: str) -> TemplateLibrary:
    (tmp_path / "order_status.en.j2").write_text(source, encoding="utf-8")
    return TemplateLibrary.load(tmp_path)


def test_an_unknown_order_field_is_refused_when_loading(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"unknown field order\.weight; order has: number, status"):
        _library_with(tmp_path, "Your parcel weighs {{ order.weight }}.")


def test_a_required_order_field_that_is_missing_is_named(tmp_path: Path) -> None:
    library = _library_with(tmp_path, "Shipped with {{ order.carrier }}: {{ order.tracking_url }}")
    rendered = library.render("order_status", "en", {"order": {"status": "shipped", "carrier": "DHL"}})
    assert rendered is not None and rendered.text is None
    assert rendered.missing == ("order.tracking_url",)
    nothing = library.render("order_status", "en", {})
    assert nothing is not None and nothing.missing == ("order.carrier", "order.tracking_url")


def test_items_are_listed_and_nothing_of_python_shows_through(tmp_path: Path) -> None:
    library = _library_with(tmp_path, "{{ order.items | join(', ') }}{% if order.status is defined %}!{% endif %}")
    rendered = library.render("order_status", "en", {"order": {"items": ["2 × Mug", "Towel"]}})
    assert rendered is not None and rendered.text == "2 × Mug, Towel"
