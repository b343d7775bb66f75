"""Hostile bodies and headers at kefu's inbound HTTP API (`POST /api/v1/messages`, `POST /api/v1/orders/daily`),
through aiohttp's test client, on SQLite and PostgreSQL: every request is answered with its 2xx or a 4xx naming
the problem, never a 500, and a refused request leaves the database as it was."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.e2e.conftest import API_SECRET, API_TOKEN
from tests.hostile.conftest import row_counts
from tests.hostile.strategies import (
    COUNTRIES,
    IDS,
    LANGUAGES,
    TIMES,
    hostile_settings,
    json_values,
    nasty_text,
    near_valid,
)

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
MESSAGE_ANSWERS = {202, 400, 413, 415}
ORDER_ANSWERS = {200, 400, 413, 415}

customers = near_valid({"id": IDS, "name": nasty_text(40), "language": LANGUAGES, "country": COUNTRIES})
messages = near_valid({
    "channel_message_id": IDS, "customer": customers, "conversation_id": IDS, "text": nasty_text(300),
    "sent_at": TIMES, "order_id": IDS, "sku": IDS, "marketplace": st.sampled_from(["amazon", "AMAZON.es", ""]),
})
order_items = near_valid({
    "date": st.sampled_from(["2026-11-20", "2026-02-30", "20261120", "2026-11-20T00:00:00Z"]),
    "marketplace": st.sampled_from(["amazon", "Amazon.DE", "-x", "a" * 65, "亚马逊"]),
    "country": COUNTRIES, "orders": st.one_of(st.integers(), st.sampled_from([2**63, 10**30, -1, 1.5, True])),
}, extra_keys=False)
orders_bodies = st.one_of(
    st.fixed_dictionaries({"orders": st.lists(order_items, max_size=5)}),
    near_valid({"orders": st.lists(order_items, max_size=3)}),
)


def encoded(body: Any) -> bytes:
    return json.dumps(body, allow_nan=False).encode()


async def check_refusal_wrote_nothing(engine: Engine, before: dict[str, int], status: int, ok: int) -> None:
    if status != ok:
        assert row_counts(engine) == before, f"a request answered {status} changed the database"


@hostile_settings
@given(body=messages)
async def test_any_message_body_is_accepted_or_refused_with_a_named_field_and_never_half_stored(
    api_client: TestClient[Any, Any], engine: Engine, body: Any
) -> None:
    client = api_client
    before = row_counts(engine)

    response = await client.post("/api/v1/messages", data=encoded(body),
                                 headers={**BEARER, "Content-Type": "application/json"})

    assert response.status in MESSAGE_ANSWERS, await response.text()
    answer = await response.json()
    if response.status == 202:
        assert isinstance(answer["ticket_id"], int)
    else:
        assert answer["error"]
    await check_refusal_wrote_nothing(engine, before, response.status, 202)


@hostile_settings
@given(body=orders_bodies)
async def test_any_order_report_is_stored_whole_or_refused_whole(
    api_client: TestClient[Any, Any], engine: Engine, body: Any
) -> None:
    before = row_counts(engine)

    response = await api_client.post("/api/v1/orders/daily", data=encoded(body),
                                     headers={**BEARER, "Content-Type": "application/json"})

    assert response.status in ORDER_ANSWERS, await response.text()
    answer = await response.json()
    assert answer.get("upserted") if response.status == 200 else answer["error"]
    await check_refusal_wrote_nothing(engine, before, response.status, 200)


@hostile_settings
@given(raw=st.one_of(st.binary(max_size=300), nasty_text(300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     json_values.map(lambda v: json.dumps(v).encode()[:-1])),  # truncated JSON
       path=st.sampled_from(["/api/v1/messages", "/api/v1/orders/daily"]),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
async def test_bytes_that_are_not_a_json_document_are_refused(
    api_client: TestClient[Any, Any], engine: Engine, raw: bytes, path: str, content_type: str
) -> None:
    before = row_counts(engine)

    response = await api_client.post(path, data=raw, headers={**BEARER, "Content-Type": content_type})

    assert response.status in {200, 202, 400, 413, 415}, await response.text()
    await check_refusal_wrote_nothing(engine, before, response.status, 202 if path.endswith("messages") else 200)


@hostile_settings
@given(headers=st.dictionaries(
    st.sampled_from(["Authorization", "X-Kefu-Timestamp", "X-Kefu-Signature", "X-Request-Id", "Content-Length"]),
    st.one_of(nasty_text(80).filter(lambda v: len(v) < 4000 and all(" " <= c <= "~" for c in v)),
              st.sampled_from(["Bearer", "Bearer ", "bearer x", f"Basic {API_TOKEN}", f"Bearer {API_TOKEN}x",
                               "sha256=" + "0" * 64, "v0=abc", "99999999999999999999", "-1", "1e9"])),
    max_size=4))
async def test_forged_or_malformed_credentials_are_refused_with_401(
    api_client: TestClient[Any, Any], engine: Engine, headers: dict[str, str]
) -> None:
    headers.pop("Content-Length", None)  # aiohttp sets it; a wrong one is a transport error, not kefu's
    before = row_counts(engine)
    body = encoded({"channel_message_id": "forged-1", "customer": {"id": "c"}, "text": "hello"})

    response = await api_client.post("/api/v1/messages", data=body,
                                     headers={"Content-Type": "application/json", **headers})

    assert response.status == 401, await response.text()
    assert (await response.json())["error"]
    assert row_counts(engine) == before


def signed(body: bytes, at: float, secret: str = API_SECRET) -> dict[str, str]:
    stamp = str(int(at))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body), "Content-Type": "application/json"}


async def test_a_signed_request_replayed_after_the_five_minute_window_is_refused(
    api_client: TestClient[Any, Any], engine: Engine
) -> None:
    body = encoded({"channel_message_id": "replayed-1", "customer": {"id": "c"}, "text": "hello"})
    before = row_counts(engine)

    for at, what in ((time.time() - 301, "too old"), (time.time() + 301, "in the future")):
        response = await api_client.post("/api/v1/messages", data=body, headers=signed(body, at))
        assert response.status == 401
        assert what in (await response.json())["error"]
    forged = await api_client.post("/api/v1/messages", data=body, headers=signed(body, time.time(), "not-the-secret"))
    assert forged.status == 401
    assert row_counts(engine) == before
    fresh = await api_client.post("/api/v1/messages", data=body, headers=signed(body, time.time() - 60))
    assert fresh.status == 202, await fresh.text()
