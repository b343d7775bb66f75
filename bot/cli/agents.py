"""`kefu agents add NAME [--role agent|manager] [--languages en,zh] [--password-stdin]`: an agent who can log into
the web console. The password is asked for twice (without echo), or read from the first line of standard input."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="console accounts of agents and managers: add")
    agents_sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    add = agents_sub.add_parser("add", help="add an agent who logs into the web console with a password")
    add.add_argument("name", help="the agent's name (how cards and commands name them)")
    add.add_argument("--role", default="agent", choices=("agent", "manager"), help="default: agent")
    add.add_argument("--languages", default="", help="languages the agent answers in, e.g. en,zh")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_add)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        print("kefu: the two passwords differ; nothing was saved", file=sys.stderr)
        return None
    return password


def _add(args: argparse.Namespace) -> int:
    from bot.agent_accounts import AccountError, add_agent, check_name, hash_password, parse_languages
    from models.migrate import open_database

    settings = load_settings(args.config)
    try:
        name = check_name(args.name)
        languages = parse_languages(args.languages)
        password = _read_password(args.password_stdin)
        if password is None:
            return 1
        hash_password(password)  # a too-short password is refused before the database is opened
        engine = open_database(settings.database_url)
        try:
            agent = add_agent(engine, name, password, role=args.role, languages=languages)
        finally:
            engine.dispose()
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    print(f"agent {agent.name} ({agent.role}) added; they log in at /console")
    return 0
