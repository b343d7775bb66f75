"""Settings: `kefu.toml` (path from KEFU_CONFIG, default ./kefu.toml) overridden by KEFU_* environment variables.

Validated once at start-up by pydantic; `load_settings` turns a validation error into `SettingsError`, whose
message names the key, the value and what was expected (the CLI prints it on one line and exits with code 2).
Nested sections are set from the environment with a double underscore: KEFU_OUTBOX__MAX_ATTEMPTS=5.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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

if TYPE_CHECKING:
    from bot.business_calendar import BusinessCalendar


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


class BusinessHoursSettings(_Section):
    """Working hours of the team that covers a policy: `hours` maps "mon-fri" (or "sat", "daily") to
    "09:00-18:00" (or a list of spans), `holidays` are ISO dates in `timezone`."""

    timezone: str = "UTC"
    hours: dict[str, str | list[str]] = Field(default_factory=lambda: {"mon-fri": "09:00-18:00"})
    holidays: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid_calendar(self) -> BusinessHoursSettings:
        from bot.business_calendar import CalendarError

        try:
            self.calendar()
        except CalendarError as exc:
            where, _, detail = str(exc).partition(": ")
            if where.startswith("timezone"):
                raise ValueError("@timezone: an IANA timezone such as 'Asia/Shanghai'") from None
            if not detail:  # the week has no working time
                raise ValueError("@hours: at least one working span in the week, like 'mon-fri' = '09:00-18:00'") \
                    from None
            key = where.split(".", 1)[0].split("[", 1)[0]
            raise ValueError(f"@{key}: {detail.removeprefix('expected ')} (at {where})") from None
        return self

    def calendar(self) -> BusinessCalendar:
        from bot.business_calendar import BusinessCalendar

        return BusinessCalendar.from_spec(self.timezone, self.hours, self.holidays)


class SlaRoute(_Section):
    """A team channel adapter and its target (e.g. a Slack channel id; "" for the console)."""

    channel: str = Field(default="console", min_length=1, max_length=32)
    target: str = Field(default="", max_length=255)


def _check_targets(value: dict[int, SlaTarget], *, fill: bool) -> dict[int, SlaTarget]:
    merged = _default_sla() | value if fill else value
    unknown = sorted(set(merged) - {1, 2, 3})
    if unknown:
        raise ValueError(f"severities are 1, 2 and 3, got {unknown}")
    for target in merged.values():
        if target.resolution_hours < target.first_response_hours:
            raise ValueError("resolution_hours must not be shorter than first_response_hours")
    return merged


class SlaPolicy(_Section):
    """An SLA policy for tickets of a channel and/or marketplace; unset fields fall back to `[sla]`'s."""

    name: str = Field(min_length=1, max_length=64)
    channel: str | None = None
    marketplace: str | None = None
    severity: dict[int, SlaTarget] = Field(default_factory=dict)
    business_hours: BusinessHoursSettings | None = None
    pause_resolution_when_pending: bool | None = None

    @field_validator("severity")
    @classmethod
    def _severities(cls, value: dict[int, SlaTarget]) -> dict[int, SlaTarget]:
        return _check_targets(value, fill=False)

    @model_validator(mode="after")
    def _matches_something(self) -> SlaPolicy:
        if self.channel is None and self.marketplace is None:
            raise ValueError("@channel: a policy names a channel, a marketplace or both (the defaults live in [sla])")
        return self


@dataclass(frozen=True)
class ResolvedSlaPolicy:
    """The SLA that applies to one ticket: targets per severity, its calendar, and the pending rule."""

    name: str
    targets: dict[int, SlaTarget]
    calendar: BusinessCalendar
    pause_resolution_when_pending: bool

    def targets_for(self, severity: int) -> tuple[timedelta, timedelta]:
        target = self.targets[severity]
        return timedelta(hours=target.first_response_hours), timedelta(hours=target.resolution_hours)

    def due_times(self, severity: int, start: datetime) -> tuple[datetime, datetime]:
        """First-response and resolution deadlines of a ticket of `severity` opened at `start`."""
        first, resolution = self.targets_for(severity)
        return self.calendar.add(start, first), self.calendar.add(start, resolution)


class SlaSettings(_Section):
    """SLA targets per severity (1 most urgent), optional business hours (absent: 24/7), policies per channel or
    marketplace (first match wins), and the watch (scheduler/sla.py): pre-breach window, routes, interval."""

    severity: dict[int, SlaTarget] = Field(default_factory=_default_sla)
    business_hours: BusinessHoursSettings | None = None
    policies: list[SlaPolicy] = Field(default_factory=list)
    pre_breach_fraction: float = Field(default=0.25, gt=0, lt=1)
    pause_resolution_when_pending: bool = True
    watch_interval_seconds: float = Field(default=60.0, ge=1)
    managers: SlaRoute = Field(default_factory=SlaRoute)

    @field_validator("severity")
    @classmethod
    def _all_severities(cls, value: dict[int, SlaTarget]) -> dict[int, SlaTarget]:
        return _check_targets(value, fill=True)

    def uses_business_hours(self) -> bool:
        """Whether any policy (the default included) counts working hours rather than the clock."""
        return self.business_hours is not None or any(p.business_hours is not None for p in self.policies)

    def policy_for(self, channel: str | None = None, marketplace: str | None = None) -> ResolvedSlaPolicy:
        """The policy of a ticket on `channel` / `marketplace`: the first policy whose given keys all match."""
        for policy in self.policies:
            if policy.channel is not None and policy.channel != channel:
                continue
            if policy.marketplace is not None and policy.marketplace != marketplace:
                continue
            hours = policy.business_hours or self.business_hours
            pause = policy.pause_resolution_when_pending
            return ResolvedSlaPolicy(
                name=policy.name, targets=self.severity | policy.severity,
                calendar=hours.calendar() if hours else _always(),
                pause_resolution_when_pending=self.pause_resolution_when_pending if pause is None else pause,
            )
        return ResolvedSlaPolicy(
            name="default", targets=self.severity,
            calendar=self.business_hours.calendar() if self.business_hours else _always(),
            pause_resolution_when_pending=self.pause_resolution_when_pending,
        )


def _always() -> BusinessCalendar:
    from bot.business_calendar import BusinessCalendar

    return BusinessCalendar.always()


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
    threads: int | None = Field(default=None, ge=1)  # BLAS threads per encode; None: 1 (ingest_workers run in parallel)


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


class TriageRoute(_Section):
    """A queue: tickets matching every given key (a marketplace, a severity, a language, ...) go to `channel`
    (a team channel adapter) and `target` (e.g. a Slack channel id; "" for the adapter's default channel)."""

    marketplace: str | None = None
    region: str | None = Field(default=None, max_length=8)
    language: str | None = None
    severity: int | None = Field(default=None, ge=1, le=3)
    intent: str | None = None
    customer_channel: str | None = None  # the customer channel the ticket came from ("webhook", "webchat", ...)
    channel: str | None = Field(default=None, min_length=1, max_length=32)  # None: [triage]'s channel
    target: str = Field(default="", max_length=255)
    name: str | None = Field(default=None, min_length=1, max_length=64)  # the queue's name: an agent skill

    @model_validator(mode="after")
    def _matches_something(self) -> TriageRoute:
        keys = ("marketplace", "region", "language", "severity", "intent", "customer_channel")
        if all(getattr(self, key) is None for key in keys):
            raise ValueError(f"@target: a route matches on at least one of {', '.join(keys)}")
        return self

    def matches(self, **ticket: object) -> bool:
        for key in ("marketplace", "region", "language", "severity", "intent", "customer_channel"):
            wanted = getattr(self, key)
            if wanted is None:
                continue
            value = ticket.get(key)
            if isinstance(wanted, str) and isinstance(value, str):
                if key == "language":  # "pt" matches "pt-BR"
                    value = value.split("-")[0] if "-" not in wanted else value
                if wanted.casefold() != value.casefold():
                    return False
            elif wanted != value:
                return False
        return True


class TriageSettings(_Section):
    """Where triage cards go: a team channel adapter ("console" is built in and always active) and its target,
    unless one of `routes` (first match wins) sends the ticket's queue elsewhere. With Slack configured and no
    channel set here, cards go to Slack."""

    channel: str = Field(default="console", min_length=1, max_length=32)
    target: str = Field(default="", max_length=255)  # e.g. a Slack channel id; "" for the adapter's default
    routes: list[TriageRoute] = Field(default_factory=list)

    def route_for(self, *, marketplace: str | None, region: str | None, language: str | None, severity: int,
                  intent: str, customer_channel: str) -> tuple[str, str]:
        """(team channel adapter, target) for a ticket with these properties."""
        for route in self.routes:
            if route.matches(marketplace=marketplace, region=region, language=language, severity=severity,
                             intent=intent, customer_channel=customer_channel):
                return route.channel or self.channel, route.target
        return self.channel, self.target


class SlackSettings(_Section):
    """Slack as a team channel (adapters/slack). On when `bot_token` is set: HTTP mode (POST /slack/events, needs
    `signing_secret`) or Socket Mode when `app_token` is set too. `channel` is the Slack channel id that gets
    whatever is routed to the adapter "slack" without a target; `managers` are Slack user ids with the manager
    role. Flat environment names work as well as nested ones: KEFU_SLACK_BOT_TOKEN = KEFU_SLACK__BOT_TOKEN."""

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    channel: str | None = Field(default=None, max_length=64)
    managers: list[str] = Field(default_factory=list)
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None and bool(self.app_token.get_secret_value())

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL such as 'https://slack.com/api/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[CGD][A-Z0-9]{2,}", value):
            raise ValueError("a Slack channel id such as 'C0123ABCD' (not a #name: Slack renames, ids stay)")
        return value

    @field_validator("managers")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        for user in value:
            if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
                raise ValueError(f"Slack user ids such as 'U0123ABCD', got {user!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SlackSettings:
        if not self.enabled:
            return self
        if self.bot_token is not None and not self.bot_token.get_secret_value().startswith("xoxb-"):
            raise ValueError("@bot_token: a bot token starting with 'xoxb-'")
        if self.socket_mode:
            assert self.app_token is not None
            if not self.app_token.get_secret_value().startswith("xapp-"):
                raise ValueError("@app_token: an app-level token starting with 'xapp-' (Socket Mode)")
        elif self.signing_secret is None or not self.signing_secret.get_secret_value():
            raise ValueError("@signing_secret: the app's signing secret (HTTP mode), or set app_token for Socket "
                             "Mode")
        return self


class WeComSettings(_Section):
    """WeCom (企业微信) as a team channel (adapters/wecom): a self-built app sends cards as app messages to
    `to_user` / `to_party` (a route's target can name others: "user:a|b", "party:2", or "robot:<name>" for one of
    `robots`, group robot webhook keys by name, for alert-only group chats). On when corp_id, agent_id and secret
    are set; the callback URL (GET/POST /wecom/callback) needs `token` and the 43-character `aes_key`. `managers`
    are WeCom user ids with the manager role; `language` is that of kefu's own texts on WeCom (zh-CN by default).
    Flat environment names work: KEFU_WECOM_CORP_ID, KEFU_WECOM_ROBOTS="alerts=KEY,ops=KEY2"."""

    corp_id: str | None = Field(default=None, max_length=64)
    agent_id: int | None = Field(default=None, ge=1)
    secret: SecretStr | None = None
    token: SecretStr | None = None
    aes_key: SecretStr | None = None
    api_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    to_user: str = Field(default="", max_length=2000)
    to_party: str = Field(default="", max_length=500)
    managers: list[str] = Field(default_factory=list)
    robots: dict[str, SecretStr] = Field(default_factory=dict)
    robot_messages_per_minute: int = Field(default=20, ge=1, le=20)
    language: Literal["zh", "en"] = "zh"
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # 微信客服 as a customer channel (adapters/wecom/kf.py): the kf Secret (its own access token); it reads the
    # callbacks at /wecom/kf/callback with this section's corp_id, token and aes_key.
    kf_secret: SecretStr | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id) and self.agent_id is not None and self.secret is not None \
            and bool(self.secret.get_secret_value())

    @property
    def kf_enabled(self) -> bool:
        return bool(self.corp_id) and self.kf_secret is not None and bool(self.kf_secret.get_secret_value())

    @field_validator("api_url")
    @classmethod
    def _wecom_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL such as 'https://qyapi.weixin.qq.com/cgi-bin/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("robots", mode="before")
    @classmethod
    def _robot_pairs(cls, value: Any) -> Any:
        if not isinstance(value, str):  # KEFU_WECOM_ROBOTS="alerts=KEY,ops=KEY2"
            return value
        robots: dict[str, str] = {}
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            name, sep, key = part.partition("=")
            if not sep or not name.strip() or not key.strip():
                raise ValueError(f"name=key pairs separated by commas, like 'alerts=KEY', got {part!r}")
            robots[name.strip()] = key.strip()
        return robots

    @field_validator("robots")
    @classmethod
    def _robot_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, key in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
                raise ValueError(f"robot names of letters, digits, '_', '.', '-', got {name!r}")
            if not re.fullmatch(r"[A-Za-z0-9-]{8,128}", key.get_secret_value()):
                raise ValueError(f"the key of robot {name!r}: the key=... part of the robot's webhook address")
        return value

    @field_validator("managers")
    @classmethod
    def _wecom_user_ids(cls, value: list[str]) -> list[str]:
        for user in value:
            if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", user):
                raise ValueError(f"WeCom user ids (账号) such as 'zhangsan', got {user!r}")
        return value

    @model_validator(mode="after")
    def _callback_complete(self) -> WeComSettings:
        if not self.enabled and not self.kf_enabled:
            return self
        if self.token is None or not re.fullmatch(r"[A-Za-z0-9]{3,32}", self.token.get_secret_value()):
            raise ValueError("@token: the callback Token of the app's API receiving settings (3-32 letters/digits)")
        if self.aes_key is None or not re.fullmatch(r"[A-Za-z0-9]{43}", self.aes_key.get_secret_value()):
            raise ValueError("@aes_key: the app's EncodingAESKey, 43 letters and digits")
        if self.enabled and not self.to_user and not self.to_party:
            raise ValueError("@to_user: who gets the cards: WeCom user ids joined by '|' (or '@all'), or set "
                             "to_party")
        return self


class DingTalkRobot(_Section):
    """A DingTalk custom group robot (自定义机器人) for an alert-only group: its webhook address (with the
    access_token) and, when the robot is set to 加签, its secret (starting with "SEC")."""

    url: str
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or "access_token=" not in value:
            raise ValueError("the robot's webhook address, like 'https://oapi.dingtalk.com/robot/send?"
                             "access_token=…'")
        return value


class DingTalkSettings(_Section):
    """DingTalk (钉钉) as a team channel (adapters/dingtalk): an internal app's robot in Stream mode takes
    @-mentions, 1:1 messages and text actions, and posts cards to `open_conversation_id` (the group that gets
    whatever is routed to "dingtalk" without a target; a route's target names another group's
    openConversationId, or "robot:<name>" for one of `robots`, custom group robots for alert-only groups).
    On when client_id (AppKey) and client_secret (AppSecret) are set; `robot_code` defaults to the AppKey.
    `api_url` is the OpenAPI and stream gateway base. `managers` are DingTalk user ids (staffIds) with the
    manager role; `language` is that of kefu's own texts on DingTalk (zh-CN by default). Flat environment names
    work: KEFU_DINGTALK_CLIENT_ID, KEFU_DINGTALK_ROBOTS="alerts=https://oapi.dingtalk.com/robot/send?access_token=…|SEC…"."""

    client_id: str | None = Field(default=None, max_length=128)
    client_secret: SecretStr | None = None
    robot_code: str | None = Field(default=None, max_length=128)
    api_url: str = "https://api.dingtalk.com"
    open_conversation_id: str | None = Field(default=None, max_length=255)
    managers: list[str] = Field(default_factory=list)
    robots: dict[str, DingTalkRobot] = Field(default_factory=dict)
    robot_messages_per_minute: int = Field(default=20, ge=1, le=20)
    language: Literal["zh", "en"] = "zh"
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def enabled(self) -> bool:
        return bool(self.client_id) and self.client_secret is not None \
            and bool(self.client_secret.get_secret_value())

    @property
    def app_robot_code(self) -> str:
        return self.robot_code or self.client_id or ""

    @field_validator("api_url")
    @classmethod
    def _dingtalk_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL such as 'https://api.dingtalk.com'")
        return value.rstrip("/")

    @field_validator("robots", mode="before")
    @classmethod
    def _robot_entries(cls, value: Any) -> Any:
        if not isinstance(value, str):  # KEFU_DINGTALK_ROBOTS="alerts=URL|SECRET,ops=URL"
            return value
        robots: dict[str, dict[str, str]] = {}
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            name, sep, rest = part.partition("=")
            url, _, secret = rest.partition("|")
            if not sep or not name.strip() or not url.strip():
                raise ValueError(f"name=URL|SECRET entries separated by commas, like 'alerts=https://oapi.dingtalk"
                                 f".com/robot/send?access_token=…|SEC…', got {part!r}")
            robots[name.strip()] = {"url": url.strip(), **({"secret": secret.strip()} if secret.strip() else {})}
        return robots

    @field_validator("robots")
    @classmethod
    def _dingtalk_robot_names(cls, value: dict[str, DingTalkRobot]) -> dict[str, DingTalkRobot]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
                raise ValueError(f"robot names of letters, digits, '_', '.', '-', got {name!r}")
        return value

    @field_validator("managers")
    @classmethod
    def _dingtalk_user_ids(cls, value: list[str]) -> list[str]:
        for user in value:
            if not re.fullmatch(r"[A-Za-z0-9_.$@-]{1,64}", user):
                raise ValueError(f"DingTalk user ids (staffId / userid) such as 'manager4220', got {user!r}")
        return value


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


class WebchatSettings(_Section):
    """The customer chat widget (`/widget.js`, adapters/webchat/widget.py)."""

    # Store origins whose pages may embed the widget ("https://shop.example"); ["*"]: any origin. Only the
    # widget's endpoints answer cross-origin, and they carry no cookie: a visitor's token is its only credential.
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    messages_per_minute: int = Field(default=20, ge=1, le=1000)
    # New visitor ids per client address and hour: without it a script could mint a visitor per message and
    # step around messages_per_minute. Counted per process (a replica has its own count).
    visitors_per_hour: int = Field(default=30, ge=1, le=100_000)
    max_message_chars: int = Field(default=2000, ge=1, le=10_000)
    secret: SecretStr | None = None  # signs visitor ids; default: generated into var/webchat-secret

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ValueError(f"origins like 'https://shop.example' (no path) or '*', got {origin!r}")
        return value


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*(%|[smhdw])?\s*$")


def parse_duration(text: str) -> float:
    """Seconds in a duration like "90s", "10m", "2h", "1.5d", "1w"; ValueError saying what was expected."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"a duration like '10m', '2h' or '90d', got {text!r}")
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


def parse_threshold(text: str) -> tuple[str, float]:
    """("> ", value) from "> 2h" (seconds), "< 80%" (percent 0..100), ">= 3.5"; ValueError when malformed."""
    match = _THRESHOLD.match(str(text))
    if not match:
        raise ValueError(f"a threshold like '> 2h', '< 80%' or '>= 3.5', got {text!r}")
    operator, number, unit = match.group(1), float(match.group(2)), match.group(3)
    if unit and unit != "%":
        number *= DURATION_UNITS[unit]
    return operator, number


class AlertBaseline(_Section):
    """mean ± k·σ of the rule's metric over past windows of the same length ending at the same local time (the
    team's timezone, `settings.timezone`): one a day over the last `days` days (seasonality "daily"), or one a
    week on the same weekday (seasonality "weekly": 90 days give 12 samples). `min_history` counts samples.

    Weekly is the default, and what the shipped 90-day rules use: customer-service volume follows the week
    (Monday spikes after the weekend, quiet Sundays), so a daily baseline, which mixes Mondays with Sundays,
    fires on every ordinary Monday and misses a Sunday spike; 12 same-weekday samples keep the mean and σ
    steady. The price is history: a weekly rule needs `min_history` weeks of it before it can judge (`kefu
    import history` brings them on day one). Daily suits a short history or a metric with no weekly rhythm.
    """

    days: int = Field(default=90, ge=3, le=400)
    seasonality: Literal["daily", "weekly"] = "weekly"
    warning_sigma: float | None = Field(default=1.0, gt=0)
    critical_sigma: float | None = Field(default=2.0, gt=0)
    direction: Literal["up", "down", "both"] | None = None  # None: from the metric (worse is up or down)
    min_history: int = Field(default=7, ge=2)  # samples with a value needed before the rule can fire

    @property
    def step_days(self) -> int:
        """Calendar days between two samples."""
        return 7 if self.seasonality == "weekly" else 1

    @property
    def samples(self) -> int:
        """Past windows compared with: one per `step_days` within `days`."""
        return self.days // self.step_days


class AlertRoute(_Section):
    """A named team channel for alerts: the adapter, its target, its timezone and quiet hours."""

    channel: str = Field(default="console", min_length=1, max_length=32)
    target: str = Field(default="", max_length=255)
    timezone: str | None = None  # None: the team's timezone (settings.timezone)
    quiet_hours: str | None = None  # "22:00-08:00" in the route's timezone: warnings wait, criticals do not

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("quiet hours like '22:00-08:00'")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA timezone such as 'Asia/Shanghai' or 'Europe/Berlin'") from None
        return value


class AlertRule(_Section):
    """One metric alert rule (scheduler/alerts evaluates it); see `[[alerts.rules]]` in the README."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    metric: str
    window: str = "1h"
    group_by: list[str] = Field(default_factory=list)
    filters: dict[str, str] = Field(default_factory=dict)
    warning: str | None = None
    critical: str | None = None
    baseline: AlertBaseline | None = None
    for_: str = Field(default="0s", alias="for")
    route: str = "default"
    min_count: int = Field(default=1, ge=0)  # the window's population (tickets, responses...) needed to judge

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        from bot.metrics.definitions import METRICS

        if value not in METRICS:
            raise ValueError(f"a metric of bot.metrics ({', '.join(METRICS)}), got {value!r}")
        return value

    @field_validator("window", "for_")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("warning", "critical")
    @classmethod
    def _threshold(cls, value: str | None) -> str | None:
        if value is not None:
            parse_threshold(value)
        return value

    @field_validator("group_by")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        """One alert per combination of these labels (Alertmanager's group_by): up to MAX_GROUP_BY, each once."""
        from bot.metrics.definitions import DIMENSIONS, MAX_GROUP_BY

        for label in value:
            if label not in DIMENSIONS:
                hint = " (the customer's country is the label 'region')" if label == "country" else ""
                raise ValueError(f"labels of {', '.join(DIMENSIONS)}, got {label!r}{hint}")
        twice = next((label for i, label in enumerate(value) if label in value[:i]), None)
        if twice is not None:
            raise ValueError(f"each label once, got {twice!r} twice")
        if len(value) > MAX_GROUP_BY:
            raise ValueError(f"at most {MAX_GROUP_BY} labels, got {len(value)}: {', '.join(value)}")
        return value

    @field_validator("filters")
    @classmethod
    def _filter_labels(cls, value: dict[str, str]) -> dict[str, str]:
        from bot.metrics.definitions import DIMENSIONS

        for label in value:
            if label not in DIMENSIONS:
                raise ValueError(f"labels of {', '.join(DIMENSIONS)}, got {label!r}")
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> AlertRule:
        if self.baseline is None and self.warning is None and self.critical is None:
            raise ValueError("@warning: a threshold (warning and/or critical) or a baseline")
        if self.baseline is not None and (self.warning is not None or self.critical is not None):
            raise ValueError("@baseline: either thresholds or a baseline, not both")
        if parse_duration(self.window) <= 0:
            raise ValueError("@window: a duration above 0")
        baseline = self.baseline
        if baseline is not None and baseline.samples < baseline.min_history:
            per = "one a week on the same weekday" if baseline.seasonality == "weekly" else "one a day"
            raise ValueError(f"@baseline.days: {baseline.days} days give {baseline.samples} {baseline.seasonality} "
                             f"samples ({per}), fewer than min_history {baseline.min_history}, so the rule could "
                             f"never fire; use days >= {baseline.min_history * baseline.step_days}"
                             + (', seasonality = "daily"' if baseline.seasonality == "weekly" else "")
                             + " or a smaller min_history")
        return self

    @property
    def window_seconds(self) -> float:
        return parse_duration(self.window)

    @property
    def for_seconds(self) -> float:
        return parse_duration(self.for_)


def _default_alert_rules() -> list[AlertRule]:
    return [
        # 24 h: the metric's population is the window's tickets answered by its end, so a window shorter than
        # the threshold could never show a mean above it.
        AlertRule(name="first_response_slow", metric="first_response_time_mean", window="24h",
                  warning="> 2h", critical="> 4h", **{"for": "10m"}),
        AlertRule(name="csat_drop", metric="csat_mean", window="24h", baseline=AlertBaseline(), min_count=5),
        AlertRule(name="refund_spike", metric="refund_return_request_rate", window="24h",
                  baseline=AlertBaseline(), group_by=["marketplace"], min_count=10),
        AlertRule(name="complaint_spike", metric="volume", window="24h", filters={"kind": "complaint"},
                  baseline=AlertBaseline(), min_count=0),
        # The backlog follows the week too (it piles up over the weekend): 8 samples of this weekday and hour.
        AlertRule(name="backlog_growth", metric="backlog", window="1h",
                  baseline=AlertBaseline(days=56), min_count=0, **{"for": "30m"}),
    ]


class AlertSettings(_Section):
    """Metric alert rules, their evaluation cadence and notification routes (scheduler/alerts)."""

    evaluation_interval_seconds: float = Field(default=300.0, gt=0)
    repeat_interval: str = "4h"
    rules: list[AlertRule] = Field(default_factory=_default_alert_rules)
    routes: dict[str, AlertRoute] = Field(default_factory=dict)  # "default" falls back to the triage channel

    @field_validator("repeat_interval")
    @classmethod
    def _repeat(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("rules", mode="before")
    @classmethod
    def _named_rules(cls, value: Any) -> Any:
        # Validate each rule here so that an error names the rule ("rules[first_response_slow].warning").
        if not isinstance(value, list):
            return value
        names: set[str] = set()
        for index, raw in enumerate(value):
            if isinstance(raw, AlertRule):
                rule_name = raw.name
            else:
                rule_name = str(raw.get("name", f"#{index + 1}")) if isinstance(raw, dict) else f"#{index + 1}"
                try:
                    AlertRule.model_validate(raw)
                except ValidationError as exc:
                    error = exc.errors()[0]
                    key = ".".join(str(part) for part in error["loc"]) or "(rule)"
                    message = error["msg"].removeprefix("Value error, ")
                    if message.startswith("@"):
                        key, _, message = message[1:].partition(": ")
                    key = "for" if key == "for_" else key
                    raise ValueError(f"rule {rule_name!r}, key {key!r}: {message}") from None
            if rule_name in names:
                raise ValueError(f"rule {rule_name!r}, key 'name': two rules have this name")
            names.add(rule_name)
        return value

    @model_validator(mode="after")
    def _known_routes(self) -> AlertSettings:
        for rule in self.rules:
            if rule.route != "default" and rule.route not in self.routes:
                raise ValueError(f"@rules: rule {rule.name!r}, key 'route': a route of [alerts.routes] "
                                 f"({', '.join(self.routes) or 'none defined'}) or 'default', got {rule.route!r}")
        return self

    @property
    def repeat_seconds(self) -> float:
        return parse_duration(self.repeat_interval)


SCORE_COMPONENTS = ("sla", "csat", "one_touch", "response_time", "acceptance")


def _default_score_weights() -> dict[str, float]:
    return {"sla": 0.30, "csat": 0.25, "one_touch": 0.15, "response_time": 0.15, "acceptance": 0.15}


class ScorecardSettings(_Section):
    """Agent scorecards (handlers/scorecards.py defines the score): component weights and grade bands, and the
    weekly digest (scheduler/digest.py) posted to the managers' route on `digest_weekday` ("mon".."sun") from
    `digest_hour` (0-23) in the team's timezone."""

    weights: dict[str, float] = Field(default_factory=_default_score_weights)
    excellent: float = Field(default=90.0, ge=0, le=100)
    qualified: float = Field(default=75.0, ge=0, le=100)
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_hour: int = Field(default=9, ge=0, le=23)

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


class AssignmentSettings(_Section):
    """Who gets a ticket that needs a human (bot/assignment): `mode` off (nobody is picked), suggest (the card names
    the best on-shift agent) or auto (the ticket is assigned to them, and an agent's open tickets move to on-shift
    agents when they go off shift). Load is open tickets weighted by `severity_weights`; customers whose tier is in
    `senior_tiers` (e.g. ["high"]) go to senior agents when one fits. A shift started by hand (/shift start) lasts
    at most `manual_shift_hours`; the off-shift check runs every `reassign_interval_seconds`."""

    mode: Literal["off", "suggest", "auto"] = "off"
    senior_tiers: list[str] = Field(default_factory=list)
    severity_weights: dict[int, float] = Field(default_factory=lambda: {1: 3.0, 2: 2.0, 3: 1.0})
    manual_shift_hours: float = Field(default=12.0, gt=0, le=24)
    reassign_interval_seconds: float = Field(default=60.0, gt=0)

    @field_validator("mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("severity_weights")
    @classmethod
    def _weights(cls, value: dict[int, float]) -> dict[int, float]:
        unknown = sorted(set(value) - {1, 2, 3})
        if unknown:
            raise ValueError(f"weights for severities 1, 2 and 3, got severity {unknown[0]}")
        if any(weight <= 0 for weight in value.values()):
            raise ValueError("weights above 0")
        return {1: 3.0, 2: 2.0, 3: 1.0} | value

    @field_validator("senior_tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        if any(not tier.strip() for tier in value):
            raise ValueError("tier names such as 'high'")
        return [tier.strip() for tier in value]


class CsatSettings(_Section):
    """CSAT surveys (bot/csat.py): `delay` after a ticket is resolved (KEFU_CSAT_DELAY; "0s" asks at once) the
    customer is asked for a 1-5 rating in their language, once per ticket; a rating within `window` of the question
    answers it; a rating at or below `low_score` opens a follow-up card for the agent's lead. The survey job runs
    every `interval_seconds`."""

    enabled: bool = True
    delay: str = "1h"
    window: str = "7d"
    low_score: int = Field(default=2, ge=1, le=4)
    interval_seconds: float = Field(default=60.0, ge=1)

    @field_validator("delay", "window")
    @classmethod
    def _csat_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def delay_seconds(self) -> float:
        return parse_duration(self.delay)

    @property
    def window_seconds(self) -> float:
        return parse_duration(self.window)


class TicketSettings(_Section):
    """Ticket lifecycle: `auto_resolve_after` ("72h"; "off" never) resolves a ticket whose last message is the
    team's (an agent's or kefu's reply) once the customer has been quiet that long; it is then surveyed like any
    resolved ticket."""

    auto_resolve_after: str = "off"

    @field_validator("auto_resolve_after")
    @classmethod
    def _quiet_period(cls, value: str) -> str:
        if value.strip().lower() in ("off", ""):
            return "off"
        if parse_duration(value) <= 0:
            raise ValueError(f"a duration above zero like '72h', or 'off', got {value!r}")
        return value

    @property
    def auto_resolve_seconds(self) -> float | None:
        return None if self.auto_resolve_after == "off" else parse_duration(self.auto_resolve_after)


class SentimentSettings(_Section):
    """Customer sentiment on every inbound message (intents/sentiment.py, score −1 … +1): a message scored at or
    below −`strong_negative` is strongly negative and raises its ticket's priority one severity step above what
    its intent gives (when `raise_priority`; severity 1 stays 1)."""

    enabled: bool = True
    strong_negative: float = Field(default=0.8, gt=0, le=1)
    raise_priority: bool = True


class AfterSalesSettings(_Section):
    """Returns, refunds, exchanges and reships (bot/after_sales). `reminders` maps a request status to how long a
    request may stay in it before a reminder card is posted (once per request and status); the job runs every
    `reminder_interval_seconds`. Refund amounts are reported in `reporting_currency`, converted with
    `exchange_rates` (units of the reporting currency per unit of another, e.g. {USD = "0.92"}) when a request is
    opened. `return_address` goes into the return instructions; `templates_dir` holds the team's own
    `return_approved.<lang>.j2` files (knowledge/templates/after_sales has the shipped ones)."""

    reminders: dict[str, str] = Field(
        default_factory=lambda: {"requested": "24h", "approved": "72h", "item_received": "48h"})
    reminder_interval_seconds: float = Field(default=300.0, gt=0)
    reporting_currency: str = "EUR"
    exchange_rates: dict[str, Decimal] = Field(default_factory=dict)
    return_address: str | None = Field(default=None, max_length=500)
    templates_dir: Path | None = None

    @field_validator("reminders")
    @classmethod
    def _reminder_durations(cls, value: dict[str, str]) -> dict[str, str]:
        from bot.after_sales.flow import FINISHED, STATUSES

        statuses = [status for status in STATUSES if status not in FINISHED]
        for status, duration in value.items():
            if status not in statuses:
                raise ValueError(f"request statuses ({', '.join(statuses)}) as keys, got {status!r}")
            try:
                seconds = parse_duration(duration)
            except ValueError as exc:
                raise ValueError(f"{exc} for {status}") from None
            if seconds <= 0:
                raise ValueError(f"a duration above 0 for {status}, got {duration!r}")
        return value

    @field_validator("reporting_currency")
    @classmethod
    def _reporting_currency(cls, value: str) -> str:
        from bot.after_sales.money import MoneyError, currency_code

        try:
            return currency_code(value)
        except MoneyError:
            raise ValueError("an ISO 4217 currency code such as EUR, USD, CNY or JPY") from None

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        from bot.after_sales.money import MoneyError, currency_code

        rates: dict[str, Decimal] = {}
        for code, rate in value.items():
            try:
                checked = currency_code(code)
            except MoneyError:
                raise ValueError(f"ISO 4217 currency codes such as USD as keys, got {code!r}") from None
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"a rate above 0 for {checked}, got {rate}")
            rates[checked] = rate
        return rates

    def reminder_after(self, status: str) -> timedelta | None:
        """How long a request may stay in `status` before its reminder (None: no reminder for it)."""
        duration = self.reminders.get(status)
        return None if duration is None else timedelta(seconds=parse_duration(duration))

    def rate_to_reporting(self, currency: str) -> Decimal | None:
        """Units of the reporting currency per unit of `currency` (1 for itself; None when not configured)."""
        return Decimal(1) if currency == self.reporting_currency else self.exchange_rates.get(currency)


class ShopifySettings(_Section):
    """Shopify as an order source (bot/order_context/shopify.py): the GraphQL Admin API of `shop` (the
    myshopify.com domain) with an Admin API access token. On when shop and token are set. `api_version` is a
    pinned stable version; `api_url` overrides https://{shop} (a proxy; the tests' fake Shopify). Flat environment
    names: KEFU_SHOPIFY_SHOP, KEFU_SHOPIFY_TOKEN, KEFU_SHOPIFY_API_VERSION, KEFU_SHOPIFY_API_URL."""

    shop: str | None = Field(default=None, max_length=255)
    token: SecretStr | None = None
    api_version: str = "2025-07"
    api_url: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.shop) and self.token is not None and bool(self.token.get_secret_value())

    @property
    def base_url(self) -> str:
        return (self.api_url or f"https://{self.shop}").rstrip("/")

    @field_validator("shop")
    @classmethod
    def _shop_domain(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().lower().removeprefix("https://").rstrip("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.[a-z]{2,}", value):
            raise ValueError("the shop's domain, such as 'example.myshopify.com'")
        return value

    @field_validator("api_version")
    @classmethod
    def _pinned_version(cls, value: str) -> str:
        if not re.fullmatch(r"20\d\d-(01|04|07|10)", value.strip()):
            raise ValueError("a stable Admin API version such as '2025-07' (YYYY-01, -04, -07 or -10)")
        return value.strip()

    @field_validator("api_url")
    @classmethod
    def _shopify_api_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL such as 'https://example.myshopify.com'")
        return value or None


class OrderLookupSettings(_Section):
    """Order lookups (bot/order_context): the seller's own lookup hook (`url`, POSTed a signed JSON request,
    answering signed JSON; `secret` signs both ways, see the README), how long a lookup may take before the reply
    goes out without it (`timeout_seconds`), how long answers are cached, when a shipment counts as stuck
    (`stuck_in_transit_days`: kefu then suggests instead of answering), the team's own order number formats
    (`order_number_patterns`, regular expressions) and the intents whose replies depend on the order's status.
    Flat environment names: KEFU_ORDER_LOOKUP_URL, KEFU_ORDER_LOOKUP_SECRET, KEFU_ORDER_LOOKUP_TIMEOUT_SECONDS..."""

    url: str | None = None
    secret: SecretStr | None = None
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    cache_seconds: float = Field(default=300.0, ge=0)
    stuck_in_transit_days: int = Field(default=14, ge=1, le=365)
    order_number_patterns: list[str] = Field(default_factory=list)
    status_intents: list[str] = Field(default_factory=lambda: ["order_status"])

    @field_validator("url")
    @classmethod
    def _hook_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL of your order lookup hook")
        return value or None

    @field_validator("order_number_patterns", mode="before")
    @classmethod
    def _pattern_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("order_number_patterns")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regular expressions; pattern {index + 1} ({pattern!r}) is not one: {exc}") from None
            if compiled.groups > 1:
                raise ValueError(f"at most one group (the order number) per pattern; pattern {index + 1} "
                                 f"({pattern!r}) has {compiled.groups}")
            if compiled.search("") is not None:
                raise ValueError(f"patterns that match something; pattern {index + 1} ({pattern!r}) matches "
                                 "empty text")
        return value

    @model_validator(mode="after")
    def _hook_secret(self) -> OrderLookupSettings:
        if self.url and (self.secret is None or len(self.secret.get_secret_value()) < 16):
            raise ValueError("@secret: a shared secret of at least 16 characters to sign the hook's requests and "
                             "answers (KEFU_ORDER_LOOKUP_SECRET)")
        return self


class CustomerSettings(_Section):
    """Customer value tiers (bot/customer_profiles.py), from what order sources say about a customer: `high`
    from `high_value_orders` orders or a lifetime value of `high_value_lifetime_value` (in the shop's currency),
    `new` up to `new_max_orders` orders, `regular` in between. A high-value customer's tickets are one severity
    step more urgent."""

    high_value_orders: int = Field(default=10, ge=1)
    high_value_lifetime_value: Decimal = Field(default=Decimal(1000), ge=0)
    new_max_orders: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _ordered_tiers(self) -> CustomerSettings:
        if self.new_max_orders >= self.high_value_orders:
            raise ValueError("@new_max_orders: fewer orders than high_value_orders")
        return self


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
    public_url: str | None = None  # kefu's address as the team's browsers reach it (links to charts)
    console_secret: SecretStr | None = None  # signs console sessions; default: generated into var/console-secret
    # Customer messages understood at once (their encodes share one model call, bot/pipeline.py); the rest queue.
    ingest_workers: int = Field(default=8, ge=1, le=64)

    intents: IntentSettings = Field(default_factory=IntentSettings)
    replies: ReplySettings = Field(default_factory=ReplySettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    translation: TranslationSettings = Field(default_factory=TranslationSettings)
    scorecards: ScorecardSettings = Field(default_factory=ScorecardSettings)
    csat: CsatSettings = Field(default_factory=CsatSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    assignment: AssignmentSettings = Field(default_factory=AssignmentSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)
    dingtalk: DingTalkSettings = Field(default_factory=DingTalkSettings)
    webchat: WebchatSettings = Field(default_factory=WebchatSettings)
    after_sales: AfterSalesSettings = Field(default_factory=AfterSalesSettings)
    shopify: ShopifySettings = Field(default_factory=ShopifySettings)
    order_lookup: OrderLookupSettings = Field(default_factory=OrderLookupSettings)
    customers: CustomerSettings = Field(default_factory=CustomerSettings)

    def platform_managers(self, platform: str) -> frozenset[str]:
        """User ids that have the manager role on a team platform (e.g. [slack] managers)."""
        section = getattr(self, platform, None) if platform in PLATFORM_SECTIONS else None
        return frozenset(getattr(section, "managers", ()) or ())

    def language_for(self, channel: str) -> Literal["zh", "en"]:
        """The language of kefu's own words (cards, notices) on the team channel named `channel`: DingTalk's and
        WeCom's configured language ([dingtalk] / [wecom] language, Chinese by default), English elsewhere."""
        if channel == "dingtalk":
            return self.dingtalk.language
        if channel == "wecom":
            return self.wecom.language
        return "en"

    @model_validator(mode="after")
    def _team_channel_default(self) -> Settings:
        """With Slack configured, what goes to the team (cards, SLA escalations) goes to Slack unless a section
        names its channel itself."""
        if self.slack.enabled:
            if "channel" not in self.triage.model_fields_set:
                self.triage.channel = "slack"
            if "channel" not in self.sla.managers.model_fields_set:
                self.sla.managers.channel = "slack"
        elif self.wecom.enabled:  # WeCom alone: the team works there
            if "channel" not in self.triage.model_fields_set:
                self.triage.channel = "wecom"
            if "channel" not in self.sla.managers.model_fields_set:
                self.sla.managers.channel = "wecom"
        elif self.dingtalk.enabled:  # DingTalk alone: the team works there
            if "channel" not in self.triage.model_fields_set:
                self.triage.channel = "dingtalk"
            if "channel" not in self.sla.managers.model_fields_set:
                self.sla.managers.channel = "dingtalk"
        return self

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

    @field_validator("webhook_callback_url", "public_url")
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


PLATFORM_SECTIONS = ("slack", "wecom", "dingtalk")
# Sections whose keys have documented flat environment names: KEFU_SLACK_BOT_TOKEN, KEFU_CSAT_DELAY,
# KEFU_SHOPIFY_SHOP, KEFU_ORDER_LOOKUP_URL.
FLAT_ENV_SECTIONS = (*PLATFORM_SECTIONS, "csat", "shopify", "order_lookup")


def _flat_platform_env() -> dict[str, Any]:
    """KEFU_SLACK_BOT_TOKEN and friends (and KEFU_CSAT_DELAY): documented flat names for KEFU_SLACK__BOT_TOKEN."""
    values: dict[str, Any] = {}
    for name, value in os.environ.items():
        upper = name.upper()
        for section in FLAT_ENV_SECTIONS:
            prefix = f"KEFU_{section.upper()}_"
            if upper.startswith(prefix) and not upper.startswith(prefix + "_"):
                key = upper.removeprefix(prefix).lower()
                if key == "managers":
                    value = [part.strip() for part in value.split(",") if part.strip()]  # type: ignore[assignment]
                values.setdefault(section, {})[key] = value
    return values


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
    shown = _shown_value(loc, value)
    if error["type"] == "extra_forbidden":
        return f"unknown setting {key!r} (value {shown}); check the spelling against the README"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = "expected " + message.removeprefix("Value error, ")
    return f"invalid setting {key}={shown}: {message}"


_SECRET_KEY_WORDS = ("secret", "token", "key", "password")
_URL_PASSWORD = re.compile(r"(//[^:/@\s]*):[^@/\s]*@")
_URL_SECRET_PARAMETER = re.compile(r"((?:access_token|key|secret|token|corpsecret|password)=)[^&\s]+", re.IGNORECASE)


def _shown_value(loc: list[str], value: Any) -> str:
    """A bad value as an error message may show it: secrets (tokens, keys, robot webhooks, which carry their access
    token) hidden, URLs without their password or secret parameters."""
    if "robots" in loc or any(word in part.lower() for part in loc[-1:] for word in _SECRET_KEY_WORDS):
        return "(hidden: a secret)"
    if isinstance(value, str):
        return repr(_URL_SECRET_PARAMETER.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", value)))
    return repr(value)


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
        env_values = _deep_merge(_flat_platform_env(), Settings().model_dump(exclude_unset=True))
        return Settings(**(_deep_merge(file_values, env_values) | overrides))
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0])) from None

