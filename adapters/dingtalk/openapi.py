"""DingTalk's OpenAPI as kefu's outbox uses it: the app's access token (cached until five minutes before it
expires, fetched again after a 401) and the robot's group messages (`POST /v1.0/robot/groupMessages/send`).

DingTalk answers errors with an HTTP status and `{"code", "message"}`; they become outbox outcomes here: flow
control (429, or codes naming Throttling/QpsLimit) → retry after Retry-After (or a second), 5xx and network
errors → retry with backoff, a token refused twice or a bad AppKey/AppSecret → failed with DingTalk's words,
anything else (a group the robot is not in, a bad parameter) → failed at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.outbox import SendError

TOKEN_PATH = "/v1.0/oauth2/accessToken"
GROUP_SEND_PATH = "/v1.0/robot/groupMessages/send"
TOKEN_MARGIN_SECONDS = 300
THROTTLE_WORDS = ("throttl", "qpslimit", "flowcontrol", "ratelimit")


def openapi_error(status: int, data: Any, headers: Any, what: str) -> SendError:
    """The outbox outcome of a DingTalk OpenAPI error answer."""
    code = str(data.get("code") or "") if isinstance(data, dict) else ""
    message = str(data.get("message") or "") if isinstance(data, dict) else ""
    said = f"{code}: {message}".strip(": ") or f"HTTP {status}"
    if status == 429 or any(word in code.casefold() for word in THROTTLE_WORDS):
        try:
            retry_after: float | None = float(headers.get("Retry-After", ""))
        except (TypeError, ValueError):
            retry_after = 1.0
        return SendError(f"DingTalk rate-limited {what} ({said})", transient=True, retry_after=retry_after)
    if status >= 500:
        return SendError(f"DingTalk answered HTTP {status} to {what} ({said})", transient=True)
    return SendError(f"DingTalk refused {what}: {said}", transient=False)


class DingTalkOpenApi:
    """Calls the OpenAPI at `api_url` as the app `client_id`; `session` gives the shared aiohttp session."""

    def __init__(self, api_url: str, client_id: str, client_secret: str,
                 session: Callable[[], aiohttp.ClientSession], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._session = session
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (token, expires at on `clock`)
        self._token_lock = asyncio.Lock()

    async def _request(self, path: str, body: dict[str, Any], headers: dict[str, str],
                       what: str) -> tuple[int, Any, Any]:
        try:
            async with self._session().post(self.api_url + path, data=json.dumps(body, ensure_ascii=False),
                                            headers={"Content-Type": "application/json", **headers}) as response:
                raw = await response.read()
                try:
                    data = json.loads(raw) if raw else {}
                except ValueError:
                    data = {"message": raw[:200].decode("utf-8", "replace")}
                return response.status, data, response.headers
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SendError(f"DingTalk unreachable for {what}: {type(exc).__name__}: {exc}", transient=True) from None

    async def access_token(self) -> str:
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token[1]:
                return self._token[0]
            status, data, headers = await self._request(
                TOKEN_PATH, {"appKey": self.client_id, "appSecret": self._secret}, {}, "the access token")
            if status != 200 or not isinstance(data, dict) or not data.get("accessToken"):
                error = openapi_error(status, data, headers, "the access token (check KEFU_DINGTALK_CLIENT_ID and "
                                                             "KEFU_DINGTALK_CLIENT_SECRET)")
                raise error
            lifetime = float(data.get("expireIn") or 7200)
            self._token = (str(data["accessToken"]), self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, 60.0))
            return self._token[0]

    async def call(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        """POST `body` to `path` with the app's token; a 401 fetches a new token and tries once more."""
        for attempt in (1, 2):
            token = await self.access_token()
            status, data, headers = await self._request(path, body, {"x-acs-dingtalk-access-token": token}, what)
            if status == 200 and isinstance(data, dict):
                return data
            if status == 401 and attempt == 1:
                self._token = None
                continue
            raise openapi_error(status, data, headers, what)
        raise AssertionError("unreachable")

    async def send_to_group(self, robot_code: str, conversation_id: str, msg_key: str,
                            param: dict[str, Any]) -> str:
        """Post a robot message to a group; returns DingTalk's processQueryKey."""
        data = await self.call(GROUP_SEND_PATH, {"robotCode": robot_code, "openConversationId": conversation_id,
                                                 "msgKey": msg_key,
                                                 "msgParam": json.dumps(param, ensure_ascii=False)},
                               "groupMessages/send")
        return str(data.get("processQueryKey") or "")
