"""FAQ knowledge: cross-lingual retrieval, file formats with precise errors, and the import/export commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from knowledge.faq import FaqError, FaqIndex, dump_csv, dump_yaml, parse_csv, parse_yaml

FAQS = """
faqs:
  - id: ship-eu
    intent: shipping_time
    questions: ["Do you ship to Europe?", "How long does delivery to the EU take?"]
    answers:
      en: "Yes: we ship to every EU country; delivery takes 7-12 business days."
      de: "Ja, wir liefern in alle EU-Länder; die Lieferung dauert 7 bis 12 Werktage."
  - id: gift-wrap
    questions: ["Can you gift wrap my order?"]
    answers:
      en: "Yes, choose 'gift wrap' at checkout."
  - id: payment-methods
    questions: ["Which payment methods do you accept?", "Can I pay with PayPal?"]
    answers:
      en: "We accept Visa, Mastercard, PayPal and Apple Pay."
      zh: "我们接受 Visa、万事达卡、PayPal 和 Apple Pay。"
"""


@pytest.fixture(scope="module")
def index(use_embedder) -> FaqIndex:  # type: ignore[no-untyped-def]
    return FaqIndex(parse_yaml(FAQS), use_embedder)


def test_german_question_finds_english_faq_and_answers_in_german(index: FaqIndex) -> None:
    match = index.search("Liefern Sie auch nach Österreich, und wie lange dauert der Versand?", ["de", "en"])
    assert match is not None and match.entry.id == "ship-eu"
    assert match.language == "de"
    assert match.answer is not None and match.answer.startswith("Ja, wir liefern")


def test_answer_falls_back_along_the_chain(index: FaqIndex) -> None:
    match = index.search("¿Puedo pagar con PayPal?", ["es", "en"])
    assert match is not None and match.entry.id == "payment-methods"
    assert (match.language, match.answer) == ("en", "We accept Visa, Mastercard, PayPal and Apple Pay.")
    chinese = index.search("可以用PayPal付款吗？", ["zh-cn", "zh", "en"])
    assert chinese is not None and chinese.language == "zh"


def test_unrelated_question_finds_nothing(index: FaqIndex) -> None:
    assert index.search("What is the capital of Mongolia?", ["en"]) is None
    assert index.search("   ", ["en"]) is None


def test_no_answer_in_chain_reports_none(index: FaqIndex) -> None:
    match = index.search("Can you gift wrap my order please?", ["fr"])
    assert match is not None and match.entry.id == "gift-wrap"
    assert match.language is None and match.answer is None


def test_yaml_and_csv_round_trip() -> None:
    entries = parse_yaml(FAQS)
    assert parse_yaml(dump_yaml(entries)) == entries
    assert parse_csv(dump_csv(entries)) == entries


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faqs: [{id: a, questions: [q], answers: {en: x}, colour: red}]", "unknown field 'colour'"),
        ("faqs: [{id: a, answers: {en: x}}]", "field 'questions' is missing"),
        ("faqs: [{id: a, questions: [], answers: {en: x}}]", "entry 'a': field 'questions'"),
        ("faqs: [{id: a, questions: [q], answers: {en: '  '}}]", "field 'answers.en': empty answer"),
        ("faqs: [{id: a, questions: [q], answers: {english!: x}}]", "field 'answers.english!'"),
        ("faqs: [{id: 'Bad Id', questions: [q], answers: {en: x}}]", "field 'id'"),
        ("faqs: [{id: a, questions: [q], answers: {en: x}}, {id: a, questions: [r], answers: {en: y}}]",
         "entry 'a' appears twice"),
        ("faqs: {id: a}", "one key 'faqs'"),
        ("faqs: [", "not valid YAML"),
    ],
)
def test_bad_yaml_names_the_entry_and_field(text: str, message: str) -> None:
    with pytest.raises(FaqError, match=message.replace("(", r"\(")):
        parse_yaml(text, "faq.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,question,answer\n", "expected the header"),
        ("id,intent,kind,language,text\na,,answer,,Hello\n", "row 2: field 'language' is required"),
        ("id,intent,kind,language,text\na,,question,,Q\na,,reply,en,Hi\n", "row 3: field 'kind'"),
        ("id,intent,kind,language,text\na,,answer,en,x\n", "field 'questions'"),
        ("id,intent,kind,language,text\na,,question,,q\na,,answer,en,x\na,,answer,EN,y\n", "two answers"),
    ],
)
def test_bad_csv_names_the_row_and_field(text: str, message: str) -> None:
    with pytest.raises(FaqError, match=message):
        parse_csv(text, "faq.csv")


def test_import_then_export_through_the_cli(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "faq.yaml"
    source.write_text(FAQS, encoding="utf-8")
    assert main(["knowledge", "import", str(source)]) == 0
    assert "3 added, 0 replaced" in capsys.readouterr().out
    assert main(["knowledge", "import", str(source)]) == 0
    assert "0 added, 3 replaced" in capsys.readouterr().out
    assert main(["knowledge", "export", "--out", str(tmp_path / "out.csv")]) == 0
    exported = parse_csv((tmp_path / "out.csv").read_text(encoding="utf-8"))
    assert exported == sorted(parse_yaml(FAQS), key=lambda entry: entry.id)
    bad = tmp_path / "bad.yaml"
    bad.write_text("faqs: [{id: a, questions: [q]}]", encoding="utf-8")
    assert main(["knowledge", "import", str(bad)]) == 1
    assert "field 'answers' is missing" in capsys.readouterr().err
