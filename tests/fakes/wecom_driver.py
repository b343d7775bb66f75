"""A driver that acts as WeCom toward kefu's callback URL: the GET URL check and encrypted POST callbacks (text
messages, `template_card_event` button clicks, 微信客服's `kf_msg_or_event`), signed like WeCom signs them.

The encryption is written here from the protocol (protocols.md §3.2), independently of wechatpy, so that a bug in
how kefu uses wechatpy cannot hide behind the same bug in the test: AES-256-CBC with the 43-character
EncodingAESKey (+ "=", base64) as key and its first 16 bytes as IV, plaintext random(16) + msg_len (4 bytes, big
endian) + msg + corp_id, PKCS#7 padded to 32 bytes; msg_signature = SHA1 of the sorted token, timestamp, nonce and
ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import struct
import time
from dataclasses import dataclass

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_msg_ids = itertools.count(7_000_000_000_000_000_001)


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def encrypt(aes_key: str, plaintext: str, receive_id: str) -> str:
    key = base64.b64decode(aes_key + "=")
    message = plaintext.encode()
    raw = os.urandom(16) + struct.pack(">I", len(message)) + message + receive_id.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def decrypt(aes_key: str, encrypted: str) -> tuple[str, str]:
    """(plaintext, receive id) of a WeCom ciphertext."""
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    raw = raw[: -raw[-1]]
    (length,) = struct.unpack(">I", raw[16:20])
    return raw[20:20 + length].decode(), raw[20 + length:].decode()


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


@dataclass(frozen=True)
class Delivery:
    status: int
    text: str
    xml: str  # the plaintext message that was sent, for a retry


class WeComDriver:
    """Sends what WeCom sends to `callback_url` for app `agent_id` of corp `corp_id`."""

    def __init__(self, callback_url: str, *, corp_id: str, agent_id: int, token: str, aes_key: str) -> None:
        self.callback_url = callback_url
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.token = token
        self.aes_key = aes_key

    def _signed(self, encrypted: str, *, bad_signature: bool = False) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
        sign = signature(self.token, timestamp, nonce, encrypted)
        if bad_signature:
            sign = signature(self.token + "x", timestamp, nonce, encrypted)
        return {"msg_signature": sign, "timestamp": timestamp, "nonce": nonce}

    async def verify_url(self, echo: str, *, bad_signature: bool = False) -> tuple[int, str]:
        encrypted = encrypt(self.aes_key, echo, self.corp_id)
        params = self._signed(encrypted, bad_signature=bad_signature) | {"echostr": encrypted}
        async with aiohttp.ClientSession() as session, session.get(self.callback_url, params=params) as response:
            return response.status, await response.text()

    async def post_xml(self, xml: str, *, bad_signature: bool = False, receive_id: str | None = None) -> Delivery:
        encrypted = encrypt(self.aes_key, xml, self.corp_id if receive_id is None else receive_id)
        body = (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName><AgentID>{_cdata(str(self.agent_id))}"
                f"</AgentID><Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        async with aiohttp.ClientSession() as session, session.post(
                self.callback_url, params=self._signed(encrypted, bad_signature=bad_signature),
                data=body.encode(), headers={"Content-Type": "text/xml"}) as response:
            return Delivery(response.status, await response.text(), xml)

    def text_xml(self, user: str, content: str, msg_id: int | None = None) -> str:
        return (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName><FromUserName>{_cdata(user)}</FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
                f"<Content>{_cdata(content)}</Content><MsgId>{msg_id or next(_msg_ids)}</MsgId>"
                f"<AgentID>{self.agent_id}</AgentID></xml>")

    def click_xml(self, user: str, task_id: str, key: str, response_code: str) -> str:
        return (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName><FromUserName>{_cdata(user)}</FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{_cdata('event')}</MsgType>"
                f"<Event>{_cdata('template_card_event')}</Event><EventKey>{_cdata(key)}</EventKey>"
                f"<TaskId>{_cdata(task_id)}</TaskId><CardType>{_cdata('button_interaction')}</CardType>"
                f"<ResponseCode>{_cdata(response_code)}</ResponseCode><AgentID>{self.agent_id}</AgentID>"
                f"<SelectedItems></SelectedItems></xml>")

    def kf_event_xml(self, token: str, open_kfid: str) -> str:
        """微信客服's callback: new messages or events wait on account `open_kfid`; `token` is sync_msg's."""
        return (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName><CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType>{_cdata('event')}</MsgType><Event>{_cdata('kf_msg_or_event')}</Event>"
                f"<Token>{_cdata(token)}</Token><OpenKfId>{_cdata(open_kfid)}</OpenKfId></xml>")

    async def kf_event(self, token: str, open_kfid: str) -> Delivery:
        return await self.post_xml(self.kf_event_xml(token, open_kfid))

    async def text(self, user: str, content: str, **options: bool) -> Delivery:
        return await self.post_xml(self.text_xml(user, content), **options)

    async def click(self, user: str, task_id: str, key: str, response_code: str) -> Delivery:
        return await self.post_xml(self.click_xml(user, task_id, key, response_code))
