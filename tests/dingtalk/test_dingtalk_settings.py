"""DingTalk settings as an operator writes them: the documented flat environment names, robot webhooks with their
secrets, precise errors naming the key, and cards going to DingTalk when it is the team's only messenger."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

APP = {"KEFU_DINGTALK_CLIENT_ID": "dingkefu0app", "KEFU_DINGTALK_CLIENT_SECRET": "app-secret"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no kefu.toml


def test_the_flat_environment_names_turn_dingtalk_on_with_its_group_managers_and_robots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**APP, "KEFU_DINGTALK_OPEN_CONVERSATION_ID": "cidTRIAGE==",
                        "KEFU_DINGTALK_MANAGERS": "manager1, lead2",
                        "KEFU_DINGTALK_ROBOTS": "alerts=https://oapi.dingtalk.com/robot/send?access_token=abc|SEC123,"
                                                "ops=https://oapi.dingtalk.com/robot/send?access_token=def"}.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    dingtalk = settings.dingtalk
    assert dingtalk.enabled and dingtalk.app_robot_code == "dingkefu0app" and dingtalk.language == "zh"
    assert dingtalk.open_conversation_id == "cidTRIAGE==" and dingtalk.managers == ["manager1", "lead2"]
    assert dingtalk.robots["alerts"].url.endswith("access_token=abc")
    secret = dingtalk.robots["alerts"].secret
    assert secret is not None and secret.get_secret_value() == "SEC123"
    assert dingtalk.robots["ops"].secret is None
    assert (settings.triage.channel, settings.sla.managers.channel) == ("dingtalk", "dingtalk")
    assert settings.platform_managers("dingtalk") == {"manager1", "lead2"}


def test_without_a_secret_dingtalk_stays_off_and_cards_stay_on_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_DINGTALK_CLIENT_ID", "dingkefu0app")

    settings = load_settings()

    assert not settings.dingtalk.enabled and settings.triage.channel == "console"


@pytest.mark.parametrize(("variables", "message"), [
    ({**APP, "KEFU_DINGTALK_API_URL": "api.dingtalk.com"}, "dingtalk.api_url"),
    ({**APP, "KEFU_DINGTALK_ROBOTS": "alerts"}, "dingtalk.robots"),
    ({**APP, "KEFU_DINGTALK_ROBOTS": "alerts=https://oapi.dingtalk.com/robot/send"}, "access_token"),
    ({**APP, "KEFU_DINGTALK_MANAGERS": "wang jing"}, "dingtalk.managers"),
    ({**APP, "KEFU_DINGTALK_LANGUAGE": "fr"}, "dingtalk.language"),
])
def test_a_bad_dingtalk_setting_is_refused_naming_the_key(monkeypatch: pytest.MonkeyPatch,
                                                          variables: dict[str, str], message: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert message in str(caught.value)
