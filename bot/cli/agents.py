"""`kefu agents add NAME [--role agent|manager] [--languages en,zh] [--password-stdin]`: an agent who can log into
the web console. The password is asked for twice (without echo), or read from the first line of standard input.

`kefu agents link NAME [--slack U0123] [--dingtalk 0123] [--wecom zhangsan] [--take]`: the agent's identities on the
team platforms, so one person is one agent everywhere."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="agents and managers: add (console account), link (platform identities)")
    agents_sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    add = agents_sub.add_parser("add", help="add an agent who logs into the web console with a password")
    add.add_argument("name", help="the agent's name (how cards and commands name them)")
    add.add_argument("--role", default="agent", choices=("agent", "manager"), help="default: agent")
    add.add_argument("--languages", default="", help="languages the agent answers in, e.g. en,zh")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_add)
    link = agents_sub.add_parser("link", help="link the agent's user ids on Slack, DingTalk and WeCom")
    link.add_argument("name", help="the agent's name")
    for platform, example in (("slack", "U0123ABCD"), ("dingtalk", "manager4220"), ("wecom", "zhangsan")):
        link.add_argument(f"--{platform}", metavar="USER_ID", help=f"the agent's {platform} user id, e.g. {example}")
    link.add_argument("--take", action="store_true", help="move an id another agent holds (its history stays)")
    link.set_defaults(func=_link)


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


def _link(args: argparse.Namespace) -> int:
    from bot.agent_accounts import LINKABLE_PLATFORMS, AccountError, link_identities
    from models.migrate import open_database

    identities = {p: getattr(args, p) for p in LINKABLE_PLATFORMS if getattr(args, p) is not None}
    if not identities:
        print("kefu: name at least one of --slack, --dingtalk, --wecom", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    engine = open_database(settings.database_url)
    try:
        agent = link_identities(engine, args.name, identities, take=args.take)
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    linked = ", ".join(f"{platform} {user}" for platform, user in sorted(agent.identities.items()))
    print(f"agent {agent.name} is {linked}")
    return 0
