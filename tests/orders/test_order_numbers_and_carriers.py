"""Order numbers found in customers' messages, tracking links built for the carriers cross-border sellers use, and
the order lookup settings (a bad pattern names its key)."""

from __future__ import annotations

import pytest

from bot.order_context.carriers import carrier_name, guess_carrier, tracking_link
from bot.order_context.numbers import compile_patterns, find_order_number
from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(("text", "number"), [
    ("Wo ist meine Bestellung #1042?", "#1042"),
    ("where is order # 2077 please", "#2077"),
    ("Amazon order 305-1234567-7654321 has not arrived", "305-1234567-7654321"),
    ("eBay: 12-34567-89012, nothing yet", "12-34567-89012"),
    ("Bestellnummer: 55123 ist noch nicht da", "55123"),
    ("¿Dónde está mi pedido 88231?", "88231"),
    ("commande n° 4417 toujours pas livrée", "4417"),
    ("我的订单号 123456 还没到", "123456"),
    ("where is my parcel", None),
    ("I ordered 2 mugs on the 3rd", None),
])
def test_order_numbers_in_common_formats_are_found(text: str, number: str | None) -> None:
    assert find_order_number(text) == number


def test_the_teams_own_patterns_come_first() -> None:
    patterns = compile_patterns([r"\b(SO-\d{6})\b"])
    assert find_order_number("my order SO-123456 (#12) is late", patterns) == "SO-123456"
    assert find_order_number("my order #1234 is late", patterns) == "#1234"


def test_a_bad_order_number_pattern_stops_start_up_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_ORDER_LOOKUP_ORDER_NUMBER_PATTERNS", r"SO-(\d+")
    with pytest.raises(SettingsError, match=r"order_lookup\.order_number_patterns.*pattern 1"):
        load_settings()


def test_shopify_and_hook_settings_have_flat_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SHOPIFY_SHOP", "Demo-Store.myshopify.com")
    monkeypatch.setenv("KEFU_SHOPIFY_TOKEN", "shpat_abc")
    monkeypatch.setenv("KEFU_ORDER_LOOKUP_URL", "https://erp.example/kefu/orders")
    monkeypatch.setenv("KEFU_ORDER_LOOKUP_SECRET", "s" * 20)
    monkeypatch.setenv("KEFU_ORDER_LOOKUP_TIMEOUT_SECONDS", "1.5")
    settings = load_settings()
    assert settings.shopify.enabled and settings.shopify.base_url == "https://demo-store.myshopify.com"
    assert settings.order_lookup.url == "https://erp.example/kefu/orders"
    assert settings.order_lookup.timeout_seconds == 1.5


@pytest.mark.parametrize(("env", "key"), [
    ({"KEFU_SHOPIFY_API_VERSION": "latest"}, "shopify.api_version"),
    ({"KEFU_SHOPIFY_SHOP": "not a domain"}, "shopify.shop"),
    ({"KEFU_ORDER_LOOKUP_URL": "https://erp.example/hook"}, "order_lookup.secret"),
    ({"KEFU_CUSTOMERS__NEW_MAX_ORDERS": "50"}, "customers.new_max_orders"),
])
def test_bad_order_settings_name_their_key(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], key: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings()


@pytest.mark.parametrize(("carrier", "number", "link"), [
    ("YunExpress", "YT2412345678901234", "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234"),
    ("yun express", "YT2412345678901234", "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234"),
    ("4PX", "4PX3000123456789CN", "https://track.4px.com/#/result/0/4PX3000123456789CN"),
    ("Cainiao", "LP00123456789012", "https://global.cainiao.com/newDetail.htm?mailNoList=LP00123456789012"),
    ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
    ("FedEx", "612999AA1012", "https://www.fedex.com/fedextrack/?trknbr=612999AA1012"),
    ("USPS", "9400111899223344556677", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677"),
    ("Royal Mail", "RR123456785GB", "https://www.royalmail.com/track-your-item#/tracking-results/RR123456785GB"),
    ("DHL", "1234567890", "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=1234567890"),
    (None, "YT2412345678901234", "https://www.yuntrack.com/parcelTracking?id=YT2412345678901234"),
    (None, "RB123456785CN", "https://t.17track.net/en#nums=RB123456785CN"),
    ("Some Local Courier", "ABC 123", "https://t.17track.net/en#nums=ABC%20123"),
])
def test_tracking_links_are_built_from_the_carrier_and_number(carrier: str | None, number: str, link: str) -> None:
    assert tracking_link(carrier, number) == link


def test_carriers_are_named_as_customers_know_them_and_guessed_from_numbers() -> None:
    assert carrier_name("YUNEXPRESS") == "YunExpress"
    assert carrier_name("china-post") == "China Post"
    assert carrier_name("Some Local Courier") == "Some Local Courier"
    assert guess_carrier("1Z999AA10123456784") == "UPS"
    assert guess_carrier("EA123456789CN") == "China EMS"
    assert guess_carrier("LX123456789DE") == "DHL Paket"
    assert guess_carrier("12345") is None
