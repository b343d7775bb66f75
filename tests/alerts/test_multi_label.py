"""Alert rules grouped by several labels (Alertmanager's group_by = [...]): one alert per combination of
marketplace × country (the customer's country is the label "region"), cards titled with every label, silences
on any subset of the labels, Show tickets and the root-cause breakdown confined to the combination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import SettingsError, load_settings
from models.tables import Silence, Ticket
from scheduler.alerts import evaluate_rules
from tests.alerts.conftest import T0, add_tickets, alerts, cards, settings_with
from tests.alerts.test_alert_actions import add_agents, alert_id, press, team_settings

MIN = timedelta(minutes=1)
BUSY = {"name": "busy", "metric": "volume", "window": "1h", "group_by": ["marketplace", "region"],
        "warning": "> 3", "critical": "> 8"}
AMAZON_FR, AMAZON_DE = "marketplace=amazon,region=FR", "marketplace=amazon,region=DE"
SHOPIFY_FR, SHOPIFY_DE = "marketplace=shopify,region=FR", "marketplace=shopify,region=DE"


def _plant(engine: Engine) -> None:
    """In the hour before T0: amazon × FR 6 tickets (5 about a broken lamp, SKU A-123), amazon × DE 4,
    shopify × FR 4, shopify × DE 1; so amazon (10) and FR (10) alone would both be critical. Before: one
    amazon × FR question a day for a week, the usual traffic the breakdown compares with."""
    for day in range(1, 8):
        add_tickets(engine, [T0 - timedelta(days=day, hours=3)], marketplace="amazon", region="FR", sku="B-7",
                    text="where is my order")
    add_tickets(engine, [T0 - (50 - 5 * i) * MIN for i in range(3)], marketplace="amazon", region="FR",
                sku="A-123", intent="damaged_item", text="my lamp arrived broken")
    add_tickets(engine, [T0 - (30 - 5 * i) * MIN for i in range(2)], marketplace="amazon", region="FR",
                sku="A-123", intent="wrong_item", text="wrong lamp arrived broken")
    add_tickets(engine, [T0 - 15 * MIN], marketplace="amazon", region="FR", sku="B-7", text="where is my order")
    add_tickets(engine, [T0 - (40 - 5 * i) * MIN for i in range(4)], marketplace="amazon", region="DE", sku="C-9")
    add_tickets(engine, [T0 - (40 - 5 * i) * MIN for i in range(4)], marketplace="shopify", region="FR", sku="C-9")
    add_tickets(engine, [T0 - 20 * MIN], marketplace="shopify", region="DE", sku="C-9")


def test_only_the_combination_over_the_threshold_fires_and_its_card_names_both_labels(engine: Engine) -> None:
    _plant(engine)
    report = evaluate_rules(engine, settings_with({**BUSY, "warning": "> 4"}), T0)
    groups = {g.group_key: (g.state, g.value) for g in report.rules[0].groups}
    assert groups == {AMAZON_FR: ("firing", 6), AMAZON_DE: ("ok", 4), SHOPIFY_FR: ("ok", 4), SHOPIFY_DE: ("ok", 1)}
    [card] = cards(engine)
    assert card.title == "🟠 WARNING: busy [marketplace=amazon,region=FR]"
    [alert] = alerts(engine)
    assert alert.details["labels"] == {"marketplace": "amazon", "region": "FR"}

    # The breakdown looks for the cause inside the combination: never at its own marketplace or country.
    slices = alert.details["breakdown"]["slices"]
    assert slices and all(not {"marketplace", "region"} & set(s["labels"]) for s in slices)
    assert slices[0]["labels"] == {"sku": "A-123"}
    assert "SKU A-123" in card.body and "arrived broken" in card.body


@pytest.mark.parametrize(("matchers", "held"), [
    ({"marketplace": "amazon"}, {AMAZON_FR, AMAZON_DE}),
    ({"region": "FR"}, {AMAZON_FR, SHOPIFY_FR}),
    ({"marketplace": "amazon", "region": "DE"}, {AMAZON_DE}),
])
def test_a_silence_on_some_of_the_labels_holds_exactly_the_alerts_it_matches(engine: Engine, matchers: dict[str, str],
                                                                             held: set[str]) -> None:
    _plant(engine)
    with Session(engine) as session:
        session.add(Silence(matchers={"rule": "busy", **matchers}, starts_at=T0 - MIN, ends_at=T0 + 30 * MIN,
                            created_by="mei", comment="known carrier issue"))
        session.commit()
    report = evaluate_rules(engine, settings_with(BUSY), T0)
    firing = {AMAZON_FR, AMAZON_DE, SHOPIFY_FR}
    assert {g.group_key for g in report.rules[0].groups if g.state == "firing"} == firing
    assert {g.group_key for g in report.rules[0].groups if g.held} == held
    assert sorted(c.title for c in cards(engine)) == sorted(f"🟠 WARNING: busy [{key}]" for key in firing - held)


def test_show_tickets_and_silence_2h_keep_to_the_combination(engine: Engine) -> None:
    settings = team_settings({**BUSY, "window": "2h"}, repeat_interval="1h")
    add_agents(engine)
    _plant(engine)
    evaluate_rules(engine, settings, T0)
    amazon_fr = alert_id(engine, AMAZON_FR)

    result = press(engine, settings, "alert_show_tickets", amazon_fr, at=T0 + 5 * MIN)
    head, *lines = result.message.splitlines()
    assert head.startswith(f"Alert #{amazon_fr} (warning busy [{AMAZON_FR}]): 6 tickets created between 16:00 and "
                           "18:00 (Asia/Shanghai) with ")
    assert "marketplace=amazon" in head and "region=FR" in head
    with Session(engine) as session:
        expected = session.scalars(select(Ticket.id).where(Ticket.marketplace == "amazon", Ticket.region == "FR",
                                                           Ticket.created_at >= T0 - 120 * MIN)).all()
    listed = [int(line.split(" · ")[0].lstrip("#")) for line in lines]
    assert sorted(listed) == sorted(expected) and len(listed) == 6

    silenced = press(engine, settings, "alert_silence_2h", amazon_fr, who="U_MEI", at=T0 + 5 * MIN)
    assert silenced.ok, silenced.message
    with Session(engine) as session:
        [silence] = session.scalars(select(Silence)).all()
    assert silence.matchers == {"rule": "busy", "marketplace": "amazon", "region": "FR"}
    report = evaluate_rules(engine, settings, T0 + 65 * MIN)  # the repeat interval has passed for every group
    notified = {g.group_key: g.notified or g.held for g in report.rules[0].groups if g.state == "firing"}
    assert notified[AMAZON_DE] == notified[SHOPIFY_FR] == "repeat"
    assert (notified[AMAZON_FR] or "").startswith(f"silenced by #{silence.id}")


def _rule_error(group_by: Any) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(None, alerts={"rules": [{**BUSY, "group_by": group_by}]})
    return str(raised.value)


def test_group_by_takes_up_to_three_known_labels_each_once() -> None:
    three = load_settings(None, alerts={"rules": [{**BUSY, "group_by": ["marketplace", "region", "sku"]}]})
    assert three.alerts.rules[0].group_by == ["marketplace", "region", "sku"]
    assert "rule 'busy', key 'group_by': at most 3 labels, got 4: marketplace, region, sku, channel" in _rule_error(
        ["marketplace", "region", "sku", "channel"])
    assert "rule 'busy', key 'group_by': labels of intent, kind, severity, channel, marketplace, region, language, " \
           "sku, agent, got 'colour'" in _rule_error(["marketplace", "colour"])
    assert "rule 'busy', key 'group_by': each label once, got 'region' twice" in _rule_error(
        ["region", "marketplace", "region"])
    assert "got 'country' (the customer's country is the label 'region')" in _rule_error(["marketplace", "country"])
