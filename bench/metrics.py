"""`make bench` (metrics part): seeds about a million messages, then times manager metrics on SQLite and PostgreSQL.

The seeded history covers a year of tickets (with agents' replies, bot replies and CSAT). Timed: `/metrics 30d by
region` answered by the real command executor, and `compute_metrics` over 7-, 30-, 90- and 365-day windows, to
show that a query grows with its window and not with the whole history. Best of five runs each. PostgreSQL is
measured when KEFU_BENCH_DATABASE_URL names a database (it is emptied and re-seeded) or a local server on
127.0.0.1:5432 accepts a throwaway database.

    python -m bench.metrics --out bench/METRICS.md [--messages 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from bot.metrics import compute_metrics
from handlers.commands import LOCAL_ADMIN
from handlers.commands.executor import CommandExecutor
from models.db import create_db_engine
from models.migrate import upgrade
from models.tables import Agent, CsatResponse, Customer, Message, Ticket

NOW = datetime(2026, 11, 23, tzinfo=UTC)
REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "JP", "AU", "BR", "CN", None]
INTENTS = [("order_status", "faq", 3), ("refund_status", "faq", 3), ("damaged_item", "complaint", 2),
           ("item_not_received", "complaint", 1), ("greeting", "other", 3), ("return_policy", "faq", 3)]
BATCH = 5000


def seed(engine: Engine, messages_wanted: int, rng: random.Random) -> tuple[int, int]:
    """About `messages_wanted` messages in tickets spread over the last year; returns (tickets, messages)."""
    n_tickets = int(messages_wanted / 3.7)  # 2.5 customer and ~1.2 agent messages per ticket on average
    with engine.begin() as connection:
        connection.execute(insert(Agent.__table__), [  # type: ignore[attr-defined]
            {"name": f"agent{i}", "role": "agent", "languages": [], "identities": {}, "active": True,
             "created_at": NOW} for i in range(20)])
        connection.execute(insert(Customer.__table__),  # type: ignore[attr-defined]
                           [{"channel": "webhook", "external_id": "c1", "created_at": NOW}])
    created_times = sorted(NOW - timedelta(days=365 * rng.random()) for _ in range(n_tickets))
    tickets: list[dict[str, object]] = []
    messages: list[dict[str, object]] = []
    csat: list[dict[str, object]] = []
    total_messages = 0
    for ticket_id, created in enumerate(created_times, start=1):
        intent, kind, severity = rng.choice(INTENTS)
        answered = created + timedelta(minutes=rng.expovariate(1 / 90)) if rng.random() < 0.8 else None
        resolved = (answered or created) + timedelta(hours=rng.expovariate(1 / 20)) if rng.random() < 0.9 else None
        answered = answered if answered is None or answered < NOW else None
        resolved = resolved if resolved is None or resolved < NOW else None
        tickets.append({
            "id": ticket_id, "customer_id": 1, "channel": rng.choice(["webchat", "webhook", "wecom"]),
            "conversation_id": f"c{ticket_id}", "status": "resolved" if resolved else "open", "intent": intent,
            "kind": kind, "severity": severity, "confidence": 0.9, "language": rng.choice(["en", "es", "de", "zh"]),
            "assignee_id": rng.randint(1, 20) if answered else None, "sku": f"SKU-{rng.randint(1, 200)}",
            "marketplace": rng.choice(["amazon", "shopify", "ebay"]), "region": rng.choice(REGIONS),
            "created_at": created, "updated_at": created, "first_response_at": answered, "resolved_at": resolved,
            "first_response_due": created + timedelta(hours=2 * severity),
            "resolution_due": created + timedelta(hours=24 * severity),
            "auto_replies": 1 if answered is None and rng.random() < 0.5 else 0,
        })
        for k in range(rng.randint(1, 4)):
            messages.append({"ticket_id": ticket_id, "channel": "webhook", "channel_message_id": f"{ticket_id}-in{k}",
                             "direction": "in", "author_kind": "customer", "text": "hello",
                             "created_at": created + timedelta(minutes=k)})
        if answered:
            for k in range(rng.randint(1, 2)):
                messages.append({"ticket_id": ticket_id, "channel": "webhook", "channel_message_id": None,
                                 "direction": "out", "author_kind": "agent", "text": "on it",
                                 "created_at": answered + timedelta(minutes=k)})
        if resolved and rng.random() < 0.3:
            csat.append({"ticket_id": ticket_id, "score": rng.randint(1, 5),
                         "created_at": resolved + timedelta(hours=1)})
        if len(tickets) >= BATCH:
            total_messages += _flush(engine, tickets, messages, csat)
    total_messages += _flush(engine, tickets, messages, csat)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return n_tickets, total_messages


def _flush(engine: Engine, tickets: list[dict[str, object]], messages: list[dict[str, object]],
           csat: list[dict[str, object]]) -> int:
    count = len(messages)
    with engine.begin() as connection:
        if tickets:
            connection.execute(insert(Ticket.__table__), tickets)  # type: ignore[attr-defined]
        if messages:
            connection.execute(insert(Message.__table__), messages)  # type: ignore[attr-defined]
        if csat:
            connection.execute(insert(CsatResponse.__table__), csat)  # type: ignore[attr-defined]
    tickets.clear()
    messages.clear()
    csat.clear()
    return count


def best_of(runs: int, action: object) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure(engine: Engine, charts_dir: Path) -> dict[str, float]:
    executor = CommandExecutor(engine, timezone="UTC", clock=lambda: NOW, charts_dir=charts_dir)
    results = {"/metrics 30d by region (command)": best_of(5, lambda: executor.execute(
        "/metrics 30d by region", LOCAL_ADMIN, platform="cli", channel_id=None))}
    for days in (7, 30, 90, 365):
        results[f"compute_metrics {days}d by region"] = best_of(
            5, lambda d=days: compute_metrics(engine, NOW - timedelta(days=d), NOW, group_by="region"))
    return results


@contextmanager
def postgres_database() -> Iterator[str | None]:
    url = os.environ.get("KEFU_BENCH_DATABASE_URL")
    if url:
        engine = create_db_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        yield url
        return
    name = f"kefu_bench_{os.getpid()}"
    created = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                              f"CREATE DATABASE {name}"], capture_output=True).returncode == 0
    if not created:
        yield None
        return
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def run(messages: int) -> list[tuple[str, int, int, dict[str, float]]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as pg_url:
        for label, url in (("SQLite", f"sqlite:///{tmp}/bench.db"), ("PostgreSQL", pg_url)):
            if url is None:
                continue
            upgrade(url)
            engine = create_db_engine(url)
            try:
                started = time.perf_counter()
                tickets, seeded = seed(engine, messages, random.Random(7))
                print(f"{label}: seeded {tickets} tickets, {seeded} messages in {time.perf_counter() - started:.0f} s",
                      flush=True)
                rows.append((label, tickets, seeded, measure(engine, Path(tmp) / "charts")))
            finally:
                engine.dispose()
    return rows


def report(rows: list[tuple[str, int, int, dict[str, float]]]) -> str:
    lines = ["# kefu metrics — benchmark report", "",
             f"Written by `python -m bench.metrics` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Best of 5, in ms.", ""]
    for label, tickets, messages, results in rows:
        lines += [f"## {label}: {tickets:,} tickets, {messages:,} messages over one year", "",
                  "| query | ms |", "|---|---|"]
        lines += [f"| {name} | {ms:.0f} |" for name, ms in results.items()]
        lines.append("")
    return "\n".join(lines)


def figures(rows: list[tuple[str, int, int, dict[str, float]]]) -> dict[str, object]:
    """The machine-readable figures (bench/metrics.json): query latencies per database and history size."""
    document: dict[str, object] = {}
    for label, tickets, messages, results in rows:
        key = label.lower()
        document[f"metrics_30d_by_region_ms_{key}"] = round(results["compute_metrics 30d by region"], 1)
        document[f"metrics_command_30d_by_region_ms_{key}"] = round(results["/metrics 30d by region (command)"], 1)
        document[key] = {"tickets": tickets, "messages": messages,
                         "queries_ms": {name: round(ms, 1) for name, ms in results.items()}}
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/METRICS.md"))
    parser.add_argument("--json", type=Path, default=Path("bench/metrics.json"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = run(args.messages)
    text_report = report(rows)
    args.out.write_text(text_report, encoding="utf-8")
    args.json.write_text(json.dumps(figures(rows), indent=2) + "\n", encoding="utf-8")
    print(text_report)


if __name__ == "__main__":
    main()
