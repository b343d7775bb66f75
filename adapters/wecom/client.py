"""kefu's WeCom API client: wechatpy's `WeChatClient` pointed at `api_url`, with one token refresh per call.

wechatpy 1.8 hard-codes the gettoken URL (so `fetch_access_token` is overridden to honour `api_url`, which also
serves proxies and the test fakes) and, with its `auto_retry`, refreshes the token and retries for as long as
WeCom answers 40001/40014/42001. kefu turns that off and retries once after a refresh: a token that is refused
twice is a configuration problem, not something to loop on. Calls block (requests), so they run in threads.
Errors become outbox outcomes in `send_error`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Final

import requests
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.outbox import SendError

log = logging.getLogger("kefu.wecom")

# gettoken takes the secret in its query string (WeCom's protocol): keep it out of urllib3's debug lines and of
# the connection errors requests raises, which both quote the URL.
_SECRET_PARAMETER = re.compile(r"(corpsecret=)[^&\s\"')]+")


def redacted(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1***", text)


class _RedactSecretQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "corpsecret=" in message:
            record.msg, record.args = redacted(message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecretQuery())

TOKEN_ERRORS: Final = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, expired token
RATE_LIMITED: Final = frozenset({45009, 45033})  # API frequency limit, too many concurrent calls
BUSY: Final = frozenset({-1})  # system busy
RATE_LIMIT_BACKOFF_SECONDS: Final = 60.0


class KefuWeChatClient(WeChatClient):
    """wechatpy's WeCom client with every URL under `api_url` (gettoken included)."""

    def __init__(self, corp_id: str, secret: str, *, api_url: str, timeout: float) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_url

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",  # type: ignore[no-any-return]
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


class WeComApi:
    """POSTs JSON to WeCom's API with a cached access token, refreshed once when WeCom says it is bad."""

    def __init__(self, corp_id: str, secret: str, *, api_url: str, timeout: float) -> None:
        self.client = KefuWeChatClient(corp_id, secret, api_url=api_url, timeout=timeout)

    def post_sync(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.client.post(endpoint, data=dict(body)))
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeCom refused the access token (%s) on %s: fetching a new one", exc.errcode, endpoint)
        self.client.fetch_access_token()
        return dict(self.client.post(endpoint, data=dict(body)))

    async def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self.post_sync, endpoint, body)

    def close(self) -> None:
        self.client._http.close()


def send_error(exc: Exception, what: str) -> SendError:
    """An outbox outcome for a failed WeCom call: rate limits and busy or unreachable servers are retried,
    everything else (a bad secret, an unknown user, a malformed card) fails at once with WeCom's errcode."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, WeChatClientException):
        code = exc.errcode
        if code in RATE_LIMITED:
            return SendError(f"WeCom rate-limited {what} (errcode {code})", transient=True,
                             retry_after=RATE_LIMIT_BACKOFF_SECONDS)
        if code is None:
            status = getattr(exc.response, "status_code", None)
            return SendError(f"WeCom answered HTTP {status} to {what}", transient=status is None or status >= 500)
        if code in BUSY:
            return SendError(f"WeCom was busy for {what} (errcode {code})", transient=True)
        return SendError(f"WeCom refused {what}: errcode {code} {exc.errmsg}", transient=False)
    if isinstance(exc, requests.RequestException | OSError | asyncio.TimeoutError):
        return SendError(f"WeCom unreachable for {what}: {type(exc).__name__}: {redacted(str(exc))}", transient=True)
    return SendError(f"{what} failed: {type(exc).__name__}: {redacted(str(exc))}", transient=False)
