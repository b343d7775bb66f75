"""Credentials of the inbound HTTP API: a bearer token and/or an HMAC signing secret.

They come from KEFU_API_TOKEN and KEFU_API_SECRET. With neither set, kefu generates a token on its first start,
keeps it in `<var_dir>/api-token` (mode 0600) and reuses it on later starts; the log says where the file is,
never what is in it.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger("kefu.api")

TOKEN_FILE_NAME = "api-token"


@dataclass(frozen=True)
class ApiCredentials:
    token: str | None
    secret: str | None
    token_file: Path | None = None  # set when the token was generated or read from var/api-token

    @property
    def callback_signing_secret(self) -> str:
        """The secret that signs kefu's callbacks: the API secret, or the token when only a token exists."""
        value = self.secret or self.token
        assert value, "API credentials always hold a token or a secret"
        return value


def read_or_create_secret_file(path: Path) -> str:
    """The secret kept in `path` (mode 0600), generated there on first use; shared by every secret kefu makes for
    itself (the API token, the console's session key)."""
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # O_EXCL: two replicas starting together cannot both write; the loser reads the winner's token.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip() or token
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def resolve_api_credentials(settings: Settings) -> ApiCredentials:
    token = settings.api_token.get_secret_value() if settings.api_token else None
    secret = settings.api_secret.get_secret_value() if settings.api_secret else None
    if token or secret:
        return ApiCredentials(token=token or None, secret=secret or None)
    path = Path(settings.var_dir) / TOKEN_FILE_NAME
    existed = path.exists()
    token = read_or_create_secret_file(path)
    log.info(
        "inbound API token %s %s (set KEFU_API_TOKEN or KEFU_API_SECRET to choose your own)",
        "read from" if existed else "generated and saved in",
        path.resolve(),
    )
    return ApiCredentials(token=token, secret=None, token_file=path)
