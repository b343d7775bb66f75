"""WeCom settings as an operator writes them: the flat environment names, robots as name=key pairs, Chinese by
default, and precise errors naming the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from tests.wecom.conftest import AES_KEY, TOKEN

APP = {"KEFU_WECOM_CORP_ID": "wwkefu0123456789", "KEFU_WECOM_AGENT_ID": "1000002",
       "KEFU_WECOM_SECRET": "app-secret", "KEFU_WECOM_TOKEN": TOKEN, "KEFU_WECOM_AES_KEY": AES_KEY,
       "KEFU_WECOM_TO_USER": "zhangsan|lisi"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no kefu.toml


def test_the_flat_names_turn_wecom_on_in_chinese_and_send_the_team_work_there(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**APP, "KEFU_WECOM_MANAGERS": "wangwu, zhaoliu",
                        "KEFU_WECOM_ROBOTS": "alerts=robot-key-0001, ops=robot-key-0002"}.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.wecom.enabled and settings.wecom.agent_id == 1000002 and settings.wecom.language == "zh"
    assert settings.wecom.managers == ["wangwu", "zhaoliu"]
    assert {name: key.get_secret_value() for name, key in settings.wecom.robots.items()} == {
        "alerts": "robot-key-0001", "ops": "robot-key-0002"}
    assert settings.platform_managers("wecom") == frozenset({"wangwu", "zhaoliu"})
    assert (settings.triage.channel, settings.sla.managers.channel) == ("wecom", "wecom")


def test_without_the_secret_wecom_stays_off_and_cards_stay_on_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_WECOM_CORP_ID", "wwkefu0123456789")
    settings = load_settings()
    assert not settings.wecom.enabled and settings.triage.channel == "console"


@pytest.mark.parametrize(("variables", "message"), [
    ({"KEFU_WECOM_AES_KEY": AES_KEY[:-1]}, "wecom.aes_key"),
    ({"KEFU_WECOM_TOKEN": "has space"}, "wecom.token"),
    ({"KEFU_WECOM_TO_USER": ""}, "wecom.to_user"),
    ({"KEFU_WECOM_ROBOTS": "alerts"}, "wecom.robots"),
    ({"KEFU_WECOM_AGENT_ID": "app"}, "wecom.agent_id"),
    ({"KEFU_WECOM_LANGUAGE": "fr"}, "wecom.language"),
    ({"KEFU_WECOM_API_URL": "qyapi.weixin.qq.com"}, "wecom.api_url"),
])
def test_a_bad_wecom_setting_is_refused_naming_the_key(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str],
                                                       message: str) -> None:
    for name, value in {**APP, **variables}.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert message in str(caught.value)
