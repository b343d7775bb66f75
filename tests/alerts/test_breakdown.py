"""The root-cause breakdown names the planted cause: refund requests jump because SKU A-123 sold in France
arrives broken; the same SKU elsewhere and other products in France behave as usual."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.engine import Engine

from scheduler.alerts import evaluate_rules
from tests.alerts.conftest import T0, add_tickets, alerts, cards, settings_with

SKUS = ("A-123", "B-7", "C-9")
REGIONS = ("FR", "DE", "US")
CHATTER = ["where is my order", "when will my parcel arrive", "I want to change my address",
           "do you ship to Lyon", "what size should I take"]


def _day(engine: Engine, day_start, rng: random.Random, refunds: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        sku, region = SKUS[i % 3], REGIONS[(i // 3) % 3]
        refund = i < refunds
        add_tickets(engine, [day_start + timedelta(minutes=40 * i + rng.randrange(30))],
                    text="I would like a refund for this" if refund else rng.choice(CHATTER),
                    intent="refund_status" if refund else "order_status", sku=sku, region=region,
                    marketplace="amazon")


def test_the_breakdown_names_the_planted_slice_and_phrases(engine: Engine) -> None:
    rng = random.Random(3)
    for day in range(1, 15):
        _day(engine, T0 - timedelta(days=day + 1), rng, refunds=3 + day % 2)
    _day(engine, T0 - timedelta(days=1), rng, refunds=3)
    broken = ["The box arrived broken, I want my money back", "Lamp arrived broken and the glass is cracked",
              "arrived broken again!! refund please", "my lamp arrived broken", "Item arrived broken, glass cracked",
              "the glass is cracked, send a refund", "arrived broken", "it arrived broken and wet"]
    for n, text in enumerate(broken):
        add_tickets(engine, [T0 - timedelta(hours=20 - 2 * n)], text=text, intent="damaged_item",
                    kind="complaint", sku="A-123", region="FR", marketplace="amazon")

    settings = settings_with({"name": "refund_spike", "metric": "refund_return_request_rate", "window": "24h",
                              "baseline": {"days": 14, "seasonality": "daily"}, "min_count": 10})
    report = evaluate_rules(engine, settings, T0)
    group = report.rules[0].groups[0]
    assert group.level == "critical"
    assert "SKU A-123 × region FR" in group.summary or "region FR × SKU A-123" in group.summary
    [alert] = alerts(engine)
    lead = alert.details["breakdown"]["slices"][0]
    assert lead["labels"] == {"sku": "A-123", "region": "FR"}
    assert lead["share"] > 0.6
    phrases = [p for p, _n in alert.details["breakdown"]["phrases"]]
    assert phrases[0] == "arrived broken"
    assert "glass is cracked" in phrases
    card = cards(engine)[0]
    assert "arrived broken" in card.body and "SKU A-123" in card.body
