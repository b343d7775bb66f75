"""Logging set-up and the request id: readable lines by default, JSON lines with `--log-format json`.

Every record carries the current request id (a context variable set per HTTP request from X-Request-Id, or
generated) so that one inbound message can be followed through the API, the pipeline and the outbox. Values passed
with `extra={...}` become fields of the JSON line (or `key=value` pairs in text). Secrets and message bodies are
never logged above debug level: callers log ids, intents and counts, not texts or tokens.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

request_id_var: ContextVar[str | None] = ContextVar("kefu_request_id", default=None)

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field of the line.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "request_id"}
)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def accept_request_id(value: str | None) -> str:
    """The client's X-Request-Id when it is a short token of safe characters, otherwise a fresh one."""
    if value and _REQUEST_ID_PATTERN.match(value):
        return value
    return new_request_id()


def set_request_id(value: str | None) -> Token[str | None]:
    return request_id_var.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request id of the context that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in _extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2026-01-02 03:04:05 INFO  kefu.pipeline [req 1a2b] message key=value`."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        request_id = getattr(record, "request_id", None)
        parts = [ts, f"{record.levelname:<7}", record.name]
        if request_id:
            parts.append(f"[req {request_id}]")
        parts.append(record.getMessage())
        extras = " ".join(f"{k}={v}" for k, v in _extra_fields(record).items())
        if extras:
            parts.append(extras)
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(
    level: str = "info", log_format: Literal["text", "json"] = "text", stream: TextIO | None = None
) -> None:
    """Route every logger to one handler on stderr (or `stream`) in the chosen format; idempotent."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiohttp's access log repeats what kefu's request log says; keep it for debugging only.
    quiet = logging.DEBUG if level == "debug" else logging.WARNING
    # Libraries' routine chatter (job scheduling, migration context) is debug detail: kefu logs its own summary.
    for name in ("aiohttp.access", "alembic.runtime.plugins", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(name).setLevel(quiet)
