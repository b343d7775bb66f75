"""The auto-reply decision policy per intent × language, and shadow-mode learning from agents' choices.

Modes: `off` (no suggested reply), `suggest` (always to a human), `shadow` (suggest, and count what agents do with
the suggestion), `auto` (send when the confidence reaches the floor and the reply renders).

A pair's mode comes from, in order: an explicit setting for `intent.language`, then for `intent`; then what kefu
learnt (a ReplyPair row); then the defaults: complaints `suggest`, the shipped starter FAQs (whose templates kefu
ships and tests) `auto`, any other FAQ intent `shadow`, everything else `suggest`.

Learning: a shadow pair is promoted to `auto` once it has `promote_after` accepted suggestions (sent unchanged) at
an acceptance of at least `promote_acceptance`; an auto pair is demoted back to shadow, with its counts reset, when
its acceptance falls below that bar or after `demote_after_negative` negative customer replies right after an
auto-reply. Every change is an AuditEvent; the caller tells the team channel (the returned `PairChange`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.settings import ReplySettings
from models import AuditEvent, ReplyPair, Suggestion, utcnow

ReplyMode = Literal["off", "suggest", "shadow", "auto"]
REPLY_MODES: tuple[ReplyMode, ...] = ("off", "suggest", "shadow", "auto")
Outcome = Literal["accepted", "edited", "rejected"]


@dataclass(frozen=True)
class PolicyConfig:
    overrides: Mapping[str, ReplyMode] = field(default_factory=dict)  # "intent" or "intent.lang" -> mode
    shipped_faq_intents: frozenset[str] = frozenset()
    promote_after: int = 20
    promote_acceptance: float = 0.95
    demote_after_negative: int = 1


@dataclass(frozen=True)
class PairChange:
    intent: str
    language: str
    old_mode: ReplyMode
    new_mode: ReplyMode
    reason: str


def pair_language(language: str | None) -> str:
    """The language a pair is kept under: the base code ("pt-BR" → "pt"), "und" when unknown."""
    return (language or "und").lower().replace("_", "-").split("-")[0]


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


_PAIRS = ReplyPair.__table__  # type: ignore[attr-defined]
_PAIR_MODE = sa_select(_PAIRS.c.mode).where(_PAIRS.c.intent == bindparam("intent"),
                                            _PAIRS.c.language == bindparam("language"))


@functools.cache
def _count_auto_sent(dialect: str) -> Any:
    """Count one auto-reply for a pair, creating the pair's row (mode auto) when it has none; built once."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_PAIRS).values(intent=bindparam("intent"), language=bindparam("language"), mode="auto",
                                      accepted=0, edited=0, rejected=0, auto_sent=1, negative_after_auto=0,
                                      changed_at=bindparam("changed_at"))
    return statement.on_conflict_do_update(index_elements=["intent", "language"],
                                           set_={"auto_sent": _PAIRS.c.auto_sent + 1})


class ReplyPolicy:
    def __init__(self, config: PolicyConfig) -> None:
        self.config = config

    def default_mode(self, intent: str, kind: str) -> ReplyMode:
        if kind == "complaint":
            return "suggest"
        if kind == "faq":
            return "auto" if intent in self.config.shipped_faq_intents else "shadow"
        return "suggest"

    def mode_for(self, session: Session, intent: str, kind: str, language: str | None) -> ReplyMode:
        lang = pair_language(language)
        overrides = self.config.overrides
        if f"{intent}.{lang}" in overrides:
            return overrides[f"{intent}.{lang}"]
        if intent in overrides:
            return overrides[intent]
        learnt = session.execute(_PAIR_MODE, {"intent": intent, "language": lang}).scalar()
        if learnt is not None:
            return learnt  # type: ignore[no-any-return]
        return self.default_mode(intent, kind)

    def record_suggestion(self, session: Session, *, ticket_id: int, message_id: int, intent: str,
                          language: str | None, mode: ReplyMode, text: str | None) -> Suggestion:
        suggestion = Suggestion(ticket_id=ticket_id, message_id=message_id, intent=intent,
                                language=pair_language(language), mode=mode, text=text)
        session.add(suggestion)
        session.flush()
        return suggestion

    def record_outcome(self, session: Session, suggestion_id: int, sent_text: str | None, *, kind: str = "faq",
                       actor: str = "system") -> PairChange | None:
        """An agent sent `sent_text` (None: dismissed the suggestion). Counts it once; may promote or demote."""
        suggestion = session.get(Suggestion, suggestion_id)
        if suggestion is None or suggestion.outcome != "pending":
            return None
        outcome: Outcome
        if sent_text is None or suggestion.text is None:
            outcome = "rejected"
        else:
            outcome = "accepted" if _same_text(sent_text, suggestion.text) else "edited"
        suggestion.outcome, suggestion.decided_at = outcome, utcnow()
        session.add(suggestion)
        if suggestion.mode not in ("shadow", "auto"):
            return None
        row = self._pair_for_update(session, suggestion.intent, suggestion.language, suggestion.mode)  # type: ignore[arg-type]
        setattr(row, outcome, getattr(row, outcome) + 1)
        decided = row.accepted + row.edited + row.rejected
        acceptance = row.accepted / decided if decided else 0.0
        change: PairChange | None = None
        bar = self.config.promote_acceptance
        if row.mode == "shadow" and row.accepted >= self.config.promote_after and acceptance >= bar:
            change = self._change(session, row, "auto",
                                  f"{row.accepted} of {decided} suggestions sent unchanged ({acceptance:.0%})", actor)
        elif row.mode == "auto" and decided >= self.config.promote_after and acceptance < bar:
            change = self._change(session, row, "shadow",
                                  f"acceptance fell to {acceptance:.0%} (below {bar:.0%})", actor)
        session.add(row)
        return change

    def record_auto_sent(self, session: Session, intent: str, language: str | None) -> None:
        """Count an auto-reply sent for the pair: one atomic upsert (the count is right under concurrent senders,
        and the pair's row is locked no longer than its own transaction needs)."""
        statement = _count_auto_sent(session.get_bind().dialect.name)
        session.execute(statement, {"intent": intent, "language": pair_language(language), "changed_at": utcnow()})

    def record_negative_after_auto(self, session: Session, intent: str, language: str | None,
                                   actor: str = "system") -> PairChange | None:
        """The customer answered an auto-reply with a complaint: count it; enough of them demote the pair."""
        row = self._pair_for_update(session, intent, pair_language(language), "auto")
        row.negative_after_auto += 1
        change = None
        if row.mode == "auto" and row.negative_after_auto >= self.config.demote_after_negative:
            change = self._change(session, row, "shadow",
                                  f"{row.negative_after_auto} negative customer repl"
                                  f"{'y' if row.negative_after_auto == 1 else 'ies'} right after an auto-reply", actor)
        session.add(row)
        return change

    def pairs(self, session: Session) -> list[ReplyPair]:
        return list(session.exec(select(ReplyPair).order_by(ReplyPair.intent, ReplyPair.language)).all())

    def _pair_for_update(self, session: Session, intent: str, language: str, mode: ReplyMode) -> ReplyPair:
        statement = select(ReplyPair).where(ReplyPair.intent == intent, ReplyPair.language == language)
        row = session.exec(statement.with_for_update()).first()
        if row is None:
            try:
                with session.begin_nested():
                    row = ReplyPair(intent=intent, language=language, mode=mode)
                    session.add(row)
            except IntegrityError:  # another replica created the pair a moment ago
                row = session.exec(statement.with_for_update()).one()
        return row

    @staticmethod
    def _change(session: Session, row: ReplyPair, new_mode: ReplyMode, reason: str, actor: str) -> PairChange:
        change = PairChange(intent=row.intent, language=row.language, old_mode=row.mode,  # type: ignore[arg-type]
                            new_mode=new_mode, reason=reason)
        action = "reply_pair.promoted" if new_mode == "auto" else "reply_pair.demoted"
        row.mode, row.changed_at = new_mode, utcnow()
        row.accepted = row.edited = row.rejected = row.negative_after_auto = 0
        session.add(AuditEvent(actor=actor, action=action, subject_type="reply_pair",
                               subject_id=f"{row.intent}.{row.language}",
                               details={"from": change.old_mode, "to": new_mode, "reason": reason}))
        return change


def policy_config(replies: ReplySettings, shipped_faq_intents: frozenset[str]) -> PolicyConfig:
    """The policy's configuration from the `[replies]` settings section."""
    return PolicyConfig(overrides=dict(replies.modes), shipped_faq_intents=shipped_faq_intents,
                        promote_after=replies.promote_after, promote_acceptance=replies.promote_acceptance,
                        demote_after_negative=replies.demote_after_negative)


@dataclass(frozen=True)
class PairStatus:
    intent: str
    language: str  # "*" for the intent's default over every language
    mode: ReplyMode
    source: Literal["setting", "learnt", "default"]
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    auto_sent: int = 0
    negative_after_auto: int = 0

    @property
    def acceptance(self) -> float | None:
        decided = self.accepted + self.edited + self.rejected
        return self.accepted / decided if decided else None


def pair_statuses(session: Session, policy: ReplyPolicy, intents: Mapping[str, str]) -> list[PairStatus]:
    """One row per intent (its mode over all languages) and one per learnt or configured intent × language."""
    learnt = {(row.intent, row.language): row for row in policy.pairs(session)}
    overrides = policy.config.overrides
    rows: list[PairStatus] = []
    for intent, kind in intents.items():
        source: Literal["setting", "default"] = "setting" if intent in overrides else "default"
        rows.append(PairStatus(intent, "*", overrides.get(intent, policy.default_mode(intent, kind)), source))
        languages = sorted({lang for (name, lang) in learnt if name == intent}
                           | {key.partition(".")[2] for key in overrides if key.startswith(f"{intent}.")})
        for language in languages:
            row = learnt.get((intent, language))
            counts = {} if row is None else {
                "accepted": row.accepted, "edited": row.edited, "rejected": row.rejected,
                "auto_sent": row.auto_sent, "negative_after_auto": row.negative_after_auto}
            configured = f"{intent}.{language}" in overrides or intent in overrides
            rows.append(PairStatus(intent, language, policy.mode_for(session, intent, kind, language),
                                   "setting" if configured else "learnt", **counts))
    return rows


def shipped_faq_intents() -> frozenset[str]:
    """The starter catalogue's FAQ intents for which kefu ships (and tests) templates: `auto` by default."""
    from intents.catalogue import starter_catalogue
    from knowledge.templates import shipped_templates_dir

    templated = {path.name.split(".")[0] for path in shipped_templates_dir().glob("*.j2")}
    return frozenset(i.name for i in starter_catalogue() if i.kind == "faq" and i.name in templated)
