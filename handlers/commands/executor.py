"""`CommandExecutor`: runs a manager command typed on any platform — parse, authorize, answer, audit.

`execute(text, actor, platform=…, channel_id=…, language=…)` is synchronous (adapters call it in a worker thread)
and never raises: a parse error answers with the error and its usage line, a refused permission answers politely
naming the role needed, and an unexpected failure is logged with its traceback and answered "internal error,
reference <id>". `language` ("en" by default, "zh" where DingTalk and WeCom ask for it) is that of kefu's own words
in the answer (handlers.phrases); the audit log keeps them in English. Every invocation writes one AuditEvent
(action "command", subject the command name) recording the actor, platform, channel, text and the result: "ok",
"error" (bad command or unknown id), "denied" or "internal".
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.after_sales.desk import AfterSalesDesk
from bot.metrics import MetricError
from bot.settings import AssignmentSettings, ScorecardSettings, Settings, SlaSettings
from handlers.actions import TicketActions
from handlers.commands.answers import ANSWERS, AnswerContext, CommandAnswer, answer_help
from handlers.commands.assignment_answers import ASSIGNMENT_ANSWERS
from handlers.commands.customers import CUSTOMER_ANSWERS
from handlers.commands.errors import CommandError
from handlers.commands.invocation import CommandInvocation
from handlers.commands.parsed import HelpCommand
from handlers.commands.permissions import Actor, PermissionDenied, authorize
from handlers.commands.resolve_answer import RESOLVE_ANSWERS
from handlers.phrases import language_of, phrase
from models.db import utcnow
from models.tables import AuditEvent

log = logging.getLogger("kefu.commands")

__all__ = ["CommandAnswer", "CommandExecutor"]


class CommandExecutor:
    """Answers manager commands against `engine`; times are shown in `timezone` (a tzinfo or an IANA name)."""

    def __init__(
        self,
        engine: Engine,
        *,
        timezone: tzinfo | str = "UTC",
        clock: Callable[[], datetime] = utcnow,
        charts_dir: Path,
        sla: SlaSettings | None = None,
        scorecards: ScorecardSettings | None = None,
        capabilities: object | None = None,
        parse_options: dict[str, Any] | None = None,
        assignment: AssignmentSettings | None = None,
        triage_channel: str = "console",
        after_sales: AfterSalesDesk | None = None,
        ticket_actions: Callable[[], TicketActions] | None = None,
        language_for: Callable[[str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.timezone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.clock = clock
        self.charts_dir = Path(charts_dir)
        self.sla = sla or SlaSettings()
        self.scorecards = scorecards or ScorecardSettings()
        self.capabilities = capabilities
        self.parse_options = parse_options or {}
        self.assignment = assignment or AssignmentSettings()
        self.triage_channel = triage_channel
        self.after_sales = after_sales
        self.ticket_actions = ticket_actions
        self.language_for = language_for  # of the card lines a command adds (Settings.language_for; None: English)

    def execute(self, request_text: str, actor: Actor, *, platform: str, channel_id: str | None = None,
                capabilities: object | None = None, language: str | None = "en") -> CommandAnswer:
        """The answer to `request_text` typed by `actor`, in `language` ("en", "zh"); never raises."""
        language = language_of(language)
        invocation = CommandInvocation.parse(request_text, **self.parse_options)
        details: dict[str, Any] = {**invocation.audit_details(), "platform": platform, "channel": channel_id,
                                   "role": actor.role}
        if invocation.parsed is None:
            answer = CommandAnswer(invocation.error_in(language) or phrase("command.not_understood", language),
                                   ok=False)
            self._audit(actor, invocation, details | {"result": "error"})
            return answer
        command = invocation.parsed
        try:
            authorize(command, actor)
        except PermissionDenied as denied:
            self._audit(actor, invocation, details | {"result": "denied", "required_role": denied.required_role,
                                                     "error": str(denied)})
            return CommandAnswer(phrase("command.denied", language, reason=denied.text(language)), ok=False)
        context = AnswerContext(
            engine=self.engine, timezone=self.timezone, now=self.clock(), charts_dir=self.charts_dir,
            actor=actor, sla=self.sla, scorecards=self.scorecards, assignment=self.assignment,
            triage_channel=self.triage_channel, after_sales=self.after_sales, ticket_actions=self.ticket_actions,
            language=language, language_for=self.language_for,
        )
        try:
            if isinstance(command, HelpCommand):
                answer = answer_help(command, context, capabilities or self.capabilities)
            else:
                answers = ANSWERS | ASSIGNMENT_ANSWERS | RESOLVE_ANSWERS | CUSTOMER_ANSWERS
                answer = answers[type(command)](command, context)
        except CommandError as error:
            answer = CommandAnswer(error.text(language), ok=False)
        except MetricError as error:
            answer = CommandAnswer(str(error), ok=False)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("command %r failed (reference %s)", request_text, reference)
            self._audit(actor, invocation, details | {"result": "internal", "reference": reference})
            return CommandAnswer(phrase("command.internal", language, reference=reference), ok=False)
        result = "ok" if answer.ok else "error"
        extra: dict[str, Any] = {"result": result, **answer.details}
        if answer.chart is not None:
            extra["chart"] = answer.chart.name
        if not answer.ok:
            extra.setdefault("error", answer.text)
        self._audit(actor, invocation, details | extra)
        return answer

    def _audit(self, actor: Actor, invocation: CommandInvocation, details: dict[str, Any]) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(AuditEvent(
                    actor=(actor.name or "local-admin")[:128], action="command",
                    subject_type="command", subject_id=(invocation.command_name or "unparsed")[:64],
                    details=_json_ready(details),
                ))
        except Exception:  # the answer still goes out when the audit log cannot be written
            log.exception("could not write the audit event of command %r", invocation.text)


def _json_ready(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | type(None)) else str(v)) for k, v in details.items()}


def executor_from_settings(settings: Settings, engine: Engine, *, timezone: str | None = None,
                           charts_dir: Path | None = None) -> CommandExecutor:
    """The executor as `kefu serve` and `kefu command` build it: the team's timezone, charts under var/charts,
    the SLA policies (so that `/sla` agrees with the SLA watch) and the scorecard settings."""
    return CommandExecutor(engine, timezone=timezone or settings.timezone,
                           charts_dir=charts_dir or Path(settings.var_dir) / "charts", sla=settings.sla,
                           scorecards=settings.scorecards, assignment=settings.assignment,
                           triage_channel=settings.triage.channel,
                           after_sales=AfterSalesDesk(engine, settings),
                           ticket_actions=functools.cache(lambda: TicketActions.without_model(engine, settings)),
                           language_for=settings.language_for)

