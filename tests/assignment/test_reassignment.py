"""Off-shift reassignment: an agent's open tickets move to agents on shift when their shift ends, once (a second
pass, like a second replica, moves nothing), audited, with the card updated; nobody fits → unassigned and the
queue is asked; a ticket given to someone already off shift stays theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.messages import card_from_payload
from bot.pipeline import Pipeline
from bot.settings import Settings
from models.tables import AuditEvent, OutboxItem, Ticket
from scheduler.assignment import OffShiftReassignment
from tests.assignment.conftest import SHENZHEN_DAY, Clock, add_agent, agent_name, message, settings_for, ticket
from tests.test_pipeline import FixedClassifier

SHENZHEN_EVENING = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)  # Mon 18:05 in Shenzhen, 11:05 in Berlin
BERLIN_DAY = "mon-fri 11:00-20:00 Europe/Berlin"  # a late Berlin shift that overlaps Shenzhen's end


def _open_ticket(make_pipeline: Callable[[Settings], Pipeline], classifier: FixedClassifier, customer: str,
                 settings: Settings) -> int:
    text = classifier.says("Mein Paket ist beschädigt angekommen.", "damaged_item")
    return make_pipeline(settings).ingest_sync(message(text, customer=customer, language="de")).ticket_id


def test_open_tickets_move_to_an_agent_on_shift_once_when_the_shift_ends(
        engine: Engine, make_pipeline: Callable[[Settings], Pipeline], classifier: FixedClassifier,
        clock: Clock) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    settings = settings_for("auto")
    first = _open_ticket(make_pipeline, classifier, "c-1", settings)
    second = _open_ticket(make_pipeline, classifier, "c-2", settings)
    add_agent(engine, "klaus", languages=["de"], shift=BERLIN_DAY)  # joins later: li got both tickets
    assert {agent_name(engine, ticket(engine, t).assignee_id) for t in (first, second)} == {"li"}
    job = OffShiftReassignment(engine, settings)

    assert job(clock.now + timedelta(hours=7)) == []  # 17:00 in Shenzhen: li is still on shift
    moved = job(SHENZHEN_EVENING)
    again = job(SHENZHEN_EVENING + timedelta(minutes=1))

    assert sorted(m.ticket_id for m in moved) == [first, second]
    assert {(m.from_agent, m.to) for m in moved} == {("li", "klaus")}
    assert again == []
    assert {agent_name(engine, ticket(engine, t).assignee_id) for t in (first, second)} == {"klaus"}
    with Session(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.assign",
                                                          AuditEvent.subject_id == str(first))
                                 .order_by(AuditEvent.id)).all()
        update = session.scalars(select(OutboxItem).where(OutboxItem.kind == "card_update",
                                                          OutboxItem.ticket_id == first)).one()
    assert [(e.details["how"], e.details["previous"], e.details["assignee"]) for e in events] == \
        [("auto", None, "li"), ("off_shift", "li", "klaus")]
    fields = {f.label: f.value for f in card_from_payload(update.payload).fields}
    assert fields["Assignee"].startswith("Assigned to klaus (speaks de")
    assert "Reassigned from li (li went off shift) to klaus" in fields["History"]


def test_nobody_on_shift_unassigns_and_asks_the_queue_and_a_ticket_taken_off_shift_stays(
        engine: Engine, make_pipeline: Callable[[Settings], Pipeline], classifier: FixedClassifier) -> None:
    li = add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    settings = settings_for("auto")
    moved_ticket = _open_ticket(make_pipeline, classifier, "c-1", settings)
    kept_ticket = _open_ticket(make_pipeline, classifier, "c-2", settings)
    with Session(engine) as session:  # li took this one after her shift (by hand): it stays hers tonight
        kept = session.get(Ticket, kept_ticket)
        assert kept is not None
        kept.assigned_at = SHENZHEN_EVENING + timedelta(minutes=30)
        session.add(kept)
        session.commit()

    moved = OffShiftReassignment(engine, settings)(SHENZHEN_EVENING + timedelta(hours=1))

    assert [(m.ticket_id, m.to, m.why) for m in moved] == [(moved_ticket, None, "nobody is on shift")]
    assert ticket(engine, moved_ticket).assignee_id is None
    assert ticket(engine, kept_ticket).assignee_id == li
    with Session(engine) as session:
        notices = session.scalars(select(OutboxItem).where(OutboxItem.kind == "notice")).all()
    card = card_from_payload(notices[-1].payload)
    assert card.ticket_id == moved_ticket and card.mentions == (("Unassigned: the queue", "*", "here"),)
    assert "li went off shift and nobody is on shift" in card.body


def test_nothing_moves_unless_assignment_is_automatic(
        engine: Engine, make_pipeline: Callable[[Settings], Pipeline], classifier: FixedClassifier) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    ticket_id = _open_ticket(make_pipeline, classifier, "c-1", settings_for("auto"))
    assert OffShiftReassignment(engine, settings_for("suggest"))(SHENZHEN_EVENING) == []
    assert agent_name(engine, ticket(engine, ticket_id).assignee_id) == "li"
