"""One test over every adapter: secrets never appear in logs or error messages.

kefu runs with every credential set to a recognisable value (Slack bot token and signing secret, DingTalk client
secret and robot access token and secret, WeCom secret, token, EncodingAESKey, kf secret and robot key, the API
token and HMAC secret, the webchat and console secrets, a database password), then errors are driven on every
path that handles them: refused signatures and tokens on each endpoint, platforms answering errors or not at all,
bad configuration, an unreachable database. Everything logged (at DEBUG, every logger) and every error text is
searched for each secret."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from adapters.dingtalk.openapi import DingTalkOpenApi
from adapters.dingtalk.robots import RobotMessage, RobotWebhook
from adapters.wecom.client import WeComApi, send_error
from adapters.wecom.robots import GroupRobots
from bot.settings import SettingsError, load_settings
from models.migrate import DatabaseNotReady, open_database
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import signature_headers
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import encrypt, signature
from tests.hostile.conftest import StartHostile

CLOSED = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused
SECRETS = {
    "slack_bot_token": "xoxb-LEAKCHECK-slack-bot-token",
    "slack_signing_secret": "LEAKCHECKslacksigningsecret",
    "dingtalk_client_secret": "LEAKCHECK-dingtalk-client-secret",
    "dingtalk_robot_token": "LEAKCHECKdingtalkrobotaccesstoken",
    "dingtalk_robot_secret": "SECLEAKCHECKdingtalkrobotsecret",
    "wecom_secret": "LEAKCHECK-wecom-secret",
    "wecom_token": "LEAKCHECKwecomtoken",
    "wecom_aes_key": "LEAKCHECKwecomaeskey0123456789abcdefghijklm",  # 43 characters
    "wecom_kf_secret": "LEAKCHECK-wecom-kf-secret",
    "wecom_robot_key": "LEAKCHECK-wecom-robot-key",
    "api_token": "LEAKCHECK-api-token",
    "api_secret": "LEAKCHECK-api-hmac-secret",
    "webchat_secret": "LEAKCHECK-webchat-secret",
    "console_secret": "LEAKCHECK-console-secret",
    "database_password": "LEAKCHECKdbpassword",
}


def leaks(texts: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, secret in SECRETS.items():
        hits = [text[:300] for text in texts if secret in text]
        if hits:
            found[name] = hits
    return found


async def test_no_adapter_logs_or_answers_a_secret(
    start_hostile: StartHostile, fake_slack: FakeSlack, fake_wecom: FakeWeCom, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    [robot_key] = fake_wecom.robot_keys
    kefu = await start_hostile(
        api_token=SECRETS["api_token"], api_secret=SECRETS["api_secret"], console_secret=SECRETS["console_secret"],
        webchat={"secret": SECRETS["webchat_secret"]},
        slack={"bot_token": SECRETS["slack_bot_token"], "signing_secret": SECRETS["slack_signing_secret"],
               "api_url": fake_slack.api_url, "channel": "C0TRIAGE"},
        wecom={"corp_id": fake_wecom.corp_id, "agent_id": fake_wecom.agent_id, "secret": SECRETS["wecom_secret"],
               "token": SECRETS["wecom_token"], "aes_key": SECRETS["wecom_aes_key"], "api_url": fake_wecom.api_url,
               "to_user": "zhangsan", "kf_secret": SECRETS["wecom_kf_secret"], "robots": {"alerts": robot_key}},
    )
    client = kefu.client

    async def answer(method: str, path: str, **options: Any) -> None:
        response = await client.request(method, path, allow_redirects=False, **options)
        texts.append(f"{response.status} {dict(response.headers)} {await response.text()}")

    # Refused credentials on every endpoint.
    body = b'{"channel_message_id": "m", "customer": {"id": "c"}, "text": "hi"}'
    await answer("POST", "/api/v1/messages", data=body, headers={"Authorization": "Bearer " + SECRETS["api_token"][:-1],
                                                                 "Content-Type": "application/json"})
    await answer("POST", "/api/v1/orders/daily", data=body, headers={
        "X-Kefu-Timestamp": str(int(time.time())), "X-Kefu-Signature": "sha256=" + "0" * 64,
        "Content-Type": "application/json"})
    await answer("POST", "/slack/events", data=b'{"type": "url_verification", "challenge": "x"}',
                 headers={**signature_headers("wrong-secret", '{"type": "url_verification", "challenge": "x"}'),
                          "Content-Type": "application/json"})
    stale = signature_headers(SECRETS["slack_signing_secret"], "{}", int(time.time()) - 600)
    await answer("POST", "/slack/events", data=b"{}", headers={**stale, "Content-Type": "application/json"})
    encrypted = encrypt(SECRETS["wecom_aes_key"], "<xml><MsgType>text</MsgType></xml>", "another-corp")
    stamp = str(int(time.time()))
    for path in ("/wecom/callback", "/wecom/kf/callback"):
        await answer("GET", path, params={"msg_signature": "0" * 40, "timestamp": stamp, "nonce": "n",
                                          "echostr": encrypted})
        await answer("POST", path, data=f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode(), params={
            "msg_signature": signature(SECRETS["wecom_token"], stamp, "n", encrypted), "timestamp": stamp,
            "nonce": "n"})
    await answer("POST", "/widget/api/messages", data=b"{}", headers={"X-Kefu-Visitor": "A" * 22 + "." + "0" * 32})
    await answer("GET", "/console/state", headers={"Cookie": "kefu_console=eyJuIjoibWVpIn0." + "0" * 64})
    await answer("POST", "/console/login", data={"name": "mei", "password": SECRETS["console_secret"]},
                 headers={"Origin": str(client.make_url("")).rstrip("/")})

    # Platforms that refuse or do not answer.
    fake_slack.fail("chat.postMessage", "invalid_auth", status=200)
    slack = next(channel for channel in kefu.kefu.team_channels if channel.name == "slack")
    try:
        await slack.client.chat_postMessage(channel="C0TRIAGE", text="hello")  # type: ignore[attr-defined]
    except Exception as exc:
        texts.append(f"{type(exc).__name__}: {exc}")
    for api in (WeComApi(fake_wecom.corp_id, "wrong-" + SECRETS["wecom_secret"], api_url=fake_wecom.api_url,
                         timeout=5),
                WeComApi(fake_wecom.corp_id, SECRETS["wecom_kf_secret"], api_url=CLOSED, timeout=5)):
        try:
            await api.post("message/send", {"touser": "zhangsan"})
        except Exception as exc:
            texts.append(str(send_error(exc, "the answer (message/send)")))
        api.close()
    robots = GroupRobots({"alerts": SECRETS["wecom_robot_key"]}, webhook_url=CLOSED + "webhook/send", per_minute=20,
                         timeout=5, merged_title=str, gather_seconds=0)
    try:
        await robots.post("alerts", "hello")
    except Exception as exc:
        texts.append(str(exc))
    await robots.close()
    async with ClientSession() as session:
        with FakeDingTalk() as fake_dingtalk:
            openapi = DingTalkOpenApi(fake_dingtalk.base_url, "dingkefu0app", SECRETS["dingtalk_client_secret"],
                                      lambda: session)
            try:
                await openapi.send_to_group("dingkefu0app", "cidNOSUCH==", "sampleMarkdown", {"text": "x"})
            except Exception as exc:
                texts.append(str(exc))
        robot_url = CLOSED + "robot/send?access_token=" + SECRETS["dingtalk_robot_token"]
        robot = RobotWebhook("alerts", robot_url, SECRETS["dingtalk_robot_secret"], lambda: session, per_minute=20,
                             merged_title=str)
        try:
            await robot.post(RobotMessage("title", "text"))
        except Exception as exc:
            texts.append(str(exc))

    # Bad configuration and an unreachable database.
    bad_config: list[dict[str, Any]] = [
        {"slack": {"bot_token": "not-a-bot-token-" + SECRETS["slack_bot_token"]}},
        {"wecom": {"corp_id": "ww", "agent_id": 1, "secret": SECRETS["wecom_secret"], "token": SECRETS["wecom_token"],
                   "aes_key": SECRETS["wecom_aes_key"] + "x"}},
        {"dingtalk": {"client_id": "x", "client_secret": SECRETS["dingtalk_client_secret"],
                      "robots": {"alerts": {"url": "ftp://x/robot/send?access_token=" + SECRETS["dingtalk_robot_token"],
                                            "secret": SECRETS["dingtalk_robot_secret"]}}}},
        {"database_url": f"mysql://kefu:{SECRETS['database_password']}@db/kefu"},
        {"api_token": ""}, {"webchat": {"secret": 5}},
    ]
    (tmp_path / "kefu.toml").write_text("", encoding="utf-8")
    for overrides in bad_config:
        try:
            load_settings(tmp_path / "kefu.toml", **overrides)
        except (SettingsError, ValueError) as exc:
            texts.append(str(exc))
    try:
        open_database(f"postgresql+psycopg://kefu:{SECRETS['database_password']}@127.0.0.1:9/kefu?connect_timeout=2")
    except DatabaseNotReady as exc:
        texts.append(str(exc))

    logged = [record.getMessage() for record in caplog.records]
    logged += [str(record.args) for record in caplog.records if record.args]
    logged += [caplog.text]
    assert len(texts) > 20
    found = leaks(texts + logged)
    assert not found, "\n".join(f"{name}: {hit}" for name, hits in found.items() for hit in hits[:2])
