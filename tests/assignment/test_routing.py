"""Assignment of new tickets through the real pipeline: language, skill, shift across timezones, load weighted by
severity, capacity, senior agents for high-value customers, nobody fits, suggest mode, redeliveries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import card_from_payload
from bot.pipeline import Pipeline
from bot.settings import Settings, TriageRoute
from models.tables import AuditEvent, OutboxItem
from tests.assignment.conftest import (
    BERLIN_DAY,
    SHENZHEN_DAY,
    Clock,
    add_agent,
    agent_name,
    message,
    set_tier,
    settings_for,
    ticket,
)
from tests.test_pipeline import FixedClassifier

GERMAN = "Mein Paket ist beschädigt angekommen, bitte helfen Sie mir."
MakePipeline = Callable[[Settings], Pipeline]


def _card_fields(engine: Engine, ticket_id: int) -> dict[str, str]:
    with Session(engine) as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket_id, OutboxItem.kind == "card")
                               .order_by(OutboxItem.id)).first()  # the ticket's card: its first
    return {f.label: f.value for f in card_from_payload(item.payload).fields}


def _notices(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == "notice")))


def test_a_ticket_at_3am_in_berlin_goes_to_the_german_speaker_on_the_shenzhen_day_shift(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier) -> None:
    add_agent(engine, "klaus", languages=["de"], shift=BERLIN_DAY)  # speaks German, asleep in Berlin
    add_agent(engine, "mei", languages=["zh", "en"], shift=SHENZHEN_DAY)  # on shift, no German
    add_agent(engine, "li", languages=["zh", "de"], shift=SHENZHEN_DAY, identities={"slack": "U_LI"})
    pipeline = make_pipeline(settings_for("auto"))

    result = pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    assert result.language == "de"
    assert agent_name(engine, ticket(engine, result.ticket_id).assignee_id) == "li"
    assignee = _card_fields(engine, result.ticket_id)["Assignee"]
    assert assignee.startswith("Assigned to li (speaks de")
    assert "on shift until 18:00 Asia/Shanghai" in assignee
    with Session(engine) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.assign")).all()
        [item] = session.scalars(select(OutboxItem).where(OutboxItem.kind == "card")).all()
    assert (event.actor, event.subject_id, event.details["assignee"], event.details["how"]) == \
        ("system", str(result.ticket_id), "li", "auto")
    assert card_from_payload(item.payload).mentions == (("@li", "slack", "U_LI"),)


def test_skills_pick_who_handles_the_intent_and_a_queue_name_counts_as_a_skill(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier) -> None:
    add_agent(engine, "ana", languages=["de"], skills=["order_status"], shift=SHENZHEN_DAY)
    add_agent(engine, "bo", languages=["de"], skills=["complaints"], shift=SHENZHEN_DAY)
    settings = settings_for("auto")
    settings.triage.routes = [TriageRoute(name="complaints", intent="damaged_item")]
    pipeline = make_pipeline(settings)

    result = pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    assert agent_name(engine, ticket(engine, result.ticket_id).assignee_id) == "bo"
    assert "handles complaints" in _card_fields(engine, result.ticket_id)["Assignee"]


def test_load_is_weighted_by_severity_and_capacity_is_respected(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier) -> None:
    ana = add_agent(engine, "ana", languages=["de"], shift=SHENZHEN_DAY)
    bo = add_agent(engine, "bo", languages=["de"], shift=SHENZHEN_DAY, capacity=2)
    pipeline = make_pipeline(settings_for("auto"))
    severe = classifier.says("Ich habe mein Paket nie bekommen!", "item_not_received")  # severity 1, weight 3
    mild = classifier.says("Mein Paket ist beschädigt angekommen.", "damaged_item")  # severity 2, weight 2

    first = pipeline.ingest_sync(message(severe, customer="c-1", language="de"))
    second = pipeline.ingest_sync(message(mild, customer="c-2", language="de"))
    third = pipeline.ingest_sync(message(mild, customer="c-3", language="de"))
    fourth = pipeline.ingest_sync(message(mild, customer="c-4", language="de"))

    owners = [ticket(engine, r.ticket_id).assignee_id for r in (first, second, third, fourth)]
    # ana takes the severity-1 ticket (load 3); bo's two severity-2 tickets weigh 2 then 4: the second still goes to
    # him (2 < 3); then bo holds his capacity of 2 open tickets and the fourth goes to ana although she is heavier.
    assert owners == [ana, bo, bo, ana]


def test_high_value_customers_go_to_a_senior_agent_when_configured(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier) -> None:
    add_agent(engine, "sen", languages=["de"], shift=SHENZHEN_DAY, senior=True)
    add_agent(engine, "jun", languages=["de"], shift=SHENZHEN_DAY)
    set_tier(engine, "vip", "high")
    set_tier(engine, "vip2", "high")
    text = classifier.says(GERMAN, "damaged_item")
    plain, configured = make_pipeline(settings_for("auto")), make_pipeline(settings_for("auto", senior_tiers=["high"]))

    def owner(pipeline: Pipeline, customer: str) -> str | None:
        result = pipeline.ingest_sync(message(text, customer=customer, language="de"))
        return agent_name(engine, ticket(engine, result.ticket_id).assignee_id)

    assert owner(plain, "c-a") == "sen"  # equal loads: sen now carries one ticket more than jun
    assert owner(configured, "vip") == "sen"  # high tier: the senior agent, although jun is lighter
    assert owner(configured, "c-b") == "jun"  # no tier: load decides
    assert owner(plain, "vip2") == "jun"  # without senior_tiers, tiers do not matter (jun 1 vs sen 2)


def test_nobody_fits_the_card_says_so_and_the_queue_channel_is_asked_once(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier, clock: Clock) -> None:
    add_agent(engine, "klaus", languages=["de"], shift=BERLIN_DAY)
    add_agent(engine, "mei", languages=["zh"], shift=SHENZHEN_DAY)
    pipeline = make_pipeline(settings_for("auto"))
    text = classifier.says(GERMAN, "damaged_item")

    result = pipeline.ingest_sync(message(text, language="de"))
    again = pipeline.ingest_sync(message("Hallo? Ist da jemand?", language="de"))  # same conversation

    assert again.ticket_id == result.ticket_id
    assert ticket(engine, result.ticket_id).assignee_id is None
    assert _card_fields(engine, result.ticket_id)["Assignee"] == \
        "Nobody fits (nobody on shift speaks de): the queue is asked"
    [notice] = _notices(engine)
    card = card_from_payload(notice.payload)
    assert (notice.channel, card.ticket_id, card.mentions) == ("console", result.ticket_id,
                                                               (("Unassigned: the queue", "*", "here"),))
    assert card.body.startswith("Unassigned: the queue, nobody on shift speaks de")
    assert [b.action for b in card.buttons] == ["assign"]


def test_suggest_mode_names_the_agent_without_assigning(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    pipeline = make_pipeline(settings_for("suggest"))

    result = pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    assert ticket(engine, result.ticket_id).assignee_id is None
    assert _card_fields(engine, result.ticket_id)["Suggested assignee"].startswith("li (speaks de")


def test_mode_off_changes_nothing_and_a_redelivery_assigns_nothing_twice(
        engine: Engine, make_pipeline: MakePipeline, classifier: FixedClassifier, clock: Clock) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    text = classifier.says(GERMAN, "damaged_item")
    off = make_pipeline(settings_for("off")).ingest_sync(message(text, customer="c-off", language="de"))
    assert ticket(engine, off.ticket_id).assignee_id is None
    assert not {"Assignee", "Suggested assignee"} & set(_card_fields(engine, off.ticket_id))

    pipeline = make_pipeline(settings_for("auto"))
    inbound = message(text, customer="c-auto", language="de")
    first = pipeline.ingest_sync(inbound)
    clock.now += timedelta(minutes=1)
    repeat = pipeline.ingest_sync(inbound)
    assert repeat.action == "duplicate"
    with Session(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.assign")).all()
    assert [e.subject_id for e in events] == [str(first.ticket_id)]
