"""Who may run which manager command: the permissions table, oneself versus someone else, clear refusals."""

from __future__ import annotations

import pytest

from handlers.commands import LOCAL_ADMIN, Actor, PermissionDenied, authorize, parse_command

ALICE_AGENT = Actor(name="alice", role="agent", identities=frozenset({"U123ALICE", "Alice Wong"}))
MANAGER = Actor(name="mia", role="manager")
ADMIN = Actor(name="root", role="admin")

# command, allowed for an agent (alice), for a manager, for an admin
TABLE = [
    ("/metrics 7d", True),
    ("/metrics 7d by region vs prev chart", True),
    ("/metrics 7d by intent", True),
    ("/metrics 7d by agent", False),
    ("指标 7天 按客服", False),
    ("/metrics by assignee", False),
    ("/sla", True),
    ("/alerts", True),
    ("/alerts silence frt 2h", False),
    ("告警 静默 frt 2小时", False),
    ("/alerts unsilence 12", False),
    ("/ticket 1042", True),
    ("/agent", True),
    ("/agent me 30d", True),
    ("/agent @alice", True),
    ("/agent @ALICE 30d", True),
    ("/agent <@U123ALICE|alice>", True),
    ("/agent @bob", False),
    ("客服 @张三", False),
    ("/kefu help", True),
    ("/kefu help alerts", True),
]


@pytest.mark.parametrize(("text", "agent_may"), TABLE, ids=[t for t, _ in TABLE])
def test_permissions_table(text: str, agent_may: bool) -> None:
    command = parse_command(text)
    for actor in (MANAGER, ADMIN, LOCAL_ADMIN):
        authorize(command, actor)  # managers and admins may run everything
    if agent_may:
        authorize(command, ALICE_AGENT)
    else:
        with pytest.raises(PermissionDenied) as denied:
            authorize(command, ALICE_AGENT)
        assert denied.value.required_role == "manager"
        assert str(denied.value).startswith("Only a manager can ")
        assert "you are signed in as an agent" in str(denied.value)


def test_refusals_say_what_needs_the_role() -> None:
    cases = {
        "/metrics 7d by agent": "see metrics by agent",
        "/agent @bob": "see the scorecard of bob",
        "/alerts silence frt 2h": "silence alerts",
        "/alerts unsilence 3": "end a silence",
    }
    for text, what in cases.items():
        with pytest.raises(PermissionDenied, match=what):
            authorize(parse_command(text), ALICE_AGENT)
    with pytest.raises(PermissionDenied, match="your own numbers with /agent"):
        authorize(parse_command("/agent @bob"), ALICE_AGENT)


def test_an_agent_without_a_name_is_nobody_in_particular() -> None:
    anonymous = Actor(name=None, role="agent")
    authorize(parse_command("/agent"), anonymous)
    with pytest.raises(PermissionDenied):
        authorize(parse_command("/agent @alice"), anonymous)


def test_an_unknown_role_is_refused_when_the_actor_is_made() -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        Actor(name="x", role="boss")  # type: ignore[arg-type]
