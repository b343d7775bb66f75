"""kefu's HMAC-SHA256 request signing: the webhook channel's inbound requests and callbacks, and the order lookup
hook's requests and answers (bot/order_context/hook.py) all carry it.

The signature covers the timestamp and the exact body bytes: `sha256=<hex>` of HMAC-SHA256(secret,
timestamp + "." + body), sent in `X-Kefu-Signature` next to `X-Kefu-Timestamp` (Unix seconds). A receiver
rejects a request whose timestamp is more than `window` seconds away from its clock (replays, skewed clocks).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import datetime

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
DEFAULT_WINDOW_SECONDS = 300

_PREFIX = "sha256="
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """A request whose signature cannot be accepted; `reason` says why in a few words (safe to show callers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds as a string)."""
    if not secret:
        raise ValueError("the signing secret is empty")
    message = timestamp.encode("ascii") + b"." + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | datetime | None = None,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> None:
    """Accept the request or raise `SignatureError`: missing or malformed headers, a timestamp more than
    `window` seconds old or in the future, or a signature that does not match (compared in constant time)."""
    if not secret:
        raise ValueError("the signing secret is empty")
    if not timestamp:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp = timestamp.strip()
    signature = signature.strip()
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError(f"malformed {TIMESTAMP_HEADER} header: expected Unix seconds")
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected sha256=<64 hex digits>")
    if now is None:
        current = time.time()
    elif isinstance(now, datetime):
        current = now.timestamp()
    else:
        current = float(now)
    skew = int(timestamp) - current
    if skew < -window:
        raise SignatureError(f"{TIMESTAMP_HEADER} is too old (more than {window} s ago)")
    if skew > window:
        raise SignatureError(f"{TIMESTAMP_HEADER} is in the future (more than {window} s ahead)")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        raise SignatureError("signature does not match the body")
