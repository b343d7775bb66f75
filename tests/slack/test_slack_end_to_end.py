"""kefu with Slack, end to end: the real slack-bolt and slack_sdk in kefu against our fake Slack on 127.0.0.1,
over both transports (HTTP Request URL and Socket Mode). A customer writes through the inbound API, the card
appears in Slack, agents press buttons, fill forms, reply in threads and type commands, and the customer gets
the reply at the callback receiver."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import Agent, AuditEvent, DeliveryReceipt, Message, OutboxItem, Ticket
from tests.e2e.conftest import RunningKefu, wait_until
from tests.fakes.callback_server import CallbackServer
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_workspace import SlackMessage

TRIAGE = "C0TRIAGE"
_ids = itertools.count(1)
StartKefu = Callable[..., Awaitable[RunningKefu]]


def slack_settings(fake: FakeSlack, transport: str, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"bot_token": "xoxb-kefu-test", "api_url": fake.api_url, "channel": TRIAGE,
                                "managers": ["U0MANAGER"], **extra}
    if transport == "socket":
        settings["app_token"] = "xapp-kefu-test"
    else:
        settings["signing_secret"] = "kefu-test-signing-secret"
    return settings


async def start(start_kefu: StartKefu, fake: FakeSlack, transport: str, callback_url: str | None = None,
                **overrides: Any) -> tuple[RunningKefu, SlackDriver]:
    kefu = await start_kefu(callback_url, slack=slack_settings(fake, transport), **overrides)
    if transport == "socket":
        await fake.wait_for_socket_connections_async(1, timeout=30)
        return kefu, SlackDriver(fake, transport="socket")
    return kefu, SlackDriver(fake, events_url=str(kefu.client.make_url("/slack/events")))


async def complaint(kefu: RunningKefu, text: str = "Ich habe mein Paket nie erhalten, seit drei Wochen warte ich",
                    customer: str = "jonas-1") -> dict[str, Any]:
    response = await kefu.post({"channel_message_id": f"slack-e2e-{next(_ids)}", "customer": {"id": customer},
                                "text": text, "marketplace": "amazon", "order_id": "A-1001"})
    assert response.status == 202, await response.text()
    answer: dict[str, Any] = await response.json()
    assert answer["action"] == "suggested"
    return answer


async def card_of(fake: FakeSlack, ticket_id: int) -> SlackMessage:
    return await fake.wait_for_message_async(
        TRIAGE, lambda m: m.thread_ts is None and f"Ticket #{ticket_id}" in m.text, timeout=30)


def blocks_text(message: SlackMessage) -> str:
    return json.dumps(message.blocks or [], ensure_ascii=False)


def count(engine: Any, model: Any, *where: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_a_complaint_becomes_a_card_and_send_reply_reaches_the_customer_in_their_language(
    start_kefu: StartKefu, fake_slack: FakeSlack, callback_server: CallbackServer, transport: str,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, transport, callback_server.url)
    answer = await complaint(kefu)

    card = await card_of(fake_slack, answer["ticket_id"])
    assert card.user == fake_slack.bot_user_id
    assert "Ich habe mein Paket nie erhalten" in blocks_text(card) and "amazon" in blocks_text(card)
    assert "kefu:send" in blocks_text(card)

    delivery = await driver.block_action("kefu:send", user_id="U0AGENT1", channel_id=TRIAGE, message_ts=card.ts)
    if transport == "http":
        assert delivery.status == 200
    else:
        await fake_slack.wait_for_ack_async(delivery.envelope_id)

    [reply] = await wait_until(lambda: callback_server.received, "the reply at the customer's callback")
    assert (reply["kind"], reply["language"], reply["ticket_id"]) == ("agent_reply", "de", answer["ticket_id"])
    updated = await fake_slack.wait_for_message_async(
        TRIAGE, lambda m: m.ts == card.ts and "sent by mei" in blocks_text(m), timeout=30)
    assert "kefu:send" not in blocks_text(updated)  # nothing left to send on this card
    [answered] = await fake_slack.wait_for_response_async(delivery.response_url)
    assert answered["response_type"] == "ephemeral" and "Sent" in answered["text"]
    with Session(kefu.engine) as session:
        agent = session.scalars(select(Agent).where(Agent.name == "mei")).one()
        assert agent.identities == {"slack": "U0AGENT1"} and agent.role == "agent"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_kefu_metrics_chart_is_acknowledged_at_once_then_answered_and_the_chart_uploaded(
    start_kefu: StartKefu, fake_slack: FakeSlack, transport: str,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, transport)
    await complaint(kefu)

    started = time.monotonic()
    delivery = await driver.command("/kefu", "metrics 7d chart public", user_id="U0AGENT1", channel_id=TRIAGE)
    if transport == "http":
        assert delivery.status == 200
    else:
        await fake_slack.wait_for_ack_async(delivery.envelope_id)
    acknowledged = time.monotonic() - started

    [answer] = await fake_slack.wait_for_response_async(delivery.response_url, timeout=30)
    assert answer["response_type"] == "in_channel" and "Metrics" in answer["text"]
    [upload] = await fake_slack.wait_for_async("files.completeUploadExternal", timeout=30)
    [file] = upload.body["files"] if isinstance(upload.body["files"], list) else json.loads(upload.body["files"])
    shared = fake_slack.file(file["id"])
    assert shared is not None and shared.content is not None and shared.content.startswith(b"\x89PNG")
    assert TRIAGE in shared.channels
    assert acknowledged < 3.0, f"Slack gives 3 s to acknowledge; kefu took {acknowledged:.2f} s"


async def test_a_private_chart_goes_to_the_askers_direct_messages(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")

    delivery = await driver.command("/metrics", "30d chart", user_id="U0AGENT2", channel_id=TRIAGE)

    answers = await fake_slack.wait_for_response_async(delivery.response_url, count=2, timeout=30)
    assert all(a["response_type"] == "ephemeral" for a in answers)
    assert "direct messages" in answers[1]["text"]
    [upload] = await fake_slack.wait_for_async("files.completeUploadExternal", timeout=30)
    assert upload.body["channel_id"] == "D0AGENT2"


async def test_when_uploads_are_forbidden_the_answer_links_to_the_chart_on_kefus_server(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    fake_slack.set_uploads_allowed(False)
    kefu, driver = await start(start_kefu, fake_slack, "http", public_url="https://kefu.example.com")

    delivery = await driver.command("/kefu", "metrics 7d chart public", user_id="U0AGENT1", channel_id=TRIAGE)

    answers = await fake_slack.wait_for_response_async(delivery.response_url, count=2, timeout=30)
    note = answers[1]["text"]
    assert "file_uploads_disabled" in note and "https://kefu.example.com/charts/chart-" in note
    path = note.split("https://kefu.example.com", 1)[1].split()[0].rstrip(".")
    served = await kefu.client.get(path)
    assert served.status == 200 and (await served.read()).startswith(b"\x89PNG")
    assert (await kefu.client.get("/charts/..%2Fkefu.db")).status == 404


async def test_a_bad_signature_or_an_old_timestamp_is_refused_and_nothing_is_recorded(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")
    audits_before = count(kefu.engine, AuditEvent)

    forged = await driver.command("/kefu", "metrics 7d", bad_signature=True)
    replayed = await driver.command("/kefu", "metrics 7d", timestamp_offset=-600)

    assert (forged.status, replayed.status) == (401, 401)
    assert count(kefu.engine, AuditEvent) == audits_before
    assert fake_slack.response_posts() == []


async def test_url_verification_is_answered_with_the_challenge(start_kefu: StartKefu, fake_slack: FakeSlack) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")

    delivery = await driver.url_verification(challenge="3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")

    assert delivery.status == 200
    assert delivery.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_a_thread_reply_goes_to_the_customer_once_even_when_slack_retries(
    start_kefu: StartKefu, fake_slack: FakeSlack, callback_server: CallbackServer, transport: str,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, transport, callback_server.url)
    answer = await complaint(kefu)
    card = await card_of(fake_slack, answer["ticket_id"])

    note = await driver.message(TRIAGE, "U0AGENT1", "// checking with the carrier first", thread_ts=card.ts)
    reply = await driver.message(TRIAGE, "U0AGENT1", "Es tut uns leid! Wir schicken <https://t.example/1|Ersatz>.",
                                 thread_ts=card.ts)
    await driver.retry(reply, retry_num=1)
    await driver.retry(reply, retry_num=2)

    [sent] = await wait_until(lambda: callback_server.received, "the thread reply at the customer's callback")
    assert sent["text"] == "Es tut uns leid! Wir schicken Ersatz (https://t.example/1)."
    await wait_until(lambda: (m := fake_slack.message(TRIAGE, reply.payload["event"]["ts"])) and m.reactions,
                     "the ✅ on the agent's thread reply")
    await wait_until(lambda: count(kefu.engine, DeliveryReceipt) >= 1, "the delivery receipt")
    await fake_slack.wait_for_message_async(TRIAGE, lambda m: m.ts == card.ts and "mei" in blocks_text(m))
    assert len(callback_server.received) == 1  # the retries and the internal note reached nobody
    assert count(kefu.engine, Message, Message.ticket_id == answer["ticket_id"], Message.author_kind == "agent") == 1
    assert note.payload["event"]["ts"] != reply.payload["event"]["ts"]


async def test_a_follow_up_message_from_the_customer_lands_in_the_cards_thread(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, _driver = await start(start_kefu, fake_slack, "http")
    first = await complaint(kefu, customer="lea-9")
    card = await card_of(fake_slack, first["ticket_id"])

    second = await complaint(kefu, "Hallo? Ich warte immer noch auf mein Paket!", customer="lea-9")

    assert second["ticket_id"] == first["ticket_id"]
    follow_up = await fake_slack.wait_for_message_async(TRIAGE, lambda m: m.thread_ts == card.ts, timeout=30)
    assert "Ich warte immer noch" in blocks_text(follow_up)
    assert len([m for m in fake_slack.channel_messages(TRIAGE) if m.thread_ts is None]) == 1


async def test_edit_and_send_opens_a_prefilled_form_and_sends_what_the_agent_wrote(
    start_kefu: StartKefu, fake_slack: FakeSlack, callback_server: CallbackServer,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http", callback_server.url)
    answer = await complaint(kefu)
    card = await card_of(fake_slack, answer["ticket_id"])

    await driver.block_action("kefu:edit", user_id="U0AGENT1", channel_id=TRIAGE, message_ts=card.ts)
    [opened] = await fake_slack.wait_for_async("views.open", timeout=30)
    prefilled = opened.body["view"]["blocks"][0]["element"].get("initial_value", "")
    assert prefilled  # the suggested reply, ready to edit
    empty = await driver.view_submission("kefu_edit", {"reply": {"text": "   "}}, user_id="U0AGENT1")
    submitted = await driver.view_submission("kefu_edit", {"reply": {"text": prefilled + " Ihr Team"}},
                                             user_id="U0AGENT1")

    assert empty.status == 200 and empty.json()["response_action"] == "errors"
    assert submitted.status == 200 and (not submitted.body or submitted.json().get("response_action") != "errors")
    [reply] = await wait_until(lambda: callback_server.received, "the edited reply at the customer's callback")
    assert reply["text"].endswith(" Ihr Team")
    await wait_until(lambda: fake_slack.ephemeral_messages(TRIAGE, "U0AGENT1"), "the ephemeral confirmation")


async def test_wrong_intent_offers_the_catalogue_and_kefu_learns_the_correction(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")
    answer = await complaint(kefu)
    card = await card_of(fake_slack, answer["ticket_id"])

    await driver.block_action("kefu:wrong_intent", user_id="U0AGENT1", channel_id=TRIAGE, message_ts=card.ts)
    [opened] = await fake_slack.wait_for_async("views.open", timeout=30)
    options = [o["value"] for o in opened.body["view"]["blocks"][0]["element"]["options"]]
    assert "damaged_item" in options and answer["intent"] in options
    await driver.view_submission("kefu_wrong_intent", {"intent": {"intent": {"selected_option": {
        "value": "damaged_item", "text": {"type": "plain_text", "text": "damaged_item"}}}}}, user_id="U0AGENT1")

    await wait_until(lambda: kefu.kefu.desk.ticket_sync(answer["ticket_id"]).intent == "damaged_item",
                     "the ticket's corrected intent")


async def test_a_stale_card_and_an_unknown_button_get_a_clear_private_explanation(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")
    answer = await complaint(kefu)
    card = await card_of(fake_slack, answer["ticket_id"])
    await driver.block_action("kefu:resolve", user_id="U0AGENT1", channel_id=TRIAGE, message_ts=card.ts)
    await wait_until(lambda: kefu.kefu.desk.ticket_sync(answer["ticket_id"]).status == "resolved", "resolution")

    stale = await driver.block_action("kefu:send", json.dumps({"ticket": answer["ticket_id"], "suggestion": 1}),
                                      user_id="U0AGENT2", channel_id=TRIAGE, message_ts=card.ts)
    unknown = await driver.block_action("someone_elses_button", "x", user_id="U0AGENT2", channel_id=TRIAGE,
                                        message_ts=card.ts)

    form = await driver.block_action("kefu:edit", json.dumps({"ticket": answer["ticket_id"]}), user_id="U0AGENT2",
                                     channel_id=TRIAGE, message_ts=card.ts)

    [stale_answer] = await fake_slack.wait_for_response_async(stale.response_url)
    [unknown_answer] = await fake_slack.wait_for_response_async(unknown.response_url)
    [form_answer] = await fake_slack.wait_for_response_async(form.response_url)
    assert stale_answer["response_type"] == "ephemeral" and "resolved" in stale_answer["text"]
    assert f"Ticket #{answer['ticket_id']} is resolved" in form_answer["text"] and not fake_slack.calls("views.open")
    assert unknown_answer["response_type"] == "ephemeral" and "does not know the button" in unknown_answer["text"]


async def test_managers_are_named_by_slack_id_and_agents_are_refused_politely(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http")

    agent = await driver.command("/metrics", "7d by agent", user_id="U0AGENT1")
    manager = await driver.command("/metrics", "7d by agent", user_id="U0MANAGER")

    [refused] = await fake_slack.wait_for_response_async(agent.response_url, timeout=30)
    [answered] = await fake_slack.wait_for_response_async(manager.response_url, timeout=30)
    assert refused["response_type"] == "ephemeral" and "Only a manager" in refused["text"]
    assert "Only a manager" not in answered["text"] and "Metrics" in answered["text"]


async def test_a_429_storm_on_chat_post_message_delays_the_card_but_loses_and_doubles_nothing(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    fake_slack.rate_limit("chat.postMessage", times=3, retry_after=1)
    kefu, _driver = await start(start_kefu, fake_slack, "http")

    answer = await complaint(kefu)

    await card_of(fake_slack, answer["ticket_id"])
    assert len([c for c in fake_slack.calls("chat.postMessage") if c.status == 429]) == 3

    def card_item() -> OutboxItem | None:  # the outbox records the send a moment after Slack has the card
        with Session(kefu.engine) as session:
            item = session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == answer["ticket_id"],
                                                            OutboxItem.kind == "card")).one()
            return item if item.status == "sent" else None

    item = await wait_until(card_item, "the card's outbox item to be recorded as sent")
    with Session(kefu.engine) as session:
        ticket = session.get(Ticket, answer["ticket_id"])
        assert ticket is not None
    assert (item.status, item.attempts) == ("sent", 4)
    assert ticket.card_channel == "slack" and ticket.card_ref == f"{TRIAGE}:{item.result_ref.split(':')[1]}"
    assert len([m for m in fake_slack.channel_messages(TRIAGE) if m.thread_ts is None]) == 1


async def test_a_metric_alert_card_in_slack_is_acknowledged_silenced_and_shows_its_tickets(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    from datetime import UTC, datetime, timedelta

    from scheduler.alerts import evaluate_rules
    from tests.alerts.conftest import add_tickets

    rule = {"name": "busy", "metric": "volume", "window": "2h", "warning": "> 3", "route": "leads"}
    kefu, driver = await start(start_kefu, fake_slack, "http",
                               alerts={"rules": [rule], "routes": {"leads": {"channel": "slack",
                                                                             "target": "C0ALERTS"}}})
    now = datetime.now(UTC)
    add_tickets(kefu.engine, [now - timedelta(minutes=m) for m in (5, 10, 15, 20, 25)], text="where is my parcel")
    evaluate_rules(kefu.engine, kefu.kefu.settings, now)
    assert kefu.kefu.outbox_worker is not None
    kefu.kefu.outbox_worker.notify()

    card = await fake_slack.wait_for_message_async("C0ALERTS", lambda m: "busy" in m.text, timeout=30)
    assert "kefu:alert_acknowledge" in blocks_text(card) and "kefu:alert_silence_2h" in blocks_text(card)
    shown = await driver.block_action("kefu:alert_show_tickets", user_id="U0AGENT1", channel_id="C0ALERTS",
                                      message_ts=card.ts)
    refused = await driver.block_action("kefu:alert_silence_2h", user_id="U0AGENT1", channel_id="C0ALERTS",
                                        message_ts=card.ts)
    acknowledged = await driver.block_action("kefu:alert_acknowledge", user_id="U0AGENT2", channel_id="C0ALERTS",
                                             message_ts=card.ts)

    [tickets] = await fake_slack.wait_for_response_async(shown.response_url)
    [refusal] = await fake_slack.wait_for_response_async(refused.response_url)
    [thanks] = await fake_slack.wait_for_response_async(acknowledged.response_url)
    assert tickets["response_type"] == "ephemeral" and tickets["text"].count("where is my parcel") == 5
    assert "manager" in refusal["text"]
    assert "cknowledged" in thanks["text"]
    updated = await fake_slack.wait_for_message_async(
        "C0ALERTS", lambda m: m.ts == card.ts and "Acknowledged by" in blocks_text(m), timeout=30)
    assert "kefu:alert_acknowledge" not in blocks_text(updated)
    silenced = await driver.block_action("kefu:alert_silence_2h", user_id="U0MANAGER", channel_id="C0ALERTS",
                                         message_ts=card.ts)
    [done] = await fake_slack.wait_for_response_async(silenced.response_url)
    assert "ilenced" in done["text"] and "manager" not in done["text"].split("ilenced")[0]


async def test_socket_mode_reconnects_after_a_disconnect_frame_and_a_dropped_socket(
    start_kefu: StartKefu, fake_slack: FakeSlack,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "socket")

    fake_slack.socket_disconnect(reason="refresh_requested")
    await fake_slack.wait_for_socket_connections_async(2, timeout=30)
    fake_slack.socket_drop()
    await fake_slack.wait_for_socket_connections_async(3, timeout=60)
    delivery = await driver.command("/sla", "", user_id="U0AGENT1")

    await fake_slack.wait_for_ack_async(delivery.envelope_id, timeout=30)
    [answer] = await fake_slack.wait_for_response_async(delivery.response_url, timeout=30)
    assert answer["response_type"] == "ephemeral" and answer["text"]


async def test_the_bots_own_messages_and_other_bots_in_a_card_thread_reach_no_customer(
    start_kefu: StartKefu, fake_slack: FakeSlack, callback_server: CallbackServer,
) -> None:
    kefu, driver = await start(start_kefu, fake_slack, "http", callback_server.url)
    answer = await complaint(kefu)
    card = await card_of(fake_slack, answer["ticket_id"])

    own = await driver.message(TRIAGE, fake_slack.bot_user_id, "kefu's own words", thread_ts=card.ts,
                               bot_id=fake_slack.bot_id)
    other = await driver.message(TRIAGE, "U0AGENT2", "a bot relaying", thread_ts=card.ts, subtype="bot_message",
                                 bot_id="BOTHER")
    human = await driver.message(TRIAGE, "U0AGENT2", "Wir kümmern uns darum.", thread_ts=card.ts)

    assert (own.status, other.status, human.status) == (200, 200, 200)
    [sent] = await wait_until(lambda: callback_server.received, "the human's reply at the customer's callback")
    assert sent["text"] == "Wir kümmern uns darum."
    await wait_until(lambda: (m := fake_slack.message(TRIAGE, human.payload["event"]["ts"])) and m.reactions,
                     "the ✅ on the human's reply")
    assert len(callback_server.received) == 1
    assert count(kefu.engine, Message, Message.ticket_id == answer["ticket_id"], Message.author_kind == "agent") == 1


async def test_a_refused_app_token_leaves_kefu_serving_and_retrying_socket_mode(
    start_kefu: StartKefu, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture,
) -> None:
    kefu = await start_kefu(None, slack={**slack_settings(fake_slack, "socket"), "app_token": "xapp-revoked"})

    await fake_slack.wait_for_async("apps.connections.open", count=2, timeout=30)

    assert all(call.response.get("error") == "invalid_auth" for call in fake_slack.calls("apps.connections.open"))
    assert (await kefu.client.get("/healthz")).status == 200
    assert fake_slack.socket_connections == 0
    # slack_sdk's client retries by itself (every ping interval), saying why on kefu's Slack logger
    assert any(record.name == "kefu.slack" and record.levelname == "ERROR" and "invalid_auth" in record.getMessage()
               for record in caplog.records)
