"""The intent catalogue: the intents.yaml format, its error messages, the YAML round trip and the starter file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from intents.catalogue import (
    CatalogueError,
    Intent,
    IntentCatalogue,
    load_catalogue,
    starter_catalogue,
)

VALID = """\
intents:
  order_status:
    kind: faq
    examples: ["Where is my order?", "我的订单到哪了？"]
  item_not_received:
    kind: complaint
    severity: 1
    threshold: 0.4
    examples:
      - "I never received my package."
      - "Tracking says delivered but nothing came"
  greeting:
    kind: other
    examples: ["Hello"]
"""

FAQ = [
    "order_status", "shipping_time", "return_policy", "customs_duties", "sizing", "address_change",
    "cancel_order", "discount_code", "payment_failed", "invoice_request", "refund_status", "product_question",
]  # fmt: skip
COMPLAINTS = {"item_not_received": 1, "double_charged": 1, "damaged_item": 2, "wrong_item": 2, "service_complaint": 2}
OTHER = ["greeting", "thanks", "human_agent"]


def parse(body: str, source: str = "intents.yaml") -> IntentCatalogue:
    return IntentCatalogue.from_yaml(textwrap.dedent(body), source=source)


def test_valid_file_gives_intents_in_file_order_with_defaults() -> None:
    catalogue = IntentCatalogue.from_yaml(VALID)
    assert catalogue.names() == ["order_status", "item_not_received", "greeting"]
    assert catalogue["order_status"] == Intent(
        name="order_status", kind="faq", severity=3, examples=("Where is my order?", "我的订单到哪了？")
    )
    assert catalogue["item_not_received"].severity == 1
    assert catalogue["item_not_received"].threshold == 0.4
    assert catalogue["greeting"].severity == 3 and catalogue["greeting"].threshold is None
    assert "greeting" in catalogue and "unknown" not in catalogue
    assert len(catalogue) == 3
    assert catalogue.labelled_examples()[:3] == [
        ("Where is my order?", "order_status"),
        ("我的订单到哪了？", "order_status"),
        ("I never received my package.", "item_not_received"),
    ]


def test_default_severity_of_a_complaint_is_2() -> None:
    catalogue = parse("""\
        intents:
          wrong_item:
            kind: complaint
            examples: ["You sent the wrong colour"]
        """)
    assert catalogue["wrong_item"].severity == 2


@pytest.mark.parametrize(
    ("body", "intent", "key", "detail"),
    [
        (
            """\
            intents:
              refund:
                kind: faq
                severity: 5
                examples: ["where is my refund"]
            """,
            "refund",
            "severity",
            "expected 1, 2 or 3, got 5",
        ),
        (
            """\
            intents:
              refund:
                kind: question
                examples: ["where is my refund"]
            """,
            "refund",
            "kind",
            "expected one of faq, complaint, other, got 'question'",
        ),
        (
            """\
            intents:
              refund:
                examples: ["where is my refund"]
            """,
            "refund",
            "kind",
            "missing",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                examples: []
            """,
            "refund",
            "examples",
            "empty",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
            """,
            "refund",
            "examples",
            "missing",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                examples: ["where is my refund", 42]
            """,
            "refund",
            "examples",
            "example 2 must be text, got int 42",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                examples: ["where is my refund", "   "]
            """,
            "refund",
            "examples",
            "example 2 is blank",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                examples: "where is my refund"
            """,
            "refund",
            "examples",
            "expected a list of example phrases, got str",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                priority: high
                examples: ["where is my refund"]
            """,
            "refund",
            "priority",
            "unknown key",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                threshold: 1.5
                examples: ["where is my refund"]
            """,
            "refund",
            "threshold",
            "expected a number from 0 to 1, got 1.5",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                severity: true
                examples: ["where is my refund"]
            """,
            "refund",
            "severity",
            "expected 1, 2 or 3, got True",
        ),
        (
            """\
            intents:
              refund:
                kind: faq
                severity: "2"
                examples: ["where is my refund"]
            """,
            "refund",
            "severity",
            "expected 1, 2 or 3, got '2'",
        ),
    ],
    ids=[
        "severity-out-of-range",
        "bad-kind",
        "missing-kind",
        "empty-examples",
        "missing-examples",
        "non-string-example",
        "blank-example",
        "examples-not-a-list",
        "unknown-intent-key",
        "threshold-out-of-range",
        "severity-bool",
        "severity-string",
    ],
)
def test_bad_intent_fields_are_named_in_the_error(body: str, intent: str, key: str, detail: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse(body)
    message = str(caught.value)
    assert message.startswith("intents.yaml:")
    assert f"intent '{intent}'" in message
    assert f"key '{key}'" in message
    assert detail in message
    assert caught.value.intent == intent and caught.value.key == key


def test_error_message_reads_like_the_documented_example() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              refund:
                kind: faq
                severity: 5
                examples: ["where is my refund"]
            """)
    assert str(caught.value) == "intents.yaml:4: intent 'refund' key 'severity': expected 1, 2 or 3, got 5"


def test_error_names_the_line_of_a_bad_example() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              greeting:
                kind: other
                examples:
                  - "hello"
                  - yes
            """)
    assert caught.value.line == 6
    assert "got bool True" in str(caught.value) and "quote it" in str(caught.value)


def test_duplicate_intent_names_in_the_yaml_text_are_rejected() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              refund:
                kind: faq
                examples: ["where is my refund"]
              refund:
                kind: complaint
                examples: ["I want my money back now"]
            """)
    message = str(caught.value)
    assert "intent 'refund'" in message and "defined twice (first on line 2)" in message
    assert caught.value.line == 5


def test_duplicate_keys_inside_an_intent_are_rejected() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              refund:
                kind: faq
                severity: 2
                severity: 3
                examples: ["where is my refund"]
            """)
    message = str(caught.value)
    assert "intent 'refund'" in message and "key 'severity'" in message and "given twice" in message


def test_same_example_in_two_intents_names_both() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              thanks:
                kind: other
                examples: ["Thank you!", "ok"]
              greeting:
                kind: other
                examples: ["hello", "OK "]
            """)
    message = str(caught.value)
    assert "intent 'greeting'" in message and "key 'examples'" in message and "'thanks'" in message


def test_duplicate_examples_inside_an_intent_are_dropped() -> None:
    catalogue = parse("""\
        intents:
          thanks:
            kind: other
            examples: ["Thank you!", "thank  you!", " Thank you! ", "thanks"]
        """)
    assert catalogue["thanks"].examples == ("Thank you!", "thanks")


def test_unknown_is_a_reserved_intent_name() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              unknown:
                kind: other
                examples: ["asdf"]
            """)
    assert "intent 'unknown'" in str(caught.value) and "reserved" in str(caught.value)


def test_an_intent_name_must_be_usable_in_a_template_file_name() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intents:
              order.status:
                kind: faq
                examples: ["where is it"]
            """)
    assert "intent 'order.status'" in str(caught.value)


def test_unknown_top_level_key_is_named() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse("""\
            intent:
              refund:
                kind: faq
                examples: ["where is my refund"]
            """)
    assert "key 'intent'" in str(caught.value) and "unknown top-level key" in str(caught.value)
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("intents: [order_status]\n", "expected a mapping of intent names to intents, got list"),
        ("intents: {}\n", "no intents defined"),
        ("- order_status\n", "expected a mapping with the key 'intents' at the top, got list"),
        ("", "got null"),
        ("intents:\n  refund: faq\n", "expected a mapping with keys kind, severity, threshold, examples, got str"),
    ],
)
def test_wrong_shapes_are_explained(text: str, detail: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        IntentCatalogue.from_yaml(text, source="intents.yaml")
    assert detail in str(caught.value)
    assert str(caught.value).startswith("intents.yaml")


def test_invalid_yaml_gives_file_and_line_not_a_yaml_traceback() -> None:
    text = 'intents:\n  refund:\n    kind: faq\n    examples: ["where is my refund"\n  other: 1\n'
    with pytest.raises(CatalogueError) as caught:
        IntentCatalogue.from_yaml(text, source="intents.yaml")
    assert str(caught.value).startswith("intents.yaml:")
    assert "invalid YAML" in str(caught.value)
    assert caught.value.line is not None


def test_from_dict_applies_the_same_rules() -> None:
    with pytest.raises(CatalogueError) as caught:
        IntentCatalogue.from_dict({"intents": {"refund": {"kind": "faq", "examples": ["x"], "severity": 0}}})
    assert "intent 'refund' key 'severity'" in str(caught.value)
    catalogue = IntentCatalogue.from_dict({"intents": {"refund": {"kind": "faq", "examples": ["x"]}}})
    assert catalogue["refund"].examples == ("x",)


def test_to_yaml_round_trips_and_keeps_unicode_readable() -> None:
    catalogue = IntentCatalogue.from_yaml(VALID)
    text = catalogue.to_yaml()
    assert "我的订单到哪了？" in text  # not \u escapes
    again = IntentCatalogue.from_yaml(text)
    assert again == catalogue
    assert again.names() == catalogue.names()
    assert again["item_not_received"].threshold == 0.4


def test_starter_catalogue_round_trips() -> None:
    catalogue = starter_catalogue()
    assert IntentCatalogue.from_yaml(catalogue.to_yaml()) == catalogue


def test_with_examples_returns_a_new_catalogue() -> None:
    catalogue = IntentCatalogue.from_yaml(VALID)
    grown = catalogue.with_examples("order_status", ["has it shipped?", "Where is my order?", "has it shipped?"])
    assert grown["order_status"].examples == ("Where is my order?", "我的订单到哪了？", "has it shipped?")
    assert catalogue["order_status"].examples == ("Where is my order?", "我的订单到哪了？")  # unchanged


def test_with_examples_rejects_unknown_intent_and_blank_text() -> None:
    catalogue = IntentCatalogue.from_yaml(VALID)
    with pytest.raises(CatalogueError) as caught:
        catalogue.with_examples("refund_status", ["where is my money"])
    assert "intent 'refund_status'" in str(caught.value) and "no such intent" in str(caught.value)
    with pytest.raises(CatalogueError) as caught:
        catalogue.with_examples("greeting", ["hi", "  "])
    assert "intent 'greeting' key 'examples'" in str(caught.value)


def test_with_examples_refuses_an_example_of_another_intent_unless_moved() -> None:
    catalogue = IntentCatalogue.from_yaml(VALID)
    with pytest.raises(CatalogueError) as caught:
        catalogue.with_examples("item_not_received", ["where is my order?"])
    assert "'order_status'" in str(caught.value) and "'item_not_received'" in str(caught.value)
    moved = catalogue.with_examples("item_not_received", ["where is my order?"], move=True)
    assert moved["order_status"].examples == ("我的订单到哪了？",)
    assert "where is my order?" in moved["item_not_received"].examples
    with pytest.raises(CatalogueError) as caught:
        catalogue.with_examples("order_status", ["hello"], move=True)
    assert "intent 'greeting'" in str(caught.value) and "none" in str(caught.value)


def test_load_catalogue_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_catalogue(path).names() == ["order_status", "item_not_received", "greeting"]
    path.write_text(VALID.replace("severity: 1", "severity: 9"), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(f"{path}:7: intent 'item_not_received' key 'severity'")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(caught.value) and "no such file" in str(caught.value)


def test_starter_catalogue_has_the_fixed_intents() -> None:
    catalogue = starter_catalogue()
    assert catalogue.names() == FAQ + list(COMPLAINTS) + OTHER
    for name in FAQ:
        assert (catalogue[name].kind, catalogue[name].severity) == ("faq", 3), name
    for name, severity in COMPLAINTS.items():
        assert (catalogue[name].kind, catalogue[name].severity) == ("complaint", severity), name
    for name in OTHER:
        assert (catalogue[name].kind, catalogue[name].severity) == ("other", 3), name
    for intent in catalogue:
        assert 12 <= len(intent.examples) <= 20, intent.name
        assert any(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in intent.examples), intent.name


def test_starter_catalogue_is_read_without_importing_bot() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from intents.catalogue import starter_catalogue; starter_catalogue(); print('bot' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
