"""Slack settings as an operator writes them: the documented flat environment names, precise errors naming the key,
and routes that send a queue's cards to its own channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKENS = {"KEFU_SLACK_BOT_TOKEN": "xoxb-1-abc", "KEFU_SLACK_SIGNING_SECRET": "s3cret"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no kefu.toml


def test_the_flat_environment_names_turn_slack_on_and_send_cards_and_escalations_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**TOKENS, "KEFU_SLACK_CHANNEL": "C0TRIAGE", "KEFU_SLACK_MANAGERS": "U0BOSS, U0LEAD"}.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.slack.enabled and not settings.slack.socket_mode
    assert settings.slack.channel == "C0TRIAGE" and settings.slack.managers == ["U0BOSS", "U0LEAD"]
    assert (settings.triage.channel, settings.sla.managers.channel) == ("slack", "slack")


def test_without_slack_cards_stay_on_the_console_and_an_explicit_channel_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().triage.channel == "console"
    for name, value in {**TOKENS, "KEFU_TRIAGE__CHANNEL": "console"}.items():
        monkeypatch.setenv(name, value)

    assert load_settings().triage.channel == "console"


@pytest.mark.parametrize(("variables", "message"), [
    ({"KEFU_SLACK_BOT_TOKEN": "xoxb-1"}, "slack.signing_secret"),
    ({"KEFU_SLACK_BOT_TOKEN": "xoxp-user-token", "KEFU_SLACK_SIGNING_SECRET": "s"}, "slack.bot_token"),
    ({**TOKENS, "KEFU_SLACK_APP_TOKEN": "xoxb-wrong"}, "slack.app_token"),
    ({**TOKENS, "KEFU_SLACK_CHANNEL": "#support"}, "slack.channel='#support'"),
    ({**TOKENS, "KEFU_SLACK_MANAGERS": "alice"}, "slack.managers"),
    ({**TOKENS, "KEFU_SLACK_API_URL": "slack.com/api"}, "slack.api_url"),
])
def test_a_bad_slack_setting_is_refused_naming_the_key(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str],
                                                       message: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert message in str(caught.value)


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("KEFU_SLACK_APP_TOKEN", "xapp-1")

    assert load_settings().slack.socket_mode


def test_triage_routes_send_each_queue_to_its_channel_first_match_first(tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text("""
[triage]
channel = "slack"
target = "C0GENERAL"
[[triage.routes]]
severity = 1
target = "C0URGENT"
[[triage.routes]]
marketplace = "amazon"
language = "de"
target = "C0AMAZONDE"
""", encoding="utf-8")
    triage = load_settings(config).triage

    def route(**ticket: object) -> tuple[str, str]:
        base: dict[str, object] = {"marketplace": None, "region": None, "language": None, "severity": 3,
                                   "intent": "order_status", "customer_channel": "webhook"}
        return triage.route_for(**{**base, **ticket})  # type: ignore[arg-type]

    assert route(severity=1, marketplace="amazon", language="de") == ("slack", "C0URGENT")
    assert route(marketplace="Amazon", language="de-AT") == ("slack", "C0AMAZONDE")
    assert route(marketplace="amazon", language="fr") == ("slack", "C0GENERAL")


def test_a_route_that_matches_nothing_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text('[[triage.routes]]\ntarget = "C0X"\n', encoding="utf-8")

    with pytest.raises(SettingsError, match="triage.routes.0.target"):
        load_settings(config)
