"""Settings: `kefu.toml` (path from KEFU_CONFIG, default ./kefu.toml) overridden by KEFU_* environment variables.

Validated once at start-up by pydantic; `load_settings` turns a validation error into `SettingsError`, whose
message names the key, the value and what was expected (the CLI prints it on one line and exits with code 2).
Nested sections are set from the environment with a double underscore: KEFU_OUTBOX__MAX_ATTEMPTS=5.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class SettingsError(Exception):
    """An invalid configuration value; the message is one line meant for the operator."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SlaTarget(_Section):
    first_response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)


def _default_sla() -> dict[int, SlaTarget]:
    return {
        1: SlaTarget(first_response_hours=2, resolution_hours=24),
        2: SlaTarget(first_response_hours=4, resolution_hours=48),
        3: SlaTarget(first_response_hours=8, resolution_hours=72),
    }


class SlaSettings(_Section):
    """SLA targets per severity (1 most urgent)."""

    severity: dict[int, SlaTarget] = Field(default_factory=_default_sla)

    @field_validator("severity")
    @classmethod
    def _all_severities(cls, value: dict[int, SlaTarget]) -> dict[int, SlaTarget]:
        merged = _default_sla() | value
        unknown = sorted(set(merged) - {1, 2, 3})
        if unknown:
            raise ValueError(f"severities are 1, 2 and 3, got {unknown}")
        for target in merged.values():
            if target.resolution_hours < target.first_response_hours:
                raise ValueError("resolution_hours must not be shorter than first_response_hours")
        return merged


class OutboxSettings(_Section):
    max_attempts: int = Field(default=8, ge=1, le=100)
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=300.0, gt=0)
    poll_interval_seconds: float = Field(default=0.5, gt=0)
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    claim_seconds: float = Field(default=60.0, gt=0)


class IntentSettings(_Section):
    catalogue: Path | None = None  # None: the shipped starter catalogue
    embedder: str = "use-multilingual"
    threads: int | None = Field(default=None, ge=1)


class ReplySettings(_Section):
    templates_dir: Path | None = None  # None: the shipped templates
    default_language: str = "en"
    team_language: str = "en"
    max_auto_replies_per_conversation: int = Field(default=3, ge=0)
    # Reply policy (bot/reply_policy.py): mode per "intent" or "intent.lang": off | suggest | shadow | auto.
    modes: dict[str, Literal["off", "suggest", "shadow", "auto"]] = Field(default_factory=dict)
    promote_after: int = Field(default=20, ge=1)
    promote_acceptance: float = Field(default=0.95, gt=0, le=1)
    demote_after_negative: int = Field(default=1, ge=1)
    # Appended to every auto-reply, per language (fallback chain applies); "" switches it off for a language.
    auto_reply_footer: dict[str, str] = Field(default_factory=dict)

    @field_validator("modes")
    @classmethod
    def _mode_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            intent, _, language = key.partition(".")
            if not intent or (language and not language.replace("-", "").isalpha()):
                raise ValueError(f"keys like 'order_status' or 'order_status.de', got {key!r}")
        return value
    # An FAQ is answered automatically only when the classifier is at least this sure; otherwise it is suggested.
    auto_reply_min_confidence: float = Field(default=0.8, ge=0, le=1)


class TriageSettings(_Section):
    """Where triage cards go: a team channel adapter ("console" is built in and always active) and its target."""

    channel: str = Field(default="console", min_length=1, max_length=32)
    target: str = Field(default="", max_length=255)  # e.g. a Slack channel id; "" for the console


class TranslationSettings(_Section):
    """Machine translation of customers' messages and agents' replies; off unless a provider is named."""

    provider: Literal["off", "libretranslate"] = "off"
    url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _url_when_on(self) -> TranslationSettings:
        if self.provider != "off" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError(f"@url: an http:// or https:// URL when provider is {self.provider!r}")
        return self


SCORE_COMPONENTS = ("sla", "csat", "one_touch", "response_time", "acceptance")


def _default_score_weights() -> dict[str, float]:
    return {"sla": 0.30, "csat": 0.25, "one_touch": 0.15, "response_time": 0.15, "acceptance": 0.15}


class ScorecardSettings(_Section):
    """Agent scorecards (handlers/scorecards.py defines the score): component weights and grade bands."""

    weights: dict[str, float] = Field(default_factory=_default_score_weights)
    excellent: float = Field(default=90.0, ge=0, le=100)
    qualified: float = Field(default=75.0, ge=0, le=100)

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SCORE_COMPONENTS))
        if unknown:
            raise ValueError(f"weights of {', '.join(SCORE_COMPONENTS)}, got unknown {unknown[0]!r}")
        if any(weight < 0 for weight in value.values()):
            raise ValueError("weights >= 0")
        merged = _default_score_weights() | value
        if sum(merged.values()) <= 0:
            raise ValueError("at least one weight above 0")
        return merged

    @model_validator(mode="after")
    def _bands_ordered(self) -> ScorecardSettings:
        if self.qualified > self.excellent:
            raise ValueError("@qualified: at most the excellent band")
        return self


  # the scorecards section is defined after Settings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KEFU_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    database_url: str = "sqlite:///./var/kefu.db"
    var_dir: Path = Path("./var")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    timezone: str = "UTC"  # the team's IANA timezone: windows like "today" and times shown to agents

    api_token: SecretStr | None = None
    api_secret: SecretStr | None = None
    webhook_callback_url: str | None = None

    intents: IntentSettings = Field(default_factory=IntentSettings)
    replies: ReplySettings = Field(default_factory=ReplySettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    translation: TranslationSettings = Field(default_factory=TranslationSettings)
    scorecards: ScorecardSettings = Field(default_factory=ScorecardSettings)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA timezone such as 'Asia/Shanghai' or 'Europe/Berlin'") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("a sqlite:/// or postgresql:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value

    @field_validator("webhook_callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    value = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("@"):  # a section's cross-field check naming the field it blames: "@url: ..."
        field_name, _, message = message[1:].partition(": ")
        loc.append(field_name)
        value = value.get(field_name) if isinstance(value, dict) else None
        error = {**error, "msg": "Value error, " + message}
    key = ".".join(loc) or "(root)"
    if error["type"] == "extra_forbidden":
        return f"unknown setting {key!r} (value {value!r}); check the spelling against the README"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = "expected " + message.removeprefix("Value error, ")
    return f"invalid setting {key}={value!r}: {message}"


def load_settings(config_path: Path | str | None = None, **overrides: Any) -> Settings:
    """Read `kefu.toml` (if present), then KEFU_* variables and `overrides`; raise SettingsError when invalid."""
    path = Path(config_path or os.environ.get("KEFU_CONFIG", "kefu.toml"))
    file_values: dict[str, Any] = {}
    if path.exists():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    elif config_path is not None or "KEFU_CONFIG" in os.environ:
        raise SettingsError(f"config file {path} does not exist")
    try:
        # Environment variables win over the file, key by key inside sections too.
        env_values = Settings().model_dump(exclude_unset=True)
        return Settings(**(_deep_merge(file_values, env_values) | overrides))
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0])) from None

