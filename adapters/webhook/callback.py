"""Replies to webhook customers: a signed POST to the operator's callback URL, as an outbox sender.

The body is JSON {"ticket_id", "conversation_id", "customer_id", "text", "language", "kind"}; the request
carries `X-Kefu-Timestamp`, `X-Kefu-Signature` (see `adapters.webhook.signing`) and `Idempotency-Key` (the
outbox item's dedup key, identical on every retry, so the receiver can drop a repeat). A 2xx answer is success
(the reference is the answer's JSON "id" when it has one); 408, 429, 5xx, timeouts and connection errors are
retried by the outbox (after Retry-After when the receiver sends one); any other answer fails the item.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.outbox import SendError
from models.tables import OutboxItem

if TYPE_CHECKING:
    from bot.settings import Settings

CHANNEL = "webhook"
REPLY_KINDS = ("auto_reply", "agent_reply", "csat_survey", "csat_thanks")
_TRANSIENT_STATUSES = frozenset({408, 429})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is unreadable
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def callback_body(item: OutboxItem) -> dict[str, Any]:
    """The JSON body for a reply item; SendError (permanent) naming the key when the payload is unusable."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    body: dict[str, Any] = {}
    for key in ("conversation_id", "customer_id", "text"):
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            raise SendError(f"bad reply payload: {key!r} must be a non-empty string", transient=False)
        body[key] = value
    kind = payload.get("kind")
    if kind not in REPLY_KINDS:
        raise SendError(f"bad reply payload: 'kind' must be one of {', '.join(REPLY_KINDS)}, got {kind!r}",
                        transient=False)
    language = payload.get("language")
    if language is not None and not isinstance(language, str):
        raise SendError("bad reply payload: 'language' must be a string or null", transient=False)
    ticket_id = payload.get("ticket_id", item.ticket_id)
    if ticket_id is not None and (not isinstance(ticket_id, int) or isinstance(ticket_id, bool)):
        raise SendError("bad reply payload: 'ticket_id' must be an integer or null", transient=False)
    return {
        "ticket_id": ticket_id,
        "conversation_id": body["conversation_id"],
        "customer_id": body["customer_id"],
        "text": body["text"],
        "language": language,
        "kind": kind,
    }


class WebhookCallbackSender:
    """Sends outbox items of kind "reply" on channel "webhook" to the configured callback URL.

    `signing_secret` is KEFU_API_SECRET, or the API token when no secret is set (the caller chooses).
    Pass an `aiohttp.ClientSession` to share one; otherwise the sender opens its own and `close()` closes it.
    """

    channel = CHANNEL

    def __init__(
        self,
        url: str | None,
        signing_secret: str | None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url or None
        self._secret = signing_secret or None
        self._session = session
        self._owns_session = session is None
        self.timeout = timeout

    @classmethod
    def from_settings(
        cls, settings: Settings, session: aiohttp.ClientSession | None = None
    ) -> WebhookCallbackSender:
        """The sender kefu serve uses: KEFU_WEBHOOK_CALLBACK_URL, signed with KEFU_API_SECRET or KEFU_API_TOKEN."""
        secret = settings.api_secret or settings.api_token
        return cls(
            settings.webhook_callback_url,
            secret.get_secret_value() if secret is not None else None,
            session,
            timeout=settings.outbox.send_timeout_seconds,
        )

    async def close(self) -> None:
        """Close the HTTP session if this sender opened it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    async def send(self, item: OutboxItem) -> str | None:
        if self.url is None:
            raise SendError("no KEFU_WEBHOOK_CALLBACK_URL configured", transient=False)
        if self._secret is None:
            raise SendError("no KEFU_API_SECRET or KEFU_API_TOKEN to sign webhook callbacks with",
                            transient=False)
        if item.kind != "reply":
            raise SendError(f"the webhook channel sends replies only, not {item.kind!r} items",
                            transient=False)
        body = json.dumps(callback_body(item), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            "Idempotency-Key": item.dedup_key,
        }
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise SendError("the shared HTTP session is closed", transient=True)
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    return await _reference(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            raise SendError(f"webhook callback timed out after {self.timeout:g} s", transient=True) from None
        except aiohttp.ClientError as exc:
            raise SendError(f"webhook callback connection failed: {type(exc).__name__}",
                            transient=True) from None
        message = f"webhook callback answered HTTP {status}"
        if status in _TRANSIENT_STATUSES or status >= 500:
            raise SendError(message, transient=True, retry_after=retry_after)
        raise SendError(message, transient=False)


async def _reference(response: aiohttp.ClientResponse) -> str | None:
    try:
        answer = json.loads(await response.read())
    except (ValueError, UnicodeDecodeError, TimeoutError, aiohttp.ClientError):
        return None
    if isinstance(answer, dict) and answer.get("id") not in (None, ""):
        return str(answer["id"])
    return None
