"""Agents' console accounts: creating an agent with a password (`kefu agents add`) and checking a login.

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
