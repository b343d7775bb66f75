"""The webhook channel's request signature: kefu's own HMAC signing (bot/request_signing.py), which the order
lookup hook in bot/ shares; this module is the adapter's name for it."""

from bot.request_signing import (
    DEFAULT_WINDOW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    sign,
    verify,
)

__all__ = ["DEFAULT_WINDOW_SECONDS", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SignatureError", "sign", "verify"]
