"""`kefu demo` on real databases (SQLite, and PostgreSQL when configured): what a newcomer sees afterwards in
`/metrics`, `/sla` and `/alerts`, the refund spike firing the shipped rule, and that the demo refuses a database
with real tickets unless forced, adds nothing when run again and gives the same data for the same seed.

One full demo per database (a few thousand tickets): the assertions share it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli import main
from bot.demo import SPIKE_SKU, plan_demo
from bot.settings import Settings, load_settings
from handlers.commands import Actor
from handlers.commands.executor import executor_from_settings
from models.tables import Agent, Customer, DailyOrders, Message, OutboxItem, Ticket
from scheduler.alerts import evaluate_rules

MANAGER = Actor(name="mei", role="manager", identities=frozenset())


@pytest.fixture
def settings(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("KEFU_VAR_DIR", str(tmp_path / "var"))
    config = tmp_path / "kefu.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("KEFU_CONFIG", str(config))
    return load_settings(None)


def ask(engine: Engine, settings: Settings, text: str, now: datetime) -> str:
    executor = executor_from_settings(settings, engine)
    executor.clock = lambda: now
    answer = executor.execute(text, MANAGER, platform="cli")
    assert answer.ok, answer.text
    return answer.text


def row(answer: str, name: str) -> list[str]:
    """The cells of the table row whose first cell is `name`."""
    for line in answer.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{answer}")


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (Ticket, Message, OutboxItem, DailyOrders, Agent, Customer)}


def test_after_kefu_demo_metrics_sla_and_alerts_show_the_seeded_weeks_and_the_spike(
    engine: Engine, settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    with Session(engine) as session:  # a real customer's ticket: the demo is not for a database in use
        customer = Customer(channel="webhook", external_id="c-1")
        session.add(customer)
        session.flush()
        assert customer.id is not None
        session.add(Ticket(customer_id=customer.id, channel="webhook", conversation_id="c-1", intent="order_status",
                           kind="faq"))
        session.commit()
    assert main(["demo", "--seed", "7"]) == 1
    assert "1 tickets that are not demo data" in capsys.readouterr().err
    assert counts(engine)["Ticket"] == 1

    assert main(["demo", "--seed", "7", "--force"]) == 0
    out = capsys.readouterr().out
    assert "Demo seeded (seed 7)" in out and SPIKE_SKU in out
    now = datetime.now(UTC)
    week = now - timedelta(days=7)
    with Session(engine) as session:
        by_intent: dict[str, int] = dict(session.execute(
            select(Ticket.intent, func.count()).where(Ticket.created_at >= week, Ticket.created_at < now)
            .group_by(Ticket.intent)).all())  # type: ignore[arg-type]
        languages = set(session.scalars(select(Ticket.language).distinct()))
        regions = set(session.scalars(select(Ticket.region).distinct()))
        marketplaces = set(session.scalars(select(Ticket.marketplace).distinct()))
        by_sku: dict[str, int] = dict(session.execute(
            select(Ticket.sku, func.count()).where(Ticket.created_at >= now - timedelta(days=3),
                                                   Ticket.sku.is_not(None))  # type: ignore[union-attr]
            .group_by(Ticket.sku)).all())  # type: ignore[arg-type]
        overdue = session.scalars(select(Ticket).where(
            Ticket.status != "resolved", Ticket.first_response_at.is_(None),  # type: ignore[union-attr]
            Ticket.first_response_due < now)).all()  # type: ignore[operator]
        agents = {a.name: a.role for a in session.scalars(select(Agent))}
    assert {"en", "de", "es", "fr", "it", "ja", "zh", "ar", "pt"} <= languages
    assert {"US", "DE", "JP", "SG", "AE", "BR"} <= regions and {"amazon", "ebay", "shopify"} <= marketplaces
    assert agents["mei"] == "manager" and len(agents) == 7
    assert len(by_intent) >= 15

    metrics = ask(engine, settings, "/metrics 7d by intent", now)
    for intent_name, tickets in sorted(by_intent.items(), key=lambda item: -item[1])[:5]:
        assert row(metrics, intent_name)[1] == str(tickets)
    assert f"Total: {sum(by_intent.values())} tickets" in metrics
    by_region = ask(engine, settings, "/metrics 7d by region", now)
    assert "/1k orders" in by_region and "Per 1,000 orders" in by_region

    skus = ask(engine, settings, "/metrics 3d by sku", now)
    assert row(skus, SPIKE_SKU)[1] == str(by_sku[SPIKE_SKU])
    assert by_sku[SPIKE_SKU] > max(n for sku, n in by_sku.items() if sku != SPIKE_SKU)

    sla = ask(engine, settings, "/sla", now)
    assert overdue, "the demo has overdue tickets"
    breached = int(re.search(r"(\d+) breached", sla).group(1))  # type: ignore[union-attr]
    assert breached >= len(overdue)
    assert all(f"#{ticket.id} " in sla for ticket in overdue)

    report = evaluate_rules(engine, settings, now)
    [refunds] = [r for r in report.rules if r.rule == "refund_spike"]
    [amazon] = [g for g in refunds.groups if g.group_key == "marketplace=amazon"]
    assert amazon.state == "firing", amazon
    assert SPIKE_SKU in (amazon.summary or "")
    alerts = ask(engine, settings, "/alerts", now)
    assert "refund_spike [marketplace=amazon]" in alerts

    before = counts(engine)
    assert main(["demo", "--seed", "7", "--force"]) == 0
    assert "nothing added" in capsys.readouterr().out
    assert counts(engine) == before


def test_the_same_seed_gives_the_same_demo_and_another_seed_another(settings: Settings) -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

    first = plan_demo(settings, seed=11, now=now)
    again = plan_demo(settings, seed=11, now=now)
    other = plan_demo(settings, seed=12, now=now)

    assert first == again and len(first) > 1000
    assert other != first
    assert all(datetime.fromisoformat(line[0]) < now for line in first)
