"""End to end through the inbound HTTP API, in process (aiohttp test server), on SQLite and PostgreSQL: a message
goes in, the ticket and outbox rows are written, and the reply reaches the fake callback receiver signed."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.api_token import resolve_api_credentials
from bot.messages import card_from_payload
from bot.settings import Settings
from models.tables import OutboxItem, Ticket
from tests.e2e.conftest import API_SECRET, API_TOKEN, row_counts, wait_until
from tests.fakes.callback_server import CallbackServer

_ids = iter(range(1, 100_000))


def message(text: str, customer_id: str = "cust-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel_message_id": f"msg-{next(_ids)}", "customer": {"id": customer_id}, "text": text}
    body.update(extra)
    return body


async def test_a_spanish_order_question_is_auto_replied_in_spanish_through_the_signed_callback(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    body = message("¿dónde está mi pedido?", order_id="A-1001",
                   customer={"id": "ana-77", "name": "Ana", "country": "ES"})

    response = await kefu.post(body)

    assert response.status == 202, await response.text()
    answer = await response.json()
    assert (answer["intent"], answer["language"], answer["action"]) == ("order_status", "es", "auto_replied")
    [reply] = await wait_until(lambda: callback_server.received, "the reply at the callback receiver")
    assert reply["language"] == "es" and reply["kind"] == "auto_reply"
    assert (reply["conversation_id"], reply["customer_id"], reply["ticket_id"]) == ("ana-77", "ana-77",
                                                                                    answer["ticket_id"])
    assert "A-1001" in reply["text"]
    # The fake answers 401 to a bad signature and records only accepted requests: this one was signed right.
    [request] = callback_server.requests
    assert request.answered == 200
    assert request.headers["Idempotency-Key"] == f"reply:{answer['message_id']}"


async def test_a_chinese_not_received_complaint_opens_a_severity_1_ticket_and_a_triage_card(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)

    response = await kefu.post(message("一直没有收到货", "wang-1", marketplace="aliexpress"))

    answer = await response.json()
    assert response.status == 202
    assert (answer["intent"], answer["language"], answer["action"]) == ("item_not_received", "zh", "suggested")
    with Session(kefu.engine) as session:
        ticket = session.get(Ticket, answer["ticket_id"])
        assert ticket is not None
        assert (ticket.severity, ticket.kind, ticket.status) == (1, "complaint", "new")
        assert ticket.first_response_due - ticket.created_at == timedelta(hours=2)
        [card] = session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id)).all()
    assert (card.kind, card.channel) == ("card", "console")
    triage = card_from_payload(card.payload)
    assert triage.body == "一直没有收到货" and triage.severity == 1
    assert {f.label: f.value for f in triage.fields}["Marketplace"] == "aliexpress"

    def card_posted() -> OutboxItem | None:
        with Session(kefu.engine) as session:
            item = session.get(OutboxItem, card.id)
            return item if item is not None and item.status == "sent" else None

    posted = await wait_until(card_posted, "the console to take the card")
    assert posted.result_ref == f"console:{card.id}"
    assert callback_server.received == []  # nothing goes to the customer before an agent answers


async def test_without_a_callback_url_a_faq_is_suggested_to_agents_instead_of_sent(start_kefu: Any) -> None:
    kefu = await start_kefu(None)

    answer = await (await kefu.post(message("¿dónde está mi pedido?", "no-callback"))).json()

    assert (answer["intent"], answer["action"]) == ("order_status", "suggested")
    with Session(kefu.engine) as session:
        [item] = session.scalars(select(OutboxItem)).all()
    assert (item.kind, item.channel) == ("card", "console")
    assert card_from_payload(item.payload).suggested_reply  # the Spanish reply, ready for an agent to send


async def test_a_duplicate_delivery_answers_duplicate_and_creates_nothing(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    body = message("I was charged twice for my order", "dup-cust")
    first = await (await kefu.post(body)).json()
    counts = row_counts(kefu.engine)

    response = await kefu.post(body)

    assert response.status == 202
    again = await response.json()
    assert again["action"] == "duplicate"
    assert (again["ticket_id"], again["message_id"], again["intent"]) == (first["ticket_id"], first["message_id"],
                                                                         first["intent"])
    assert row_counts(kefu.engine) == counts


def _signed(body: bytes, secret: str = API_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body), "Content-Type": "application/json"}


_GOOD = {"channel_message_id": "bad-1", "customer": {"id": "c-1"}, "text": "hola"}
BAD_BODIES = [
    pytest.param({**_GOOD, "colour": "red"}, "colour", id="unknown-field"),
    pytest.param({**_GOOD, "customer": {"id": "c-1", "nickname": "x"}}, "customer.nickname",
                 id="unknown-customer-field"),
    pytest.param({k: v for k, v in _GOOD.items() if k != "channel_message_id"}, "channel_message_id", id="no-id"),
    pytest.param({**_GOOD, "channel_message_id": ""}, "channel_message_id", id="empty-id"),
    pytest.param({**_GOOD, "channel_message_id": "x" * 256}, "channel_message_id", id="long-id"),
    pytest.param({**_GOOD, "channel_message_id": 42}, "channel_message_id", id="numeric-id"),
    pytest.param({**_GOOD, "customer": None}, "customer", id="no-customer"),
    pytest.param({**_GOOD, "customer": "c-1"}, "customer", id="customer-not-object"),
    pytest.param({**_GOOD, "customer": {"name": "Ana"}}, "customer.id", id="no-customer-id"),
    pytest.param({**_GOOD, "customer": {"id": "c-1", "country": "Mexico"}}, "customer.country", id="bad-country"),
    pytest.param({**_GOOD, "customer": {"id": "c-1", "language": "español"}}, "customer.language", id="bad-lang"),
    pytest.param({**_GOOD, "text": ""}, "text", id="empty-text"),
    pytest.param({**_GOOD, "text": "   "}, "text", id="blank-text"),
    pytest.param({**_GOOD, "text": "a" * 10_001}, "text", id="text-over-10000"),
    pytest.param({**_GOOD, "text": "nul\x00"}, "text", id="text-with-nul"),
    pytest.param({**_GOOD, "sent_at": "2026-03-01T10:00:00"}, "sent_at", id="sent-at-without-offset"),
    pytest.param({**_GOOD, "sent_at": "yesterday"}, "sent_at", id="sent-at-not-a-date"),
    pytest.param({**_GOOD, "conversation_id": ""}, "conversation_id", id="empty-conversation"),
    pytest.param([_GOOD], None, id="not-an-object"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_a_bad_body_gets_400_naming_the_field_and_writes_nothing(
    start_kefu: Any, callback_server: CallbackServer, body: Any, field: str | None
) -> None:
    kefu = await start_kefu(callback_server.url)
    counts = row_counts(kefu.engine)

    response = await kefu.post(body)

    assert response.status == 400
    answer = await response.json()
    assert answer.get("field") == field
    if field is not None:
        assert field in answer["error"]
    assert row_counts(kefu.engine) == counts


async def test_each_refused_request_gets_its_precise_status_and_writes_nothing(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    client = kefu.client
    body = json.dumps(_GOOD).encode()
    bearer = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    counts = row_counts(kefu.engine)
    cases: list[tuple[str, dict[str, str], bytes | Any, int, str]] = [
        ("no credentials", {"Content-Type": "application/json"}, body, 401, "missing credentials"),
        ("wrong token", {**bearer, "Authorization": "Bearer nope"}, body, 401, "invalid API token"),
        ("basic auth", {**bearer, "Authorization": "Basic dXNlcjpwYXNz"}, body, 401, "Bearer <token>"),
        ("signature by another secret", _signed(body, secret="other"), body, 401, "does not match"),
        ("stale signature", _signed(body, timestamp=int(time.time()) - 301), body, 401, "too old"),
        ("signature over another body", _signed(b"{}"), body, 401, "does not match"),
        ("text/plain", {**bearer, "Content-Type": "text/plain"}, body, 415, "application/json"),
        ("no content type", {"Authorization": f"Bearer {API_TOKEN}"}, body, 415, "application/json"),
        ("not JSON", bearer, b"{not json", 400, "not valid JSON"),
        ("not UTF-8", bearer, b'{"text": "\xff"}', 400, "not UTF-8"),
        ("over 64 KiB", bearer, json.dumps({**_GOOD, "text": "a" * 70_000}).encode(), 413, "64 KiB"),
    ]
    for name, headers, data, status, error in cases:
        response = await client.post("/api/v1/messages", data=data, headers=headers)
        answer = await response.json()
        assert (name, response.status) == (name, status), answer
        assert error in answer["error"], (name, answer)
    assert row_counts(kefu.engine) == counts


async def test_a_body_streamed_without_content_length_is_cut_at_64_kib(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    counts = row_counts(kefu.engine)
    payload = json.dumps({**_GOOD, "text": "a" * 9_000}).encode() + b" " * 70_000

    async def chunks() -> Any:
        for start in range(0, len(payload), 8192):
            yield payload[start:start + 8192]

    response = await kefu.client.post("/api/v1/messages", data=chunks(), headers={
        "Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"})

    assert response.status == 413
    assert row_counts(kefu.engine) == counts


async def test_a_signed_request_is_accepted_and_the_request_id_is_echoed(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    body = json.dumps(message("Thank you so much!", "signed-1")).encode()

    response = await kefu.client.post("/api/v1/messages", data=body,
                                      headers={**_signed(body), "X-Request-Id": "trace-42"})

    assert response.status == 202, await response.text()
    assert (await response.json())["intent"] == "thanks"
    assert response.headers["X-Request-Id"] == "trace-42"
    generated = (await kefu.client.get("/healthz")).headers["X-Request-Id"]
    assert generated and generated != "trace-42"


async def test_a_callback_that_fails_twice_then_succeeds_receives_the_reply_exactly_once(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    kefu = await start_kefu(callback_server.url)
    callback_server.fail_next(2)

    answer = await (await kefu.post(message("¿cuánto tarda el envío a México?", "retry-1"))).json()

    assert answer["action"] == "auto_replied"
    await wait_until(lambda: callback_server.received, "the reply after two failures")

    def reply_item() -> OutboxItem | None:
        with Session(kefu.engine) as session:
            item = session.scalars(select(OutboxItem).where(OutboxItem.kind == "reply")).one()
            return item if item.status == "sent" else None

    item = await wait_until(reply_item, "the reply to be recorded as sent")
    assert item.attempts == 3
    assert [r.answered for r in callback_server.requests] == [500, 500, 200]
    assert len(callback_server.received) == 1


async def test_while_the_model_loads_kefu_is_alive_but_not_ready_and_the_api_answers_503(
    start_kefu: Any, callback_server: CallbackServer, intent_model: Any
) -> None:
    release = threading.Event()

    def slow_model(_settings: Settings, _engine: Any) -> Any:
        release.wait(60)
        return intent_model

    kefu = await start_kefu(callback_server.url, model_loader=slow_model, wait=False)
    try:
        assert (await kefu.client.get("/healthz")).status == 200
        not_ready = await kefu.client.get("/readyz")
        assert not_ready.status == 503
        assert "model is loading" in (await not_ready.json())["reason"]
        counts = row_counts(kefu.engine)
        busy = await kefu.post(message("hola", "early-1"))
        assert busy.status == 503 and busy.headers["Retry-After"] == "5"
        assert row_counts(kefu.engine) == counts
    finally:
        release.set()

    async def ready() -> bool:
        return (await kefu.client.get("/readyz")).status == 200

    await wait_until(ready, "/readyz after the model loaded")
    assert (await kefu.post(message("hola", "early-1"))).status == 202


async def test_a_model_that_fails_to_load_is_reported_by_readyz(
    start_kefu: Any, callback_server: CallbackServer
) -> None:
    def broken(_settings: Settings, _engine: Any) -> Any:
        raise RuntimeError("embedder weights missing")

    kefu = await start_kefu(callback_server.url, model_loader=broken, wait=False)

    async def reported() -> dict[str, Any] | None:
        answer = await (await kefu.client.get("/readyz")).json()
        return answer if "failed" in answer["reason"] else None

    answer = await wait_until(reported, "/readyz to report the failure")
    assert answer["reason"] == "intent model failed to load: RuntimeError: embedder weights missing"


async def test_unknown_routes_answer_json_errors(start_kefu: Any, callback_server: CallbackServer) -> None:
    kefu = await start_kefu(callback_server.url)
    missing = await kefu.client.get("/api/v1/nothing")
    assert missing.status == 404 and (await missing.json())["error"] == "Not Found"
    wrong_method = await kefu.client.get("/api/v1/messages")
    assert wrong_method.status == 405 and "POST" in wrong_method.headers["Allow"]


def test_without_token_or_secret_a_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    first = resolve_api_credentials(settings)
    token_file = tmp_path / "var" / "api-token"

    assert first.token and first.secret is None and first.token_file == token_file
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert token_file.read_text().strip() == first.token
    assert resolve_api_credentials(settings).token == first.token  # reused on the next start
    explicit = resolve_api_credentials(Settings(var_dir=tmp_path / "var", api_secret="s"))
    assert (explicit.token, explicit.secret) == (None, "s")
