"""The intent classifier with the real USE embedder: intents per kind, out-of-scope rejection, per-intent
thresholds, live learning."""

from __future__ import annotations

import threading

import pytest

from intents.catalogue import CatalogueError, IntentCatalogue
from intents.classifier import IntentClassifier, Prediction, off_topic_messages
from tests.intents.conftest import SHOP_CATALOGUE_YAML


@pytest.mark.parametrize(
    ("text", "intent", "kind", "severity"),
    [
        ("Can I return these shoes?", "return_policy", "faq", 3),
        ("how long until it ships to France?", "shipping_time", "faq", 3),
        ("¿dónde está mi paquete?", "order_status", "faq", 3),
        ("包裹什么时候到", "shipping_time", "faq", 3),
        ("the mug arrived cracked in pieces", "damaged_item", "complaint", 2),
        ("I still haven't got my order, it's been 6 weeks", "item_not_received", "complaint", 1),
        ("hi!", "greeting", "other", 3),
        ("谢谢你的帮助", "thanks", "other", 3),
    ],
)
def test_clear_messages_get_their_intent_kind_and_severity(
    shop_classifier: IntentClassifier, text: str, intent: str, kind: str, severity: int
) -> None:
    prediction = shop_classifier.predict(text)
    assert (prediction.intent, prediction.kind, prediction.severity) == (intent, kind, severity)
    assert prediction.best_guess == intent
    assert prediction.confidence > 0.5
    assert prediction.runner_up in shop_classifier.catalogue and prediction.runner_up != intent
    assert prediction.runner_up_confidence is not None
    assert 0.0 <= prediction.runner_up_confidence <= prediction.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        # none of these is in the built-in off-topic calibration set
        "who will win the world cup",
        "my dog ate my homework",
        "Quelle est la meilleure recette de crêpes ?",
        "What's your favourite colour?",
        "明天上海会下雪吗",
        "¿Cuál es el río más largo del mundo?",
    ],
)
def test_clearly_off_topic_messages_are_unknown(shop_classifier: IntentClassifier, text: str) -> None:
    assert text not in off_topic_messages()
    prediction = shop_classifier.predict(text)
    assert prediction.intent == "unknown"
    assert (prediction.kind, prediction.severity) == ("other", 3)
    assert prediction.confidence < 0.5
    assert prediction.best_guess in shop_classifier.catalogue  # still says what it would have been


def test_blank_message_is_unknown(shop_classifier: IntentClassifier) -> None:
    assert shop_classifier.predict("   ").intent == "unknown"


def test_threshold_is_calibrated_from_the_catalogue(shop_classifier: IntentClassifier) -> None:
    calibration = shop_classifier.calibration
    assert calibration.folds >= 2
    assert calibration.in_scope == 49  # every example of the 7x7 catalogue was held out once
    assert calibration.off_topic == len(off_topic_messages())
    assert calibration.in_scope_accepted > 0.8 and calibration.off_topic_rejected > 0.8


def test_batch_matches_single_predictions_in_order(shop_classifier: IntentClassifier) -> None:
    texts = ["hi!", "tell me about black holes", "The item arrived broken.", "Vielen Dank"]
    batch = shop_classifier.predict_batch(texts)
    assert [p.intent for p in batch] == [shop_classifier.predict(t).intent for t in texts]
    assert [p.intent for p in batch][0] == "greeting" and batch[2].intent == "damaged_item"
    assert all(isinstance(p, Prediction) for p in batch)


def _with_threshold(intent: str, threshold: float) -> IntentCatalogue:
    catalogue = IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML)
    data = catalogue.to_dict()
    data["intents"][intent]["threshold"] = threshold
    return IntentCatalogue.from_dict(data)


def test_per_intent_threshold_overrides_the_calibrated_one(use_embedder: object) -> None:
    strict = IntentClassifier.fit(_with_threshold("greeting", 1.0), use_embedder)  # type: ignore[arg-type]
    greeting = strict.predict("good evening")
    assert greeting.intent == "unknown" and greeting.best_guess == "greeting"
    assert strict.predict("Thanks for your help").intent == "thanks"  # other intents keep the calibrated one

    lenient = IntentClassifier.fit(_with_threshold("shipping_time", 0.0), use_embedder)  # type: ignore[arg-type]
    text = "who will win the world cup"
    default = IntentClassifier.fit(IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML), use_embedder)  # type: ignore[arg-type]
    assert default.predict(text).intent == "unknown"
    assert default.predict(text).best_guess == "shipping_time"
    assert lenient.predict(text).intent == "shipping_time"


def test_add_examples_changes_a_prediction_without_refitting(use_embedder: object) -> None:
    classifier = IntentClassifier.fit(IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML), use_embedder)  # type: ignore[arg-type]
    text = "Mein Paket ist kaputt angekommen"
    assert classifier.predict(text).intent != "damaged_item"

    classifier.add_examples("damaged_item", [text, "Die Ware kam kaputt an", "Alles im Karton war zerbrochen"])

    assert classifier.predict(text).intent == "damaged_item"
    assert classifier.predict("Das Paket kam kaputt bei mir an").intent == "damaged_item"
    assert text in classifier.catalogue["damaged_item"].examples
    assert classifier.predict("hi!").intent == "greeting"  # the rest is not forgotten


def test_add_examples_to_an_unknown_intent_names_it(shop_catalogue: IntentCatalogue, use_embedder: object) -> None:
    classifier = IntentClassifier.fit(shop_catalogue, use_embedder)  # type: ignore[arg-type]
    with pytest.raises(CatalogueError, match="refund_status"):
        classifier.add_examples("refund_status", ["where is my refund"])
    assert "refund_status" not in classifier.catalogue


def test_add_examples_while_other_threads_predict(shop_catalogue: IntentCatalogue, use_embedder: object) -> None:
    classifier = IntentClassifier.fit(shop_catalogue, use_embedder)  # type: ignore[arg-type]
    failures: list[BaseException] = []
    seen: list[str] = []
    stop = threading.Event()

    def keep_predicting() -> None:
        try:
            while not stop.is_set():
                seen.append(classifier.predict("Das Paket kam kaputt bei mir an").intent)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    readers = [threading.Thread(target=keep_predicting) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for index, text in enumerate(["Mein Paket ist kaputt angekommen", "Die Ware kam kaputt an",
                                      "Alles im Karton war zerbrochen"]):
            classifier.add_examples("damaged_item", [text])
            assert len(classifier.catalogue["damaged_item"].examples) == 8 + index
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert failures == []
    assert seen and set(seen) <= set(shop_catalogue.names()) | {"unknown"}
    assert classifier.predict("Das Paket kam kaputt bei mir an").intent == "damaged_item"


def test_tiny_catalogues_still_work(use_embedder: object) -> None:
    one_each = IntentCatalogue.from_dict(
        {"intents": {"greeting": {"kind": "other", "examples": ["hello"]},
                     "thanks": {"kind": "other", "examples": ["thank you"]}}}
    )
    classifier = IntentClassifier.fit(one_each, use_embedder)  # type: ignore[arg-type]
    assert classifier.predict("hello there").intent == "greeting"
    assert classifier.predict("how do volcanoes form").intent == "unknown"

    single = IntentCatalogue.from_dict({"intents": {"greeting": {"kind": "other", "examples": ["hello", "hi"]}}})
    classifier = IntentClassifier.fit(single, use_embedder)  # type: ignore[arg-type]
    prediction = classifier.predict("hello!")
    assert prediction.intent == "greeting" and prediction.runner_up is None
    assert classifier.predict("explain the French revolution").intent == "unknown"
