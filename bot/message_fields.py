"""The fields of a customer message as other systems send them, checked in one place.

The inbound API's JSON body (adapters/webhook/inbound.py) and the lines of a history import (bot/history_file.py)
carry the same fields: ids, the customer object, the text, ISO 8601 times. These checks accept or refuse them the
same way for both, with a `FieldError` that names the dotted field ("customer.country") and says what is wrong.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.messages import CustomerInfo

MAX_TEXT_CHARS = 10_000  # the longest message text kefu accepts
# Times outside these are typos or attacks; SLA deadlines computed from them must still fit in a datetime.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)

CUSTOMER_FIELDS = ("id", "name", "language", "country", "email")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def lone_surrogate(value: str) -> str | None:
    """The first lone surrogate in `value` (JSON's "\\ud800" escape decodes to one), or None. Such a string cannot
    be encoded as UTF-8, so no database or platform can store or send it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return value[exc.start]
    return None


class FieldError(ValueError):
    """A value that cannot be accepted; `field` is the dotted name of the bad field (None: the whole object)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def string_field(data: dict[str, Any], key: str, name: str | None = None, *, required: bool = False,
                 limit: int = 255) -> str | None:
    """`data[key]` as a non-blank string of at most `limit` characters; None when absent or null (unless
    `required`). `name` is the field's name in errors (default: `key`)."""
    name = name or key
    value = data.get(key)
    if value is None:
        if required:
            raise FieldError(f"{name} is required", name)
        return None
    if not isinstance(value, str):
        raise FieldError(f"{name} must be a string, got {type(value).__name__}", name)
    if "\x00" in value:
        raise FieldError(f"{name} must not contain NUL characters", name)
    surrogate = lone_surrogate(value)
    if surrogate is not None:
        raise FieldError(f"{name} is not valid Unicode: it holds a lone surrogate (\\u{ord(surrogate):04x})", name)
    if not value.strip():
        raise FieldError(f"{name} must not be empty", name)
    if len(value) > limit:
        raise FieldError(f"{name} is longer than {limit:,} characters ({len(value):,})", name)
    return value


def reject_unknown(data: dict[str, Any], known: tuple[str, ...], prefix: str = "") -> None:
    """Refuse a key of `data` that is not in `known` (a misspelt optional field would otherwise be lost)."""
    unknown = [key for key in data if key not in known]
    if unknown:
        name = prefix + str(unknown[0])
        raise FieldError(f"unknown field {name!r}; accepted fields: {', '.join(prefix + k for k in known)}", name)


def customer_field(data: dict[str, Any], *, required: bool = True) -> CustomerInfo | None:
    """The `customer` object: {"id", "name"?, "language"?, "country"?, "email"?}; the language tag lower-cased with
    hyphens ("pt-BR" → "pt-br"), the country upper-cased."""
    customer = data.get("customer")
    if customer is None:
        if required:
            raise FieldError("customer is required", "customer")
        return None
    if not isinstance(customer, dict):
        raise FieldError(f"customer must be an object, got {type(customer).__name__}", "customer")
    reject_unknown(customer, CUSTOMER_FIELDS, "customer.")
    customer_id = string_field(customer, "id", "customer.id", required=True)
    assert customer_id is not None
    language = string_field(customer, "language", "customer.language", limit=16)
    if language is not None:
        if not _LANGUAGE.match(language.strip()):
            raise FieldError(f"customer.language must be a language code such as 'es' or 'zh-CN', got {language!r}",
                             "customer.language")
        language = language.strip().lower().replace("_", "-")
    country = string_field(customer, "country", "customer.country", limit=8)
    if country is not None:
        if not _COUNTRY.match(country):
            raise FieldError(f"customer.country must be a two-letter country code such as 'MX', got {country!r}",
                             "customer.country")
        country = country.upper()
    email = string_field(customer, "email", "customer.email", limit=255)
    if email is not None and not _EMAIL.match(email.strip()):
        raise FieldError(f"customer.email must be an email address such as 'ana@example.com', got {email!r}",
                         "customer.email")
    return CustomerInfo(id=customer_id, name=string_field(customer, "name", "customer.name"), language=language,
                        country=country, email=email.strip() if email else None)


def time_field(data: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    """`data[key]` as an ISO 8601 date-time WITH a UTC offset (or Z), returned in UTC. A time without an offset is
    refused rather than guessed: the sender's servers, agents and customers may each be in another zone."""
    raw = string_field(data, key, required=required, limit=64)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise FieldError(f"{key} must be an ISO 8601 date-time such as 2026-03-01T10:00:00+01:00, got {raw!r}",
                         key) from None
    if value.tzinfo is None:
        raise FieldError(f"{key} needs a UTC offset (such as +01:00 or Z), got {raw!r}", key)
    out_of_range = FieldError(f"{key} must be between {EARLIEST_TIME.year} and {LATEST_TIME.year}, got {raw!r}", key)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last date Python can hold in UTC
        raise out_of_range from None
    if not EARLIEST_TIME <= value < LATEST_TIME:
        raise out_of_range
    return value


def json_object_line(text: str) -> dict[str, Any]:
    """One line of a JSON-lines file as an object, or FieldError saying why it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise FieldError(f"expected a JSON object, got {type(data).__name__}")
    return data
