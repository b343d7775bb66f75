"""Who may use the web console: signed session cookies, the login throttle and the same-origin check.

A session is a cookie `kefu_console` holding the agent's name, an expiry time and a fingerprint of the agent's
password hash, signed with HMAC-SHA256. The key is `console_secret` from settings, or generated once into
`<var_dir>/console-secret` (like the API token) so that sessions survive a restart and replicas sharing var/
agree. Changing an agent's password (or deactivating the agent) ends their sessions: the fingerprint no longer
matches. The cookie is HttpOnly and SameSite=Strict; POSTs must also come from the console's own origin.

Failed logins are counted per client address and name: after `MAX_FAILURES` within `WINDOW_SECONDS` further
attempts for that pair are refused (429) until the window passes. The count lives in the database
(`bot.shared_windows`), so a guesser spreading attempts over replicas is locked out all the same; an attempt is
counted before its password is checked, so guesses sent at once cannot all pass one check either.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.agent_accounts import ConsoleAgent
from bot.api_token import read_or_create_secret_file
from bot.settings import Settings
from bot.shared_windows import SharedWindows

log = logging.getLogger("kefu.console")

COOKIE = "kefu_console"
SECRET_FILE_NAME = "console-secret"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
LOGIN_SCOPE = "console_login"  # the failed logins' windows (RateWindow rows), one per address and name


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


def throttle_key(address: str, name: str) -> str:
    """The window key of `name` tried from `address`: a digest, so that no typed name (a password typed into the
    name field, say) is stored, and any text fits."""
    return hashlib.sha256(f"{address}\n{name.casefold()}".encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    """Counts failed logins per (client address, name) in a sliding window that every replica shares.

    `attempt` counts a login as failed before its password is checked and says whether it may go ahead; the count
    is taken back when the password proves right (`succeeded` forgets the pair's failures) or when the attempt
    turns out not to be a guess after all (`withdraw`). Rows of pairs quiet for a whole window are deleted now and
    then. The database work runs in threads.
    """

    def __init__(self, engine: Engine, *, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.windows = SharedWindows(engine, LOGIN_SCOPE, limit=max_failures, seconds=window, clock=clock)
        self._pruned_at: float | None = None

    async def attempt(self, address: str, name: str) -> float | None:
        """Count an attempt at `name` from `address` as failed until it proves right: None when it may go ahead,
        otherwise (nothing counted) the seconds until it may be tried again."""
        wait = await asyncio.to_thread(self.windows.claim, throttle_key(address, name))
        await self._prune()
        return None if wait == 0 else max(wait, 1.0)

    async def withdraw(self, address: str, name: str) -> None:
        """Take back the attempt counted last for the pair: no password was wrong."""
        await asyncio.to_thread(self.windows.release, throttle_key(address, name))

    async def succeeded(self, address: str, name: str) -> None:
        """The password was right: forget the pair's failures."""
        await asyncio.to_thread(self.windows.clear, throttle_key(address, name))

    async def _prune(self) -> None:
        now = self.windows.clock()
        if self._pruned_at is not None and now - self._pruned_at < self.windows.seconds:
            return
        self._pruned_at = now
        try:
            await asyncio.to_thread(self.windows.prune)
        except Exception as exc:  # housekeeping: never the reason a login fails
            log.warning("old failed-login counts not deleted: %s: %s", type(exc).__name__, exc)


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
