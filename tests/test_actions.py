"""The triage card's buttons (handlers.actions) on real databases: what each action does to the ticket, the
replies queued to the customer, the suggestion's outcome, the audit trail and the card updated in place; the
errors an agent sees; and live learning from a "Wrong intent" correction with the real classifier.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.messages import Action, Card, card_from_payload
from bot.pipeline import Pipeline
from bot.settings import IntentSettings, ReplySettings, Settings
from handlers.actions import MAX_REPLY_CHARS, ActionResult, TicketActions
from intents.catalogue import IntentCatalogue
from models.db import utcnow
from models.tables import (
    Agent,
    AuditEvent,
    Feedback,
    IntentExample,
    Message,
    OutboxItem,
    ReplyPair,
    Suggestion,
    Ticket,
)
from tests.test_pipeline import INTENTS, FixedClassifier, FixedTemplates, count, inbound, rows

QUESTION = "¿Cuánto tarda el envío a México?"
SUGGESTED = "El envío tarda de 7 a 12 días."


class LearningFixedClassifier(FixedClassifier):
    """The fixed stand-in plus a live catalogue and live learning, as `wrong_intent` needs."""

    def __init__(self) -> None:
        super().__init__()
        self.catalogue = IntentCatalogue.from_dict(
            {"intents": {name: {"kind": kind, "severity": severity, "examples": [f"example of {name}"]}
                         for name, (kind, severity) in INTENTS.items()}})
        self.learnt: list[tuple[str, list[str]]] = []

    def add_examples(self, intent: str, texts: Sequence[str]) -> None:
        self.catalogue = self.catalogue.with_examples(intent, texts, move=True)
        self.learnt.append((intent, list(texts)))
        for text in texts:
            self.says(text, intent, 0.95)


@pytest.fixture
def classifier() -> LearningFixedClassifier:
    return LearningFixedClassifier()


@pytest.fixture
def settings() -> Settings:
    return Settings(replies=ReplySettings(modes={"shipping_time": "shadow"}, auto_reply_min_confidence=0.6))


@pytest.fixture
def pipeline(engine: Engine, classifier: LearningFixedClassifier, settings: Settings) -> Pipeline:
    return Pipeline(engine, classifier, FixedTemplates(), settings)


@pytest.fixture
def actions(engine: Engine, pipeline: Pipeline, classifier: LearningFixedClassifier) -> TicketActions:
    with Session(engine) as session:
        session.add(Agent(name="li.wei", role="agent", identities={"slack": "U_LI"}))
        session.add(Agent(name="bo", role="agent", identities={"slack": "U_BO"}))
        session.add(Agent(name="mei", role="manager", identities={"slack": "U_MEI", "dingtalk": "mei4220"}))
        session.commit()
    return TicketActions(engine, pipeline, classifier)


def agent_id(engine: Engine, name: str) -> int:
    [agent] = rows(engine, Agent, Agent.name == name)
    return int(agent.id)


def press(actions: TicketActions, name: str, ticket_id: int, who: str = "U_LI", platform: str = "slack",
          **values: str) -> ActionResult:
    return actions.perform_sync(Action(name=name, ticket_id=ticket_id, actor_platform=platform, actor_id=who,
                                       values=values))


def suggested_ticket(pipeline: Pipeline, classifier: FixedClassifier, text: str = QUESTION) -> int:
    """A shipping question kefu was not sure enough to answer itself: a triage card with a suggested reply."""
    classifier.says(text, "shipping_time", 0.5)
    result = pipeline.ingest_sync(inbound(text))
    assert result.action == "suggested"
    return result.ticket_id


def ticket(engine: Engine, ticket_id: int) -> Ticket:
    with Session(engine) as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def replies(engine: Engine, ticket_id: int) -> list[str]:
    return [item.payload["text"] for item in rows(engine, OutboxItem, OutboxItem.ticket_id == ticket_id,
                                                   OutboxItem.kind == "reply")]


def latest_card_update(engine: Engine, ticket_id: int) -> tuple[OutboxItem, Card]:
    items = rows(engine, OutboxItem, OutboxItem.ticket_id == ticket_id, OutboxItem.kind == "card_update")
    assert items, "no card update was queued"
    return items[-1], card_from_payload(items[-1].payload)


def fields(card: Card) -> dict[str, str]:
    return {f.label: f.value for f in card.fields}


def buttons(card: Card) -> list[str]:
    return [b.action for b in card.buttons]


def audits(engine: Engine, action: str) -> list[AuditEvent]:
    return rows(engine, AuditEvent, AuditEvent.action == action)


# ---- send and edit ---------------------------------------------------------------------------------------


def test_send_queues_the_suggested_reply_and_counts_it_accepted(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)

    result = press(actions, "send", ticket_id)

    assert result.ok, result.message
    assert replies(engine, ticket_id) == [SUGGESTED]
    [reply] = rows(engine, OutboxItem, OutboxItem.kind == "reply")
    assert (reply.channel, reply.target) == ("webhook", "cust-1")
    [suggestion] = rows(engine, Suggestion)
    assert suggestion.outcome == "accepted"
    [pair] = rows(engine, ReplyPair)
    assert (pair.intent, pair.accepted) == ("shipping_time", 1)
    after = ticket(engine, ticket_id)
    assert after.status == "open" and after.first_response_at is not None
    [agent_reply] = rows(engine, Message, Message.author_kind == "agent")
    assert (agent_reply.author, agent_reply.text) == ("li.wei", SUGGESTED)
    [audit] = audits(engine, "ticket.send")
    assert (audit.actor, audit.subject_type, audit.subject_id) == (
        f"agent:{agent_id(engine, 'li.wei')}", "ticket", str(ticket_id))
    item, card = latest_card_update(engine, ticket_id)
    assert item.dedup_key == f"card_update:{ticket_id}:{audit.id}"
    assert (item.channel, item.target) == ("console", "")
    assert fields(card)["History"].startswith("Suggested reply sent by li.wei at ")
    assert fields(card)["Customer"] == "Ana (MX)"  # the original card's fields are kept
    assert card.body == QUESTION
    assert "send" not in buttons(card) and card.suggested_reply is None
    assert result.card == card


def test_a_double_click_on_send_reaches_the_customer_once(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    assert press(actions, "send", ticket_id).ok

    again = press(actions, "send", ticket_id, who="U_BO")

    assert not again.ok
    assert "already" in again.message and "nothing was sent" in again.message
    assert replies(engine, ticket_id) == [SUGGESTED]
    assert len(audits(engine, "ticket.send")) == 1


def test_two_agents_pressing_send_at_the_same_moment_send_one_reply(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    start = threading.Barrier(2)
    results: list[ActionResult] = []

    def press_send(who: str) -> None:
        start.wait()
        results.append(press(actions, "send", ticket_id, who=who))

    threads = [threading.Thread(target=press_send, args=(who,)) for who in ("U_LI", "U_BO")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.ok for r in results) == [False, True]
    assert replies(engine, ticket_id) == [SUGGESTED]
    assert rows(engine, Suggestion)[0].outcome == "accepted"


def test_edit_sends_the_agents_text_and_counts_the_suggestion_edited(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    edited = "A México el envío tarda de 10 a 15 días hábiles."

    result = press(actions, "edit", ticket_id, text=edited)

    assert result.ok, result.message
    assert replies(engine, ticket_id) == [edited]
    [suggestion] = rows(engine, Suggestion)
    assert suggestion.outcome == "edited"
    [pair] = rows(engine, ReplyPair)
    assert (pair.accepted, pair.edited) == (0, 1)
    _, card = latest_card_update(engine, ticket_id)
    assert "Reply written by li.wei" in fields(card)["History"]
    assert [b.label for b in card.buttons if b.action == "edit"] == ["Write a reply"]

    resubmitted = press(actions, "edit", ticket_id, text=edited)
    assert not resubmitted.ok and "already sent" in resubmitted.message
    assert replies(engine, ticket_id) == [edited]


def test_edit_with_the_suggestion_unchanged_counts_as_accepted(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    [suggestion] = rows(engine, Suggestion)

    result = press(actions, "edit", ticket_id, text=f"  {SUGGESTED} ", suggestion_id=str(suggestion.id))

    assert result.ok
    [suggestion] = rows(engine, Suggestion)
    assert suggestion.outcome == "accepted"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "edit needs the reply's text (value 'text')"),
        ({"text": "   "}, "edit needs the reply's text (value 'text')"),
        ({"text": "x" * (MAX_REPLY_CHARS + 1)}, "value 'text' is 10,001 characters; a reply may have at most 10,000"),
        ({"text": "ok", "suggestion_id": "abc"}, "value 'suggestion_id' must be a whole number, got 'abc'"),
        ({"text": "ok", "colour": "red"}, "unknown value 'colour' for action edit: expected text, suggestion_id"),
    ],
)
def test_bad_edits_are_refused_with_the_field_named(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine,
    values: dict[str, str], expected: str,
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)

    result = press(actions, "edit", ticket_id, **values)

    assert not result.ok and result.card is None
    assert expected in result.message
    assert replies(engine, ticket_id) == []
    assert rows(engine, Suggestion)[0].outcome == "pending"


def test_send_without_a_suggested_reply_says_to_write_one(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    text = classifier.says("Me llegó roto el jarrón", "damaged_item", 0.9)
    ticket_id = pipeline.ingest_sync(inbound(text)).ticket_id

    result = press(actions, "send", ticket_id)

    assert not result.ok
    assert result.message == f"ticket #{ticket_id} has no suggested reply to send: write one with Edit"
    assert count(engine, AuditEvent) == 0


# ---- assign, escalate, resolve ---------------------------------------------------------------------------


def test_assign_to_me_and_a_manager_assigning_someone(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)

    mine = press(actions, "assign", ticket_id)
    assert mine.ok and mine.message == f"Ticket #{ticket_id} is assigned to li.wei."
    after = ticket(engine, ticket_id)
    assert (after.assignee_id, after.status) == (agent_id(engine, "li.wei"), "open")
    _, card = latest_card_update(engine, ticket_id)
    assert fields(card)["Assignee"] == "li.wei"
    assert "Assigned to li.wei at " in fields(card)["History"]

    refused = press(actions, "assign", ticket_id, who="U_BO", agent="li.wei")
    assert not refused.ok and "only a manager can assign" in refused.message

    by_manager = press(actions, "assign", ticket_id, who="mei4220", platform="dingtalk", agent="@BO")
    assert by_manager.ok, by_manager.message
    assert ticket(engine, ticket_id).assignee_id == agent_id(engine, "bo")
    _, card = latest_card_update(engine, ticket_id)
    assert fields(card)["Assignee"] == "bo"
    assert "Assigned to bo by mei at " in fields(card)["History"]
    assert len(audits(engine, "ticket.assign")) == 2

    typo = press(actions, "assign", ticket_id, who="U_MEI", agent="li.we")
    assert not typo.ok and typo.message == "no active agent named 'li.we'; did you mean li.wei?"


def test_an_unknown_user_becomes_an_agent_on_their_first_press(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)

    assert press(actions, "assign", ticket_id, who="U_NEW").ok
    assert press(actions, "escalate", ticket_id, who="U_NEW").ok

    [agent] = rows(engine, Agent, Agent.name == "slack:U_NEW")
    assert (agent.role, agent.identities) == ("agent", {"slack": "U_NEW"})
    assert ticket(engine, ticket_id).assignee_id == agent.id
    [created] = audits(engine, "agent.created")
    assert created.subject_id == str(agent.id)
    assert [a.actor for a in audits(engine, "ticket.escalate")] == [f"agent:{agent.id}"]


def test_escalate_raises_severity_tightens_due_times_and_marks_the_card(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    before = ticket(engine, ticket_id)
    assert before.severity == 3

    started = utcnow()
    result = press(actions, "escalate", ticket_id, reason="VIP customer, second time asking")

    assert result.ok, result.message
    after = ticket(engine, ticket_id)
    assert (after.severity, after.status) == (2, "open")
    assert after.first_response_due is not None and after.resolution_due is not None
    # severity 2 from now: first response within 4 h, resolution within 48 h; never later than before
    assert after.first_response_due <= started + timedelta(hours=4, minutes=1)
    assert after.first_response_due < before.first_response_due
    assert after.resolution_due < before.resolution_due
    [audit] = audits(engine, "ticket.escalate")
    assert audit.details["reason"] == "VIP customer, second time asking"
    assert (audit.details["from_severity"], audit.details["to_severity"]) == (3, 2)
    _, card = latest_card_update(engine, ticket_id)
    assert card.title.endswith("severity 2 · escalated") and card.severity == 2
    assert fields(card)["Severity"] == "2"
    assert fields(card)["Escalated"].endswith(": VIP customer, second time asking")
    assert fields(card)["First response due"] == after.first_response_due.isoformat(timespec="minutes")

    press(actions, "escalate", ticket_id)
    press(actions, "escalate", ticket_id)
    at_top = ticket(engine, ticket_id)
    assert at_top.severity == 1
    assert at_top.first_response_due <= after.first_response_due
    _, card = latest_card_update(engine, ticket_id)
    assert "escalate" not in buttons(card)  # severity 1 and escalated: nothing left to raise
    assert fields(card)["History"].count("Escalated to severity") == 3


def test_resolve_closes_the_ticket_rejects_the_unused_suggestion_and_removes_the_buttons(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    press(actions, "assign", ticket_id)

    result = press(actions, "resolve", ticket_id)

    assert result.ok
    after = ticket(engine, ticket_id)
    assert after.status == "resolved" and after.resolved_at is not None
    [suggestion] = rows(engine, Suggestion)
    assert suggestion.outcome == "rejected"
    [pair] = rows(engine, ReplyPair)
    assert pair.rejected == 1
    _, card = latest_card_update(engine, ticket_id)
    assert card.buttons == () and card.title.endswith("· resolved")
    history = fields(card)["History"].splitlines()
    assert history[0].startswith("Assigned to li.wei at ") and history[1].startswith("Resolved by li.wei at ")
    assert replies(engine, ticket_id) == []

    again = press(actions, "resolve", ticket_id, who="U_BO")
    assert again.ok and "already resolved" in again.message
    assert len(audits(engine, "ticket.resolve")) == 1
    assert len(rows(engine, OutboxItem, OutboxItem.kind == "card_update")) == 2

    late = press(actions, "send", ticket_id)
    assert not late.ok and f"ticket #{ticket_id} was resolved at " in late.message
    assert replies(engine, ticket_id) == []


def test_the_card_update_goes_where_the_card_was_posted(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    with Session(engine) as session:
        row = session.get(Ticket, ticket_id)
        assert row is not None
        row.card_channel, row.card_ref = "slack", "C042:1700000000.000100"
        session.add(row)
        session.commit()

    assert press(actions, "assign", ticket_id).ok

    item, _ = latest_card_update(engine, ticket_id)
    assert (item.channel, item.target) == ("slack", "C042:1700000000.000100")


# ---- wrong intent ----------------------------------------------------------------------------------------


def test_wrong_intent_corrects_the_ticket_stores_feedback_and_teaches_the_classifier(
    actions: TicketActions, pipeline: Pipeline, classifier: LearningFixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier, "Nunca llegó, el seguimiento no se mueve")
    before = ticket(engine, ticket_id)

    result = press(actions, "wrong_intent", ticket_id, intent="item_not_received")

    assert result.ok, result.message
    after = ticket(engine, ticket_id)
    assert (after.intent, after.kind, after.severity) == ("item_not_received", "complaint", 1)
    assert after.first_response_due < before.first_response_due
    [message] = rows(engine, Message, Message.direction == "in")
    [feedback] = rows(engine, Feedback)
    assert (feedback.message_id, feedback.predicted_intent, feedback.corrected_intent) == (
        message.id, "shipping_time", "item_not_received")
    assert feedback.agent_id == agent_id(engine, "li.wei")
    [example] = rows(engine, IntentExample)
    assert (example.intent, example.text, example.source, example.feedback_id) == (
        "item_not_received", message.text, "feedback", feedback.id)
    assert rows(engine, Suggestion)[0].outcome == "rejected"
    assert classifier.learnt == [("item_not_received", [message.text])]
    _, card = latest_card_update(engine, ticket_id)
    assert card.title == f"Ticket #{ticket_id}: item_not_received · severity 1"
    assert fields(card)["Intent"].startswith("item_not_received (corrected by li.wei; kefu said shipping_time")
    assert "Intent corrected from shipping_time to item_not_received by li.wei" in fields(card)["History"]
    assert "send" not in buttons(card)

    again = press(actions, "wrong_intent", ticket_id, who="U_BO", intent="item_not_received")
    assert again.ok and "already corrected" in again.message
    assert (count(engine, Feedback), count(engine, IntentExample)) == (1, 1)
    assert len(audits(engine, "ticket.wrong_intent")) == 1


def test_a_correction_of_a_correction_supersedes_the_learnt_example(
    actions: TicketActions, pipeline: Pipeline, classifier: LearningFixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    assert press(actions, "wrong_intent", ticket_id, intent="return_policy").ok

    assert press(actions, "wrong_intent", ticket_id, who="U_MEI", intent="order_status").ok

    assert [(e.intent, e.text) for e in rows(engine, IntentExample)] == [("order_status", QUESTION)]
    assert [f.corrected_intent for f in rows(engine, Feedback)] == ["return_policy", "order_status"]
    assert ticket(engine, ticket_id).intent == "order_status"


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("damaged_itme", "unknown intent 'damaged_itme': did you mean damaged_item?"),
        ("refund", "unknown intent 'refund': the intents are damaged_item, greeting, item_not_received, "
                   "order_status, return_policy, shipping_time"),
        ("unknown", "unknown intent 'unknown'"),
    ],
)
def test_wrong_intent_names_the_intents_it_knows(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine, intent: str,
    expected: str,
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)

    result = press(actions, "wrong_intent", ticket_id, intent=intent)

    assert not result.ok and result.message.startswith(expected)
    assert (count(engine, Feedback), count(engine, IntentExample), count(engine, AuditEvent)) == (0, 0, 0)
    assert ticket(engine, ticket_id).intent == "shipping_time"


CATALOGUE_YAML = """
intents:
  order_status:
    kind: faq
    severity: 3
    examples: ["Where is my order?", "What is the status of my order?", "Has my order shipped yet?",
               "Can you track my package?", "¿Dónde está mi pedido?"]
  return_policy:
    kind: faq
    severity: 3
    examples: ["How do I return an item?", "What is your return policy?", "Can I send this back for a refund?",
               "¿Cómo devuelvo un producto?"]
  damaged_item:
    kind: complaint
    severity: 2
    examples: ["The item arrived broken", "My package came damaged", "The screen is cracked",
               "El producto llegó roto"]
  item_not_received:
    kind: complaint
    severity: 1
    examples: ["I never received my order", "My package never arrived", "It says delivered but I have nothing",
               "Nunca recibí mi pedido"]
"""
AMBIGUOUS = "The box came open and half the contents are missing"


def test_wrong_intent_teaches_the_real_classifier_live_and_survives_a_restart(
    engine: Engine, migrated_url: str, use_embedder: object, tmp_path: Path
) -> None:
    from bot.app import load_intent_model
    from intents.classifier import IntentClassifier

    catalogue_file = tmp_path / "intents.yaml"
    catalogue_file.write_text(CATALOGUE_YAML, encoding="utf-8")
    real = IntentClassifier.fit(IntentCatalogue.from_yaml(CATALOGUE_YAML), use_embedder)  # type: ignore[arg-type]
    settings = Settings(database_url=migrated_url, var_dir=tmp_path / "var",
                        intents=IntentSettings(catalogue=catalogue_file))
    pipeline = Pipeline(engine, real, FixedTemplates(), settings)
    actions = TicketActions(engine, pipeline, real)
    assert real.predict(AMBIGUOUS).intent == "damaged_item"
    first = pipeline.ingest_sync(inbound(AMBIGUOUS, "cust-a"))
    assert ticket(engine, first.ticket_id).intent == "damaged_item"

    result = press(actions, "wrong_intent", first.ticket_id, who="li.wei", platform="console",
                   intent="item_not_received")

    assert result.ok, result.message
    assert ticket(engine, first.ticket_id).severity == 1
    # the very next identical message, from another customer, without a restart
    second = pipeline.ingest_sync(inbound(AMBIGUOUS, "cust-b"))
    assert second.intent == "item_not_received"
    assert ticket(engine, second.ticket_id).severity == 1
    # after a restart: the catalogue file plus the learnt example rows
    restarted = load_intent_model(settings, engine)
    assert restarted.predict(AMBIGUOUS).intent == "item_not_received"
    [agent] = rows(engine, Agent)
    assert agent.name == "console:li.wei"


# ---- errors and the async entry point --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (Action("sned", 1, "slack", "U_LI"),
         "unknown action 'sned': expected one of send, edit, assign, escalate, resolve, wrong_intent"),
        (Action("resolve", 999, "slack", "U_LI"), "ticket #999 does not exist"),
        (Action("resolve", 0, "slack", "U_LI"), "ticket_id must be a positive whole number, got 0"),
        (Action("resolve", 1, "slack", " "), "actor_id is required"),
        (Action("resolve", 1, "slack", "U_LI", {"reason": "x"}),
         "unknown value 'reason' for action resolve: expected note"),
        (Action("resolve", 1, "slack", "U_LI", {"note": "n" * 501}), "value 'note' is 501 characters"),
        (Action("wrong_intent", 1, "slack", "U_LI"), "wrong_intent needs the right intent (value 'intent')"),
        (Action("escalate", 1, "slack", "U_LI", {"reason": "r" * 501}), "value 'reason' is 501 characters"),
    ],
)
def test_bad_actions_are_answered_never_raised(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine, action: Action,
    expected: str,
) -> None:
    suggested_ticket(pipeline, classifier)

    result = actions.perform_sync(action)

    assert not result.ok and result.card is None
    assert result.message.startswith(expected)
    assert count(engine, AuditEvent) == 0
    assert rows(engine, OutboxItem, OutboxItem.kind == "card_update") == []


def test_a_deactivated_agent_cannot_act(
    actions: TicketActions, pipeline: Pipeline, classifier: FixedClassifier, engine: Engine
) -> None:
    ticket_id = suggested_ticket(pipeline, classifier)
    with Session(engine) as session:
        [bo] = session.exec(select(Agent).where(Agent.name == "bo")).all()
        bo.active = False
        session.add(bo)
        session.commit()

    result = press(actions, "assign", ticket_id, who="U_BO")

    assert not result.ok and result.message.startswith("bo is deactivated")
    assert ticket(engine, ticket_id).assignee_id is None


def test_the_async_entry_point_wakes_the_outbox(
    engine: Engine, classifier: LearningFixedClassifier, settings: Settings
) -> None:
    woken: list[bool] = []
    pipeline = Pipeline(engine, classifier, FixedTemplates(), settings, on_enqueued=lambda: woken.append(True))
    ticket_id = suggested_ticket(pipeline, classifier)
    actions = TicketActions(engine, pipeline, classifier)

    result = asyncio.run(actions.perform(Action("send", ticket_id, "console", "li.wei")))

    assert result.ok and woken
    assert replies(engine, ticket_id) == [SUGGESTED]


def test_kefu_answers_actions_while_the_model_loads(tmp_path: Path) -> None:
    from bot.app import Kefu

    kefu = Kefu(Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", var_dir=tmp_path))

    result = asyncio.run(kefu.handle_action(Action("resolve", 1, "slack", "U_LI")))

    assert not result.ok and "still loading" in result.message
