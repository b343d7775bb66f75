"""The fake WeCom and the callback driver, checked with the real wechatpy: tokens, error codes, card shapes,
response codes, robot limits, and an encryption that wechatpy and the driver (written apart) both understand."""

from __future__ import annotations

import pytest
import requests
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import APILimitedException, InvalidSignatureException, WeChatClientException

from adapters.wecom.client import KefuWeChatClient
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import decrypt, encrypt, signature
from tests.wecom.conftest import AES_KEY, TOKEN

CARD = {"card_type": "button_interaction", "main_title": {"title": "Ticket #1"}, "task_id": "kefu-t1-1",
        "button_list": [{"text": "发送回复", "key": "kefu:send"}]}


def client(fake: FakeWeCom, secret: str | None = None) -> KefuWeChatClient:
    return KefuWeChatClient(fake.corp_id, secret or fake.secret, api_url=fake.api_url, timeout=5)


def send(api: KefuWeChatClient, fake: FakeWeCom, **msg: object) -> dict[str, object]:
    return dict(api.message.send(fake.agent_id, "zhangsan", msg=msg))


def test_gettoken_is_fetched_from_the_configured_url_and_a_wrong_secret_is_40001(fake_wecom: FakeWeCom) -> None:
    answer = send(client(fake_wecom), fake_wecom, msgtype="markdown", markdown={"content": "**hi**"})
    assert answer["errcode"] == 0 and answer["msgid"]
    assert [c.endpoint for c in fake_wecom.calls()] == ["gettoken", "message/send"]
    with pytest.raises(WeChatClientException) as refused:
        client(fake_wecom, secret="wrong").fetch_access_token()
    assert refused.value.errcode == 40001


def test_a_button_card_gets_a_response_code_good_for_one_update(fake_wecom: FakeWeCom) -> None:
    api = client(fake_wecom)
    answer = send(api, fake_wecom, msgtype="template_card", template_card=CARD)
    update = {"atall": 1, "agentid": fake_wecom.agent_id, "response_code": answer["response_code"],
              "template_card": {**CARD, "main_title": {"title": "Ticket #1 · resolved"}}}
    assert api.post("message/update_template_card", data=update)["errcode"] == 0
    assert fake_wecom.cards["kefu-t1-1"].card["main_title"]["title"] == "Ticket #1 · resolved"
    with pytest.raises(WeChatClientException) as spent:
        api.post("message/update_template_card", data=update)
    assert spent.value.errcode == 40058 and "spent" in spent.value.errmsg


@pytest.mark.parametrize(("card", "reason"), [
    ({**CARD, "button_list": []}, "1 to 6 buttons"),
    ({**CARD, "task_id": "has spaces"}, "task_id"),
    ({**CARD, "card_type": "news"}, "card_type"),
    ({k: v for k, v in CARD.items() if k != "main_title"}, "main_title"),
])
def test_malformed_cards_are_refused_with_the_reason(fake_wecom: FakeWeCom, card: dict[str, object],
                                                     reason: str) -> None:
    with pytest.raises(WeChatClientException) as refused:
        send(client(fake_wecom), fake_wecom, msgtype="template_card", template_card=card)
    assert refused.value.errcode == 40058 and reason in refused.value.errmsg


def test_expired_and_unknown_tokens_and_rate_limits_answer_wecoms_codes(fake_wecom: FakeWeCom) -> None:
    api = client(fake_wecom)
    api.auto_retry = False
    send(api, fake_wecom, msgtype="markdown", markdown={"content": "one"})
    fake_wecom.expire_tokens()
    with pytest.raises(WeChatClientException) as expired:
        send(api, fake_wecom, msgtype="markdown", markdown={"content": "two"})
    fake_wecom.forget_tokens()
    with pytest.raises(WeChatClientException) as unknown:
        send(api, fake_wecom, msgtype="markdown", markdown={"content": "three"})
    api.fetch_access_token()
    fake_wecom.fail("message/send", 45009)
    with pytest.raises(APILimitedException):
        send(api, fake_wecom, msgtype="markdown", markdown={"content": "four"})
    assert (expired.value.errcode, unknown.value.errcode) == (42001, 40014)
    assert fake_wecom.markdown_to("zhangsan") == ["one"]


def test_a_robot_takes_20_messages_a_minute_and_refuses_unknown_keys(fake_wecom: FakeWeCom) -> None:
    url = fake_wecom.api_url + "webhook/send"
    [key] = fake_wecom.robot_keys
    codes = [requests.post(url, params={"key": key}, json={"msgtype": "markdown", "markdown": {"content": f"#{i}"}},
                           timeout=5).json()["errcode"] for i in range(21)]
    assert codes == [0] * 20 + [45009]
    unknown = requests.post(url, params={"key": "nope"}, json={"msgtype": "text", "text": {"content": "x"}},
                            timeout=5).json()
    assert unknown["errcode"] == 93000 and len(fake_wecom.robot_messages) == 20


def test_the_drivers_encryption_and_wechatpys_understand_each_other() -> None:
    corp = "wwkefu0123456789"
    crypto = WeChatCrypto(TOKEN, AES_KEY, corp)
    xml = "<xml><Content><![CDATA[/指标 7天]]></Content></xml>"
    encrypted = encrypt(AES_KEY, xml, corp)
    sign = signature(TOKEN, "1700000000", "n0nce", encrypted)
    assert crypto.decrypt_message({"Encrypt": encrypted}, sign, "1700000000", "n0nce") == xml
    with pytest.raises(InvalidSignatureException):
        crypto.decrypt_message({"Encrypt": encrypted}, signature("other", "1700000000", "n0nce", encrypted),
                               "1700000000", "n0nce")
    reply = crypto.encrypt_message("<xml>hi</xml>", "n0nce", "1700000000")
    ciphertext = reply.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert decrypt(AES_KEY, ciphertext) == ("<xml>hi</xml>", corp)
