"""Anonymous widget visitors: the signed token a visitor's browser keeps in localStorage.

kefu issues a visitor a random id (128 bits, unguessable) with an HMAC-SHA256 signature: "<id>.<signature>". The
browser sends the whole token with each request; kefu accepts only tokens it signed, so nobody can name another
visitor's id to read that conversation. The key is `[webchat] secret`, or generated once into
`<var_dir>/webchat-secret` (replicas sharing var/ agree; a new key forgets every visitor).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from bot.api_token import read_or_create_secret_file
from bot.settings import Settings

SECRET_FILE_NAME = "webchat-secret"
_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9a-f]{32})")


def webchat_secret(settings: Settings) -> bytes:
    configured = settings.webchat.secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    return read_or_create_secret_file(Path(settings.var_dir) / SECRET_FILE_NAME).encode()


class VisitorTokens:
    """Issues visitor tokens and reads the visitor id back out of a valid one."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _sign(self, visitor_id: str) -> str:
        return hmac.new(self.secret, f"visitor:{visitor_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        visitor_id = secrets.token_urlsafe(16)
        return f"{visitor_id}.{self._sign(visitor_id)}"

    def visitor_id(self, token: str | None) -> str | None:
        """The visitor id of a token kefu signed; None for anything else."""
        match = _TOKEN.fullmatch(token or "")
        if match is None or not hmac.compare_digest(match.group(2), self._sign(match.group(1))):
            return None
        return match.group(1)
