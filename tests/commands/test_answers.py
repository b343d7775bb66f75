"""Each command's answer on the seeded team (tests/commands/conftest.py): the numbers a manager reads."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.orders import DailyOrderCount, upsert_daily_orders
from handlers.commands.executor import CommandExecutor
from models.tables import Alert, AuditEvent, Silence
from tests.commands.conftest import MANAGER, NOW, Seeded


def _ask(executor: CommandExecutor, text: str) -> str:
    answer = executor.execute(text, MANAGER, platform="slack", channel_id="C1")
    assert answer.ok, answer.text
    return answer.text


def test_metrics_headline_numbers(executor: CommandExecutor, seeded: Seeded) -> None:
    text = _ask(executor, "/metrics 7d")
    assert "2026-11-13 12:00 – 2026-11-20 12:00 (UTC)" in text
    assert "Tickets: 13\n" in text
    assert "First response time (median): 30 min" in text
    assert "First response SLA met: 90.9%" in text  # 10 of 11 due or answered
    assert "Complaint rate: 38.5%" in text  # 5 of 13
    assert "Per 1,000 orders" not in text  # no order counts were supplied


def test_metrics_by_intent_is_sorted_by_volume(executor: CommandExecutor, seeded: Seeded) -> None:
    text = _ask(executor, "/metrics 7d by intent")
    rows = [line.split() for line in text.split("```")[1].strip().splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == [("order_status", "6"), ("damaged_item", "4"), ("sizing", "2"),
                                            ("item_not_received", "1")]
    assert "Total: 13 tickets" in text


def test_metrics_vs_prev_shows_arrows_and_percentages(executor: CommandExecutor, seeded: Seeded) -> None:
    text = _ask(executor, "/metrics 7d vs prev")
    assert "Tickets: 13  ▲ +8 (+160.0%)" in text  # 5 tickets in the previous 7 days
    grouped = _ask(executor, "/metrics 7d by intent vs prev")
    order_status = next(line for line in grouped.splitlines() if line.startswith("order_status"))
    assert order_status.endswith("▲ +1 (+20.0%)")


def test_metrics_in_another_timezone_resolves_today_locally(engine: Engine, seeded: Seeded, tmp_path) -> None:
    shanghai = CommandExecutor(engine, timezone="Asia/Shanghai", clock=lambda: NOW, charts_dir=tmp_path)
    text = shanghai.execute("/metrics today", MANAGER, platform="slack", channel_id=None).text
    # 12:00 UTC is 20:00 in Shanghai: today began at 16:00 UTC the day before.
    assert "2026-11-20 00:00 – 2026-11-20 20:00 (Asia/Shanghai)" in text
    assert "Tickets: 3\n" in text  # created 1 h, 4 h and 7 h before NOW


def test_rates_per_thousand_orders_when_orders_cover_the_window(
    engine: Engine, executor: CommandExecutor, seeded: Seeded
) -> None:
    days = [date(2026, 11, 13) + timedelta(days=i) for i in range(8)]  # the dates 7d before NOW touches
    upsert_daily_orders(engine, [DailyOrderCount(d, "amazon", "DE", 300) for d in days]
                        + [DailyOrderCount(d, "amazon", "ES", 200) for d in days])
    text = _ask(executor, "/metrics 7d")
    # 4,000 orders: 13 tickets, 5 complaints, 4 refund/return requests (damaged_item)
    assert "Per 1,000 orders (4,000 orders): tickets 3.25 · complaints 1.25 · refund/return requests 1.00" in text
    by_region = _ask(executor, "/metrics 7d by region")
    de = next(line for line in by_region.splitlines() if line.startswith("DE"))
    assert de.split()[-1] == "1.7"  # 4 tickets / 2,400 orders × 1,000


def test_no_per_order_rate_when_a_day_is_missing(engine: Engine, executor: CommandExecutor, seeded: Seeded) -> None:
    days = [date(2026, 11, 13) + timedelta(days=i) for i in range(7)]  # 2026-11-20 missing
    upsert_daily_orders(engine, [DailyOrderCount(d, "amazon", "DE", 300) for d in days])
    assert "Per 1,000 orders" not in _ask(executor, "/metrics 7d")


def test_sla_lists_breached_then_at_risk_oldest_first_with_owners(executor: CommandExecutor, seeded: Seeded) -> None:
    lines = _ask(executor, "/sla").splitlines()
    assert lines[0].startswith("*SLA* · 3 breached, 1 at risk")
    breached = lines[lines.index("*Breached*") + 1:lines.index("*At risk*")]
    assert [line.split(" — ", 1)[1] for line in breached] == [
        "resolution breached 3 d ago — owner: bo",
        "resolution breached 2 d ago — owner: bo",
        "first response breached 2 h ago — owner: unassigned",
    ]
    at_risk = lines[lines.index("*At risk*") + 1:]
    assert at_risk == [f"• #{seeded.at_risk_ticket_id} sev 3 sizing — first response due in 1 h — owner: bo"]


def test_alerts_lists_firing_ones_only(engine: Engine, executor: CommandExecutor) -> None:
    with Session(engine) as session:
        session.add(Alert(rule="first_response_slow", group_key="channel=slack", level="critical", value=5.2,
                          started_at=NOW - timedelta(minutes=40)))
        session.add(Alert(rule="csat_low", level="warning", state="resolved", started_at=NOW - timedelta(hours=5)))
        session.commit()
    text = _ask(executor, "/alerts")
    assert "1 firing" in text
    assert "CRITICAL first_response_slow [channel=slack] value 5.2" in text
    assert "csat_low" not in text


def test_silence_and_unsilence(engine: Engine, executor: CommandExecutor) -> None:
    text = _ask(executor, "/alerts silence first_response_slow channel=slack 2h deploy")
    with Session(engine) as session:
        silence = session.scalars(select(Silence)).one()
    assert silence.matchers == {"rule": "first_response_slow", "channel": "slack"}
    assert silence.ends_at == NOW + timedelta(hours=2)
    assert silence.created_by == "mei" and silence.comment == "deploy"
    assert f"silence id {silence.id}" in text
    assert "until 2026-11-20 14:00" in text
    _ask(executor, f"/alerts unsilence {silence.id}")
    with Session(engine) as session:
        assert session.get(Silence, silence.id).ends_at == NOW  # type: ignore[union-attr]


def test_unsilence_of_an_unknown_id_is_a_clear_error(executor: CommandExecutor) -> None:
    answer = executor.execute("/alerts unsilence 999", MANAGER, platform="slack", channel_id="C1")
    assert not answer.ok
    assert answer.text.startswith("There is no silence with id 999.")


def test_ticket_shows_summary_messages_and_timeline(engine: Engine, executor: CommandExecutor,
                                                    seeded: Seeded) -> None:
    tid = seeded.first_ana_ticket_id
    with Session(engine) as session:
        session.add(AuditEvent(actor="agent:ana", action="resolve", subject_type="ticket", subject_id=str(tid),
                               at=NOW - timedelta(hours=21)))
        session.commit()
    text = _ask(executor, f"/ticket {tid}")
    assert text.startswith(f"*Ticket #{tid}* · resolved · order_status (faq, severity 3)")
    assert "owner: ana · opened 2026-11-19 10:00" in text
    assert "2026-11-19 10:00 → customer Lucía: ¿Dónde está mi pedido?" in text
    assert "2026-11-19 10:30 ← agent ana: Está en camino." in text
    assert "2026-11-19 15:00 resolve by agent:ana" in text
    missing = executor.execute("/ticket 99999", MANAGER, platform="slack", channel_id="C1")
    assert not missing.ok and missing.text == "There is no ticket #99999."


def test_help(executor: CommandExecutor) -> None:
    text = _ask(executor, "/kefu help")
    assert "/metrics" in text and "/alerts" in text
