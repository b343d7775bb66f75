"""Language detection of customer messages: the right ISO 639-1 code, honest confidence, no crash on odd text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from intents.language import DEFAULT_LANGUAGES, LanguageGuess, LanguageIdentifier, detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Where is my order? I paid a week ago.", "en"),
        ("我的订单到哪了？", "zh"),
        ("退货", "zh"),
        ("返品したい", "ja"),
        ("ありがとう", "ja"),
        ("주문한 상품이 아직 안 왔어요", "ko"),
        ("¿Dónde está mi pedido? Lo compré hace una semana.", "es"),
        ("Onde está o meu pedido? Já paguei faz uma semana.", "pt"),
        ("Wo ist meine Bestellung? Ich habe vor einer Woche bezahlt.", "de"),
        ("Où est ma commande ? J'ai payé il y a une semaine.", "fr"),
        ("Dov'è il mio ordine? L'ho pagato una settimana fa.", "it"),
        ("Waar is mijn bestelling? Ik heb een week geleden betaald.", "nl"),
        ("Где мой заказ? Я оплатил его неделю назад.", "ru"),
        ("أين طلبي؟ لقد دفعت قبل أسبوع", "ar"),
        ("Siparişim nerede? Bir hafta önce ödeme yaptım.", "tr"),
        ("Gdzie jest moje zamówienie? Zapłaciłem tydzień temu.", "pl"),
        ("Đơn hàng của tôi đâu rồi? Tôi đã thanh toán một tuần trước.", "vi"),
        ("คำสั่งซื้อของฉันอยู่ที่ไหน ฉันจ่ายเงินไปแล้วหนึ่งสัปดาห์", "th"),
        ("Di mana pesanan saya? Saya sudah membayar seminggu yang lalu.", "id"),
        ("Var är min beställning? Jag betalade för en vecka sedan.", "sv"),
    ],
)
def test_detects_the_customers_language(text: str, code: str) -> None:
    guess = detect_language(text)
    assert guess.code == code
    assert 0 < guess.confidence <= 1


@pytest.mark.parametrize(
    "text",
    ["where is my order", "where is my parcel please", "cancel my order", "i want a refund", "my package is late"],
)
def test_short_lowercase_english_is_english(text: str) -> None:
    guess = detect_language(text)
    assert guess.code == "en"
    assert guess.confidence >= 0.5  # confident enough to win over the customer's stated language


def test_full_sentences_are_detected_with_high_confidence() -> None:
    assert detect_language("Wo ist meine Bestellung? Ich habe vor einer Woche bezahlt.").confidence > 0.8
    assert detect_language("我的订单到哪了？").confidence > 0.9


def test_single_short_word_is_a_low_confidence_guess() -> None:
    short = detect_language("ok")
    assert short.code is not None
    assert short.confidence < 0.5
    assert short.confidence < detect_language("Where is my order? I paid a week ago.").confidence


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_has_no_language(text: str) -> None:
    assert detect_language(text) == LanguageGuess(code=None, confidence=0.0)


@pytest.mark.parametrize("text", ["12345", "😀👍🙏", "!!! ???", "#4052-1193"])
def test_text_without_letters_does_not_crash_and_has_no_language(text: str) -> None:
    assert detect_language(text) == LanguageGuess(code=None, confidence=0.0)


def test_tracking_numbers_and_links_do_not_make_a_message_english() -> None:
    text = "¿Dónde está mi paquete? LX123456789CN https://track.example.com/LX123456789CN"
    assert detect_language(text).code == "es"


def test_mixed_language_text_gets_one_best_guess() -> None:
    guess = detect_language("我想退货 please help")
    assert guess.code in {"zh", "en"}
    assert 0 < guess.confidence <= 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("请问 iPhone 15 Pro Max 什么时候到货", "zh"),
        ("AirPods Pro の返品をしたい", "ja"),
        ("Galaxy S24 Ultra 언제 배송돼요", "ko"),
        ("Где мой заказ? order status", "ru"),
    ],
)
def test_product_names_in_latin_letters_do_not_outvote_the_customers_script(text: str, code: str) -> None:
    guess = detect_language(text)
    assert guess.code == code
    assert guess.confidence >= 0.5


def test_non_text_input_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="expects text"):
        detect_language(None)  # type: ignore[arg-type]


def test_concurrent_calls_agree_with_sequential_ones() -> None:
    texts = ["Where is my order?", "我的订单到哪了？", "Wo ist meine Bestellung?", "返品したい", "Где мой заказ?"] * 20
    expected = [detect_language(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(detect_language, texts))
    assert [g.code for g in concurrent] == [g.code for g in expected]
    assert [g.confidence for g in concurrent] == pytest.approx([g.confidence for g in expected])


def test_a_custom_language_set_only_answers_with_those_languages() -> None:
    identifier = LanguageIdentifier(["en", "de"])
    assert identifier.detect("¿Dónde está mi pedido?").code in {"en", "de"}
    assert identifier.detect("Wo ist meine Bestellung?").code == "de"


def test_a_widened_language_set_tells_languages_of_one_script_apart() -> None:
    identifier = LanguageIdentifier([*DEFAULT_LANGUAGES, "uk", "da"])
    assert identifier.detect("Де моє замовлення? Я заплатив тиждень тому.").code == "uk"
    assert identifier.detect("Где мой заказ? Я оплатил его неделю назад.").code == "ru"
    assert identifier.detect("Hvor er min ordre? Jeg betalte for en uge siden.").code == "da"
    assert identifier.detect("Var är min beställning? Jag betalade för en vecka sedan.").code == "sv"


def test_without_chinese_han_only_text_is_japanese() -> None:
    identifier = LanguageIdentifier(["en", "ja"])
    assert identifier.detect("返品") == LanguageGuess(code="ja", confidence=1.0)


def test_unknown_language_code_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'xx'"):
        LanguageIdentifier(["en", "xx"])
