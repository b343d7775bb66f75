"""Two `kefu serve` processes on one PostgreSQL database behave as one bot: every message is stored once even when
both replicas receive it, every reply and card goes out once, and an SLA breach and a metric alert are posted once
although both replicas' scheduled jobs see them."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from models.db import create_db_engine, is_sqlite, utcnow
from models.tables import Alert, Customer, Message, OutboxItem, SlaNotice, Ticket
from tests.e2e.conftest import API_TOKEN, ServeProcess, wait_until
from tests.fakes.callback_server import CallbackServer
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.slow

# A rule that fires as soon as the burst is in: both replicas evaluate it every second.
VOLUME_RULE = """
[[alerts.rules]]
name = "burst_volume"
metric = "volume"
window = "24h"
min_count = 0
warning = "> 5"
critical = "> 10"
for = "0m"
"""

# Questions the shipped templates answer at once, and complaints that need a person (a card each).
QUESTIONS = [
    "¿cuánto tarda el envío?", "how long does shipping take?", "Wie lange dauert der Versand?",
    "combien de temps prend la livraison ?", "quanto tempo leva o envio?",
]
COMPLAINTS = [
    "The blender arrived broken and I want my money back", "Das Paket ist beschädigt angekommen, ich bin sauer",
    "Le colis n'est jamais arrivé, c'est inadmissible", "El producto llegó roto, quiero un reembolso",
    "The item I received is not what I ordered, this is unacceptable",
]


def _seed_overdue_tickets(url: str, count: int) -> list[int]:
    """Tickets whose first response is already overdue: each replica's SLA watch sees every one of them."""
    engine = create_db_engine(url)
    now = utcnow()
    try:
        with Session(engine) as session:
            customer = Customer(channel="webhook", external_id="overdue-customer", name="Overdue")
            session.add(customer)
            session.flush()
            tickets = []
            for n in range(count):
                ticket = Ticket(
                    customer_id=customer.id, channel="webhook", conversation_id=f"overdue-{n}", status="open",
                    intent="item_damaged", kind="complaint", severity=1, language="en",
                    created_at=now - timedelta(hours=3), updated_at=now - timedelta(hours=3),
                    first_response_due=now - timedelta(hours=1), resolution_due=now + timedelta(hours=21),
                )
                session.add(ticket)
                tickets.append(ticket)
            session.commit()
            return [ticket.id for ticket in tickets if ticket.id is not None]
    finally:
        engine.dispose()


async def _post(session: aiohttp.ClientSession, replica: ServeProcess, body: dict[str, Any]) -> dict[str, Any]:
    async with session.post(replica.url + "/api/v1/messages", json=body,
                            headers={"Authorization": f"Bearer {API_TOKEN}"}) as response:
        assert response.status in (200, 202), await response.text()
        return dict(await response.json())


async def test_two_replicas_store_and_send_everything_exactly_once(
    serve_env: dict[str, str], serve_process: Any, migrated_url: str, tmp_path: Path,
) -> None:
    if is_sqlite(migrated_url):
        pytest.skip("replicas share a PostgreSQL database; SQLite serves one process")
    config = tmp_path / "kefu.toml"
    config.write_text(VOLUME_RULE, encoding="utf-8")
    overdue = _seed_overdue_tickets(migrated_url, 3)
    with FakeSlack() as slack:
        async with CallbackServer(secret=serve_env["KEFU_API_SECRET"]) as callback:
            env = {
                **serve_env, "KEFU_WEBHOOK_CALLBACK_URL": callback.url,
                "KEFU_SLACK_BOT_TOKEN": slack.bot_token, "KEFU_SLACK_SIGNING_SECRET": slack.signing_secret,
                "KEFU_SLACK_API_URL": slack.api_url, "KEFU_SLACK_CHANNEL": "C0TRIAGE",
                "KEFU_SLA__WATCH_INTERVAL_SECONDS": "1", "KEFU_ALERTS__EVALUATION_INTERVAL_SECONDS": "1",
                "KEFU_CONFIG": str(config),
            }
            replicas = [serve_process(env), serve_process(env)]
            await asyncio.gather(*(replica.wait_ready() for replica in replicas))

            texts = [*QUESTIONS, *COMPLAINTS] * 2
            async with aiohttp.ClientSession() as http:
                # Each message reaches BOTH replicas at once, as a load balancer's retry or a client's redelivery
                # would deliver it.
                answers = await asyncio.gather(*(
                    _post(http, replica, {"channel_message_id": f"rep-{n}", "customer": {"id": f"cust-{n}"},
                                          "text": text})
                    for n, text in enumerate(texts) for replica in replicas
                ))
            by_message: dict[str, set[int]] = {}
            for n, answer in enumerate(answers):
                by_message.setdefault(f"rep-{n // 2}", set()).add(answer["ticket_id"])
            assert all(len(ids) == 1 for ids in by_message.values()), by_message  # both answers name one ticket

            engine = create_db_engine(migrated_url)
            try:
                with Session(engine) as session:
                    stored = session.execute(
                        select(Message.channel_message_id, func.count()).where(Message.direction == "in")
                        .group_by(Message.channel_message_id)).all()
                    replies = session.scalar(select(func.count()).select_from(OutboxItem)
                                             .where(OutboxItem.kind == "reply")) or 0
                    cards = session.scalar(select(func.count()).select_from(OutboxItem)
                                           .where(OutboxItem.kind == "card", OutboxItem.channel == "slack")) or 0
                assert sorted(count for _, count in stored) == [1] * len(texts)
                assert replies >= 1 and cards >= 1  # both kinds are exercised

                await wait_until(lambda: len(callback.received) >= replies, "every reply to reach the customer")

                def slack_posts() -> list[dict[str, Any]]:
                    return [call.body for call in slack.calls("chat.postMessage") if call.ok]

                def breaches_posted() -> bool:
                    with Session(engine) as session:
                        notices = session.scalar(select(func.count()).select_from(SlaNotice)
                                                 .where(SlaNotice.stage == "breach")) or 0
                    return notices >= len(overdue)

                await wait_until(breaches_posted, "the SLA watch to notice the overdue tickets")

                def alert_fired() -> bool:
                    with Session(engine) as session:
                        return session.scalar(select(func.count()).select_from(Alert).where(
                            Alert.rule == "burst_volume", Alert.notified_at.is_not(None))) == 1  # type: ignore[union-attr]

                await wait_until(alert_fired, "the volume alert to fire")
                await wait_until(lambda: all(
                    item.status == "sent" for item in _outbox(engine)), "the outbox to drain")
                await asyncio.sleep(3)  # both watches and both outbox loops get several more turns

                posted = Counter(_ticket_of(body) for body in slack_posts())
                with Session(engine) as session:
                    slack_items = session.scalars(select(OutboxItem).where(OutboxItem.channel == "slack")).all()
                # One chat.postMessage per Slack outbox item: no card or alert went out twice.
                assert len(slack_posts()) == len([i for i in slack_items if i.kind != "card_update"])
                for ticket_id in overdue:
                    assert posted[ticket_id] >= 1, f"no SLA card for overdue ticket {ticket_id}"
                with Session(engine) as session:
                    alert_rows = session.scalars(select(Alert).where(Alert.rule == "burst_volume")).all()
                assert len(alert_rows) == 1, [(a.level, a.state) for a in alert_rows]  # one alert, not one per replica
                # The alert may post as a warning while the burst grows and again when it turns critical, but each
                # level once: two replicas evaluating it every second never post the same notification twice.
                levels = Counter(str(body.get("text", "")).split(":")[0] for body in slack_posts()
                                 if "burst_volume" in json.dumps(body, ensure_ascii=False))
                assert levels and set(levels.values()) == {1}, levels
                # One reply per reply item, each once.
                keys = Counter((body.get("ticket_id"), body.get("text")) for body in callback.received)
                assert len(callback.received) == replies
                assert all(count == 1 for count in keys.values()), keys
            finally:
                engine.dispose()
            for replica in replicas:
                assert replica.terminate() == 0, replica.output()


def _outbox(engine: Any) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem)).all())


def _ticket_of(body: dict[str, Any]) -> int | None:
    """The ticket a Slack message is about, read from its text ("Ticket #12 …" / "ticket #12")."""
    text = str(body.get("text", "")) + str(body.get("blocks", ""))
    match = re.search(r"[Tt]icket #(\d+)", text)
    return int(match.group(1)) if match else None
