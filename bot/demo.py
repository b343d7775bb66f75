"""`kefu demo`: a realistic support team's traffic, so that a fresh install shows kefu at work without any customer.

Owns the demo data set. A plan is drawn from a seed (`random.Random(seed)`, so one seed always gives the same
customers, texts and timings relative to now) and filed through the code live and imported traffic use:

- nine weeks up to now (the alert rules' baselines compare with the same weekday of past weeks, so the last week
  needs the eight before it): customers of amazon, ebay and a shopify store in fourteen countries writing in
  English, German, Spanish, French, Italian, Japanese, Chinese, Arabic and Portuguese (the shipped catalogue's
  examples, bot/demo_phrasebook.py for the rest), over the catalogue's intents, more on Mondays, fewer at
  weekends. Each message is filed by bot.intake at its own time (customer, ticket with SLA due times, message);
  the store's FAQs get an automatic reply, the rest an agent's reply (the reply template in the customer's
  language) after a delay that now and then breaches the SLA, a follow-up now and then, a resolution and
  sometimes a CSAT score. What would happen after now has not happened yet: recent tickets are open, some
  overdue. Today is busy: the last hours' first responses are slow.
- seven agents (one manager) speaking the customers' languages, created without console passwords
  (`kefu agents passwd NAME` gives one a password);
- daily order counts per marketplace and country (bot/orders.py), so that metrics give rates per 1,000 orders;
- a refund spike: in the last 60 hours, amazon customers complain about one product (SKU `SPIKE_SKU`), so that
  the shipped refund_spike and complaint_spike rules fire when the alert cycle runs;
- a few customers writing right now, through the live pipeline (bot.pipeline): triage cards with suggested
  replies for the team channel, automatic replies on the store's chat, and two overdue customers asking again.

Demo data is known by its prefix: customers, conversations and message ids start with "demo-". The history is
filed in one transaction ended by an audit event "demo.seeded": a second run finds it and adds nothing (the
live messages are idempotent on their message ids, the order counts fill only missing days). `seed_demo` refuses
a database holding tickets that are not demo data unless `force`.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.demo_phrasebook import AGENT_FALLBACK, ARABIC, FOLLOW_UP, NAMES, SPIKE
from bot.intake import file_agent_message, file_inbound
from bot.messages import CustomerInfo, Inbound
from bot.settings import Settings
from bot.sla_clock import stamp_resolution
from intents.catalogue import IntentCatalogue, starter_catalogue
from intents.classifier import Prediction
from intents.language import LanguageGuess
from models.db import session_scope, utcnow
from models.tables import Agent, AuditEvent, CsatResponse, Customer, DailyOrders, Message, Ticket

if TYPE_CHECKING:
    from bot.pipeline import Templates

log = logging.getLogger("kefu.demo")

PREFIX = "demo-"
SEEDED_ACTION = "demo.seeded"
DAYS = 63  # nine weeks: the weekly baselines of the shipped alert rules need seven past samples
TICKETS_PER_DAY = 36  # on an ordinary Wednesday; Mondays have more, weekends fewer
WEEKDAY_FACTOR = (1.35, 1.15, 1.0, 1.0, 0.95, 0.7, 0.65)  # Monday first
SPIKE_SKU = "KF-EB-X2-BLK"
SPIKE_MARKETPLACE = "amazon"
SPIKE_HOURS = 60
SPIKE_PER_DAY = 13
NEGLECTED = 3  # complaints of today nobody has answered yet
BUSY_HOURS = 10  # the last hours, when first responses take four times as long
AUTO_REPLY_DELAY = timedelta(seconds=4)
RESOLVED_QUIETLY_AFTER = timedelta(hours=30)  # an auto-replied ticket whose customer does not write again


@dataclass(frozen=True)
class Market:
    marketplace: str
    channel: str  # the customer channel: "webhook" (a marketplace integration) or "webchat" (the store's widget)
    country: str
    language: str
    weight: int
    utc_offset: int  # hours, for the customers' waking hours
    orders_per_day: int


MARKETS = (
    Market("amazon", "webhook", "US", "en", 10, -5, 620),
    Market("amazon", "webhook", "DE", "de", 8, 1, 480),
    Market("amazon", "webhook", "GB", "en", 5, 0, 300),
    Market("amazon", "webhook", "FR", "fr", 4, 1, 240),
    Market("amazon", "webhook", "IT", "it", 3, 1, 170),
    Market("amazon", "webhook", "ES", "es", 3, 1, 180),
    Market("amazon", "webhook", "JP", "ja", 4, 9, 260),
    Market("ebay", "webhook", "US", "en", 6, -5, 380),
    Market("ebay", "webhook", "DE", "de", 4, 1, 240),
    Market("ebay", "webhook", "AU", "en", 3, 10, 150),
    Market("ebay", "webhook", "IT", "it", 2, 1, 110),
    Market("shopify", "webchat", "US", "en", 8, -5, 420),
    Market("shopify", "webchat", "CA", "fr", 2, -5, 90),
    Market("shopify", "webchat", "MX", "es", 3, -6, 150),
    Market("shopify", "webchat", "BR", "pt", 3, -3, 160),
    Market("shopify", "webchat", "SG", "zh", 5, 8, 230),
    Market("shopify", "webchat", "AE", "ar", 3, 4, 120),
    Market("shopify", "webchat", "SA", "ar", 2, 3, 90),
)

INTENT_WEIGHTS = {
    "order_status": 16, "shipping_time": 7, "return_policy": 6, "refund_status": 6, "item_not_received": 7,
    "damaged_item": 5, "wrong_item": 4, "double_charged": 2, "payment_failed": 3, "address_change": 3,
    "cancel_order": 4, "sizing": 5, "product_question": 7, "customs_duties": 3, "discount_code": 4,
    "invoice_request": 2, "service_complaint": 3, "greeting": 2, "thanks": 1, "human_agent": 3,
}
WITHOUT_PRODUCT = frozenset({"greeting", "thanks", "human_agent", "discount_code", "payment_failed"})
PRODUCTS = ("KF-EB-X2-BLK", "KF-PB-10K", "KF-WATCH-S3", "KF-LAMP-RGB", "KF-BAG-CITY", "KF-MUG-TRVL",
            "KF-CASE-IP15", "KF-CHRG-65W")


@dataclass(frozen=True)
class DemoAgent:
    name: str
    role: Literal["agent", "manager"]
    languages: tuple[str, ...]


AGENTS = (
    DemoAgent("mei", "manager", ("zh", "en")),
    DemoAgent("lukas", "agent", ("de", "en")),
    DemoAgent("sofia", "agent", ("es", "pt", "en")),
    DemoAgent("camille", "agent", ("fr", "it", "en")),
    DemoAgent("yuki", "agent", ("ja", "en")),
    DemoAgent("amira", "agent", ("ar", "fr", "en")),
    DemoAgent("wei", "agent", ("zh", "en")),
)


class DemoRefused(Exception):
    """The database holds real tickets; str() says so and how to go on."""


@dataclass
class DemoSummary:
    """What `seed_demo` did. `already`: the history was there before (nothing of it was added)."""

    already: bool = False
    seed: int | None = None
    tickets: int = 0
    messages: int = 0
    open_tickets: int = 0
    overdue: int = 0
    agents_created: int = 0
    order_rows: int = 0
    spike_tickets: int = 0
    live_messages: int = 0  # filed through the live pipeline on this run
    live_cards: int = 0


@dataclass
class _Step:
    at: datetime
    kind: Literal["auto_reply", "agent", "customer", "resolve", "csat"]
    text: str = ""
    score: int = 0


@dataclass
class _Plan:
    """One demo conversation: its first message and what happens to its ticket afterwards."""

    number: int
    created_at: datetime
    market: Market
    customer_id: str
    customer_name: str
    intent: str
    text: str
    language: str
    sku: str | None
    order_id: str | None
    agent: str | None = None
    steps: list[_Step] = field(default_factory=list)
    spike: bool = False

    @property
    def conversation_id(self) -> str:
        return f"{PREFIX}c{self.number}"


class _Phrasebook:
    """Customers' first messages by intent and language: the catalogue's examples (language as kefu detects it)
    and bot/demo_phrasebook.py."""

    def __init__(self, catalogue: IntentCatalogue, detect: Callable[[str], LanguageGuess]) -> None:
        self.lines: dict[tuple[str, str], list[str]] = {}
        for intent in catalogue:
            for example in intent.examples:
                code = detect(example).code
                if code is not None:
                    self._add(intent.name, code, example)
        for intent_name, texts in ARABIC.items():
            for text in texts:
                self._add(intent_name, "ar", text)

    def _add(self, intent: str, language: str, text: str) -> None:
        self.lines.setdefault((intent, language), []).append(text)

    def first_message(self, rng: random.Random, intent: str, language: str) -> tuple[str, str]:
        """(text, language): in the customer's language where there is a line for it, else in English."""
        for code in (language, "en"):
            found = self.lines.get((intent, code))
            if found:
                return rng.choice(found), code
        raise ValueError(f"the demo has no line for intent {intent!r}")


class _Planner:
    def __init__(self, rng: random.Random, now: datetime, tz: ZoneInfo, phrasebook: _Phrasebook,
                 catalogue: IntentCatalogue, sla_targets: dict[int, timedelta], tickets_per_day: int) -> None:
        self.rng = rng
        self.now = now
        self.tz = tz
        self.phrasebook = phrasebook
        self.catalogue = catalogue
        self.sla_targets = sla_targets
        self.tickets_per_day = tickets_per_day
        self.plans: list[_Plan] = []

    def plan(self, days: int) -> list[_Plan]:
        today = self.now.astimezone(self.tz).date()
        intents = [name for name in INTENT_WEIGHTS if name in self.catalogue]
        weights = [INTENT_WEIGHTS[name] for name in intents]
        for offset in range(days, -1, -1):
            day = today - timedelta(days=offset)
            expected = self.tickets_per_day * WEEKDAY_FACTOR[day.weekday()] * self.rng.uniform(0.85, 1.15)
            for _ in range(round(expected)):
                market = self.rng.choices(MARKETS, [m.weight for m in MARKETS])[0]
                created = self._waking_moment(day, market)
                if created is None:
                    continue
                self._add(created, market, self.rng.choices(intents, weights)[0])
        self._spike()
        self._neglect()
        self.plans.sort(key=lambda plan: plan.created_at)
        return self.plans

    def _waking_moment(self, day: date, market: Market) -> datetime | None:
        """A moment of `day` (the team's date) in the customer's waking hours (8-23 local, evenings busier);
        None when it would be in the future."""
        start = datetime.combine(day, datetime.min.time(), self.tz).astimezone(UTC)
        local_hour = min(23.9, max(8.0, self.rng.triangular(8.0, 24.0, 20.0)))
        moment = start + timedelta(hours=(local_hour - market.utc_offset) % 24)
        return moment if moment < self.now else None

    def _spike(self) -> None:
        markets = [m for m in MARKETS if m.marketplace == SPIKE_MARKETPLACE]
        intents = ("damaged_item", "refund_status", "return_policy")
        count = round(SPIKE_PER_DAY * SPIKE_HOURS / 24)
        for _ in range(count):
            market = self.rng.choices(markets, [m.weight for m in markets])[0]
            created = self.now - timedelta(hours=self.rng.uniform(0.5, SPIKE_HOURS))
            intent = self.rng.choices(intents, (55, 25, 20))[0]
            lines = SPIKE[intent]
            language = market.language if market.language in lines else "en"
            text = self.rng.choice(lines[language])
            self._add(created, market, intent, text=(text, language), sku=SPIKE_SKU).spike = True

    def _neglect(self) -> None:
        """A few of today's complaints slipped through: nobody has answered them yet, and their first-response
        clock has run out (what /sla and the SLA watch show first)."""
        candidates = [p for p in self.plans if timedelta(hours=4.5) < self.now - p.created_at < timedelta(hours=20)
                      and self.catalogue[p.intent].severity <= 2 and p.steps and p.steps[0].kind == "agent"]
        for plan in self.rng.sample(candidates, min(NEGLECTED, len(candidates))):
            plan.steps.clear()

    def _add(self, created: datetime, market: Market, intent_name: str, *, text: tuple[str, str] | None = None,
             sku: str | None = None) -> _Plan:
        rng = self.rng
        number = len(self.plans) + 1
        message, language = text or self.phrasebook.first_message(rng, intent_name, market.language)
        if sku is None and intent_name not in WITHOUT_PRODUCT and rng.random() < 0.8:
            sku = rng.choice(PRODUCTS)
        plan = _Plan(
            number=number, created_at=created, market=market, customer_id=f"{PREFIX}{market.country.lower()}-"
            f"{number}", customer_name=rng.choice(NAMES[market.country]), intent=intent_name, text=message,
            language=language, sku=sku, order_id=_order_id(rng, market.marketplace),
        )
        self._lifecycle(plan)
        self.plans.append(plan)
        return plan

    def _lifecycle(self, plan: _Plan) -> None:
        """What happens to the ticket, whether before now or not (filing stops at now)."""
        rng = self.rng
        intent = self.catalogue[plan.intent]
        at = plan.created_at
        if plan.market.channel == "webchat" and intent.kind == "faq" and rng.random() < 0.85:
            plan.steps.append(_Step(at + AUTO_REPLY_DELAY, "auto_reply"))
            if rng.random() < 0.7:
                plan.steps.append(_Step(at + RESOLVED_QUIETLY_AFTER, "resolve"))
                return
            at += timedelta(minutes=rng.uniform(10, 300))  # "that did not help": a person is needed now
            plan.steps.append(_Step(at, "customer", FOLLOW_UP.get(plan.language, FOLLOW_UP["en"])))
        plan.agent = self._agent_for(plan.language)
        target = self.sla_targets.get(intent.severity, timedelta(hours=8))
        delay = timedelta(minutes=rng.lognormvariate(math.log(40), 0.8))
        if rng.random() < 0.08:  # a ticket that slipped through: answered after its due time
            delay = target * rng.uniform(1.1, 2.5)
        if self.now - at < timedelta(hours=BUSY_HOURS):
            delay *= 4
        at += delay
        plan.steps.append(_Step(at, "agent"))
        if rng.random() < 0.25:
            at += timedelta(minutes=rng.uniform(20, 360))
            plan.steps.append(_Step(at, "customer", FOLLOW_UP.get(plan.language, FOLLOW_UP["en"])))
            at += timedelta(minutes=rng.lognormvariate(math.log(30), 0.7))
            plan.steps.append(_Step(at, "agent"))
        median_hours = 12.0 if intent.kind == "complaint" else 3.0
        at += timedelta(hours=rng.lognormvariate(math.log(median_hours), 0.9))
        plan.steps.append(_Step(at, "resolve"))
        if rng.random() < 0.4:
            score = rng.choices((5, 4, 3, 2, 1), (55, 25, 10, 6, 4))[0]
            plan.steps.append(_Step(at + timedelta(hours=rng.uniform(1, 20)), "csat", score=score))

    def _agent_for(self, language: str) -> str:
        speakers = [a for a in AGENTS if language in a.languages]
        if not speakers:
            speakers = [a for a in AGENTS if "en" in a.languages]
        # The first language's speakers take most; the manager steps in now and then.
        weights = [(1 if a.role == "manager" else 4) * (3 if a.languages[0] == language else 1) for a in speakers]
        return self.rng.choices(speakers, weights)[0].name


def _order_id(rng: random.Random, marketplace: str) -> str:
    if marketplace == "amazon":
        return f"114-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
    if marketplace == "ebay":
        return f"{rng.randrange(10, 99)}-{rng.randrange(10**5):05d}-{rng.randrange(10**5):05d}"
    return f"#{rng.randrange(10000, 99999)}"


def _prediction(catalogue: IntentCatalogue, intent_name: str, confidence: float) -> Prediction:
    intent = catalogue[intent_name]
    return Prediction(intent=intent.name, kind=intent.kind, severity=intent.severity, confidence=confidence,
                      runner_up=None, runner_up_confidence=None, best_guess=intent.name)


class _Filer:
    """Files the plans into one session at their own times, stopping each at now."""

    def __init__(self, session: Session, settings: Settings, templates: Templates, catalogue: IntentCatalogue,
                 agent_ids: dict[str, int], now: datetime, rng: random.Random) -> None:
        self.session = session
        self.settings = settings
        self.templates = templates
        self.catalogue = catalogue
        self.agent_ids = agent_ids
        self.now = now
        self.rng = rng
        self.messages = 0

    def file(self, plan: _Plan) -> Ticket:
        customer = CustomerInfo(plan.customer_id, plan.customer_name, None, plan.market.country)
        guess = LanguageGuess(plan.language, 0.95)
        ticket = self._customer_message(plan, customer, guess, plan.text, plan.intent, plan.created_at, 1)
        for index, step in enumerate(plan.steps, start=2):
            if step.at > self.now:
                break
            if step.kind == "auto_reply":
                self._auto_reply(plan, ticket, step.at)
            elif step.kind == "customer":
                ticket = self._customer_message(plan, customer, guess, step.text, plan.intent, step.at, index)
            elif step.kind == "agent":
                assert plan.agent is not None
                if ticket.assignee_id is None:
                    ticket.assignee_id = self.agent_ids[plan.agent]
                file_agent_message(self.session, self.settings.sla, ticket, plan.agent, self._reply(plan, ticket),
                                   step.at, channel_message_id=f"{PREFIX}m{plan.number}-{index}", sent_at=step.at)
                self.messages += 1
            elif step.kind == "resolve":
                stamp_resolution(ticket, step.at, self.settings.sla)
                ticket.status = "resolved"
                ticket.updated_at = max(ticket.updated_at, step.at)
            else:
                assert ticket.id is not None
                self.session.add(CsatResponse(ticket_id=ticket.id, score=step.score, created_at=step.at))
        if plan.agent is not None and ticket.assignee_id is None and ticket.status != "resolved" and \
                self.rng.random() < 0.3:
            ticket.assignee_id = self.agent_ids[plan.agent]  # someone took it and has not answered yet
        self.session.add(ticket)
        return ticket

    def _customer_message(self, plan: _Plan, customer: CustomerInfo, guess: LanguageGuess, text: str,
                          intent: str, at: datetime, index: int) -> Ticket:
        inbound = Inbound(channel=plan.market.channel, channel_message_id=f"{PREFIX}m{plan.number}-{index}",
                          customer=customer, text=text, conversation_id=plan.conversation_id, sent_at=at,
                          order_id=plan.order_id, sku=plan.sku, marketplace=plan.market.marketplace)
        prediction = _prediction(self.catalogue, intent, round(self.rng.uniform(0.72, 0.99), 2))
        filed = file_inbound(self.session, self.settings.sla, inbound, guess, plan.language, prediction, at,
                             history=True)
        self.messages += 1
        return filed.ticket

    def _reply(self, plan: _Plan, ticket: Ticket) -> str:
        variables = {"customer_name": plan.customer_name.split()[0], "order_id": plan.order_id, "sku": plan.sku,
                     "marketplace": plan.market.marketplace, "country": plan.market.country, "ticket_id": ticket.id}
        rendered = self.templates.render(plan.intent, plan.language, variables, plan.market.marketplace)
        if rendered is not None and rendered.text and rendered.language == plan.language:
            return rendered.text
        return AGENT_FALLBACK.get(plan.language, AGENT_FALLBACK["en"])

    def _auto_reply(self, plan: _Plan, ticket: Ticket, at: datetime) -> None:
        """The store's automatic answer, as bot.pipeline records one (the ticket waits on the customer)."""
        text = self._reply(plan, ticket)
        self.session.add(Message(ticket_id=ticket.id, channel=ticket.channel, direction="out", author_kind="bot",
                                 author="kefu", text=text, language=plan.language,
                                 intent=f"{plan.intent}.{plan.language}", created_at=at, sent_at=at))
        self.messages += 1
        ticket.auto_replies += 1
        ticket.status = "pending"
        if ticket.first_response_at is None:
            ticket.first_response_due = None


def non_demo_tickets(engine: Engine) -> int:
    """Tickets that are not demo data."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.conversation_id.not_like(f"{PREFIX}%"))) or 0)  # type: ignore[attr-defined]


def seed_demo(engine: Engine, settings: Settings, templates: Templates, *, seed: int = 1, force: bool = False,
              now: datetime | None = None, detect_language: Callable[[str], LanguageGuess] | None = None,
              live: bool = True) -> DemoSummary:
    """Seed the demo data set (see the module docstring); DemoRefused when the database holds real tickets and
    not `force`. `live`: also file the customers writing now through bot.pipeline."""
    if detect_language is None:
        from intents.language import detect_language as detect_language_default

        detect_language = detect_language_default
    now = (now or utcnow()).astimezone(UTC)
    real = non_demo_tickets(engine)
    if real and not force:
        raise DemoRefused(f"the database holds {real:,} tickets that are not demo data; kefu demo fills a new "
                          "database (pass --force to add the demo to this one)")
    catalogue = starter_catalogue()
    summary = _seeded_before(engine)
    if summary is None:
        summary = _seed_history(engine, settings, templates, catalogue, seed, now, detect_language)
    if live:
        _seed_live(engine, settings, templates, catalogue, detect_language, summary, now)
    return summary


def plan_demo(settings: Settings, *, seed: int, now: datetime,
              detect_language: Callable[[str], LanguageGuess] | None = None) -> list[tuple[str, ...]]:
    """What the demo's conversations would be with this seed at `now`, one line each (created at, market,
    intent, language, text, SKU, and the steps that happen before now): the plan `seed_demo` files."""
    if detect_language is None:
        from intents.language import detect_language as detect_language_default

        detect_language = detect_language_default
    plans = _plan(random.Random(seed), settings, starter_catalogue(), now.astimezone(UTC), detect_language)
    return [(p.created_at.isoformat(), p.market.marketplace, p.market.country, p.intent, p.language, p.text,
             p.sku or "", *(f"{s.kind}@{s.at.isoformat()}" for s in p.steps if s.at <= now)) for p in plans]


def _plan(rng: random.Random, settings: Settings, catalogue: IntentCatalogue, now: datetime,
          detect_language: Callable[[str], LanguageGuess]) -> list[_Plan]:
    policy = settings.sla.policy_for("webhook", None)
    targets = {severity: policy.targets_for(severity)[0] for severity in policy.targets}
    return _Planner(rng, now, ZoneInfo(settings.timezone), _Phrasebook(catalogue, detect_language), catalogue,
                    targets, TICKETS_PER_DAY).plan(DAYS)


def _seeded_before(engine: Engine) -> DemoSummary | None:
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == SEEDED_ACTION)).first()
    if event is None:
        return None
    details = dict(event.details)
    return DemoSummary(already=True, seed=details.get("seed"), tickets=int(details.get("tickets", 0)),
                       messages=int(details.get("messages", 0)), spike_tickets=int(details.get("spike_tickets", 0)))


def _seed_history(engine: Engine, settings: Settings, templates: Templates, catalogue: IntentCatalogue, seed: int,
                  now: datetime, detect_language: Callable[[str], LanguageGuess]) -> DemoSummary:
    rng = random.Random(seed)
    plans = _plan(rng, settings, catalogue, now, detect_language)
    summary = DemoSummary(seed=seed, spike_tickets=sum(1 for p in plans if p.spike))
    with session_scope(engine) as session:
        agent_ids, summary.agents_created = _agents(session, now)
        filer = _Filer(session, settings, templates, catalogue, agent_ids, now, rng)
        for plan in plans:
            ticket = filer.file(plan)
            if ticket.status != "resolved":
                summary.open_tickets += 1
                due = ticket.first_response_due if ticket.first_response_at is None else ticket.resolution_due
                summary.overdue += due is not None and due < now
        summary.tickets, summary.messages = len(plans), filer.messages
        summary.order_rows = _orders(session, rng, now, ZoneInfo(settings.timezone))
        session.add(AuditEvent(actor="demo", action=SEEDED_ACTION, subject_type="demo", subject_id=str(seed),
                               at=now, details={"seed": seed, "tickets": summary.tickets,
                                                "messages": summary.messages, "spike_tickets": summary.spike_tickets,
                                                "spike_sku": SPIKE_SKU}))
    log.info("demo seeded: %d tickets, %d messages", summary.tickets, summary.messages)
    return summary


def _agents(session: Session, now: datetime) -> tuple[dict[str, int], int]:
    """The demo agents' ids by name (an agent of that name is reused), and how many were created."""
    ids: dict[str, int] = {}
    created = 0
    for demo_agent in AGENTS:
        agent = session.scalars(select(Agent).where(func.lower(Agent.name) == demo_agent.name)).first()
        if agent is None:
            agent = Agent(name=demo_agent.name, role=demo_agent.role, languages=list(demo_agent.languages),
                          created_at=now)
            session.add(agent)
            session.flush()
            session.add(AuditEvent(actor="demo", action="agent.created", subject_type="agent",
                                   subject_id=str(agent.id), at=now,
                                   details={"name": agent.name, "role": agent.role, "why": "kefu demo"}))
            created += 1
        assert agent.id is not None
        ids[demo_agent.name] = agent.id
    return ids, created


def _orders(session: Session, rng: random.Random, now: datetime, tz: ZoneInfo) -> int:
    """Daily orders of every demo market over the demo's days; a day a shop reported already is left alone."""
    today = now.astimezone(tz).date()
    first = today - timedelta(days=DAYS)
    existing = {tuple(row) for row in session.execute(select(
        DailyOrders.date, DailyOrders.marketplace, DailyOrders.country).where(DailyOrders.date >= first))}  # type: ignore[arg-type]
    written = 0
    for offset in range(DAYS + 1):
        day = first + timedelta(days=offset)
        for market in MARKETS:
            if (day, market.marketplace, market.country) in existing:
                continue
            orders = round(market.orders_per_day * WEEKDAY_FACTOR[day.weekday()] * rng.uniform(0.85, 1.15))
            session.add(DailyOrders(date=day, marketplace=market.marketplace, country=market.country,
                                    orders=orders, updated_at=now))
            written += 1
    return written


# ---- customers writing now, through the live pipeline ---------------------------------------------------------


@dataclass(frozen=True)
class _LiveMessage:
    key: str  # the message id's suffix
    market: Market
    name: str
    intent: str
    text: str
    sku: str | None = None


def _market(marketplace: str, country: str) -> Market:
    return next(m for m in MARKETS if m.marketplace == marketplace and m.country == country)


LIVE_MESSAGES = (
    _LiveMessage("live-1", _market("shopify", "MX"), "Valeria Hernández", "order_status",
                 "Hola, ¿dónde está mi pedido? Lo compré hace una semana y no tengo noticias."),
    _LiveMessage("live-2", _market("amazon", "DE"), "Jonas Müller", "damaged_item",
                 "Der linke Ohrhörer lädt nach zwei Tagen nicht mehr. Ich möchte mein Geld zurück.", SPIKE_SKU),
    _LiveMessage("live-3", _market("ebay", "US"), "Emily Carter", "item_not_received",
                 "Tracking says delivered two days ago but I never got the package. Please help."),
    _LiveMessage("live-4", _market("shopify", "AE"), "Layla Nasser", "wrong_item",
                 "استلمت منتجًا خاطئًا، طلبت اللون الأسود"),
    _LiveMessage("live-5", _market("amazon", "JP"), "Yui Suzuki", "damaged_item",
                 "左のイヤホンが2日で充電できなくなりました。不良品です。", SPIKE_SKU),
    _LiveMessage("live-6", _market("shopify", "SG"), "Tan Wei Ling", "refund_status", "退款什么时候能到账？"),
)
OVERDUE_FOLLOW_UPS = 2


class _ScriptedClassifier:
    """The live pipeline's classifier for the demo's own messages: it knows what each one means."""

    def __init__(self, catalogue: IntentCatalogue, meanings: dict[str, str]) -> None:
        self.catalogue = catalogue
        self.meanings = meanings

    def predict(self, text: str) -> Prediction:
        return _prediction(self.catalogue, self.meanings[text], 0.93)


def _seed_live(engine: Engine, settings: Settings, templates: Templates, catalogue: IntentCatalogue,
               detect_language: Callable[[str], LanguageGuess], summary: DemoSummary, now: datetime) -> None:
    """New customers writing now and two overdue customers asking again, through bot.pipeline (idempotent on
    their message ids): what the team channel and the store's chat show when `kefu serve` starts."""
    from bot.pipeline import Pipeline

    inbounds: list[tuple[Inbound, str]] = []
    for live in LIVE_MESSAGES:
        customer = CustomerInfo(f"{PREFIX}{live.key}", live.name, None, live.market.country)
        inbounds.append((Inbound(channel=live.market.channel, channel_message_id=f"{PREFIX}{live.key}",
                                 customer=customer, text=live.text, conversation_id=f"{PREFIX}{live.key}",
                                 order_id=_order_id(random.Random(live.key), live.market.marketplace),
                                 sku=live.sku, marketplace=live.market.marketplace), live.intent))
    for ticket, customer in _overdue(engine, OVERDUE_FOLLOW_UPS, now):
        text = FOLLOW_UP.get(ticket.language or "en", FOLLOW_UP["en"])
        info = CustomerInfo(customer.external_id, customer.name, None, customer.country)
        inbounds.append((Inbound(channel=ticket.channel, channel_message_id=f"{PREFIX}again-{ticket.id}",
                                 customer=info, text=text, conversation_id=ticket.conversation_id,
                                 marketplace=ticket.marketplace), ticket.intent))
    classifier = _ScriptedClassifier(catalogue, {inbound.text: intent for inbound, intent in inbounds})
    pipeline = Pipeline(engine, classifier, templates, settings, detect_language=detect_language,
                        reply_channels=live_reply_channels(settings))
    for inbound, _intent in inbounds:
        result = pipeline.ingest_sync(inbound)
        if result.action != "duplicate":
            summary.live_messages += 1
            summary.live_cards += result.action == "suggested"


def live_reply_channels(settings: Settings) -> frozenset[str]:
    """The customer channels `kefu serve` delivers replies on with these settings (bot.app.Kefu.reply_channels)."""
    from bot.app import Kefu

    return Kefu(settings).reply_channels()


def _overdue(engine: Engine, count: int, now: datetime) -> Sequence[tuple[Ticket, Customer]]:
    """The oldest demo tickets still waiting for a first response past its due time."""
    with Session(engine) as session:
        rows = session.execute(
            select(Ticket, Customer).join(Customer, Customer.id == Ticket.customer_id)  # type: ignore[arg-type]
            .where(Ticket.conversation_id.like(f"{PREFIX}c%"), Ticket.status != "resolved",  # type: ignore[attr-defined]
                   Ticket.first_response_at.is_(None), Ticket.first_response_due < now)  # type: ignore[union-attr,operator]
            .order_by(Ticket.first_response_due).limit(count)).all()
        rows = [(ticket, customer) for ticket, customer in rows]
        for ticket, customer in rows:
            session.expunge(ticket)
            session.expunge(customer)
    return rows
