"""Reply templates: fallback, marketplace variants, missing variables, safety, and the shipped set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from knowledge.templates import (
    MAX_TEMPLATE_BYTES,
    RenderedReply,
    TemplateError,
    TemplateLibrary,
    shipped_templates_dir,
)

FAQ = [
    "order_status",
    "shipping_time",
    "return_policy",
    "customs_duties",
    "sizing",
    "address_change",
    "cancel_order",
    "discount_code",
    "payment_failed",
    "invoice_request",
    "refund_status",
    "product_question",
]
COMPLAINTS = ["item_not_received", "double_charged", "damaged_item", "wrong_item", "service_complaint"]
OTHER = ["greeting", "thanks", "human_agent"]
SHIPPED_LANGUAGES = {"en", "zh", "es", "de", "fr", "ja", "pt", "it"}
ALL_VARIABLES = {
    "customer_name": "Maria",
    "order_id": "A1001",
    "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://track.example/1Z999AA10123456784",
    "carrier": "DHL",
    "sku": "TS-RED-M",
    "marketplace": "Amazon",
    "agent_name": "Lena",
    "store_name": "Lotus Home",
    "sla_promise": "24h",
}


@pytest.fixture(scope="module")
def shipped() -> TemplateLibrary:
    return TemplateLibrary.load()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def only(folder: Path, **kwargs: str) -> TemplateLibrary:
    return TemplateLibrary.load(folder, include_shipped=False, **kwargs)


# --- fallback and lookup -------------------------------------------------------------------------------------


def test_fallback_chain_normalises_and_ends_with_default(shipped: TemplateLibrary) -> None:
    assert shipped.fallback_chain("pt-BR") == ["pt-br", "pt", "en"]
    assert shipped.fallback_chain("zh_TW") == ["zh-tw", "zh", "en"]
    assert shipped.fallback_chain(None) == ["en"]


def test_regional_language_falls_back_to_base_language(shipped: TemplateLibrary) -> None:
    reply = shipped.render("order_status", "pt-BR", {"order_id": "A1001"})
    assert reply is not None
    assert (reply.language, reply.template) == ("pt", "order_status.pt.j2")
    assert "A1001" in reply.text and reply.text.startswith("Olá")


@pytest.mark.parametrize("language", ["sw", "xx-YY", None, "??"])
def test_unknown_language_falls_back_to_english(shipped: TemplateLibrary, language: str | None) -> None:
    reply = shipped.render("shipping_time", language, {})
    assert reply is not None
    assert (reply.language, reply.template) == ("en", "shipping_time.en.j2")
    assert reply.text.startswith("Hi, thanks for your question about delivery times.")


def test_configured_default_language_is_the_last_resort(tmp_path: Path) -> None:
    write(tmp_path, "greeting.de.j2", "Hallo!")
    write(tmp_path, "greeting.en.j2", "Hello!")
    library = only(tmp_path, default_language="de")
    assert library.fallback_chain("sw") == ["sw", "de"]
    reply = library.render("greeting", "sw", {})
    assert reply is not None and reply.text == "Hallo!"


def test_invalid_default_language_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="default_language"):
        only(tmp_path, default_language="English please")


def test_no_template_for_intent_gives_none(shipped: TemplateLibrary) -> None:
    assert shipped.render("no_such_intent", "en", {}) is None
    assert shipped.find("no_such_intent", "de") is None
    assert not shipped.has_template("no_such_intent", "de")


def test_marketplace_variant_wins_in_the_same_language(tmp_path: Path) -> None:
    write(tmp_path, "return_policy.en.j2", "Reply with your order number.")
    write(tmp_path, "return_policy.en.amazon.j2", "Start the return from Your Orders on Amazon.")
    write(tmp_path, "return_policy.de.j2", "Bitte antworten Sie mit Ihrer Bestellnummer.")
    library = only(tmp_path)
    assert library.find("return_policy", "en", "Amazon") == "return_policy.en.amazon.j2"
    assert library.render("return_policy", "en-GB", {}, marketplace="AMAZON").text.startswith("Start the return")
    assert library.find("return_policy", "en", "ebay") == "return_policy.en.j2"
    assert library.find("return_policy", "en", None) == "return_policy.en.j2"
    # the customer's own language beats a marketplace variant in a fallback language
    assert library.find("return_policy", "de", "amazon") == "return_policy.de.j2"
    assert library.marketplaces("return_policy") == {"amazon"}
    assert library.languages("return_policy") == {"en", "de"}


def test_user_folder_overrides_shipped_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "order_status.en.j2",
        "Hi{% if customer_name is defined %} {{ customer_name }}{% endif %}, Lotus Home here: we are on it.",
    )
    library = TemplateLibrary.load(tmp_path)
    assert (
        library.render("order_status", "en", {"customer_name": "Ana"}).text == "Hi Ana, Lotus Home here: we are on it."
    )
    assert library.render("order_status", "de", {}).template == "order_status.de.j2"  # others still shipped
    assert TemplateLibrary.load(None, tmp_path, None).find("thanks", "ja") == "thanks.ja.j2"


def test_later_folder_overrides_earlier_and_language_case_does_not_matter(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write(first, "thanks.pt-BR.j2", "Valeu!")
    write(second, "thanks.pt_br.j2", "Nós que agradecemos!")
    library = TemplateLibrary.load(first, second, include_shipped=False)
    reply = library.render("thanks", "pt-BR", {})
    assert (reply.text, reply.language, reply.template) == ("Nós que agradecemos!", "pt-br", "thanks.pt_br.j2")


# --- variables -----------------------------------------------------------------------------------------------


def test_all_missing_variables_are_reported_and_text_is_none(tmp_path: Path) -> None:
    write(
        tmp_path,
        "item_not_received.en.j2",
        "Hi{% if customer_name is defined %} {{ customer_name }}{% endif %}, order {{ order_id }} "
        "with {{ carrier }} ({{ tracking_number }}) for {{ sku }}.",
    )
    library = only(tmp_path)
    reply = library.render("item_not_received", "en", {"sku": "S1", "customer_name": None, "carrier": "  "})
    assert reply == RenderedReply(
        intent="item_not_received",
        language="en",
        template="item_not_received.en.j2",
        text=None,
        missing=("carrier", "order_id", "tracking_number"),
    )
    full = library.render(
        "item_not_received",
        "en",
        {"sku": "S1", "order_id": 7, "carrier": "UPS", "tracking_number": "T9", "unrelated": "ignored"},
    )
    assert full.text == "Hi, order 7 with UPS (T9) for S1." and full.missing == ()


def test_optional_parts_use_is_defined(tmp_path: Path) -> None:
    write(
        tmp_path,
        "order_status.en.j2",
        "Thanks!{% if tracking_url is defined %} Track it here: {{ tracking_url }}{% endif %}",
    )
    library = only(tmp_path)
    assert library.render("order_status", "en", {}).text == "Thanks!"
    assert library.render("order_status", "en", {"tracking_url": "https://t.example/1"}).text == (
        "Thanks! Track it here: https://t.example/1"
    )


def test_rendered_text_is_stripped(tmp_path: Path) -> None:
    write(tmp_path, "thanks.en.j2", "\n\n   You're welcome!  \n\n")
    assert only(tmp_path).render("thanks", "en", {}).text == "You're welcome!"


def test_unknown_variable_is_rejected_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "order_status.en.j2", "Hello.\nYour order {{ order_number }} is on its way.")
    with pytest.raises(TemplateError) as caught:
        only(tmp_path)
    message = str(caught.value)
    assert str(path) in message and "line 2" in message and "'order_number'" in message
    assert "order_id" in message  # the message lists what is allowed


# --- broken files --------------------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "greeting.en.j2", "Hello!\n{% if customer_name is defined %}\n{{ customer_name }}\n")
    with pytest.raises(TemplateError, match=rf"{re.escape(str(path))}: line \d+: .*endif"):
        only(tmp_path)


def test_template_larger_than_8_kib_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "greeting.en.j2", "Hello! " * (MAX_TEMPLATE_BYTES // 7 + 1))
    with pytest.raises(TemplateError, match=r"greeting\.en\.j2: template is \d+ bytes; the limit is 8192"):
        only(tmp_path)


@pytest.mark.parametrize(
    "name",
    ["greeting.j2", "greeting.en.amazon.extra.j2", "greeting.english!.j2", "greet ing.en.j2", "greeting.en.ama zon.j2"],
)
def test_bad_file_names_are_rejected(tmp_path: Path, name: str) -> None:
    write(tmp_path, name, "Hello!")
    with pytest.raises(TemplateError, match=re.escape(name)):
        only(tmp_path)


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "{{ broken")
    write(tmp_path, "greeting.en.j2", "Hello!")
    assert only(tmp_path).intents() == {"greeting"}


def test_two_files_for_the_same_template_in_one_folder_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "thanks.pt-BR.j2", "Valeu!")
    write(tmp_path, "thanks.pt_br.j2", "Obrigado!")
    with pytest.raises(TemplateError, match="same intent, language and marketplace"):
        only(tmp_path)


def test_invalid_utf8_is_rejected_with_line(tmp_path: Path) -> None:
    (tmp_path / "thanks.de.j2").write_bytes(b"Danke!\nGern geschehen \xfc!")
    with pytest.raises(TemplateError, match=r"thanks\.de\.j2: line 2: not valid UTF-8"):
        only(tmp_path)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="template folder .*nowhere does not exist"):
        TemplateLibrary.load(tmp_path / "nowhere")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_link_to_a_file_outside_the_folder_is_rejected(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "db password")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "greeting.en.j2").symlink_to(secret)
    with pytest.raises(TemplateError, match="outside the template folder"):
        only(folder)


# --- template injection --------------------------------------------------------------------------------------

INJECTIONS_CAUGHT_AT_LOAD = {
    "self": ("{{ self }}", "'self' is not allowed"),
    "self init": ("{{ self.__init__ }}", "'__init__' is not allowed"),
    "mro": ("{{ ''.__class__.__mro__ }}", "'__mro__' is not allowed"),
    "cycler": ("{{ cycler.__init__.__globals__ }}", "'__globals__' is not allowed"),
    "subclasses": (
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "calling functions or methods is not allowed",
    ),
    "attr filter": ("{{ order_id|attr('__class__') }}", "filter 'attr' is not allowed"),
    "item": ("{{ order_id['__class__'] }}", "'__class__' is not allowed"),
    "method call": ("{{ order_id.ljust(999999999) }}", "calling functions or methods is not allowed"),
    "format filter": ("{{ '%999999999s'|format(order_id) }}", "filter 'format' is not allowed"),
    "globals": ("{{ lipsum }}", "unknown variable 'lipsum'"),
    "config": ("{{ config.items() }}", "calling functions or methods is not allowed"),
    "include": ("{% include '/etc/passwd' %}", "{% include %} is not allowed"),
    "import": ("{% import 'x.j2' as x %}", "{% import %} is not allowed"),
    "extends": ("{% extends 'base.j2' %}", "{% extends %} is not allowed"),
    "macro": ("{% macro m() %}x{% endmacro %}", "{% macro %} is not allowed"),
    "deep loops": (
        "{% for a in sku %}{% for b in sku %}{% for c in sku %}x{% endfor %}{% endfor %}{% endfor %}",
        "nested at most 2 deep",
    ),
    "recursive loop": ("{% for a in sku recursive %}{{ a }}{% endfor %}", "recursive loops are not allowed"),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS_CAUGHT_AT_LOAD))
def test_injection_is_rejected_at_load_with_file_and_line(tmp_path: Path, case: str) -> None:
    source, problem = INJECTIONS_CAUGHT_AT_LOAD[case]
    path = write(tmp_path, "order_status.en.j2", f"Thanks for your message.\n\n{source}\n")
    with pytest.raises(TemplateError) as caught:
        only(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3: ")
    assert problem in message


INJECTIONS_CAUGHT_AT_RENDER = {
    "computed dunder": "{% set a = '_' ~ '_class_' ~ '_' %}{{ order_id[a] }}",
    "computed dunder chain": "{% set a = '_' ~ '_class_' ~ '_' %}{% set b = '_' ~ '_mro_' ~ '_' %}{{ order_id[a][b] }}",
    "huge repeat": "{{ order_id * 100000000 }}",
    "huge power": "{{ 10 ** 1000000 }}",
    "percent format": "{{ '%999999999s' % order_id }}",
}


@pytest.mark.parametrize("case", sorted(INJECTIONS_CAUGHT_AT_RENDER))
def test_injection_that_passes_load_fails_safely_at_render(tmp_path: Path, case: str) -> None:
    path = write(tmp_path, "order_status.en.j2", f"Thanks.\n{INJECTIONS_CAUGHT_AT_RENDER[case]}\n")
    library = only(tmp_path)  # nothing here is visible without running it
    with pytest.raises(TemplateError) as caught:
        library.render("order_status", "en", {"order_id": "A1001"})
    message = str(caught.value)
    assert message.startswith(f"{path}: line 2: unsafe template:")
    assert "<class" not in message and "object at 0x" not in message


def test_template_that_renders_nothing_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "thanks.en.j2", "{% if customer_name is defined %}Thanks {{ customer_name }}!{% endif %}")
    library = only(tmp_path)
    assert library.render("thanks", "en", {"customer_name": "Li"}).text == "Thanks Li!"
    with pytest.raises(TemplateError, match="renders to empty text"):
        library.render("thanks", "en", {})


def test_template_runtime_error_is_a_template_error(tmp_path: Path) -> None:
    write(tmp_path, "sizing.en.j2", "Size\n{{ sku.colour }}")
    with pytest.raises(TemplateError, match=r"sizing\.en\.j2: line 2: cannot render: .*colour"):
        only(tmp_path).render("sizing", "en", {"sku": "S1"})


# --- the templates kefu ships --------------------------------------------------------------------------------


def test_shipped_folder_is_inside_the_package() -> None:
    folder = shipped_templates_dir()
    assert folder.is_dir() and folder.parent.name == "knowledge"
    assert all(path.stat().st_size <= MAX_TEMPLATE_BYTES for path in folder.glob("*.j2"))


@pytest.mark.parametrize("intent", FAQ + COMPLAINTS + OTHER)
def test_every_starter_intent_has_all_shipped_languages(shipped: TemplateLibrary, intent: str) -> None:
    assert shipped.languages(intent) == SHIPPED_LANGUAGES


def test_shipped_intents_are_the_starter_catalogue(shipped: TemplateLibrary) -> None:
    assert shipped.intents() == set(FAQ + COMPLAINTS + OTHER)


def _assert_clean(text: str | None, where: str) -> None:
    assert text, where
    assert "{{" not in text and "{%" not in text and "None" not in text, where
    assert "  " not in text and " ." not in text and " ," not in text, where
    assert text == text.strip(), where


@pytest.mark.parametrize("intent", FAQ + COMPLAINTS + OTHER)
def test_every_shipped_template_renders_with_all_variables(shipped: TemplateLibrary, intent: str) -> None:
    for language in sorted(SHIPPED_LANGUAGES):
        reply = shipped.render(intent, language, ALL_VARIABLES)
        assert reply is not None and reply.language == language and reply.missing == ()
        _assert_clean(reply.text, f"{intent}.{language}")
        assert "Maria" in reply.text, f"{intent}.{language} ignores the customer's name"
        if intent not in ("greeting", "thanks", "service_complaint"):
            assert "24h" in reply.text, f"{intent}.{language} ignores sla_promise"


@pytest.mark.parametrize("intent", FAQ)
def test_faq_auto_replies_make_sense_without_any_variable(shipped: TemplateLibrary, intent: str) -> None:
    for language in sorted(SHIPPED_LANGUAGES):
        reply = shipped.render(intent, language, {})
        assert reply is not None and reply.missing == (), f"{intent}.{language} needs {reply.missing}"
        _assert_clean(reply.text, f"{intent}.{language}")


@pytest.mark.parametrize("intent", COMPLAINTS + OTHER)
def test_complaint_and_other_templates_need_the_same_variables_in_every_language(
    shipped: TemplateLibrary, intent: str
) -> None:
    needed = {language: shipped.render(intent, language, {}).missing for language in SHIPPED_LANGUAGES}
    assert len(set(needed.values())) == 1, needed
    for language in SHIPPED_LANGUAGES:
        text = shipped.render(intent, language, {"order_id": "A1001"}).text
        _assert_clean(text, f"{intent}.{language}")


def test_order_status_points_to_tracking_when_known(shipped: TemplateLibrary) -> None:
    url = ALL_VARIABLES["tracking_url"]
    for language in sorted(SHIPPED_LANGUAGES):
        text = shipped.render("order_status", language, {"order_id": "A1001", "tracking_url": url}).text
        assert text.endswith(url), f"order_status.{language}: the link should end the message"
        number = shipped.render("order_status", language, {"tracking_number": "1Z9"}).text
        assert "1Z9" in number


def test_item_not_received_is_suggested_with_what_is_missing(shipped: TemplateLibrary) -> None:
    reply = shipped.render("item_not_received", "ja", {"customer_name": "佐藤"})
    assert reply.text is None and reply.missing == ("order_id",)
    text = shipped.render("item_not_received", "ja", {"customer_name": "佐藤", "order_id": "A1001"}).text
    assert text.startswith("佐藤様、ご注文（注文番号：A1001）")


def test_variable_values_are_text_never_template_code(shipped: TemplateLibrary) -> None:
    name = "{{ cycler.__init__.__globals__ }}{% include '/etc/passwd' %}"
    text = shipped.render("thanks", "en", {"customer_name": name}).text
    assert text == f"You're welcome, {name}! If there's anything else we can do for you, just send us a message here."
