"""The metric alert card's buttons (handlers.alert_actions) on real databases: Acknowledge records who and when,
edits the card and stops repeats but not escalation nor the resolved notice; Silence 2h (managers only) holds
the next notifications; Show tickets lists the tickets the metric counted; bad presses get precise answers.
The SLA watch's cards carry the ticket action Assign to me."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import Kefu
from bot.messages import Action, AlertAction, Card, card_from_payload
from bot.metrics import compute_metrics
from bot.pipeline import Pipeline
from bot.settings import Settings
from handlers.actions import ActionResult, TicketActions
from handlers.alert_actions import AlertActions
from models.tables import Agent, Alert, AuditEvent, Message, OutboxItem, Silence, Ticket
from scheduler.alerts import evaluate_rules
from scheduler.sla import SlaWatch
from tests.alerts.conftest import T0, add_tickets, alert_items, alerts, cards
from tests.test_pipeline import FixedClassifier, FixedTemplates

MIN = timedelta(minutes=1)
VOLUME = {"name": "busy", "metric": "volume", "window": "2h", "warning": "> 3", "critical": "> 6"}
TEAM_TZ = "Asia/Shanghai"  # T0 (10:00 UTC) is 18:00 there


def team_settings(*rules: dict[str, Any], **alerts_settings: Any) -> Settings:
    return Settings(timezone=TEAM_TZ, alerts={"rules": list(rules), **alerts_settings})


def add_agents(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Agent(name="li.wei", role="agent", identities={"slack": "U_LI"}))
        session.add(Agent(name="mei", role="manager", identities={"slack": "U_MEI"}))
        session.commit()


def press(engine: Engine, settings: Settings, name: str, alert_id: int, who: str = "U_LI",
          at: Any = T0 + MIN) -> ActionResult:
    return AlertActions(engine, settings, clock=lambda: at).perform_sync(
        AlertAction(name=name, alert_id=alert_id, actor_platform="slack", actor_id=who))


def post_cards(engine: Engine) -> None:
    """What the outbox worker does once the team channel posted the cards: sent, with a message reference."""
    with Session(engine) as session:
        for item in session.scalars(select(OutboxItem).where(OutboxItem.status == "pending",  # type: ignore[arg-type]
                                                             OutboxItem.kind == "card")):
            item.status, item.result_ref = "sent", f"C1:{item.id}"
        session.commit()


def alert_id(engine: Engine, group_key: str = "") -> int:
    found = [a for a in alerts(engine) if a.group_key == group_key and a.state != "resolved"]
    assert len(found) == 1
    assert found[0].id is not None
    return found[0].id


def audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "alert")
                                                  .order_by(AuditEvent.id))  # type: ignore[arg-type]
                if e.action.startswith("alert.")]


def history(card: Card) -> str:
    return next((f.value for f in card.fields if f.label == "History"), "")


# ---- acknowledge -----------------------------------------------------------------------------------------


def test_acknowledge_records_who_and_when_and_edits_the_card_once(engine: Engine) -> None:
    settings = team_settings(VOLUME)
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    [fired] = cards(engine)
    the_alert = alert_id(engine)
    assert fired.alert_id == the_alert  # what the adapter sends back with the press

    result = press(engine, settings, "alert_acknowledge", the_alert, at=T0 + 10 * MIN)
    assert result.ok and f"acknowledged alert #{the_alert}" in result.message
    [stored] = alerts(engine)
    assert (stored.acknowledged_by, stored.acknowledged_at) == ("li.wei", T0 + 10 * MIN)
    assert audit_actions(engine) == ["alert.acknowledge"]
    card_item, update_item = alert_items(engine)
    assert (update_item.kind, update_item.channel, update_item.target) == ("card_update", "console",
                                                                           card_item.result_ref)
    edited = card_from_payload(update_item.payload)
    assert history(edited) == "Acknowledged by li.wei at 18:10 (Asia/Shanghai)"
    assert [b.label for b in edited.buttons] == ["Silence 2h", "Show tickets"]
    assert edited.title == fired.title and edited.alert_id == the_alert

    again = press(engine, settings, "alert_acknowledge", the_alert, who="U_MEI", at=T0 + 20 * MIN)
    assert again.ok
    assert "already acknowledged by li.wei at 18:10 (Asia/Shanghai)" in again.message
    assert audit_actions(engine) == ["alert.acknowledge"]
    assert len(alert_items(engine)) == 2
    assert alerts(engine)[0].acknowledged_by == "li.wei"


def test_an_acknowledged_alert_stops_repeating_but_its_resolved_notice_still_edits_the_card(engine: Engine) -> None:
    settings = team_settings(VOLUME, repeat_interval="30m")
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    assert press(engine, settings, "alert_acknowledge", alert_id(engine)).ok
    for offset in (30, 60, 65):  # unacknowledged, each would repeat the card (see test_rules)
        report = evaluate_rules(engine, settings, T0 + offset * MIN)
        assert report.rules[0].groups[0].state == "firing" and report.rules[0].groups[0].notified is None
    assert [i.kind for i in alert_items(engine)] == ["card", "card_update"]

    evaluate_rules(engine, settings, T0 + 75 * MIN)  # the tickets left the 2 h window
    card_item, _ack, resolved = alert_items(engine)
    assert (resolved.kind, resolved.target) == ("card_update", card_item.result_ref)
    assert card_from_payload(resolved.payload).title == "✅ RESOLVED: busy"
    assert press(engine, settings, "alert_acknowledge", alerts(engine)[0].id or 0).message.endswith(
        "is resolved at 19:15 (Asia/Shanghai): there is nothing to acknowledge")


def test_a_warning_that_turns_critical_notifies_again_and_asks_for_a_new_acknowledgement(engine: Engine) -> None:
    settings = team_settings(VOLUME, repeat_interval="30m")
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    assert press(engine, settings, "alert_acknowledge", alert_id(engine)).ok
    add_tickets(engine, [T0 + 5 * MIN + i * MIN for i in range(3)])  # 7 tickets: critical
    report = evaluate_rules(engine, settings, T0 + 10 * MIN)
    assert report.rules[0].groups[0].notified == "escalated"
    assert [card_from_payload(i.payload).title for i in alert_items(engine) if i.kind == "card"] == [
        "🟠 WARNING: busy", "🔴 CRITICAL: busy"]
    [stored] = alerts(engine)
    assert (stored.level, stored.acknowledged_by, stored.acknowledged_at) == ("critical", None, None)
    assert [b.label for b in cards(engine)[-1].buttons] == ["Acknowledge", "Silence 2h", "Show tickets"]
    # Unacknowledged, the critical repeats; acknowledged again, it stops.
    assert evaluate_rules(engine, settings, T0 + 40 * MIN).rules[0].groups[0].notified == "repeat"
    post_cards(engine)
    acknowledged = press(engine, settings, "alert_acknowledge", alert_id(engine), who="U_MEI", at=T0 + 41 * MIN)
    assert acknowledged.ok and acknowledged.card is not None
    assert history(acknowledged.card) == "Acknowledged by mei at 18:41 (Asia/Shanghai)"
    assert alert_items(engine)[-1].target == alert_items(engine)[-2].result_ref  # the latest card is edited
    assert evaluate_rules(engine, settings, T0 + 70 * MIN).rules[0].groups[0].notified is None  # 30 min later


# ---- silence 2h ------------------------------------------------------------------------------------------


def test_silence_2h_by_a_manager_silences_the_group_and_holds_its_next_notification(engine: Engine) -> None:
    settings = team_settings({**VOLUME, "group_by": ["channel"]}, repeat_interval="1h")
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)], channel="webchat")
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)], channel="webhook")
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    webchat = alert_id(engine, "channel=webchat")

    result = press(engine, settings, "alert_silence_2h", webchat, who="U_MEI", at=T0 + 5 * MIN)
    assert result.ok, result.message
    with Session(engine) as session:
        [silence] = session.scalars(select(Silence)).all()
    assert silence.matchers == {"rule": "busy", "channel": "webchat"}
    assert (silence.starts_at, silence.ends_at) == (T0 + 5 * MIN, T0 + 125 * MIN)
    assert (silence.created_by, silence.comment) == ("mei", "silenced from the alert card")
    assert f"/alerts unsilence {silence.id}" in result.message
    assert audit_actions(engine) == ["alert.silence"]
    edit = alert_items(engine)[-1]
    assert edit.kind == "card_update"
    assert history(card_from_payload(edit.payload)) == "Silenced until 20:05 (Asia/Shanghai) by mei"

    again = press(engine, settings, "alert_silence_2h", webchat, who="U_MEI", at=T0 + 6 * MIN)
    assert again.ok and f"already silenced until 20:05 (Asia/Shanghai) by mei (silence {silence.id})" in again.message
    with Session(engine) as session:
        assert len(session.scalars(select(Silence)).all()) == 1
    assert audit_actions(engine) == ["alert.silence"]

    report = evaluate_rules(engine, settings, T0 + 65 * MIN)  # the repeat interval has passed for both groups
    groups = {g.group_key: g for g in report.rules[0].groups}
    assert groups["channel=webhook"].notified == "repeat"
    assert groups["channel=webchat"].notified is None and "silenced by" in (groups["channel=webchat"].held or "")


def test_silence_2h_by_an_agent_is_refused_and_creates_nothing(engine: Engine) -> None:
    settings = team_settings(VOLUME)
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    items_before = len(alert_items(engine))
    for who in ("U_LI", "U_NEWCOMER"):  # a known agent, and a first press by someone kefu does not know yet
        result = press(engine, settings, "alert_silence_2h", alert_id(engine), who=who)
        assert not result.ok
        assert result.message.startswith("Only a manager can silence alerts; you are signed in as an agent.")
    with Session(engine) as session:
        assert session.scalars(select(Silence)).all() == []
        assert sorted(a.name for a in session.scalars(select(Agent))) == ["li.wei", "mei"]
    assert audit_actions(engine) == [] and len(alert_items(engine)) == items_before


def test_acknowledge_then_silence_both_show_on_the_card(engine: Engine) -> None:
    settings = team_settings(VOLUME)
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    post_cards(engine)
    press(engine, settings, "alert_acknowledge", alert_id(engine), at=T0 + 2 * MIN)
    press(engine, settings, "alert_silence_2h", alert_id(engine), who="U_MEI", at=T0 + 3 * MIN)
    last = card_from_payload(alert_items(engine)[-1].payload)
    assert history(last) == ("Acknowledged by li.wei at 18:02 (Asia/Shanghai)\n"
                             "Silenced until 20:03 (Asia/Shanghai) by mei")
    assert [b.label for b in last.buttons] == ["Silence 2h", "Show tickets"]


# ---- show tickets ----------------------------------------------------------------------------------------


def ticket_ids(engine: Engine, **where: Any) -> list[int]:
    with Session(engine) as session:
        found = session.scalars(select(Ticket).filter_by(**where).order_by(Ticket.id)).all()  # type: ignore[arg-type]
        return [t.id for t in found if t.id is not None]


def test_show_tickets_lists_exactly_the_tickets_the_metric_counted_for_the_group(engine: Engine) -> None:
    settings = team_settings({**VOLUME, "window": "1h", "group_by": ["channel"]})
    add_agents(engine)
    add_tickets(engine, [T0 - 90 * MIN], channel="webchat", text="old one, before the window")
    inside = [T0 - 40 * MIN, T0 - 30 * MIN, T0 - 20 * MIN, T0 - 10 * MIN]
    add_tickets(engine, inside, channel="webchat", intent="refund_status",
                text="my parcel arrived broken and I would like a refund please")
    add_tickets(engine, inside, channel="webhook", text="another group")
    evaluate_rules(engine, settings, T0)
    add_tickets(engine, [T0 + 2 * MIN], channel="webchat", text="after the evaluation")
    webchat_ids = ticket_ids(engine, channel="webchat")
    counted = webchat_ids[1:5]
    report = compute_metrics(engine, T0 - 60 * MIN, T0, names=["volume"], filters={"channel": "webchat"})
    assert report.total.values["volume"] == len(counted) == 4

    result = press(engine, settings, "alert_show_tickets", alert_id(engine, "channel=webchat"), at=T0 + 5 * MIN)
    assert result.ok and result.card is None
    head, *lines = result.message.splitlines()
    assert head == (f"Alert #{alert_id(engine, 'channel=webchat')} (warning busy [channel=webchat]): 4 tickets "
                    "created between 17:00 and 18:00 (Asia/Shanghai) with channel=webchat, newest first:")
    assert [int(line.split(" · ")[0].lstrip("#")) for line in lines] == counted[::-1]
    assert lines[0] == (f"#{counted[-1]} · refund_status · new · severity 3 · 15m · "
                        "“my parcel arrived broken and I would like…”")
    assert audit_actions(engine) == [] and [i.kind for i in alert_items(engine)] == ["card", "card"]


def test_show_tickets_shows_ten_and_says_how_many_more(engine: Engine) -> None:
    settings = team_settings({**VOLUME, "window": "24h"})
    add_agents(engine)
    add_tickets(engine, [T0 - i * 30 * MIN for i in range(1, 13)], text="where is my order")
    evaluate_rules(engine, settings, T0)
    result = press(engine, settings, "alert_show_tickets", alert_id(engine), at=T0 + MIN)
    lines = result.message.splitlines()
    assert "critical busy): 12 tickets created between" in lines[0]
    assert len(lines) == 1 + 10 + 1
    assert lines[-1] == "and 2 more — /metrics 2026-11-19..2026-11-20 to see all (/ticket ID opens one)"


def test_show_tickets_of_a_backlog_rule_lists_the_tickets_open_at_the_evaluation(engine: Engine) -> None:
    settings = team_settings({"name": "pile", "metric": "backlog", "window": "1h", "warning": "> 2"})
    add_agents(engine)
    add_tickets(engine, [T0 - timedelta(days=3), T0 - 5 * MIN, T0 - 3 * MIN], text="still waiting")
    add_tickets(engine, [T0 - 4 * MIN], resolved_at=T0 - 2 * MIN, status="resolved", text="done")
    evaluate_rules(engine, settings, T0)
    result = press(engine, settings, "alert_show_tickets", alert_id(engine), at=T0 + MIN)
    head, *lines = result.message.splitlines()
    assert "3 tickets open at 18:00 (Asia/Shanghai)" in head
    assert [line.split(" · ")[4] for line in lines] == ["4m", "6m", "3d"]


def test_show_tickets_of_an_inbound_messages_rule_lists_the_tickets_written_to_in_the_window(engine: Engine) -> None:
    settings = team_settings({"name": "chatty", "metric": "inbound_messages", "window": "1h", "warning": "> 1"})
    add_agents(engine)
    add_tickets(engine, [T0 - timedelta(days=2)], text="an old question")
    add_tickets(engine, [T0 - 20 * MIN], text="a new question")
    add_tickets(engine, [T0 - 2 * timedelta(hours=1)], text="answered long ago")
    old, new, _quiet = ticket_ids(engine)
    with Session(engine) as session:  # the old ticket's customer writes again inside the window
        session.add(Message(ticket_id=old, channel="webchat", channel_message_id="again", direction="in",
                            author_kind="customer", text="any news?", created_at=T0 - 10 * MIN))
        session.commit()
    evaluate_rules(engine, settings, T0)
    head, *lines = press(engine, settings, "alert_show_tickets", alert_id(engine)).message.splitlines()
    assert "2 tickets with a customer message between 17:00 and 18:00 (Asia/Shanghai)" in head
    assert [int(line.split(" · ")[0].lstrip("#")) for line in lines] == [new, old]
    assert lines[1].endswith("“an old question”")  # the ticket's first message


# ---- bad presses -----------------------------------------------------------------------------------------


def test_bad_presses_get_a_precise_answer(engine: Engine) -> None:
    settings = team_settings(VOLUME)
    add_agents(engine)
    add_tickets(engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(engine, settings, T0)
    known = alert_id(engine)
    assert press(engine, settings, "alert_acknowledge", 999).message == (
        "alert #999 does not exist (it may be from another kefu installation)")
    assert press(engine, settings, "alert_snooze", known).message == (
        "unknown alert action 'alert_snooze': expected one of alert_acknowledge, alert_silence_2h, "
        "alert_show_tickets")
    assert press(engine, settings, "alert_acknowledge", 0).message == "alert_id must be a positive whole number, got 0"
    assert press(engine, settings, "alert_acknowledge", known, who=" ").message == (
        "actor_id is required: who pressed the button?")
    with Session(engine) as session:
        assert session.get(Alert, known).acknowledged_at is None  # type: ignore[union-attr]


async def test_the_app_performs_alert_actions_from_any_team_channel(migrated_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=migrated_url, var_dir=tmp_path / "var", timezone=TEAM_TZ,
                        alerts={"rules": [VOLUME]})
    kefu = Kefu(settings, model_loader=lambda *_: pytest.fail("the model is not needed here"))
    kefu.prepare()
    assert kefu.engine is not None
    add_agents(kefu.engine)
    add_tickets(kefu.engine, [T0 - 50 * MIN + i * MIN for i in range(4)])
    evaluate_rules(kefu.engine, settings, T0)
    # The console names agents by name; the intent model is not needed for alert actions.
    result = await kefu.handle_alert_action(AlertAction("alert_acknowledge", alert_id(kefu.engine), "console", "mei"))
    assert result.ok, result.message
    assert alerts(kefu.engine)[0].acknowledged_by == "mei"
    refused = await kefu.handle_alert_action(AlertAction("alert_acknowledge", 0, "console", "mei"))
    assert (refused.ok, refused.message) == (False, "alert_id must be a positive whole number, got 0")


# ---- SLA cards -------------------------------------------------------------------------------------------


def test_an_sla_warning_of_an_unassigned_ticket_offers_assign_to_me_which_updates_the_triage_card(
        engine: Engine) -> None:
    settings = Settings(timezone=TEAM_TZ)
    add_agents(engine)
    add_tickets(engine, [T0], severity=1, status="open", first_response_due=T0 + 120 * MIN,
                resolution_due=T0 + timedelta(hours=24), text="nothing arrived")
    [ticket_id] = ticket_ids(engine)
    SlaWatch(engine, settings).run_once(T0 + 100 * MIN)
    [warning] = alert_items_of_ticket(engine, ticket_id)
    card = card_from_payload(warning.payload)
    assert card.ticket_id == ticket_id and [(b.action, b.label) for b in card.buttons] == [("assign", "Assign to me")]

    # The warning goes out and the clock stops: its card is updated to "met", without the button.
    with Session(engine) as session:
        session.execute(update(OutboxItem).where(OutboxItem.id == warning.id)  # type: ignore[arg-type]
                        .values(status="sent", result_ref="C1:sla"))
        session.execute(update(Ticket).where(Ticket.id == ticket_id)  # type: ignore[arg-type]
                        .values(first_response_at=T0 + 110 * MIN))
        session.commit()
    SlaWatch(engine, settings).run_once(T0 + 111 * MIN)
    outcome = alert_items_of_ticket(engine, ticket_id)[-1]
    assert outcome.kind == "card_update" and card_from_payload(outcome.payload).buttons == ()

    # The adapter sends the button as the triage card's: the ticket's own card is updated, not the SLA card.
    classifier = FixedClassifier()
    actions = TicketActions(engine, Pipeline(engine, classifier, FixedTemplates(), settings), classifier)
    result = actions.perform_sync(Action(name="assign", ticket_id=ticket_id, actor_platform="slack",
                                         actor_id="U_LI"))
    assert result.ok and result.card is not None
    assert result.card.kind == "triage" and "Outcome" not in {f.label for f in result.card.fields}
    assert card_from_payload(alert_items_of_ticket(engine, ticket_id)[-1].payload).kind == "triage"


def alert_items_of_ticket(engine: Engine, ticket_id: int) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket_id)  # type: ignore
                                    .order_by(OutboxItem.id)))  # type: ignore[arg-type]
