"""`kefu agents add NAME [--role agent|manager] [--languages en,zh] [--password-stdin]`: an agent who can log into
the web console. The password is asked for twice (without echo), or read from the first line of standard input.

`kefu agents passwd NAME [--password-stdin]`: a new console password for an agent (their first one for an agent
created by a platform or by `kefu demo`); their open console sessions end.

`kefu agents link NAME [--slack U0123] [--dingtalk 0123] [--wecom zhangsan] [--take]`: the agent's identities on the
team platforms, so one person is one agent everywhere.

`kefu agents add|set NAME [--skills refund_request,returns] [--shift 'mon-fri 09:00-18:00 Asia/Shanghai']
[--capacity 8] [--senior|--no-senior]` (set also takes --languages and --role): what assignment knows of the agent;
`kefu agents list` shows it."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from bot.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.agent_accounts import AssignmentProfile
    from models.tables import Agent

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="agents and managers: add (console account), passwd, link (platform ids)")
    agents_sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    add = agents_sub.add_parser("add", help="add an agent who logs into the web console with a password")
    add.add_argument("name", help="the agent's name (how cards and commands name them)")
    add.add_argument("--role", default="agent", choices=("agent", "manager"), help="default: agent")
    add.add_argument("--languages", default="", help="languages the agent answers in, e.g. en,zh")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _profile_options(add)
    add.set_defaults(func=_add)
    change = agents_sub.add_parser("set", help="change an agent's languages, skills, shift, capacity, seniority, role")
    change.add_argument("name", help="the agent's name")
    change.add_argument("--languages", help="languages the agent answers in, e.g. en,zh")
    change.add_argument("--role", choices=("agent", "manager"))
    _profile_options(change)
    change.set_defaults(func=_set)
    listing = agents_sub.add_parser("list", help="the agents with their languages, skills, shifts and capacity")
    listing.set_defaults(func=_list)
    passwd = agents_sub.add_parser("passwd", help="set an agent's console password (asked twice, or from stdin)")
    passwd.add_argument("name", help="the agent's name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(func=_passwd)
    link = agents_sub.add_parser("link", help="link the agent's user ids on Slack, DingTalk and WeCom")
    link.add_argument("name", help="the agent's name")
    for platform, example in (("slack", "U0123ABCD"), ("dingtalk", "manager4220"), ("wecom", "zhangsan")):
        link.add_argument(f"--{platform}", metavar="USER_ID", help=f"the agent's {platform} user id, e.g. {example}")
    link.add_argument("--take", action="store_true", help="move an id another agent holds (its history stays)")
    link.set_defaults(func=_link)


def _profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skills", help="intents or queue names the agent handles, e.g. refund_request,returns "
                                         "('' for any)")
    parser.add_argument("--shift", help="weekly shift calendar, e.g. 'mon-fri 09:00-18:00 Asia/Shanghai' (the "
                                        "team's timezone when left out; none: no calendar)")
    parser.add_argument("--capacity", help="at most this many open tickets (none: no limit)")
    parser.add_argument("--senior", action=argparse.BooleanOptionalAction, default=None,
                        help="high-value customers go to senior agents")


def _profile(args: argparse.Namespace, timezone: str) -> AssignmentProfile:
    """The assignment profile the options give; AccountError naming a bad option."""
    from bot.agent_accounts import (
        UNSET,
        AssignmentProfile,
        parse_capacity,
        parse_languages,
        parse_shift_option,
        parse_skills,
    )

    values: dict[str, object] = {}
    if getattr(args, "languages", None) is not None and args.agents_command == "set":
        values["languages"] = parse_languages(args.languages)
    if args.skills is not None:
        values["skills"] = parse_skills(args.skills)
    if args.shift is not None:
        values["shift"] = parse_shift_option(args.shift, timezone)
    if args.capacity is not None:
        values["capacity"] = parse_capacity(args.capacity)
    if args.senior is not None:
        values["senior"] = args.senior
    if getattr(args, "role", None) is not None and args.agents_command == "set":
        values["role"] = args.role
    return AssignmentProfile(**{key: values.get(key, UNSET) for key in
                                ("languages", "skills", "shift", "capacity", "senior", "role")})


def _set(args: argparse.Namespace) -> int:
    from bot.agent_accounts import UNSET, AccountError, update_agent

    settings = load_settings(args.config)
    try:
        profile = _profile(args, settings.timezone)
        if not any(value is not UNSET for value in vars(profile).values()):
            print("kefu: give at least one of --languages, --skills, --shift, --capacity, --senior, --role",
                  file=sys.stderr)
            return 2
        agent = _in_database(settings.database_url, lambda engine: update_agent(engine, args.name, profile))
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    print(f"agent {agent.name}: {_describe(agent)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from bot.agent_accounts import list_agents

    agents = _in_database(load_settings(args.config).database_url, list_agents)
    if not agents:
        print("no agents yet: kefu agents add NAME")
    for agent in agents:
        print(f"{agent.name}{'' if agent.active else ' (deactivated)'}: {_describe(agent)}")
    return 0


def _in_database(database_url: str, work: Callable[[Engine], T]) -> T:
    """`work(engine)` on the database at the latest schema, the engine disposed of afterwards."""
    from models.migrate import open_database

    engine = open_database(database_url)
    try:
        return work(engine)
    finally:
        engine.dispose()


def _describe(agent: Agent) -> str:
    return "; ".join([
        agent.role + (", senior" if agent.senior else ""),
        "languages " + (",".join(agent.languages) or "any"),
        "skills " + (",".join(agent.skills) or "any"),
        "shift " + (agent.shift or "none (only when started with /shift start)"),
        "capacity " + (str(agent.capacity) if agent.capacity is not None else "no limit"),
    ])


def _new_password(from_stdin: bool) -> str | None:
    """The password typed twice (or one line of stdin), checked before any database is opened; None: they differ."""
    from bot.agent_accounts import hash_password

    password = _read_password(from_stdin)
    if password is not None:
        hash_password(password)  # AccountError for a too-short password
    return password


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        print("kefu: the two passwords differ; nothing was saved", file=sys.stderr)
        return None
    return password


def _add(args: argparse.Namespace) -> int:
    from bot.agent_accounts import AccountError, add_agent, check_name, parse_languages

    settings = load_settings(args.config)
    try:
        name = check_name(args.name)
        languages = parse_languages(args.languages)
        profile = _profile(args, settings.timezone)
        password = _new_password(args.password_stdin)
        if password is None:
            return 1
        agent = _in_database(settings.database_url, lambda engine: add_agent(
            engine, name, password, role=args.role, languages=languages, profile=profile))
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    print(f"agent {agent.name} ({agent.role}) added; they log in at /console")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from bot.agent_accounts import AccountError, set_password

    settings = load_settings(args.config)
    try:
        password = _new_password(args.password_stdin)
        if password is None:
            return 1
        agent = _in_database(settings.database_url, lambda engine: set_password(engine, args.name, password))
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    print(f"agent {agent.name}: password changed; they log in at /console (their other sessions ended)")
    return 0


def _link(args: argparse.Namespace) -> int:
    from bot.agent_accounts import LINKABLE_PLATFORMS, AccountError, link_identities

    identities = {p: getattr(args, p) for p in LINKABLE_PLATFORMS if getattr(args, p) is not None}
    if not identities:
        print("kefu: name at least one of --slack, --dingtalk, --wecom", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    try:
        result = _in_database(settings.database_url,
                              lambda engine: link_identities(engine, args.name, identities, take=args.take))
    except AccountError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    agent = result.agent
    linked = ", ".join(f"{platform} {user}" for platform, user in sorted(agent.identities.items()))
    print(f"agent {agent.name} is {linked}")
    for name, moved in result.merged.items():
        what = ", ".join(f"{rows} {column}" for column, rows in sorted(moved.items())) or "no history"
        print(f"merged {name} (created on a first button press) into {agent.name}: {what}")
    return 0
