"""Agents' accounts: creating an agent with a console password (`kefu agents add`), checking a login, and linking
the agent's identities on the team platforms (`kefu agents link`), so that one person's actions, scorecard and
permissions follow them from Slack to DingTalk to WeCom.

Passwords are stored as argon2id hashes (argon2-cffi) in `Agent.password_hash`; nothing else about them is kept.
A login check costs the same whether the name exists or not (a dummy hash is verified for unknown names), so
the answer time does not tell which agents exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope, utcnow
from models.tables import Agent, AuditEvent

ROLES = ("agent", "manager")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
NAME = re.compile(r"[^\s@/:][^\x00-\x1f\x7f]{0,127}")

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
              languages: list[str] | None = None) -> Agent:
    """A new active agent who can log into the console. AccountError when the name is taken or input is bad."""
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    password_hash = hash_password(password)
    with session_scope(engine) as session:
        taken = session.scalars(select(Agent).where(func.lower(Agent.name) == name.casefold())).first()
        if taken is not None:
            raise AccountError(f"name: an agent named {taken.name!r} exists already")
        agent = Agent(name=name, role=role, languages=languages or [], password_hash=password_hash)
        session.add(agent)
        session.flush()
        session.add(AuditEvent(actor="cli", action="agent.created", subject_type="agent", subject_id=str(agent.id),
                               at=utcnow(), details={"name": name, "role": role, "languages": languages or [],
                                                     "why": "kefu agents add"}))
    return agent


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


LINKABLE_PLATFORMS = ("slack", "dingtalk", "wecom")


def link_identities(engine: Engine, name: str, identities: dict[str, str], *, take: bool = False) -> Agent:
    """Give the agent `name` these platform identities ({"slack": "U0123", ...}). An identity another agent holds
    is refused naming that agent, unless `take`: then it moves (that agent's history stays with that agent)."""
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
        for platform, user in identities.items():
            holder = next((a for a in agents if a.id != agent.id and (a.identities or {}).get(platform) == user), None)
            if holder is not None and not take:
                raise AccountError(f"--{platform}: {user} is {holder.name}'s identity; add --take to move it to "
                                   f"{agent.name}")
            if holder is not None:
                holder.identities = {k: v for k, v in (holder.identities or {}).items() if k != platform}
                session.add(holder)
                moved[platform] = holder.name
        agent.identities = {**(agent.identities or {}), **identities}
        session.add(agent)
        session.add(AuditEvent(actor="cli", action="agent.linked", subject_type="agent", subject_id=str(agent.id),
                               at=utcnow(), details={"identities": identities, "taken_from": moved}))
        session.flush()
        session.expunge(agent)
    return agent
