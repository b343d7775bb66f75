"""What assignment writes on team cards is in the language of the card's channel: on DingTalk (Chinese by default)
the Assignee line, the queue's "needs an owner" notice, the off-shift reassignment lines and the /assign history
line read in Chinese with no English words left but data (names, intents, languages, timezones); on Slack they read
exactly as before, and the audit log keeps its English reasons everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.assignment.routing import Candidate, TicketAssigner, pick_assignee
from bot.assignment.shifts import ShiftStatus
from bot.messages import Card, card_from_payload
from bot.pipeline import Pipeline
from bot.settings import AssignmentSettings, ReplySettings, Settings
from handlers.commands import Actor
from handlers.commands.executor import CommandExecutor
from handlers.phrases import write_wording
from models.tables import AuditEvent, Customer, OutboxItem, Ticket
from scheduler.assignment import OffShiftReassignment
from tests.assignment.conftest import BERLIN_NIGHT, SHENZHEN_DAY, Clock, add_agent, message, ticket
from tests.test_pipeline import FixedClassifier, FixedTemplates

GERMAN = "Mein Paket ist beschädigt angekommen, bitte helfen Sie mir."
SHENZHEN_EVENING = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)  # Mon 18:05 in Shenzhen, 11:05 in Berlin
BERLIN_LATE = "mon-fri 11:00-20:00 Europe/Berlin"
DATA = ("damaged_item", "Asia/Shanghai", "Europe/Berlin", "webhook", "klaus", "UTC", "li", "de", "mei")
CHANNELS = ["dingtalk", "slack"]


def english_left(text: str) -> list[str]:
    """The Latin words of `text` that are not data (names, intents, languages, timezones, channels)."""
    for word in DATA:
        text = re.sub(rf"(?<![A-Za-z_]){re.escape(word)}(?![A-Za-z_])", " ", text)
    return re.findall(r"[A-Za-z]{2,}", text)


def settings_on(channel: str, mode: str = "auto") -> Settings:
    return Settings(triage={"channel": channel, "target": "triage-room"},
                    replies=ReplySettings(auto_reply_min_confidence=0.6),
                    assignment=AssignmentSettings(mode=mode))


def pipeline_on(engine: Engine, classifier: FixedClassifier, clock: Clock, settings: Settings) -> Pipeline:
    """The pipeline as `kefu serve` builds it: the assigner writes its cards with the phrase catalogue."""
    return Pipeline(engine, classifier, FixedTemplates(), settings,
                    assigner=TicketAssigner(settings, clock, write=write_wording))


def outbox(engine: Engine, kind: str) -> list[tuple[OutboxItem, Card]]:
    with Session(engine) as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)).all()
    return [(item, card_from_payload(item.payload)) for item in items]


def fields(card: Card) -> dict[str, str]:
    return {f.label: f.value for f in card.fields}


def audit_reasons(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [e.details["why"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ticket.assign").order_by(AuditEvent.id))]


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_assignee_line_of_a_new_ticket_is_in_the_language_of_the_cards_channel(
        engine: Engine, classifier: FixedClassifier, clock: Clock, channel: str) -> None:
    add_agent(engine, "mei", languages=["zh"], shift=SHENZHEN_DAY)
    add_agent(engine, "li", languages=["zh", "de"], shift=SHENZHEN_DAY)
    pipeline = pipeline_on(engine, classifier, clock, settings_on(channel))

    result = pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    [(item, card)] = outbox(engine, "card")
    assignee = fields(card)["Assignee"]
    assert item.channel == channel
    if channel == "dingtalk":
        assert assignee == "已分配给 li（会说 de，0 个未结工单，值班到 18:00（Asia/Shanghai））"
        assert english_left(assignee) == []
    else:
        assert assignee == "Assigned to li (speaks de, 0 open tickets, on shift until 18:00 Asia/Shanghai)"
    assert audit_reasons(engine) == ["speaks de, 0 open tickets, on shift until 18:00 Asia/Shanghai"]
    assert ticket(engine, result.ticket_id).assignee_id is not None


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_suggested_assignee_is_in_the_language_of_the_cards_channel(
        engine: Engine, classifier: FixedClassifier, clock: Clock, channel: str) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    pipeline = pipeline_on(engine, classifier, clock, settings_on(channel, mode="suggest"))

    pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    [(_, card)] = outbox(engine, "card")
    suggested = fields(card)["Suggested assignee"]
    if channel == "dingtalk":
        assert suggested == "li（会说 de，0 个未结工单，值班到 18:00（Asia/Shanghai））"
        assert english_left(suggested) == []
    else:
        assert suggested == "li (speaks de, 0 open tickets, on shift until 18:00 Asia/Shanghai)"
    assert audit_reasons(engine) == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_nobody_fits_the_assignee_line_and_the_queues_notice_are_in_the_channels_language(
        engine: Engine, classifier: FixedClassifier, clock: Clock, channel: str) -> None:
    add_agent(engine, "mei", languages=["zh"], shift=SHENZHEN_DAY)
    pipeline = pipeline_on(engine, classifier, clock, settings_on(channel))

    result = pipeline.ingest_sync(message(classifier.says(GERMAN, "damaged_item"), language="de"))

    [(_, card)] = outbox(engine, "card")
    [(item, notice)] = outbox(engine, "notice")
    assignee = fields(card)["Assignee"]
    number = result.ticket_id
    assert item.channel == channel and notice.ticket_id == number
    if channel == "dingtalk":
        assert assignee == "没有合适的人（值班的人里没人会说 de），已请队列认领"
        assert notice.title == f"工单 #{number} 需要有人负责"
        assert notice.body == f"待分配队列：值班的人里没人会说 de，谁来接工单 #{number}（damaged_item，de，严重程度 " \
            f"{ticket(engine, number).severity}）？"
        assert notice.mentions == (("待分配队列", "*", "here"),)
        assert [f.label for f in notice.fields] == ["工单"]
        for text in (assignee, notice.title, notice.body):
            assert english_left(text) == []
    else:
        assert assignee == "Nobody fits (nobody on shift speaks de): the queue is asked"
        assert notice.title == f"Ticket #{number} needs an owner"
        assert notice.body == f"Unassigned: the queue, nobody on shift speaks de: who takes ticket #{number} " \
            f"(damaged_item, de, severity {ticket(engine, number).severity})?"
        assert notice.mentions == (("Unassigned: the queue", "*", "here"),)
        assert [f.label for f in notice.fields] == ["Ticket"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_off_shift_reassignment_writes_the_card_in_the_channels_language_and_the_audit_log_in_english(
        engine: Engine, classifier: FixedClassifier, clock: Clock, channel: str) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    settings = settings_on(channel)
    moved_id = pipeline_on(engine, classifier, clock, settings).ingest_sync(
        message(classifier.says(GERMAN, "damaged_item"), customer="c-1", language="de")).ticket_id
    add_agent(engine, "klaus", languages=["de"], shift=BERLIN_LATE)

    OffShiftReassignment(engine, settings)(SHENZHEN_EVENING)

    [(_, update)] = outbox(engine, "card_update")
    history, assignee = fields(update)["History"], fields(update)["Assignee"]
    if channel == "dingtalk":
        assert history.endswith("10:05 UTC 从 li 改派给 klaus（li 已下班）")
        assert assignee == "已分配给 klaus（会说 de，0 个未结工单，值班到 20:00（Europe/Berlin））"
        assert english_left(history) == [] and english_left(assignee) == []
    else:
        assert history.endswith("Reassigned from li (li went off shift) to klaus at 10:05 UTC")
        assert assignee == "Assigned to klaus (speaks de, 0 open tickets, on shift until 20:00 Europe/Berlin)"
    assert audit_reasons(engine)[-1] == \
        "li went off shift; speaks de, 0 open tickets, on shift until 20:00 Europe/Berlin"
    assert ticket(engine, moved_id).assignee_id is not None


@pytest.mark.parametrize("channel", CHANNELS)
def test_off_shift_with_nobody_to_take_over_the_card_and_the_notice_are_in_the_channels_language(
        engine: Engine, classifier: FixedClassifier, clock: Clock, channel: str) -> None:
    add_agent(engine, "li", languages=["de"], shift=SHENZHEN_DAY)
    settings = settings_on(channel)
    moved_id = pipeline_on(engine, classifier, clock, settings).ingest_sync(
        message(classifier.says(GERMAN, "damaged_item"), customer="c-1", language="de")).ticket_id

    OffShiftReassignment(engine, settings)(SHENZHEN_EVENING + timedelta(hours=1))

    [(_, update)] = outbox(engine, "card_update")
    [(_, notice)] = outbox(engine, "notice")
    history, assignee = fields(update)["History"], fields(update)["Assignee"]
    if channel == "dingtalk":
        assert history.endswith("11:05 UTC 取消分配：li 已下班，且没有人在值班")
        assert assignee == "没有合适的人（没有人在值班），已请队列认领"
        assert notice.body.startswith(f"待分配队列：li 已下班，且没有人在值班，谁来接工单 #{moved_id}（")
        for text in (history, assignee, notice.title, notice.body):
            assert english_left(text) == []
    else:
        assert history.endswith("Unassigned at 11:05 UTC: li went off shift and nobody is on shift")
        assert assignee == "Nobody fits (nobody is on shift): the queue is asked"
        assert notice.body.startswith(f"Unassigned: the queue, li went off shift and nobody is on shift: who takes "
                                      f"ticket #{moved_id} (")
    assert audit_reasons(engine)[-1] == "li went off shift; nobody is on shift"


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_assign_commands_history_line_is_in_the_language_of_the_cards_channel(
        engine: Engine, tmp_path: Path, channel: str) -> None:
    add_agent(engine, "mei", role="manager", identities={"dingtalk": "mei4220"})
    add_agent(engine, "li", languages=["de"])
    with Session(engine) as session:
        customer = Customer(channel="webhook", external_id="c-1")
        session.add(customer)
        session.flush()
        row = Ticket(customer_id=customer.id, channel="webhook", conversation_id="c1", intent="damaged_item",
                     kind="complaint", severity=2, language="de", created_at=BERLIN_NIGHT, status="new")
        session.add(row)
        session.commit()
        ticket_id = row.id
    settings = settings_on(channel)
    executor = CommandExecutor(engine, timezone="Asia/Shanghai", clock=lambda: BERLIN_NIGHT, charts_dir=tmp_path,
                               assignment=settings.assignment, triage_channel=channel,
                               language_for=settings.language_for)

    answer = executor.execute(f"/分配 {ticket_id} @li", Actor(name="mei", role="manager"), platform=channel)

    assert answer.ok, answer.text
    [(item, update)] = outbox(engine, "card_update")
    history = fields(update)["History"]
    assert item.channel == channel
    if channel == "dingtalk":
        assert history == "02:00 UTC 分配给 li（mei 操作）" and english_left(history) == []
    else:
        assert history == "Assigned to li by mei at 02:00 UTC"
    assert audit_reasons(engine) == ["/assign by mei"]


def _candidate(agent_id: int, name: str, **fields: object) -> Candidate:
    values: dict[str, object] = {"languages": ("de",), "skills": (), "capacity": None, "senior": False,
                                 "status": ShiftStatus(True, None, "calendar"), "timezone": "UTC"} | fields
    return Candidate(id=agent_id, name=name, **values)  # type: ignore[arg-type]


UNTIL = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PICKS: list[Callable[[], object]] = [
    lambda: pick_assignee([], language="de", intent="refund_request"),
    lambda: pick_assignee([_candidate(1, "a", languages=("fr",))], language="de", intent="refund_request"),
    lambda: pick_assignee([_candidate(1, "a", skills=("shipping_time",))], language="de", intent="refund_request",
                          queue="refunds"),
    lambda: pick_assignee([_candidate(1, "a", skills=("shipping_time",))], language=None, intent="refund_request"),
    lambda: pick_assignee([_candidate(1, "a", capacity=1, open_tickets=1),
                           _candidate(2, "b", capacity=2, open_tickets=2)], language="de", intent="refund_request"),
    lambda: pick_assignee([_candidate(1, "a", skills=("refunds",), open_tickets=1, senior=True,
                                      status=ShiftStatus(True, UNTIL, "calendar"), timezone="Asia/Shanghai")],
                          language="de", intent="refund_request", queue="refunds", senior_wanted=True),
    lambda: pick_assignee([_candidate(1, "a", skills=("refund_request",), open_tickets=3),
                           _candidate(2, "b", open_tickets=2)], language="de", intent="refund_request",
                          senior_wanted=True),
]


@pytest.mark.parametrize("make_pick", PICKS)
def test_every_reason_written_in_english_reads_as_the_audit_logs_and_in_chinese_has_no_english_words(
        make_pick: Callable[[], object]) -> None:
    pick = make_pick()
    why, wording = pick.why, pick.wording  # type: ignore[attr-defined]
    assert write_wording(wording, "en") == why
    assert english_left(write_wording(wording, "zh").replace("refund_request", "").replace("refunds", "")) == []
