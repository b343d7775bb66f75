"""Webhook request signing and the callback sender, against a fake receiver on 127.0.0.1 over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import pytest_asyncio

from adapters.webhook.callback import WebhookCallbackSender, parse_retry_after
from adapters.webhook.signing import SignatureError, sign, verify
from bot.outbox import SendError
from bot.settings import Settings
from models.tables import OutboxItem
from tests.fakes.callback_server import CallbackServer

SECRET = "s3cret-callback-key"
NOW = 1_700_000_000


# ---- signing -------------------------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Computed independently: printf '%s' '1700000000.{"text":"hi"}' | openssl dgst -sha256 -hmac s3cret
    expected = "sha256=a4abab2c9ec335a751cf8c3848e413a84a4e0eef17a9660d993911fafacadb66"
    assert sign("s3cret", "1700000000", b'{"text":"hi"}') == expected


def test_verify_accepts_a_fresh_correct_signature_within_the_window() -> None:
    body = '{"text":"¿Dónde está mi pedido?"}'.encode()
    signature = sign(SECRET, str(NOW), body)
    verify(SECRET, str(NOW), signature, body, now=NOW)
    verify(SECRET, str(NOW), signature, body, now=NOW + 300)  # the edge of the window still passes
    verify(SECRET, str(NOW), signature, body, now=datetime.fromtimestamp(NOW - 300, UTC))


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now", "reason"),
    [
        (None, "sig", b"x", NOW, "missing X-Kefu-Timestamp"),
        (str(NOW), None, b"x", NOW, "missing X-Kefu-Signature"),
        (str(NOW), "", b"x", NOW, "missing X-Kefu-Signature"),
        ("12.5", "sha256=" + "0" * 64, b"x", NOW, "malformed X-Kefu-Timestamp"),
        ("yesterday", "sha256=" + "0" * 64, b"x", NOW, "malformed X-Kefu-Timestamp"),
        (str(NOW), "md5=" + "0" * 32, b"x", NOW, "malformed X-Kefu-Signature"),
        (str(NOW), "sha256=xyz", b"x", NOW, "malformed X-Kefu-Signature"),
        (str(NOW), "SIGNED", b"x", NOW, "malformed X-Kefu-Signature"),
        (str(NOW), "good", b"x", NOW + 301, "too old"),
        (str(NOW), "good", b"x", NOW - 301, "in the future"),
        (str(NOW), "good", b"tampered", NOW, "does not match"),
        (str(NOW), "other-secret", b"x", NOW, "does not match"),
    ],
)
def test_verify_rejects_with_a_reason(
    timestamp: str | None, signature: str | None, body: bytes, now: int, reason: str
) -> None:
    if signature == "good":
        signature = sign(SECRET, str(NOW), b"x")
    elif signature == "other-secret":
        signature = sign("not-the-secret", str(NOW), b"x")
    with pytest.raises(SignatureError) as caught:
        verify(SECRET, timestamp, signature, body, now=now)
    assert reason in caught.value.reason


def test_an_empty_secret_is_refused_rather_than_signing_with_nothing() -> None:
    with pytest.raises(ValueError, match="secret is empty"):
        sign("", str(NOW), b"x")


# ---- Retry-After ---------------------------------------------------------------------------------------------


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 3 ") == 3.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None


# ---- the sender ----------------------------------------------------------------------------------------------


def reply_item(**payload_changes: Any) -> OutboxItem:
    payload: dict[str, Any] = {
        "ticket_id": 7,
        "conversation_id": "conv-42",
        "customer_id": "cust-9",
        "text": "Su pedido llegará el martes. 您的订单周二到达。",
        "language": "es",
        "kind": "auto_reply",
    }
    payload.update(payload_changes)
    return OutboxItem(id=1, dedup_key="reply:msg-123", kind="reply", channel="webhook", target="conv-42",
                      payload={k: v for k, v in payload.items() if v is not ...}, ticket_id=7)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[CallbackServer]:
    async with CallbackServer(secret=SECRET) as fake:
        yield fake


@pytest_asyncio.fixture
async def sender(server: CallbackServer) -> AsyncIterator[WebhookCallbackSender]:
    callback = WebhookCallbackSender(server.url, SECRET, timeout=2.0)
    yield callback
    await callback.close()


async def test_a_reply_arrives_signed_with_its_idempotency_key(
    server: CallbackServer, sender: WebhookCallbackSender
) -> None:
    ref = await sender.send(reply_item())
    assert ref == "cb-1"
    assert server.received == [
        {
            "ticket_id": 7,
            "conversation_id": "conv-42",
            "customer_id": "cust-9",
            "text": "Su pedido llegará el martes. 您的订单周二到达。",
            "language": "es",
            "kind": "auto_reply",
        }
    ]
    (request,) = server.requests
    assert request.answered == 200
    assert request.headers["Idempotency-Key"] == "reply:msg-123"
    assert request.headers["Content-Type"] == "application/json"


async def test_a_receiver_without_an_id_in_its_answer_gives_no_ref(
    server: CallbackServer, sender: WebhookCallbackSender
) -> None:
    server.answer_next(202, body="accepted")
    assert await sender.send(reply_item()) is None
    assert len(server.received) == 1


async def test_a_wrongly_signed_callback_is_refused_and_not_retried(server: CallbackServer) -> None:
    wrong = WebhookCallbackSender(server.url, "not-the-receivers-secret")
    try:
        with pytest.raises(SendError) as caught:
            await wrong.send(reply_item())
    finally:
        await wrong.close()
    assert caught.value.transient is False
    assert "HTTP 401" in str(caught.value)
    assert server.received == []


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_server_errors_are_transient(
    server: CallbackServer, sender: WebhookCallbackSender, status: int
) -> None:
    server.answer_next(status)
    with pytest.raises(SendError) as caught:
        await sender.send(reply_item())
    assert caught.value.transient is True
    assert caught.value.retry_after is None
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422])
async def test_client_errors_are_permanent(
    server: CallbackServer, sender: WebhookCallbackSender, status: int
) -> None:
    server.answer_next(status)
    with pytest.raises(SendError) as caught:
        await sender.send(reply_item())
    assert caught.value.transient is False
    assert f"HTTP {status}" in str(caught.value)


async def test_429_carries_the_receivers_retry_after(server: CallbackServer, sender: WebhookCallbackSender) -> None:
    server.rate_limit_next("7")
    with pytest.raises(SendError) as caught:
        await sender.send(reply_item())
    assert caught.value.transient is True
    assert caught.value.retry_after == 7.0


async def test_503_with_an_http_date_retry_after(server: CallbackServer, sender: WebhookCallbackSender) -> None:
    later = datetime.now(UTC) + timedelta(seconds=60)
    server.answer_next(503, headers={"Retry-After": format_datetime(later, usegmt=True)})
    with pytest.raises(SendError) as caught:
        await sender.send(reply_item())
    assert caught.value.transient is True
    assert caught.value.retry_after is not None
    assert 50 <= caught.value.retry_after <= 61


async def test_a_hanging_receiver_times_out_as_a_transient_error(server: CallbackServer) -> None:
    impatient = WebhookCallbackSender(server.url, SECRET, timeout=0.3)
    server.hang_next(30)
    try:
        with pytest.raises(SendError) as caught:
            await impatient.send(reply_item())
    finally:
        await impatient.close()
    assert caught.value.transient is True
    assert "timed out" in str(caught.value)
    assert server.received == []


async def test_an_unreachable_receiver_is_a_transient_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = WebhookCallbackSender(f"http://127.0.0.1:{port}/callback", SECRET)
    try:
        with pytest.raises(SendError) as caught:
            await unreachable.send(reply_item())
    finally:
        await unreachable.close()
    assert caught.value.transient is True
    assert "connection failed" in str(caught.value)


async def test_no_callback_url_is_a_permanent_error_naming_the_setting() -> None:
    with pytest.raises(SendError) as caught:
        await WebhookCallbackSender(None, SECRET).send(reply_item())
    assert caught.value.transient is False
    assert str(caught.value) == "no KEFU_WEBHOOK_CALLBACK_URL configured"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"text": ...}, "'text'"),
        ({"text": ""}, "'text'"),
        ({"conversation_id": 42}, "'conversation_id'"),
        ({"customer_id": None}, "'customer_id'"),
        ({"kind": "shout"}, "'kind'"),
        ({"language": 3}, "'language'"),
        ({"ticket_id": "seven"}, "'ticket_id'"),
    ],
)
async def test_a_bad_payload_is_a_permanent_error_naming_the_key(
    server: CallbackServer, sender: WebhookCallbackSender, change: dict[str, Any], key: str
) -> None:
    with pytest.raises(SendError) as caught:
        await sender.send(reply_item(**change))
    assert caught.value.transient is False
    assert key in str(caught.value)
    assert server.requests == []


async def test_only_replies_go_to_the_callback(server: CallbackServer, sender: WebhookCallbackSender) -> None:
    card = reply_item()
    card.kind = "card"
    with pytest.raises(SendError) as caught:
        await sender.send(card)
    assert caught.value.transient is False
    assert server.requests == []


async def test_from_settings_signs_with_the_api_secret_or_else_the_token(server: CallbackServer) -> None:
    with_secret = Settings(webhook_callback_url=server.url, api_secret=SECRET, api_token="token-not-used")
    token_only = Settings(webhook_callback_url=server.url, api_token=SECRET)
    for settings in (with_secret, token_only):
        callback = WebhookCallbackSender.from_settings(settings)
        try:
            assert await callback.send(reply_item()) is not None
        finally:
            await callback.close()
    assert len(server.received) == 2
