"""The chat widget's HTTP API (the "webchat" customer channel), over plain HTTP against kefu in process: a visitor
gets a signed identity that nobody can forge, a message sent twice is stored once and auto-replied once on the
live feed, a reconnection with Last-Event-ID resumes after what it had, the rate limit answers 429 with
Retry-After, CORS follows `[webchat] allowed_origins`, and bad input is refused naming the field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import Message, OutboxItem
from tests.webchat.test_console_feed import EventStream

SPANISH_FAQ = "¿cuánto tarda el envío a México?"
STORE = "https://shop.example"


async def new_visitor(kefu: Any) -> str:
    response = await kefu.client.post("/widget/api/visitors")
    assert response.status == 201
    return str((await response.json())["visitor"])


async def send(kefu: Any, visitor: str, message_id: str, text: str, **headers: str) -> Any:
    return await kefu.client.post("/widget/api/messages", json={"id": message_id, "text": text, "language": "es-MX"},
                                  headers={"X-Kefu-Visitor": visitor, **headers})


async def feed(kefu: Any, visitor: str, **headers: str) -> EventStream:
    response = await kefu.client.get("/widget/api/events", params={"visitor": visitor}, headers=headers)
    assert response.status == 200 and response.content_type == "text/event-stream"
    return EventStream(response)


async def next_event(stream: EventStream, name: str) -> tuple[str | None, Any]:
    while True:
        event, event_id, data = await stream.next()
        if event == name:
            return event_id, data


def webchat_rows(kefu: Any) -> tuple[int, int]:
    with Session(kefu.engine) as session:
        messages = session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "webchat", Message.direction == "in"))
        replies = session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.channel == "webchat"))
    return int(messages or 0), int(replies or 0)


async def test_a_message_sent_twice_is_stored_once_and_its_auto_reply_arrives_once_on_the_feed(
    start_kefu: Any
) -> None:
    kefu = await start_kefu(None)
    visitor = await new_visitor(kefu)
    stream = await feed(kefu, visitor)
    assert await next_event(stream, "history") == (None, {"messages": []})

    first = await send(kefu, visitor, "msg-0001", SPANISH_FAQ)
    again = await send(kefu, visitor, "msg-0001", SPANISH_FAQ)  # the browser's retry after a network drop

    assert (first.status, (await first.json())["status"]) == (202, "received")
    assert (again.status, (await again.json())["status"]) == (202, "duplicate")
    event_id, reply = await next_event(stream, "reply")
    assert reply["author"] == "kefu" and "plazos de entrega" in reply["text"]  # in Spanish
    assert reply["key"] == f"out:{event_id}"
    assert webchat_rows(kefu) == (1, 1)
    stream.response.close()

    reloaded = await feed(kefu, visitor)  # a reload: the conversation so far, the visitor's own line first
    history_id, history = await next_event(reloaded, "history")
    assert [(m["key"], m["author"]) for m in history["messages"]] == [("in:msg-0001", "visitor"),
                                                                     (f"out:{event_id}", "kefu")]
    assert history_id == event_id
    reloaded.response.close()


async def test_a_visitor_identity_is_signed_and_one_visitor_cannot_read_another(start_kefu: Any) -> None:
    kefu = await start_kefu(None)
    ana, bo = await new_visitor(kefu), await new_visitor(kefu)
    assert ana != bo
    assert (await send(kefu, ana, "ana-0001", SPANISH_FAQ)).status == 202

    forged_id = bo.split(".")[0] + "." + ana.split(".")[1]  # Bo's id with Ana's signature
    for token in ("", "not-a-token", forged_id, ana.split(".")[0]):
        refused = await send(kefu, token, "bo-00001", "hola")
        assert refused.status == 401, token
        assert "unknown visitor" in (await refused.json())["error"]
        events = await kefu.client.get("/widget/api/events", params={"visitor": token})
        assert events.status == 401, token
    stream = await feed(kefu, bo)
    assert await next_event(stream, "history") == (None, {"messages": []})  # nothing of Ana's
    stream.response.close()
    assert webchat_rows(kefu)[0] == 1


async def test_a_reconnection_with_last_event_id_gets_only_what_came_after(start_kefu: Any) -> None:
    kefu = await start_kefu(None)
    visitor = await new_visitor(kefu)
    stream = await feed(kefu, visitor)
    await next_event(stream, "history")
    await send(kefu, visitor, "msg-0001", SPANISH_FAQ)
    first_id, _ = await next_event(stream, "reply")
    stream.response.close()  # the network drops

    await send(kefu, visitor, "msg-0002", "¿Cuánto cuesta el envío a Chile?")
    assert first_id is not None
    resumed = await feed(kefu, visitor, **{"Last-Event-ID": first_id})

    event, event_id, data = await resumed.next()
    assert event == "reply" and int(event_id or 0) > int(first_id)  # no history again, nothing lost
    assert data["key"] == f"out:{event_id}"
    resumed.response.close()


async def test_over_the_rate_limit_a_visitor_gets_429_with_retry_after_but_a_retry_still_goes_through(
    start_kefu: Any
) -> None:
    kefu = await start_kefu(None, webchat={"messages_per_minute": 2})
    visitor = await new_visitor(kefu)
    for number in (1, 2):
        assert (await send(kefu, visitor, f"msg-000{number}", f"hola {number}")).status == 202

    refused = await send(kefu, visitor, "msg-0003", "hola 3")
    retried = await send(kefu, visitor, "msg-0002", "hola 2")
    other = await send(kefu, await new_visitor(kefu), "msg-0003", "hola")

    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "at most 2 messages a minute" in (await refused.json())["error"]
    assert (retried.status, (await retried.json())["status"]) == (202, "duplicate")
    assert other.status == 202  # the limit is per visitor
    assert webchat_rows(kefu)[0] == 3


async def test_one_address_cannot_mint_visitors_without_limit(start_kefu: Any) -> None:
    kefu = await start_kefu(None, webchat={"visitors_per_hour": 3})

    statuses = [(await kefu.client.post("/widget/api/visitors")).status for _ in range(3)]
    refused = await kefu.client.post("/widget/api/visitors")

    assert statuses == [201, 201, 201]
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3601
    assert "at most 3 new chats an hour" in (await refused.json())["error"]


async def test_cors_answers_any_origin_by_default_and_only_the_listed_stores_when_configured(
    start_kefu: Any
) -> None:
    kefu = await start_kefu(None)
    preflight = await kefu.client.options("/widget/api/messages", headers={
        "Origin": STORE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-kefu-visitor"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Kefu-Visitor" in preflight.headers["Access-Control-Allow-Headers"]
    console = await kefu.client.get("/console/state", headers={"Origin": STORE})
    assert "Access-Control-Allow-Origin" not in console.headers  # the console is never cross-origin

    strict = await start_kefu(None, webchat={"allowed_origins": [STORE]})
    visitor = (await (await strict.client.post("/widget/api/visitors", headers={"Origin": STORE})).json())["visitor"]
    allowed = await send(strict, visitor, "msg-0001", "hola", Origin=STORE)
    assert allowed.status == 202 and allowed.headers["Access-Control-Allow-Origin"] == STORE
    elsewhere = await send(strict, visitor, "msg-0002", "hola", Origin="https://evil.example")
    assert elsewhere.status == 403 and "Access-Control-Allow-Origin" not in elsewhere.headers
    own = str(strict.client.make_url("")).rstrip("/")  # the demo page on kefu itself
    assert (await send(strict, visitor, "msg-0003", "hola", Origin=own)).status == 202
    assert webchat_rows(strict)[0] == 2


async def test_bad_input_is_refused_naming_the_field_and_stores_nothing(start_kefu: Any) -> None:
    kefu = await start_kefu(None, webchat={"max_message_chars": 50})
    visitor = await new_visitor(kefu)
    headers = {"X-Kefu-Visitor": visitor}
    cases: list[tuple[Any, str | None, str]] = [
        ({"id": "msg-0001", "text": "x" * 51}, "text", "text is longer than 50 characters (51)"),
        ({"id": "msg-0001", "text": "   "}, "text", "text must not be empty"),
        ({"id": "short", "text": "hola"}, "id", "id must be 8 to 64"),
        ({"text": "hola"}, "id", "id is required"),
        ({"id": "msg-0001", "text": "hola", "colour": "red"}, "colour", "colour"),
        ({"id": "msg-0001", "text": "hola", "language": "spanish!"}, "language", "language must be a language tag"),
        (["hola"], None, "the body must be a JSON object"),
    ]
    for body, field, message in cases:
        response = await kefu.client.post("/widget/api/messages", json=body, headers=headers)
        answer = await response.json()
        assert response.status == 400, body
        assert answer.get("field") == field and message in answer["error"], answer
    not_json = await kefu.client.post("/widget/api/messages", data=b"{", headers={**headers,
                                                                                  "Content-Type": "application/json"})
    assert not_json.status == 400
    assert webchat_rows(kefu) == (0, 0)
