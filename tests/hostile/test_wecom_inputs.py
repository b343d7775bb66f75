"""Hostile WeCom callbacks at `/wecom/callback` (and the 微信客服 path, which shares the parser): garbage and
entity-laden envelopes, correctly signed and encrypted messages whose decrypted XML is anything at all, forged and
replayed signatures. Each is answered 200 (handled after), 400 (not WeCom's) or 403 (not signed by WeCom's
token, or outside the 5-minute window), never 500; no XML entity is ever expanded."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from adapters.wecom.callback import signature_problem
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_driver import encrypt, signature
from tests.hostile.conftest import WECOM_AES_KEY, WECOM_TOKEN, Hostile, StartHostile, row_counts, wecom_section
from tests.hostile.strategies import hostile_settings, nasty_text

PATH = "/wecom/callback"
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "hahahahahahahahaha">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
          + "]><xml><MsgType>text</MsgType><Content>&j;</Content><FromUserName>zhangsan</FromUserName></xml>")
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
            "<xml><MsgType>text</MsgType><Content>/ticket &secret;</Content><FromUserName>zhangsan</FromUserName>"
            "<MsgId>1</MsgId></xml>")
PARAMETER = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>'
             "<xml><MsgType>text</MsgType></xml>")


def cdata(value: str) -> str:
    return f"<![CDATA[{value.replace(']]>', '')}]]>"


fields = st.fixed_dictionaries({}, optional={
    "ToUserName": st.just("ww-hostile"), "FromUserName": st.sampled_from(["zhangsan", "", "lisi"]),
    "CreateTime": st.sampled_from(["1700000000", "x", "-1", "9" * 30]),
    "MsgType": st.sampled_from(["text", "event", "image", "", "<x/>"]),
    "Event": st.sampled_from(["template_card_event", "kf_msg_or_event", "enter_agent"]),
    "Content": nasty_text(120), "MsgId": st.sampled_from(["1", "x", "9" * 40]),
    "EventKey": st.sampled_from(["send", "send:3", "alert_acknowledge", "", "x:y:z"]),
    "TaskId": st.sampled_from(["t1-1", "ticket-99999999999999999999", "alert-1", "", "kefu-ticket-1-0"]),
    "ResponseCode": nasty_text(20), "AgentID": st.sampled_from(["1000002", "x"]),
})
plaintexts = st.one_of(
    fields.map(lambda f: "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in f.items()) + "</xml>"),
    fields.map(lambda f: "<xml>" + "".join(f"<{k}><{k}>{cdata(v)}</{k}></{k}>" for k, v in f.items()) + "</xml>"),
    st.sampled_from([LAUGHS, EXTERNAL, PARAMETER, "<xml/>", "<xml></xml>", "<notxml/>", "", "<xml>", "x" * 5000,
                     "<xml><MsgType>text</MsgType><Content>a</Content><Content>b</Content></xml>"]),
    nasty_text(200),
).map(lambda t: t.encode("utf-8", "replace").decode("utf-8"))  # WeCom encrypts UTF-8: no lone surrogates
envelopes = st.one_of(
    st.binary(max_size=300),
    nasty_text(200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([LAUGHS.encode(), EXTERNAL.encode(), PARAMETER.encode(), b"<xml><Encrypt></Encrypt></xml>",
                     b"<xml><Encrypt><a>1</a></Encrypt></xml>", b"<xml><Encrypt>!!notbase64</Encrypt></xml>",
                     b"<xml/>", b"<xml><Encrypt>QUJD</Encrypt></xml>"]),
)


@pytest.fixture
async def wecom_kefu(start_hostile: StartHostile, fake_wecom: FakeWeCom) -> Hostile:
    return await start_hostile(wecom=wecom_section(fake_wecom))


def signed_query(encrypted: str, at: float | None = None, token: str = WECOM_TOKEN) -> dict[str, str]:
    timestamp, nonce = str(int(time.time() if at is None else at)), os.urandom(6).hex()
    return {"msg_signature": signature(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}


def envelope_of(encrypted: str) -> bytes:
    return f"<xml><ToUserName>{cdata('ww')}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>".encode()


async def settled(wecom_kefu: Hostile, engine: Engine) -> dict[str, int]:
    """Row counts once the callbacks already acknowledged have been handled."""
    channel = next(c for c in wecom_kefu.kefu.team_channels if c.name == "wecom")
    await channel.callback.close()  # type: ignore[attr-defined]
    return row_counts(engine)


async def post(wecom_kefu: Hostile, body: bytes, query: dict[str, str]) -> Any:
    return await wecom_kefu.client.post(PATH, params=query, data=body, headers={"Content-Type": "text/xml"})


@hostile_settings
@given(plain=plaintexts)
async def test_any_correctly_encrypted_message_is_acknowledged_or_refused_and_entities_never_expand(
    wecom_kefu: Hostile, fake_wecom: FakeWeCom, engine: Engine, caplog: pytest.LogCaptureFixture, plain: str
) -> None:
    encrypted = encrypt(WECOM_AES_KEY, plain, fake_wecom.corp_id)
    before = await settled(wecom_kefu, engine)

    response = await post(wecom_kefu, envelope_of(encrypted), signed_query(encrypted))

    assert response.status in {200, 400}, await response.text()
    if "<!ENTITY" in plain:
        assert response.status == 400, "a message declaring entities is refused, never expanded"
    if response.status == 400:
        assert await settled(wecom_kefu, engine) == before
    await settled(wecom_kefu, engine)
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("kefu")]
    assert not failures, "a handled callback failed instead of being answered"


@hostile_settings
@given(body=envelopes, query=st.one_of(st.just(None), st.dictionaries(
    st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"]), nasty_text(40), max_size=4)))
async def test_an_envelope_that_is_not_wecoms_is_refused_before_decrypting(
    wecom_kefu: Hostile, engine: Engine, body: bytes, query: dict[str, str] | None
) -> None:
    before = row_counts(engine)
    query = signed_query("QUJD") if query is None else query

    response = await post(wecom_kefu, body, query)
    check = await wecom_kefu.client.get(PATH, params=query)

    assert response.status in {400, 403}, await response.text()
    assert check.status in {400, 403}, await check.text()
    assert row_counts(engine) == before


@pytest.mark.parametrize("document", [LAUGHS, EXTERNAL, PARAMETER])
async def test_entity_declarations_in_the_envelope_are_refused(wecom_kefu: Hostile, document: str) -> None:
    response = await post(wecom_kefu, document.encode(), signed_query("QUJD"))

    assert response.status == 400


async def test_a_callback_replayed_after_five_minutes_or_signed_with_another_token_is_refused(
    wecom_kefu: Hostile, fake_wecom: FakeWeCom, engine: Engine
) -> None:
    plain = ("<xml><MsgType>text</MsgType><FromUserName>zhangsan</FromUserName><Content>/sla</Content>"
             "<MsgId>77</MsgId></xml>")
    encrypted = encrypt(WECOM_AES_KEY, plain, fake_wecom.corp_id)
    before = row_counts(engine)

    for query in (signed_query(encrypted, time.time() - 301), signed_query(encrypted, time.time() + 301),
                  signed_query(encrypted, token="another-token")):
        assert (await post(wecom_kefu, envelope_of(encrypted), query)).status == 403
        echo = await wecom_kefu.client.get(PATH, params={**query, "echostr": encrypted})
        assert echo.status == 403
    assert row_counts(engine) == before
    assert (await post(wecom_kefu, envelope_of(encrypted), signed_query(encrypted, time.time() - 60))).status == 200


@pytest.mark.parametrize(("query", "problem"), [
    ({"timestamp": "1e9", "nonce": "n", "msg_signature": "x"}, "malformed timestamp"),
    ({"timestamp": "1000", "nonce": "n", "msg_signature": "x"}, "window"),
    ({"timestamp": "1000000", "nonce": "n", "msg_signature": "é" * 40}, "bad msg_signature"),
])
def test_signature_problems_are_named(query: dict[str, str], problem: str) -> None:
    assert problem in (signature_problem("tok", query, "enc", now=1_000_000) or "")
