"""The console as a team channel, over plain HTTP: a complaint's card arrives on the live feed (server-sent
events), *Send* delivers the reply to the customer and the card's update arrives on the feed, a reconnection with
Last-Event-ID resumes after what it had, a reload gets each card's newest state, and the command box answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.e2e.conftest import wait_until
from tests.fakes.callback_server import CallbackServer
from tests.webchat.conftest import MANAGER, MANAGER_PASSWORD, log_in, origin

READ_TIMEOUT = 60.0
COMPLAINT = "My parcel never arrived, it has been three weeks"


class EventStream:
    """Reads server-sent events from an open response."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> tuple[str, str | None, Any]:
        event, event_id, data = "message", None, []
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), READ_TIMEOUT)).decode().rstrip("\n")
            if not line:
                if data:
                    return event, event_id, json.loads("\n".join(data))
                event, event_id = "message", None
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data.append(value)

    async def cards_until_ready(self) -> list[Any]:
        cards = []
        while True:
            event, _, data = await self.next()
            if event == "ready":
                return cards
            cards.append(data)

    async def next_card(self) -> tuple[str, Any]:
        while True:
            event, event_id, data = await self.next()
            if event == "card":
                assert event_id == str(data["id"])
                return event_id, data


def complaint(number: int) -> dict[str, Any]:
    return {"channel_message_id": f"feed-{number}", "customer": {"id": f"wang-{number}", "name": "Wang"},
            "text": COMPLAINT, "order_id": f"A-10{number:02d}"}


async def test_a_complaint_card_is_sent_from_the_feed_and_the_feed_resumes_and_reloads(
    start_kefu: Any, callback_server: CallbackServer, console_agents: None
) -> None:
    kefu = await start_kefu(callback_server.url)
    await log_in(kefu.client)
    feed = EventStream(await kefu.client.get("/console/events"))
    assert await feed.cards_until_ready() == []

    answer = await (await kefu.post(complaint(1))).json()
    first_id, posted = await feed.next_card()

    card = posted["card"]
    assert (posted["ref"], card["ticket_id"], card["kind"]) == (f"console:{first_id}", answer["ticket_id"], "triage")
    assert card["body"] == COMPLAINT and "A-1001" in card["suggested_reply"]
    assert "send" in [button["action"] for button in card["buttons"]]

    result = await kefu.client.post("/console/actions", headers=origin(kefu.client), json={
        "action": "send", "ticket_id": card["ticket_id"], "suggestion_id": card["suggestion_id"]})
    assert (await result.json())["ok"] is True
    [reply] = await wait_until(lambda: callback_server.received, "the reply at the customer's callback")
    assert reply["text"] == card["suggested_reply"] and reply["ticket_id"] == card["ticket_id"]
    update_id, updated = await feed.next_card()
    assert updated["ref"] == posted["ref"] and int(update_id) > int(first_id)
    assert "send" not in [button["action"] for button in updated["card"]["buttons"]]
    assert "mei" in json.dumps(updated["card"], ensure_ascii=False)  # the card says who sent it
    feed.response.close()

    resumed = EventStream(await kefu.client.get("/console/events", headers={"Last-Event-ID": first_id}))
    assert (await resumed.next_card())[0] == update_id  # what came after the last event it had
    resumed.response.close()

    reloaded = EventStream(await kefu.client.get("/console/events"))
    snapshot = await reloaded.cards_until_ready()
    assert [(c["id"], c["ref"]) for c in snapshot] == [(int(update_id), posted["ref"])]  # the newest state only
    reloaded.response.close()


async def test_the_command_box_answers_with_text_and_a_chart_served_by_kefu(
    start_kefu: Any, callback_server: CallbackServer, console_agents: None
) -> None:
    kefu = await start_kefu(callback_server.url)
    await log_in(kefu.client, MANAGER, MANAGER_PASSWORD)
    await kefu.post(complaint(2))

    response = await kefu.client.post("/console/commands", json={"text": "/metrics 7d chart"},
                                      headers=origin(kefu.client))

    answer = await response.json()
    assert answer["ok"] is True and "Tickets: 1" in answer["text"]
    assert answer["chart"].startswith("/charts/") and answer["chart"].endswith(".png")
    chart = await kefu.client.get(answer["chart"])
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    refused = await (await kefu.client.post("/console/commands", json={"text": "/metrics 7d by nothing"},
                                            headers=origin(kefu.client))).json()
    assert refused["ok"] is False and refused["chart"] is None


async def test_the_ticket_view_shows_the_conversation_and_the_facts(
    start_kefu: Any, callback_server: CallbackServer, console_agents: None
) -> None:
    kefu = await start_kefu(callback_server.url)
    await log_in(kefu.client)
    answer = await (await kefu.post(complaint(3))).json()

    page = await kefu.client.get(f"/console/tickets/{answer['ticket_id']}")
    missing = await kefu.client.get("/console/tickets/999999")

    text = await page.text()
    assert page.status == 200
    assert f"Ticket #{answer['ticket_id']}" in text and "item_not_received" in text and COMPLAINT in text
    assert missing.status == 404 and "There is no ticket #999999." in await missing.text()
