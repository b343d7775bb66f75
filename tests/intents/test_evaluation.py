"""Evaluation metrics (checked against numbers worked out by hand), data files, cross-validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intents.catalogue import IntentCatalogue
from intents.classifier import IntentClassifier
from intents.evaluation import (
    EvalDataError,
    LabelledMessage,
    check_labels,
    cross_validate,
    evaluate,
    format_report,
    load_eval_data,
    score_predictions,
    write_errors,
)

U = "unknown"
# index:     0     1     2     3     4     5     6     7     8     9
GOLD = ["a", "a", "a", "b", "b", U, U, U, "a", "b"]
PRED = ["a", "a", "b", "b", U, U, U, "a", "b", U]
LANG = ["en", "en", "es", "es", "es", "zh", "zh", "en", "es", "en"]
TEXT = [f"message {i}" for i in range(10)]


def test_metrics_match_the_hand_computed_numbers() -> None:
    report = score_predictions(TEXT, GOLD, PRED, LANG)
    assert report.total == 10
    assert report.accuracy == pytest.approx(5 / 10)  # right: 0, 1, 3, 5, 6
    assert report.in_scope == 7 and report.in_scope_accuracy == pytest.approx(3 / 7)  # 0, 1, 3 of 0-4, 8, 9
    assert report.out_of_scope == 3 and report.oos_recall == pytest.approx(2 / 3)  # 5, 6 of 5, 6, 7
    assert report.oos_precision == pytest.approx(2 / 4)  # predicted unknown: 4, 5, 6, 9
    # F1: a = 4/7 (P 2/3, R 2/4), b = 1/3 (P 1/3, R 1/3), unknown = 4/7 (P 2/4, R 2/3)
    assert report.macro_f1 == pytest.approx((4 / 7 + 1 / 3 + 4 / 7) / 3)
    languages = {row.name: (row.support, row.accuracy) for row in report.languages}
    assert languages == {"en": (4, 0.5), "es": (4, 0.25), "zh": (2, 1.0)}
    rows = {row.name: row for row in report.intents}
    assert rows["a"].support == 4 and rows["a"].precision == pytest.approx(2 / 3)
    assert rows["a"].recall == pytest.approx(0.5)
    assert rows["b"].f1 == pytest.approx(1 / 3)
    assert report.intents[0].name == "b"  # worst first
    assert report.confused == [("a", "b", 2), ("b", U, 2), (U, "a", 1)]
    assert [(e.text, e.gold, e.predicted) for e in report.errors] == [
        ("message 2", "a", "b"), ("message 4", "b", U), ("message 7", U, "a"),
        ("message 8", "a", "b"), ("message 9", "b", U),
    ]


def test_without_out_of_scope_data_the_oos_figures_are_absent() -> None:
    report = score_predictions(["x", "y"], ["a", "b"], ["a", "a"], [None, None])
    assert report.oos_recall is None and report.oos_precision is None
    assert report.in_scope_accuracy == 0.5
    text = format_report(report)
    assert "out-of-scope recall n/a" in text and "in-scope accuracy   50.0%" in text


def test_report_text_json_and_errors_file(tmp_path: Path) -> None:
    report = score_predictions(TEXT, GOLD, PRED, LANG, confidences=[0.9] * 10)
    text = format_report(report)
    assert "accuracy            50.0%" in text and "a -> b: 2" in text
    data = report.to_dict()
    assert json.loads(json.dumps(data))["oos_precision"] == 0.5 and data["error_count"] == 5
    path = tmp_path / "errors.jsonl"
    write_errors(report, path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"text": "message 2", "gold": "a", "predicted": "b", "confidence": 0.9,
                       "best_guess": "b", "lang": "es"}
    assert len(rows) == 5


def test_data_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    cases = {
        '{"text": "hi", "intent": "greeting"}\n\n{"text": "oops"\n': "data.jsonl:3: not valid JSON",
        '{"text": "hi", "intent": "greeting"}\n{"text": "hello"}\n': "data.jsonl:2: missing key 'intent'",
        '["hi", "greeting"]\n': "data.jsonl:1: expected a JSON object",
        '{"text": "", "intent": "greeting"}\n': "data.jsonl:1: key 'text' must be non-empty",
        '{"text": "hi", "intent": "greeting", "lang": 5}\n': "data.jsonl:1: key 'lang'",
    }
    for content, message in cases.items():
        path.write_text(content, encoding="utf-8")
        with pytest.raises(EvalDataError, match=message):
            load_eval_data(path)
    with pytest.raises(EvalDataError, match="no such file"):
        load_eval_data(tmp_path / "missing.jsonl")


def test_gold_intents_must_be_in_the_catalogue(shop_catalogue: IntentCatalogue) -> None:
    check_labels([LabelledMessage("x", "greeting"), LabelledMessage("y", U)], shop_catalogue)
    with pytest.raises(EvalDataError, match="refund_status"):
        check_labels([LabelledMessage("x", "refund_status")], shop_catalogue, "data.jsonl")


def test_evaluate_a_classifier(shop_classifier: IntentClassifier) -> None:
    messages = [
        LabelledMessage("Can I return these shoes?", "return_policy", "en"),
        LabelledMessage("¿Cuánto tarda en llegar a México?", "shipping_time", "es"),
        LabelledMessage("tell me about the history of Rome", U, "en"),
        LabelledMessage("hi!", "thanks", "en"),  # deliberately mislabelled: must show up as an error
    ]
    report = evaluate(shop_classifier, messages)
    assert report.total == 4 and report.accuracy == 0.75
    assert report.oos_recall == 1.0
    assert [(e.gold, e.predicted) for e in report.errors] == [("thanks", "greeting")]


def test_cross_validation_of_the_catalogue(shop_catalogue: IntentCatalogue, use_embedder: object) -> None:
    report = cross_validate(shop_catalogue, use_embedder, folds=3, detect=lambda _: "xx")  # type: ignore[arg-type]
    assert report.total == sum(len(i.examples) for i in shop_catalogue)
    assert report.out_of_scope == 0 and report.in_scope_accuracy is not None
    assert report.in_scope_accuracy > 0.6
    assert report.languages[0].name == "xx"
