"""Checks shared by kefu's HTTP API endpoints: reading a body under a size limit, and authentication.

A request is authenticated by `Authorization: Bearer <KEFU_API_TOKEN>` or by an HMAC-SHA256 signature
(`X-Kefu-Timestamp`, `X-Kefu-Signature: sha256=<hex>` over timestamp + "." + body, with KEFU_API_SECRET).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web

from adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify
from bot.api_token import ApiCredentials

log = logging.getLogger("kefu.api")


def error_response(status: int, message: str, field: str | None = None, **headers: str) -> web.Response:
    """kefu's API error body: {"error": message, "field"?: the bad field}."""
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status, headers=headers or None)


class RequestRefused(Exception):
    """The request was answered before its content was looked at (413, 401, 415 or 400 for bad JSON)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def authenticated_json(request: web.Request, credentials: ApiCredentials, limit: int) -> Any:
    """The request's JSON document once size, authentication and Content-Type are checked, in that order;
    raises RequestRefused with the precise answer otherwise."""
    body = await read_limited_body(request, limit)
    if body is None:
        raise RequestRefused(error_response(413, f"the body is larger than {limit // 1024} KiB"))
    problem = authentication_error(credentials, request, body)
    if problem is not None:
        log.warning("%s refused: %s", request.path, problem)
        raise RequestRefused(error_response(401, problem, **{"WWW-Authenticate": "Bearer"}))
    if request.content_type != "application/json":
        raise RequestRefused(error_response(
            415, f"Content-Type must be application/json, got {request.content_type or 'none'!r}"))
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestRefused(error_response(400, "the body is not UTF-8")) from None
    except json.JSONDecodeError as exc:
        raise RequestRefused(error_response(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")) from None


async def read_limited_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes (announced or actually sent)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def authentication_error(credentials: ApiCredentials, request: web.Request, body: bytes) -> str | None:
    """Why the request is not authenticated (bearer token or HMAC signature), or None when it is."""
    token, secret = credentials.token, credentials.secret
    authorization = request.headers.get("Authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return "the Authorization header must be 'Bearer <token>'"
        if token is None:
            return "bearer tokens are not accepted here: sign the request with X-Kefu-Signature"
        if hmac.compare_digest(value.strip().encode("utf-8"), token.encode("utf-8")):
            return None
        return "invalid API token"
    if request.headers.get(SIGNATURE_HEADER) or request.headers.get(TIMESTAMP_HEADER):
        if secret is None:
            return "signed requests are not accepted here: send Authorization: Bearer <token>"
        try:
            verify(secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body)
        except SignatureError as exc:
            return exc.reason
        return None
    ways = []
    if token is not None:
        ways.append("Authorization: Bearer <token>")
    if secret is not None:
        ways.append(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    return "missing credentials: send " + " or ".join(ways)
