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
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.exc import OperationalError

from adapters.webhook.requests import RequestRefused, authenticated_json, error_response
from bot.api_token import ApiCredentials
from bot.logs import request_id_var
from bot.messages import CustomerInfo, Inbound, IngestResult

log = logging.getLogger("kefu.webhook")

CHANNEL = "webhook"
PATH = "/api/v1/messages"
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_CHARS = 10_000
RETRY_AFTER_SECONDS = 5

_TOP_FIELDS = ("channel_message_id", "customer", "conversation_id", "text", "sent_at", "order_id", "sku",
               "marketplace")
_CUSTOMER_FIELDS = ("id", "name", "language", "country")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class BadRequest(ValueError):
    """A request body that cannot be accepted; `field` is the dotted name of the bad field (None: the body)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Ingestor(Protocol):
    async def ingest(self, inbound: Inbound) -> IngestResult: ...


# ---- the body ------------------------------------------------------------------------------------------------


def _string(data: dict[str, Any], key: str, name: str, *, required: bool = False, limit: int = 255) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required", name)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string, got {type(value).__name__}", name)
    if "\x00" in value:
        raise BadRequest(f"{name} must not contain NUL characters", name)
    if not value.strip():
        raise BadRequest(f"{name} must not be empty", name)
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit:,} characters ({len(value):,})", name)
    return value


def _reject_unknown(data: dict[str, Any], known: tuple[str, ...], prefix: str = "") -> None:
    unknown = [key for key in data if key not in known]
    if unknown:
        name = prefix + str(unknown[0])
        raise BadRequest(f"unknown field {name!r}; accepted fields: {', '.join(prefix + k for k in known)}", name)


def parse_message(data: Any, request_id: str | None = None) -> Inbound:
    """The `Inbound` for a decoded JSON body, or `BadRequest` naming the first bad field."""
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(data).__name__}")
    _reject_unknown(data, _TOP_FIELDS)
    channel_message_id = _string(data, "channel_message_id", "channel_message_id", required=True)
    customer_data = data.get("customer")
    if customer_data is None:
        raise BadRequest("customer is required", "customer")
    if not isinstance(customer_data, dict):
        raise BadRequest(f"customer must be an object, got {type(customer_data).__name__}", "customer")
    _reject_unknown(customer_data, _CUSTOMER_FIELDS, "customer.")
    customer_id = _string(customer_data, "id", "customer.id", required=True)
    name = _string(customer_data, "name", "customer.name")
    language = _string(customer_data, "language", "customer.language", limit=16)
    if language is not None:
        if not _LANGUAGE.match(language.strip()):
            raise BadRequest(f"customer.language must be a language code such as 'es' or 'zh-CN', got {language!r}",
                             "customer.language")
        language = language.strip().lower().replace("_", "-")
    country = _string(customer_data, "country", "customer.country", limit=8)
    if country is not None:
        if not _COUNTRY.match(country):
            raise BadRequest(f"customer.country must be a two-letter country code such as 'MX', got {country!r}",
                             "customer.country")
        country = country.upper()
    conversation_id = _string(data, "conversation_id", "conversation_id")
    text = _string(data, "text", "text", required=True, limit=MAX_TEXT_CHARS)
    sent_at = _timestamp(data)
    assert channel_message_id is not None and customer_id is not None and text is not None
    return Inbound(
        channel=CHANNEL,
        channel_message_id=channel_message_id,
        customer=CustomerInfo(id=customer_id, name=name, language=language, country=country),
        text=text,
        conversation_id=conversation_id,
        sent_at=sent_at,
        order_id=_string(data, "order_id", "order_id", limit=128),
        sku=_string(data, "sku", "sku", limit=128),
        marketplace=_string(data, "marketplace", "marketplace", limit=64),
        request_id=request_id,
    )


def _timestamp(data: dict[str, Any]) -> datetime | None:
    raw = _string(data, "sent_at", "sent_at", limit=64)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"sent_at must be an ISO 8601 date-time such as 2026-03-01T10:00:00+01:00, got {raw!r}",
                         "sent_at") from None
    if value.tzinfo is None:
        raise BadRequest(f"sent_at needs a UTC offset (such as +01:00 or Z), got {raw!r}", "sent_at")
    return value.astimezone(UTC)


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
        except BadRequest as exc:
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
