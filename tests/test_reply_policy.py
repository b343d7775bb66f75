"""The auto-reply policy: defaults, explicit settings, shadow-mode promotion and demotion (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.reply_policy import PolicyConfig, ReplyPolicy
from models import AuditEvent, Customer, Message, ReplyPair, Ticket, session_scope

SHIPPED = frozenset({"order_status", "return_policy"})


@pytest.fixture
def ticket_message(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        customer = Customer(channel="webhook", external_id="c1")
        session.add(customer)
        session.flush()
        ticket = Ticket(customer_id=customer.id, channel="webhook", conversation_id="c1", intent="gift_cards",
                        kind="faq")
        session.add(ticket)
        session.flush()
        message = Message(ticket_id=ticket.id, channel="webhook", channel_message_id="m1", direction="in",
                          author_kind="customer", text="Do you sell gift cards?")
        session.add(message)
        session.flush()
        return ticket.id, message.id  # type: ignore[return-value]


def _suggest_and_decide(engine: Engine, policy: ReplyPolicy, ids: tuple[int, int], sent: str | None,
                        language: str = "en") -> object:
    with session_scope(engine) as session:
        mode = policy.mode_for(session, "gift_cards", "faq", language)
        suggestion = policy.record_suggestion(session, ticket_id=ids[0], message_id=ids[1], intent="gift_cards",
                                              language=language, mode=mode, text="Yes, we sell gift cards.")
        return policy.record_outcome(session, suggestion.id, sent)  # type: ignore[arg-type]


def test_defaults_by_kind_and_origin(engine: Engine) -> None:
    policy = ReplyPolicy(PolicyConfig(shipped_faq_intents=SHIPPED))
    with Session(engine) as session:
        assert policy.mode_for(session, "order_status", "faq", "es") == "auto"
        assert policy.mode_for(session, "gift_cards", "faq", "en") == "shadow"
        assert policy.mode_for(session, "item_not_received", "complaint", "zh") == "suggest"
        assert policy.mode_for(session, "greeting", "other", "en") == "suggest"


def test_explicit_settings_win_language_first(engine: Engine) -> None:
    config = PolicyConfig(shipped_faq_intents=SHIPPED,
                          overrides={"order_status": "suggest", "order_status.de": "off", "gift_cards.ja": "auto"})
    policy = ReplyPolicy(config)
    with Session(engine) as session:
        assert policy.mode_for(session, "order_status", "faq", "en") == "suggest"
        assert policy.mode_for(session, "order_status", "faq", "de-AT") == "off"
        assert policy.mode_for(session, "gift_cards", "faq", "ja") == "auto"


def test_shadow_pair_is_promoted_after_enough_unchanged_sends(engine: Engine, ticket_message: tuple[int, int]) -> None:
    policy = ReplyPolicy(PolicyConfig(promote_after=20, promote_acceptance=0.95))
    _suggest_and_decide(engine, policy, ticket_message, "Yes, we sell gift cards!!! Have a nice day")  # edited
    changes = [_suggest_and_decide(engine, policy, ticket_message, "Yes,  we sell gift cards.") for _ in range(19)]
    assert changes == [None] * 19  # 19 accepted: not enough yet
    change = _suggest_and_decide(engine, policy, ticket_message, "Yes, we sell gift cards.")
    assert change is not None and (change.old_mode, change.new_mode) == ("shadow", "auto")  # 20 of 21 = 95.2 %
    with Session(engine) as session:
        assert policy.mode_for(session, "gift_cards", "faq", "en-GB") == "auto"
        assert policy.mode_for(session, "gift_cards", "faq", "fr") == "shadow"  # per language
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "reply_pair.promoted")).one()
        assert audit.subject_id == "gift_cards.en" and "20 of 21" in audit.details["reason"]


def test_low_acceptance_keeps_a_pair_in_shadow(engine: Engine, ticket_message: tuple[int, int]) -> None:
    policy = ReplyPolicy(PolicyConfig(promote_after=3, promote_acceptance=0.95))
    for sent in ("Yes, we sell gift cards.", None, "Yes, we sell gift cards.", "Yes, we sell gift cards."):
        assert _suggest_and_decide(engine, policy, ticket_message, sent) is None  # 3 of 4 = 75 %
    with Session(engine) as session:
        assert policy.mode_for(session, "gift_cards", "faq", "en") == "shadow"


def test_rejections_demote_a_promoted_pair(engine: Engine, ticket_message: tuple[int, int]) -> None:
    policy = ReplyPolicy(PolicyConfig(promote_after=2, promote_acceptance=0.9))
    for _ in range(2):
        change = _suggest_and_decide(engine, policy, ticket_message, "Yes, we sell gift cards.")
    assert change is not None and change.new_mode == "auto"
    _suggest_and_decide(engine, policy, ticket_message, "Yes, we sell gift cards.")
    change = _suggest_and_decide(engine, policy, ticket_message, None)  # 1 of 2 after promotion
    assert change is not None and (change.old_mode, change.new_mode) == ("auto", "shadow")
    with Session(engine) as session:
        row = session.exec(select(ReplyPair)).one()
        assert (row.mode, row.accepted, row.rejected) == ("shadow", 0, 0)  # must earn auto again
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "reply_pair.demoted")).one()


def test_a_negative_reply_after_an_auto_reply_demotes_even_a_shipped_faq(engine: Engine) -> None:
    policy = ReplyPolicy(PolicyConfig(shipped_faq_intents=SHIPPED))
    with session_scope(engine) as session:
        policy.record_auto_sent(session, "order_status", "es")
        change = policy.record_negative_after_auto(session, "order_status", "es-MX")
    assert change is not None and change.new_mode == "shadow" and "1 negative customer reply" in change.reason
    with Session(engine) as session:
        assert policy.mode_for(session, "order_status", "faq", "es") == "shadow"
        assert policy.mode_for(session, "order_status", "faq", "en") == "auto"


def test_an_outcome_counts_once(engine: Engine, ticket_message: tuple[int, int]) -> None:
    policy = ReplyPolicy(PolicyConfig(promote_after=1, promote_acceptance=0.9))
    with session_scope(engine) as session:
        suggestion = policy.record_suggestion(session, ticket_id=ticket_message[0], message_id=ticket_message[1],
                                              intent="gift_cards", language="en", mode="suggest", text="Hi")
    with session_scope(engine) as session:
        assert policy.record_outcome(session, suggestion.id, "Hi") is None  # type: ignore[arg-type]
        assert policy.record_outcome(session, suggestion.id, "Hi") is None  # type: ignore[arg-type]
    with Session(engine) as session:
        assert session.exec(select(ReplyPair)).all() == []  # plain `suggest` pairs are not learnt


def test_replies_status_prints_defaults_settings_and_learnt_pairs(
    engine: Engine, migrated_url: str, ticket_message: tuple[int, int], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: object,
) -> None:
    from bot.cli import main

    with session_scope(engine) as session:
        ReplyPolicy(PolicyConfig()).record_auto_sent(session, "order_status", "es")
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("KEFU_REPLIES__MODES", '{"cancel_order.de": "off"}')
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    assert main(["replies", "status", "--json"]) == 0
    import json

    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_key = {(row["intent"], row["language"]): row for row in rows}
    assert by_key[("order_status", "*")]["mode"] == "auto"
    assert by_key[("item_not_received", "*")]["mode"] == "suggest"
    assert (by_key[("order_status", "es")]["source"], by_key[("order_status", "es")]["auto_sent"]) == ("learnt", 1)
    assert (by_key[("cancel_order", "de")]["mode"], by_key[("cancel_order", "de")]["source"]) == ("off", "setting")
    assert main(["replies", "status"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["intent", "lang", "mode", "source", "accepted", "edited", "rejected", "acceptance",
                                "auto", "sent", "negative"]
