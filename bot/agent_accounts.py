"""Agents' accounts: creating an agent with a console password (`kefu agents add`), checking a login, and linking
the agent's identities on the team platforms (`kefu agents link`), so that one person's actions, scorecard and
permissions follow them from Slack to DingTalk to WeCom; and what assignment needs to know of them (skills, shift
calendar, capacity, seniority: `kefu agents add|set`).

Passwords are stored as argon2id hashes (argon2-cffi) in `Agent.password_hash`; nothing else about them is kept.
A login check costs the same whether the name exists or not (a dummy hash is verified for unknown names), so
the answer time does not tell which agents exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope, utcnow
from models.tables import Agent, Alert, AuditEvent, Message, Silence

ROLES = ("agent", "manager")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
NAME = re.compile(r"[^\s@/:][^\x00-\x1f\x7f]{0,127}")
SKILL = re.compile(r"[\w.\-*]+")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kefu: a password nobody has")


class AccountError(ValueError):
    """Bad input for an account; str() names the field."""


@dataclass(frozen=True)
class ConsoleAgent:
    """A logged-in agent as the console sees it."""

    id: int
    name: str
    role: str
    languages: tuple[str, ...]
    password_hash: str


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password: at most {MAX_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def parse_languages(value: str) -> list[str]:
    """"en,zh" → ["en", "zh"]; AccountError naming the bad code."""
    languages = [part.strip() for part in value.split(",") if part.strip()]
    for code in languages:
        if not LANGUAGE.fullmatch(code):
            raise AccountError(f"--languages: {code!r} is not a language code such as en, zh or pt-BR")
    return languages


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME.fullmatch(name):
        raise AccountError(f"name: {name!r} must be 1 to 128 printable characters, not starting with @, / or :")
    return name


def add_agent(engine: Engine, name: str, password: str, *, role: str = "agent",
              languages: list[str] | None = None, profile: AssignmentProfile | None = None) -> Agent:
    """A new active agent who can log into the console, with their assignment profile (skills, shift, capacity,
    seniority). AccountError when the name is taken or input is bad."""
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    password_hash = hash_password(password)
    with session_scope(engine) as session:
        taken = session.scalars(select(Agent).where(func.lower(Agent.name) == name.casefold())).first()
        if taken is not None:
            raise AccountError(f"name: an agent named {taken.name!r} exists already")
        agent = Agent(name=name, role=role, languages=languages or [], password_hash=password_hash)
        changes = (profile or AssignmentProfile()).apply(agent)
        session.add(agent)
        session.flush()
        session.add(AuditEvent(actor="cli", action="agent.created", subject_type="agent", subject_id=str(agent.id),
                               at=utcnow(), details={"name": name, "role": role, "languages": languages or [],
                                                     **changes, "why": "kefu agents add"}))
    return agent


UNSET: Final = object()  # an AssignmentProfile field left as it is


@dataclass(frozen=True)
class AssignmentProfile:
    """What assignment knows of an agent (bot/assignment), as `kefu agents add|set` give it; UNSET fields stay."""

    languages: list[str] | object = UNSET
    skills: list[str] | object = UNSET
    shift: str | None | object = UNSET  # canonical shift calendar text, None: no calendar
    capacity: int | None | object = UNSET  # None: no limit
    senior: bool | object = UNSET
    role: str | object = UNSET

    def apply(self, agent: Agent) -> dict[str, object]:
        """Set the given fields on `agent`; the changes, for the audit log."""
        changes = {key: value for key, value in vars(self).items() if value is not UNSET}
        for key, value in changes.items():
            setattr(agent, key, value)
        return changes


def parse_skills(value: str) -> list[str]:
    """"refund_request,returns" → the intents or queue names; "" → [] (any); AccountError naming the bad one."""
    skills = [part.strip() for part in value.split(",") if part.strip()]
    for skill in skills:
        if len(skill) > 64 or not SKILL.fullmatch(skill):
            raise AccountError(f"--skills: {skill!r} is not an intent or queue name such as refund_request")
    return skills


def parse_capacity(value: str) -> int | None:
    """"8" → 8 open tickets at most; "none" → no limit."""
    if value.strip().lower() in ("none", "unlimited", ""):
        return None
    try:
        capacity = int(value)
    except ValueError:
        raise AccountError(f"--capacity: a whole number of open tickets such as 8, or none, got {value!r}") from None
    if not 1 <= capacity <= 10_000:
        raise AccountError(f"--capacity: between 1 and 10000 open tickets (or none), got {capacity}")
    return capacity


def parse_shift_option(value: str, default_timezone: str) -> str | None:
    """"mon-fri 09:00-18:00 Asia/Shanghai" → its canonical text ("none" → no calendar); without a timezone, the
    team's (`default_timezone`) is written into it."""
    from bot.assignment.shifts import ShiftError, parse_shift

    if value.strip().lower() in ("none", ""):
        return None
    try:
        return parse_shift(value, default_timezone).text
    except ShiftError as exc:
        raise AccountError(f"--shift: {exc}") from None


def update_agent(engine: Engine, name: str, profile: AssignmentProfile) -> Agent:
    """Change an existing agent's assignment profile (and role); AccountError for an unknown name."""
    if profile.role is not UNSET and profile.role not in ROLES:
        raise AccountError(f"--role: {profile.role!r} is not one of {', '.join(ROLES)}")
    with session_scope(engine) as session:
        agent = session.scalars(select(Agent).where(func.lower(Agent.name) == name.strip().casefold())).first()
        if agent is None:
            raise AccountError(f"name: no agent named {name!r} (kefu agents add creates one)")
        changes = profile.apply(agent)
        session.add(agent)
        session.add(AuditEvent(actor="cli", action="agent.updated", subject_type="agent", subject_id=str(agent.id),
                               at=utcnow(), details={**changes, "why": "kefu agents set"}))
        session.flush()
        session.expunge(agent)
    return agent


def list_agents(engine: Engine) -> list[Agent]:
    with Session(engine) as session:
        agents = list(session.scalars(select(Agent).order_by(Agent.name)))  # type: ignore[arg-type]
        for agent in agents:
            session.expunge(agent)
    return agents


def _console_agent(agent: Agent | None) -> ConsoleAgent | None:
    if agent is None or agent.id is None or not agent.active or not agent.password_hash:
        return None
    return ConsoleAgent(agent.id, agent.name, agent.role, tuple(agent.languages or ()), agent.password_hash)


def agent_named(engine: Engine, name: str) -> ConsoleAgent | None:
    """The active agent with a console password named exactly `name`; None otherwise."""
    with Session(engine) as session:
        return _console_agent(session.scalars(select(Agent).where(Agent.name == name)).first())


def verify_login(engine: Engine, name: str, password: str) -> ConsoleAgent | None:
    """The agent when `name` and `password` match an active agent with a console password; None otherwise."""
    agent = agent_named(engine, name) if name and len(name) <= 128 else None
    try:
        _hasher.verify(agent.password_hash if agent is not None else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return agent


def set_password(engine: Engine, name: str, password: str, *, current: str | None = None,
                 actor: str = "cli") -> ConsoleAgent:
    """Give the agent `name` (any letter case) a new console password; their other console sessions end (a
    session carries a fingerprint of the hash). With `current` (the console's form) the agent's present password
    must match it. An agent without a password (created by a platform or the demo) gets their first one here.
    AccountError naming the field: unknown agent, wrong current password, a too-short new one."""
    password_hash = hash_password(password)
    with session_scope(engine) as session:
        agent = session.scalars(select(Agent).where(func.lower(Agent.name) == name.strip().casefold())
                                .with_for_update()).first()
        if agent is None or (current is not None and not agent.active):
            raise AccountError(f"name: no agent named {name!r} (kefu agents add creates one)")
        if current is not None:
            try:
                _hasher.verify(agent.password_hash or _DUMMY_HASH, current[:MAX_PASSWORD_LENGTH])
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                raise AccountError("current password: it is not this agent's password") from None
            if agent.password_hash is None:
                raise AccountError("current password: it is not this agent's password")
        agent.password_hash = password_hash
        session.add(agent)
        session.add(AuditEvent(actor=actor, action="agent.password_changed", subject_type="agent",
                               subject_id=str(agent.id), at=utcnow(), details={"name": agent.name}))
        session.flush()
        assert agent.id is not None
        return ConsoleAgent(agent.id, agent.name, agent.role, tuple(agent.languages or ()), password_hash)


LINKABLE_PLATFORMS = ("slack", "dingtalk", "wecom")


@dataclass(frozen=True)
class LinkResult:
    """The linked agent, and the automatically created agents merged into it: name → rows moved per column."""

    agent: Agent
    merged: dict[str, dict[str, int]]


def link_identities(engine: Engine, name: str, identities: dict[str, str], *, take: bool = False) -> LinkResult:
    """Give the agent `name` these platform identities ({"slack": "U0123", ...}). An identity another agent holds
    is refused naming that agent, unless `take`: then it moves. When that agent was created automatically (on a
    first button press, without a console password) and is left with no identity, it is merged into `name`: its
    tickets, feedback, audit trail and messages become `name`'s and it is removed, so one person is one agent.
    Another agent keeps its history."""
    unknown = sorted(set(identities) - set(LINKABLE_PLATFORMS))
    if unknown:
        raise AccountError(f"platform: {unknown[0]!r} is not one of {', '.join(LINKABLE_PLATFORMS)}")
    for platform, user in identities.items():
        if not user or len(user) > 128 or any(ch.isspace() for ch in user):
            raise AccountError(f"--{platform}: a user id without spaces, at most 128 characters, got {user!r}")
    with session_scope(engine) as session:
        agents = list(session.scalars(select(Agent).order_by(Agent.id)))  # type: ignore[arg-type]
        agent = next((a for a in agents if a.name.casefold() == name.strip().casefold()), None)
        if agent is None:
            raise AccountError(f"name: no agent named {name!r} (kefu agents add creates one)")
        moved: dict[str, str] = {}
        holders: dict[int, Agent] = {}
        for platform, user in identities.items():
            holder = next((a for a in agents if a.id != agent.id and (a.identities or {}).get(platform) == user), None)
            if holder is not None and not take:
                raise AccountError(f"--{platform}: {user} is {holder.name}'s identity; add --take to move it to "
                                   f"{agent.name}")
            if holder is not None:
                holder.identities = {k: v for k, v in (holder.identities or {}).items() if k != platform}
                session.add(holder)
                moved[platform] = holder.name
                if holder.id is not None and _created_automatically(session, holder):
                    holders[holder.id] = holder
        agent.identities = {**(agent.identities or {}), **identities}
        session.add(agent)
        session.flush()
        merged = {holder.name: _merge_agent(session, holder, agent) for holder in holders.values()
                  if not holder.identities}
        session.add(AuditEvent(actor="cli", action="agent.linked", subject_type="agent", subject_id=str(agent.id),
                               at=utcnow(), details={"identities": identities, "taken_from": moved,
                                                     "merged": merged}))
        session.flush()
        session.expunge(agent)
    return LinkResult(agent, merged)


def _created_automatically(session: Session, agent: Agent) -> bool:
    """An agent kefu created on a platform user's first button press (handlers.actions: named "slack:U0123" or
    after their display name, audit actor "system"), never given a console password."""
    if agent.password_hash:
        return False
    platform, _, user = agent.name.partition(":")
    if platform in LINKABLE_PLATFORMS and user:
        return True
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "agent.created", AuditEvent.subject_type == "agent",
        AuditEvent.subject_id == str(agent.id), AuditEvent.actor == "system")) is not None


def _merge_agent(session: Session, source: Agent, into: Agent) -> dict[str, int]:
    """Move every row that refers to `source` to `into` (each foreign key to agent.id, the audit trail's actor,
    agents' messages, alert acknowledgements, silences), then delete `source`; rows moved per column."""
    from sqlmodel import SQLModel

    assert source.id is not None and into.id is not None
    moved: dict[str, int] = {}

    def count(key: str, result: Any) -> None:
        if result.rowcount:
            moved[key] = moved.get(key, 0) + int(result.rowcount)

    agent_table = Agent.__table__  # type: ignore[attr-defined]
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table is agent_table for fk in column.foreign_keys):
                count(f"{table.name}.{column.name}",
                      session.execute(update(table).where(column == source.id).values({column.name: into.id})))
    for old, new in ((f"agent:{source.id}", f"agent:{into.id}"), (f"agent:{source.name}", f"agent:{into.name}")):
        count("auditevent.actor", session.execute(update(AuditEvent).where(AuditEvent.actor == old)
                                                  .values(actor=new)))
    count("message.author", session.execute(update(Message).where(
        Message.author_kind == "agent", Message.author == source.name).values(author=into.name)))
    count("alert.acknowledged_by", session.execute(update(Alert).where(
        Alert.acknowledged_by == source.name).values(acknowledged_by=into.name)))  # type: ignore[arg-type]
    count("silence.created_by", session.execute(update(Silence).where(
        Silence.created_by == source.name).values(created_by=into.name)))  # type: ignore[arg-type]
    session.delete(source)
    session.add(AuditEvent(actor="cli", action="agent.merged", subject_type="agent", subject_id=str(into.id),
                           at=utcnow(), details={"merged": source.name, "merged_id": source.id, "moved": moved}))
    session.flush()
    return moved
