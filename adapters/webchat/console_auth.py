"""Who may use the web console: signed session cookies, the login throttle and the same-origin check.

A session is a cookie `kefu_console` holding the agent's name, an expiry time and a fingerprint of the agent's
password hash, signed with HMAC-SHA256. The key is `console_secret` from settings, or generated once into
`<var_dir>/console-secret` (like the API token) so that sessions survive a restart and replicas sharing var/
agree. Changing an agent's password (or deactivating the agent) ends their sessions: the fingerprint no longer
matches. The cookie is HttpOnly and SameSite=Strict; POSTs must also come from the console's own origin.

Failed logins are counted per client address and name: after `MAX_FAILURES` within `WINDOW_SECONDS` further
attempts for that pair are refused (429) until the window passes. The count lives in the process: a replica
counts its own attempts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.agent_accounts import ConsoleAgent
from bot.api_token import read_or_create_secret_file
from bot.settings import Settings

COOKIE = "kefu_console"
SECRET_FILE_NAME = "console-secret"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


def console_secret(settings: Settings) -> bytes:
    if settings.console_secret is not None and settings.console_secret.get_secret_value():
        return settings.console_secret.get_secret_value().encode()
    return read_or_create_secret_file(Path(settings.var_dir) / SECRET_FILE_NAME).encode()


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class ConsoleSessions:
    """Issues and reads session cookies signed with `secret`."""

    def __init__(self, secret: bytes, *, max_age: int = SESSION_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.max_age = max_age
        self.clock = clock

    def _sign(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()

    def issue(self, agent: ConsoleAgent) -> str:
        data = {"n": agent.name, "e": int(self.clock()) + self.max_age, "p": _fingerprint(agent.password_hash)}
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def name_in(self, cookie: str | None) -> tuple[str, str] | None:
        """(agent name, password fingerprint) of a valid, unexpired cookie; None otherwise."""
        if not cookie or not cookie.isascii() or cookie.count(".") != 1:  # compare_digest refuses non-ASCII str
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] < self.clock():
            return None
        name, fingerprint = data.get("n"), data.get("p")
        return (name, fingerprint) if isinstance(name, str) and isinstance(fingerprint, str) else None

    @staticmethod
    def matches(agent: ConsoleAgent, fingerprint: str) -> bool:
        return hmac.compare_digest(_fingerprint(agent.password_hash), fingerprint)

    def set_cookie(self, response: web.StreamResponse, agent: ConsoleAgent, *, secure: bool) -> None:
        response.set_cookie(COOKIE, self.issue(agent), max_age=self.max_age, path="/", httponly=True,
                            samesite="Strict", secure=secure)

    @staticmethod
    def clear_cookie(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/")


class LoginThrottle:
    """Counts failed logins per (client address, name) in a sliding window."""

    def __init__(self, *, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        return times

    def retry_after(self, address: str, name: str) -> float | None:
        """Seconds until `name` may be tried again from `address`; None when it may be tried now."""
        key = (address, name.casefold())
        times = self._recent(key)
        if len(times) < self.max_failures:
            if not times:
                self._failures.pop(key, None)
            return None
        return max(times[0] + self.window - self.clock(), 1.0)

    def failed(self, address: str, name: str) -> None:
        self._recent((address, name.casefold())).append(self.clock())

    def succeeded(self, address: str, name: str) -> None:
        self._failures.pop((address, name.casefold()), None)


def same_origin(request: web.Request, public_url: str | None = None) -> bool:
    """Whether a POST comes from a page of kefu itself: its Origin (or, without one, its Referer) names the host
    the request was sent to, or kefu's public URL."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}"
    allowed = {f"{request.scheme}://{request.host}"}
    if public_url:
        public = urlsplit(public_url)
        allowed.add(f"{public.scheme}://{public.netloc}")
    return origin in allowed
