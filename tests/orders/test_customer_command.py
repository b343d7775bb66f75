"""`/customer`: a customer's profile, tags and notes, through the command executor every platform uses, on real
databases; the tags and notes then show on the customer's triage cards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.commands import Actor, parse_command
from handlers.commands.errors import CommandError
from handlers.commands.executor import CommandExecutor
from models.tables import AuditEvent, Customer, CustomerNote

MEI = Actor(name="mei", role="agent")


@pytest.fixture
def executor(engine: Engine, tmp_path: Path) -> CommandExecutor:
    with Session(engine) as session:
        session.add(Customer(channel="webhook", external_id="c-42", name="Ana", language="es", country="MX",
                             email="ana@example.com", tier="high", orders_count=14, lifetime_value_cents=152050,
                             currency="USD", last_order_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC)))
        session.add(Customer(channel="webchat", external_id="v-1", name="Bo"))
        session.add(Customer(channel="wecom_kf", external_id="v-1", name="Bo on WeChat"))
        session.commit()
    return CommandExecutor(engine, charts_dir=tmp_path, timezone="Europe/Madrid")


def test_the_profile_shows_tier_history_tags_and_notes(executor: CommandExecutor) -> None:
    answer = executor.execute("/customer ana@example.com", MEI, platform="slack")
    assert answer.ok
    assert "*Ana* · webhook:c-42 · ana@example.com" in answer.text
    assert "Value tier: high value" in answer.text
    assert "14 orders · 1,520.50 USD lifetime value · last order" in answer.text
    assert "Tags: none" in answer.text


def test_agents_tag_untag_and_note_a_customer_and_each_change_is_audited(executor: CommandExecutor,
                                                                         engine: Engine) -> None:
    assert executor.execute("/customer c-42 tag VIP", MEI, platform="slack").text.startswith("Tagged vip.")
    assert executor.execute("/customer c-42 tag vip", MEI, platform="slack").text.startswith("Already tagged vip.")
    answer = executor.execute('/customer c-42 note "prefers email, never calls"', MEI, platform="dingtalk")
    assert answer.ok and "Tags: vip" in answer.text and "mei: prefers email, never calls" in answer.text
    answer = executor.execute("/客户 c-42 删除标签 vip", MEI, platform="wecom")
    assert answer.ok and "Tags: none" in answer.text
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.external_id == "c-42")).one()
        notes = session.exec(select(CustomerNote)).all()
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.subject_type == "customer")
                               .order_by(AuditEvent.id)).all()
    assert customer.tags == []
    assert [(n.author, n.text) for n in notes] == [("agent:mei", "prefers email, never calls")]
    assert actions == ["customer.tagged", "customer.noted", "customer.untagged"]


def test_an_unknown_or_ambiguous_customer_is_answered_without_a_change(executor: CommandExecutor,
                                                                       engine: Engine) -> None:
    unknown = executor.execute("/customer nobody@example.com", MEI, platform="slack")
    assert not unknown.ok and "No customer 'nobody@example.com'" in unknown.text
    ambiguous = executor.execute("/customer v-1 tag wholesale", MEI, platform="slack")
    assert not ambiguous.ok and "2 customers match 'v-1'" in ambiguous.text and "CHANNEL:ID" in ambiguous.text
    precise = executor.execute("/customer webchat:v-1 tag wholesale", MEI, platform="slack")
    assert precise.ok and "Tagged wholesale." in precise.text
    with Session(engine) as session:
        tagged = session.exec(select(Customer).where(Customer.channel == "wecom_kf")).one()
    assert tagged.tags == []


def test_a_bad_tag_or_empty_note_is_refused_with_the_usage(executor: CommandExecutor) -> None:
    answer = executor.execute("/customer c-42 tag " + "x" * 60, MEI, platform="slack")
    assert not answer.ok and "a tag is at most 40 characters" in answer.text and "Usage: /customer" in answer.text


@pytest.mark.parametrize(("text", "canonical"), [
    ("/customer c-42", "/customer c-42"),
    ("/customer ana@example.com tag vip", "/customer ana@example.com tag vip"),
    ('/customer c-42 note "prefers email"', '/customer c-42 note "prefers email"'),
    ("/客户 c-42 备注 很重要", '/customer c-42 note "很重要"'),
    ("/客户 c-42 标签 vip", "/customer c-42 tag vip"),
])
def test_the_command_parses_in_english_and_chinese(text: str, canonical: str) -> None:
    command = parse_command(text)
    assert command.canonical() == canonical
    assert parse_command(canonical) == command


@pytest.mark.parametrize("text", ["/customer", "/customer c-42 label vip", "/customer c-42 note"])
def test_a_malformed_command_says_how_to_write_it(text: str) -> None:
    with pytest.raises(CommandError, match="Usage: /customer ID"):
        parse_command(text)
