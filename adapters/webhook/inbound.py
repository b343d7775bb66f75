"""The inbound HTTP API of the webhook customer channel: `POST /api/v1/messages` (aiohttp).

An operator's system (a shop backend, a marketplace connector) posts customers' messages as JSON:

    {"channel_message_id": "m-1", "customer": {"id": "c-9", "name": "Ana", "language": "es", "country": "MX"},
     "conversation_id": "c-9", "text": "¿dónde está mi pedido?", "sent_at": "2026-03-01T10:00:00+01:00",
     "order_id": "A-1001", "sku": "SKU-7", "marketplace": "amazon.es"}

Authentication: `Authorization: Bearer <KEFU_API_TOKEN>` or an HMAC-SHA256 signature (`X-Kefu-Timestamp`,
`X-Kefu-Signature: sha256=<hex>` over timestamp + "." + body, 5-minute window) with KEFU_API_SECRET.
Answers: 202 {"ticket_id", "message_id", "intent", "confidence", "language", "action"}; 400 {"error", "field"}
naming the bad field; 401 bad or missing credentials; 413 body over 64 KiB; 415 not application/json; 503 with
Retry-After while the model loads. A refused request writes nothing. Replies go back through the outbox to
KEFU_WEBHOOK_CALLBACK_URL (adapters.webhook.callback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.exc import OperationalError

from adapters.webhook.requests import RequestRefused, authenticated_json, error_response
from bot.api_token import ApiCredentials
from bot.logs import request_id_var
from bot.message_fields import MAX_TEXT_CHARS, FieldError, customer_field, reject_unknown, string_field, time_field
from bot.messages import Inbound, IngestResult

log = logging.getLogger("kefu.webhook")

CHANNEL = "webhook"
PATH = "/api/v1/messages"
MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 5

_TOP_FIELDS = ("channel_message_id", "customer", "conversation_id", "text", "sent_at", "order_id", "sku",
               "marketplace")


class Ingestor(Protocol):
    async def ingest(self, inbound: Inbound) -> IngestResult: ...


# ---- the body ------------------------------------------------------------------------------------------------


def parse_message(data: Any, request_id: str | None = None) -> Inbound:
    """The `Inbound` for a decoded JSON body, or `FieldError` naming the first bad field (bot/message_fields.py)."""
    if not isinstance(data, dict):
        raise FieldError(f"the body must be a JSON object, got {type(data).__name__}")
    reject_unknown(data, _TOP_FIELDS)
    channel_message_id = string_field(data, "channel_message_id", required=True)
    customer = customer_field(data)
    conversation_id = string_field(data, "conversation_id")
    text = string_field(data, "text", required=True, limit=MAX_TEXT_CHARS)
    sent_at = time_field(data, "sent_at")
    assert channel_message_id is not None and customer is not None and text is not None
    return Inbound(
        channel=CHANNEL,
        channel_message_id=channel_message_id,
        customer=customer,
        text=text,
        conversation_id=conversation_id,
        sent_at=sent_at,
        order_id=string_field(data, "order_id", limit=128),
        sku=string_field(data, "sku", limit=128),
        marketplace=string_field(data, "marketplace", limit=64),
        request_id=request_id,
    )


# ---- the endpoint --------------------------------------------------------------------------------------------


class WebhookInbound:
    """The `POST /api/v1/messages` handler. `ingestor()` returns the pipeline, or None while the model loads."""

    def __init__(self, credentials: ApiCredentials, ingestor: Callable[[], Ingestor | None]) -> None:
        if not credentials.token and not credentials.secret:
            raise ValueError("the inbound API needs a token or a secret")
        self.credentials = credentials
        self.ingestor = ingestor

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            data = await authenticated_json(request, self.credentials, MAX_BODY_BYTES)
        except RequestRefused as refused:
            return refused.response
        try:
            inbound = parse_message(data, request_id=request_id_var.get())
        except FieldError as exc:
            log.info("inbound API request refused: %s", exc, extra={"field": exc.field})
            return error_response(400, str(exc), exc.field)
        ingestor = self.ingestor()
        if ingestor is None:
            return error_response(503, "kefu is starting: the language model is still loading; retry shortly",
                          **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            result = await ingestor.ingest(inbound)
        except OperationalError as exc:
            log.error("database unavailable while storing a message: %s", type(exc.orig or exc).__name__)
            return error_response(503, "the database is unavailable; retry shortly",
                          **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        return web.json_response(
            {
                "ticket_id": result.ticket_id,
                "message_id": result.message_id,
                "intent": result.intent,
                "confidence": round(result.confidence, 4),
                "language": result.language,
                "action": result.action,
            },
            status=202,
        )
