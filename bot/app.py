"""The kefu application: assembly and lifecycle of one `kefu serve` process.

settings → database engine (SQLite is migrated at start; PostgreSQL must already be at the latest schema) → reply
templates → API credentials → channels (webhook for customers, console for the team) → outbox worker → aiohttp app
(`/healthz`, `/readyz`, the inbound API). The intent model (embedder, catalogue plus learnt examples, classifier,
and the sentiment head on the same embedder) loads in a background thread once the HTTP server is up; until then
`/readyz` answers 503 and the inbound API 503 with Retry-After. SIGTERM/SIGINT stop the process cleanly: the HTTP
server finishes its requests, the outbox worker finishes its in-flight sends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.api_token import ApiCredentials, resolve_api_credentials
from bot.logs import accept_request_id, request_id_var
from bot.order_context import OrderLookup
from bot.outbox import OutboxSender, OutboxWorker
from bot.pipeline import Classifier, Pipeline, Templates
from bot.settings import PLATFORM_SECTIONS, Settings
from bot.team_channel import TeamChannel
from bot.team_desk import TeamDesk
from models.db import redacted_url
from models.tables import IntentExample

if TYPE_CHECKING:
    from adapters.webchat.widget import WebchatChannel
    from bot.messages import Action, AlertAction, CommandRequest
    from handlers.actions import ActionResult
    from handlers.commands import Actor
    from handlers.commands.answers import CommandAnswer
    from handlers.commands.executor import CommandExecutor
    from intents.sentiment import SentimentScorer
    from knowledge.faq import FaqIndex
    from knowledge.translation import Translation, Translator

log = logging.getLogger("kefu.app")

READY_CHECK_TIMEOUT_SECONDS = 3.0
CHART_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}\.png")
SETUP_HINT = ("add Slack with KEFU_SLACK_BOT_TOKEN and KEFU_SLACK_SIGNING_SECRET (or KEFU_SLACK_APP_TOKEN) and "
              "KEFU_SLACK_CHANNEL — see README")


LANGUAGE_WARM_UP = ("where is my parcel please", "где моя посылка", "我的包裹在哪里", "小包はどこですか")


class StartupError(Exception):
    """kefu cannot start; the message is one line telling the operator what to do."""


def load_intent_model(settings: Settings, engine: Engine) -> Classifier:
    """Embedder (with its disk cache in var/cache) + catalogue + examples learnt from agents → fitted classifier."""
    from threadpoolctl import threadpool_limits

    from intents.batching import EncodeBatcher
    from intents.catalogue import CatalogueError, load_catalogue, starter_catalogue
    from intents.classifier import IntentClassifier
    from intents.embedders import CachedEmbedder, load_embedder
    from intents.language import detect_language

    # The ingest threads are kefu's parallelism: BLAS threads inside each matrix product (the classifier's, the
    # sentiment head's) would only spin against them (intents/embedders.py, UseMultilingualEmbedder).
    threadpool_limits(limits=settings.intents.threads or 1, user_api="blas")
    catalogue = load_catalogue(settings.intents.catalogue) if settings.intents.catalogue else starter_catalogue()
    with Session(engine) as session:
        learnt = session.execute(select(IntentExample.intent, IntentExample.text).order_by(IntentExample.id)).all()
    by_intent: dict[str, list[str]] = {}
    for intent, example in learnt:
        by_intent.setdefault(intent, []).append(example)
    for intent, examples in by_intent.items():
        if intent not in catalogue:
            log.warning("%d learnt example(s) of intent %r ignored: it is not in the catalogue", len(examples), intent)
            continue
        try:
            catalogue = catalogue.with_examples(intent, examples, move=True)
        except CatalogueError as exc:
            log.warning("learnt examples of intent %r ignored: %s", intent, exc)
    embedder = CachedEmbedder(load_embedder(settings.intents.embedder, threads=settings.intents.threads),
                              Path(settings.var_dir) / "cache")
    classifier = IntentClassifier.fit(catalogue, embedder)
    # The disk cache is for the catalogue: customers' messages are encoded without being written to disk, and
    # those that arrive together (the ingest pool's threads) are encoded in one call of the model.
    classifier.embedder = EncodeBatcher(embedder.inner)
    for sample in LANGUAGE_WARM_UP:  # the language model loads lazily, the encoder warms up on its first call:
        detect_language(sample)  # do both now rather than on the first customer's message
    classifier.predict(LANGUAGE_WARM_UP[0])
    log.info("intent model ready: %d intents, %d examples (%d learnt), embedder %s", len(catalogue),
             len(catalogue.labelled_examples()), len(learnt), embedder.name)
    return classifier


def load_sentiment_model(settings: Settings, classifier: Classifier) -> SentimentScorer | None:
    """The sentiment head (intents/sentiment.py) on the intent classifier's embedder, trained now on the shipped
    examples (their embeddings cached in var/cache); the lexicon when the classifier has no embedder; None when
    `[sentiment]` is off. The classifier's embedder is wrapped so that the intent classifier, the FAQ search and
    the sentiment head encode each customer message once between them."""
    if not settings.sentiment.enabled:
        return None
    from intents.embedders import CachedEmbedder, RecentEncodings
    from intents.sentiment import LexiconSentiment, SentimentClassifier

    embedder = getattr(classifier, "embedder", None)
    if embedder is None or not callable(getattr(embedder, "encode", None)):
        log.info("sentiment: no embedding model, the word lexicon scores messages")
        return LexiconSentiment()
    recent = embedder if isinstance(embedder, RecentEncodings) else RecentEncodings(embedder)
    classifier.embedder = recent  # type: ignore[attr-defined]
    sentiment = SentimentClassifier.fit(recent, encoder=CachedEmbedder(recent.inner, Path(settings.var_dir) / "cache"))
    log.info("sentiment model ready: %s", sentiment.name)
    return sentiment


def load_templates(settings: Settings) -> Templates:
    from knowledge.templates import TemplateLibrary

    # The shipped templates first, then the team's folder (file by file, the team's win).
    return TemplateLibrary.load(settings.replies.templates_dir, default_language=settings.replies.default_language)


class Kefu:
    """One kefu process. `prepare()` checks the database and loads what is quick; `web_app()` is the aiohttp app
    whose start-up hook starts the model loading and the outbox worker, and whose clean-up hook stops them."""

    def __init__(
        self,
        settings: Settings,
        *,
        model_loader: Callable[[Settings, Engine], Classifier] = load_intent_model,
        templates: Templates | None = None,
        extra_senders: dict[str, OutboxSender] | None = None,
    ) -> None:
        self.settings = settings
        self.model_loader = model_loader
        self.templates = templates
        self.extra_senders = dict(extra_senders or {})
        self.engine: Engine | None = None
        self.credentials: ApiCredentials | None = None
        self.pipeline: Pipeline | None = None  # set once the intent model has loaded
        self.model_error: str | None = None
        self.outbox_worker: OutboxWorker | None = None
        self.scheduler: Any = None  # scheduler.runner.SchedulerRunner while serving
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._worker_task: asyncio.Task[None] | None = None
        self._model_thread: threading.Thread | None = None
        self._ingest_executor: ThreadPoolExecutor | None = None  # the pipeline's threads (settings.ingest_workers)
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._executor: CommandExecutor | None = None
        self.team_channels: list[TeamChannel] = []
        self.kf_channel: Any = None  # adapters.wecom.kf.WeComKfChannel when [wecom] kf_secret is set
        self.webchat: WebchatChannel | None = None  # the chat widget's customer channel, set by web_app()
        self.desk: TeamDesk = None  # type: ignore[assignment]  # set by prepare()
        # Order sources (Shopify, the seller's lookup hook) behind the pipeline; None when none is configured.
        self.order_lookup: OrderLookup | None = OrderLookup.from_settings(settings)
        # False: the aiohttp start-up hook starts the model loading; `serve` sets it and starts the loading
        # itself once the HTTP server listens, so that /healthz answers from the first second.
        self.defer_model_loading = False

    # ---- assembly ----------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Engine and schema check, templates, API credentials. Raises StartupError with a one-line reason."""
        from models.migrate import DatabaseNotReady, open_database

        try:
            self.engine = open_database(self.settings.database_url)
        except DatabaseNotReady as exc:
            raise StartupError(str(exc)) from None
        if self.templates is None:
            try:
                self.templates = load_templates(self.settings)
            except (OSError, ValueError) as exc:
                raise StartupError(f"cannot load reply templates: {exc}") from None
        self.credentials = resolve_api_credentials(self.settings)
        self.desk = TeamDesk(self.engine, managers={platform: self.settings.platform_managers(platform)
                                                    for platform in PLATFORM_SECTIONS})

    def _senders(self) -> dict[str, OutboxSender]:
        from adapters.webhook.callback import WebhookCallbackSender

        assert self.credentials is not None
        webhook = WebhookCallbackSender(self.settings.webhook_callback_url,
                                        self.credentials.callback_signing_secret,
                                        timeout=self.settings.outbox.send_timeout_seconds)
        self._closers.append(webhook.close)
        senders: dict[str, OutboxSender] = {"webhook": webhook}
        if self.webchat is not None:
            senders["webchat"] = self.webchat
        senders.update({channel.name: channel for channel in self.team_channels})
        if self.kf_channel is not None:
            senders[self.kf_channel.name] = self.kf_channel
        senders.update(self.extra_senders)
        translator = self.translator()
        if translator is not None:
            from bot.team_translation import TranslatingCardSender

            assert self.engine is not None
            team = self.settings.replies.team_language
            for channel in self.team_channels:  # every team channel shows cards in the team's language
                senders[channel.name] = TranslatingCardSender(senders[channel.name], translator, team, self.engine)
        return senders

    def _team_channels(self) -> list[TeamChannel]:
        """The console (always) and every team messenger configured in settings."""
        from adapters.webchat.console import ConsoleTeamChannel

        channels: list[TeamChannel] = [ConsoleTeamChannel(self)]
        if self.settings.slack.enabled:
            from adapters.slack import SlackTeamChannel

            channels.append(SlackTeamChannel(self.settings.slack, self, timezone=self.settings.timezone))
        if self.settings.dingtalk.enabled:
            from adapters.dingtalk import DingTalkTeamChannel

            channels.append(DingTalkTeamChannel(self.settings.dingtalk, self))
        if self.settings.wecom.enabled:
            from adapters.wecom import WeComTeamChannel

            channels.append(WeComTeamChannel(self.settings.wecom, self, timezone=self.settings.timezone))
        return channels

    def translator(self) -> Translator | None:
        """The configured machine-translation provider, or None when translation is off."""
        config = self.settings.translation
        if config.provider == "off":
            return None
        from knowledge.translation import LibreTranslateClient

        assert config.url is not None
        key = config.api_key.get_secret_value() if config.api_key else None
        return LibreTranslateClient(config.url, key, timeout=config.timeout_seconds)

    def reply_channels(self) -> frozenset[str]:
        """Customer channels that can deliver a reply now: the chat widget, webhook only with a callback URL."""
        channels = {"webchat", *self.extra_senders}
        if self.settings.webhook_callback_url:
            channels.add("webhook")
        if self.settings.wecom.kf_enabled:
            channels.add("wecom_kf")
        return frozenset(channels)

    def web_app(self) -> web.Application:
        from adapters.webhook.inbound import WebhookInbound
        from adapters.webhook.orders import routes as order_routes

        if self.engine is None or self.credentials is None:
            self.prepare()
        assert self.credentials is not None
        app = web.Application(middlewares=[request_context])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        WebhookInbound(self.credentials, lambda: self.pipeline).add_routes(app)
        assert self.engine is not None
        app.add_routes(order_routes(self.engine, self.credentials))
        app.router.add_get("/charts/{name}", self.chart)
        if not self.team_channels:
            self.team_channels = self._team_channels()
        for channel in self.team_channels:
            channel.mount(app)
        from adapters.webchat.widget import WebchatChannel

        self.webchat = WebchatChannel(self)
        self.webchat.mount(app)
        if self.settings.wecom.kf_enabled and self.kf_channel is None:
            from adapters.wecom.kf import WeComKfChannel

            self.kf_channel = WeComKfChannel(self.settings.wecom, self)
            self.kf_channel.mount(app)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    # ---- lifecycle ---------------------------------------------------------------------------------------

    async def _on_startup(self, _app: web.Application) -> None:
        assert self.engine is not None
        self.outbox_worker = OutboxWorker(self.engine, self._senders(), self.settings.outbox, self.worker_id)
        self._worker_task = asyncio.create_task(self.outbox_worker.run(), name="kefu-outbox")
        from scheduler.runner import build_scheduler  # scheduler/ builds on bot/: imported when serving

        self.scheduler = build_scheduler(self.settings, self.engine, reply_channels=self.reply_channels())
        self.scheduler.start()
        for channel in self.team_channels:
            await channel.start()
        if not self.defer_model_loading:
            self.start_model_loading()
        team = ", ".join(channel.name for channel in self.team_channels)
        hint = "" if len(self.team_channels) > 1 else "; " + SETUP_HINT
        customers = ", ".join(["webhook", *sorted(self.reply_channels() - {"webhook"})])
        log.info("channels: %s (customers); team: %s; triage cards go to %s%s", customers, team,
                 self.settings.triage.channel, hint)
        if self.order_lookup is not None:
            log.info("order lookups: %s (timeout %g s)", ", ".join(s.name for s in self.order_lookup.sources),
                     self.order_lookup.timeout)
        if not self.settings.webhook_callback_url:
            log.warning("KEFU_WEBHOOK_CALLBACK_URL is not set: webhook customers' questions go to agents as "
                        "suggestions, and replies to them cannot be delivered")

    def start_model_loading(self) -> None:
        """Load the intent model in a background thread; the pipeline appears when it is done."""
        if self._model_thread is None:
            self._model_thread = threading.Thread(target=self._load_model, name="kefu-model-loader", daemon=True)
            self._model_thread.start()

    def _load_model(self) -> None:
        started = time.perf_counter()
        log.info("loading the intent model (embedder %s)", self.settings.intents.embedder)
        try:
            assert self.engine is not None and self.templates is not None
            classifier = self.model_loader(self.settings, self.engine)
            sentiment = load_sentiment_model(self.settings, classifier)
            worker = self.outbox_worker
            self._ingest_executor = ThreadPoolExecutor(self.settings.ingest_workers, thread_name_prefix="kefu-ingest")
            from bot.assignment.routing import TicketAssigner
            from handlers.phrases import write_wording  # the catalogue writes assignment cards in their language

            self.pipeline = Pipeline(self.engine, classifier, self.templates, self.settings,
                                     assigner=TicketAssigner(self.settings, write=write_wording),
                                     on_enqueued=worker.notify if worker is not None else None,
                                     reply_channels=self.reply_channels(), faq=self._faq_index(classifier),
                                     sentiment=sentiment, orders=self.order_lookup,
                                     executor=self._ingest_executor)
        except Exception as exc:
            self.model_error = f"{type(exc).__name__}: {exc}"
            log.error("the intent model failed to load: %s", self.model_error)
            return
        log.info("ready in %.1f s", time.perf_counter() - started)

    def _faq_index(self, classifier: Classifier) -> FaqIndex | None:
        """FAQ entries imported with `kefu knowledge import` (read at start: restart to pick up an import)."""
        from bot.faq_store import load_faq_entries
        from knowledge.faq import FaqIndex

        assert self.engine is not None
        entries = load_faq_entries(self.engine)
        embedder = getattr(classifier, "embedder", None)
        if not entries or embedder is None:
            return None
        log.info("FAQ knowledge: %d entries", len(entries))
        return FaqIndex(entries, embedder)

    async def _on_cleanup(self, _app: web.Application) -> None:
        for channel in self.team_channels:
            await channel.stop()
        if self.order_lookup is not None:
            await asyncio.to_thread(self.order_lookup.close)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.outbox_worker is not None:
            await self.outbox_worker.stop()
        if self._worker_task is not None:
            await self._worker_task
        if self._ingest_executor is not None:
            await asyncio.to_thread(self._ingest_executor.shutdown)
        if self.kf_channel is not None:
            await self.kf_channel.close()
        for close in self._closers:
            await close()
        self._closers.clear()
        if self.engine is not None:
            self.engine.dispose()
        log.info("stopped")

    async def handle_action(self, action: Action) -> ActionResult:
        """A triage card's button pressed on a team channel: performed by handlers.actions, never raising."""
        from handlers.actions import ActionResult, TicketActions

        if self.pipeline is None or self.engine is None:
            from handlers.phrases import phrase

            return ActionResult(False, phrase("action.loading", action.language))
        return await TicketActions(self.engine, self.pipeline, self.pipeline.classifier).perform(action)

    async def handle_alert_action(self, action: AlertAction) -> ActionResult:
        """A metric alert card's button pressed on a team channel: performed by handlers.alert_actions, never
        raising; the outbox is woken for the card's update."""
        from handlers.actions import ActionResult
        from handlers.alert_actions import AlertActions

        if self.engine is None:
            from handlers.phrases import phrase

            return ActionResult(False, phrase("action.starting", action.language))
        worker = self.outbox_worker
        return await AlertActions(self.engine, self.settings,
                                  on_enqueued=worker.notify if worker is not None else None).perform(action)

    def intent_names(self) -> list[str]:
        """The live catalogue's intents (for a Wrong intent form); empty while the model loads."""
        catalogue = getattr(self.pipeline.classifier, "catalogue", None) if self.pipeline is not None else None
        return list(catalogue.names()) if catalogue is not None else []

    def charts_dir(self) -> Path:
        return Path(self.settings.var_dir) / "charts"

    def chart_link(self, path: Path) -> str | None:
        """Where the team's browsers find a chart on kefu's own server (None without a public URL)."""
        if not self.settings.public_url or path.parent.resolve() != self.charts_dir().resolve():
            return None
        return f"{self.settings.public_url.rstrip('/')}/charts/{path.name}"

    async def chart(self, request: web.Request) -> web.StreamResponse:
        """A chart rendered for a command answer. Names are random (unguessable); nothing else is served."""
        name = request.match_info["name"]
        if not CHART_NAME.fullmatch(name):
            raise web.HTTPNotFound(reason="no such chart")
        path = self.charts_dir() / name
        if not path.is_file():
            raise web.HTTPNotFound(reason="no such chart (charts are kept for a while, then removed)")
        return web.FileResponse(path, headers={"Content-Type": "image/png", "Cache-Control": "private, max-age=3600"})

    async def translate_for_customer(self, ticket_id: int, text: str) -> Translation | None:
        """An agent's reply in the ticket's customer language, to show for confirmation; None when not needed."""
        from bot.team_translation import translate_for_customer
        from models.tables import Ticket

        translator = self.translator()
        if translator is None or self.engine is None:
            return None
        engine = self.engine

        def ticket_language() -> str | None:
            with Session(engine) as session:
                ticket = session.get(Ticket, ticket_id)
                return ticket.language if ticket is not None else None

        language = await asyncio.to_thread(ticket_language)
        return await translate_for_customer(translator, text, language, self.settings.replies.team_language)

    async def handle_command(self, request: CommandRequest, actor: Actor,
                             capabilities: object | None = None) -> CommandAnswer:
        """A manager command typed on any team channel: parsed, authorized, answered and audited, in the request's
        language (kefu's own words; DingTalk and WeCom ask for their configured one)."""
        from handlers.commands.executor import executor_from_settings

        assert self.engine is not None, "prepare() opens the database before commands arrive"
        if self._executor is None:
            self._executor = executor_from_settings(self.settings, self.engine)
        return await asyncio.to_thread(self._executor.execute, request.text, actor, platform=request.platform,
                                       channel_id=request.channel_id, capabilities=capabilities,
                                       language=request.language)

    # ---- health ------------------------------------------------------------------------------------------

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _database_answers(self) -> None:
        assert self.engine is not None
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    async def readyz(self, _request: web.Request) -> web.Response:
        reasons: list[str] = []
        try:
            await asyncio.wait_for(asyncio.to_thread(self._database_answers), READY_CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            reasons.append(f"database did not answer within {READY_CHECK_TIMEOUT_SECONDS:g} s")
        except Exception as exc:
            reasons.append(f"database unreachable: {type(exc).__name__}")
        if self.pipeline is None:
            reasons.append(f"intent model failed to load: {self.model_error}" if self.model_error
                           else "intent model is loading")
        if reasons:
            return web.json_response({"status": "not ready", "reason": "; ".join(reasons)}, status=503)
        return web.json_response({"status": "ready"})


@web.middleware
async def request_context(request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> Any:
    """A request id per request (the client's X-Request-Id when usable), echoed back and on every log line; JSON
    errors for unknown routes and unexpected failures (never a stack trace to the client)."""
    request_id = accept_request_id(request.headers.get("X-Request-Id"))
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = web.json_response({"error": exc.reason}, status=exc.status)
            for header in ("Allow", "Retry-After"):
                if header in exc.headers:
                    response.headers[header] = exc.headers[header]
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            response = web.json_response({"error": "internal error", "request_id": request_id}, status=500)
        response.headers["X-Request-Id"] = request_id
        quiet = request.path in ("/healthz", "/readyz")  # probes poll often: their answers are debug lines
        log.log(logging.DEBUG if quiet else logging.INFO, "%s %s → %d", request.method, request.path,
                response.status, extra={"status": response.status,
                                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return response
    finally:
        request_id_var.reset(token)


async def serve(settings: Settings, *, kefu: Kefu | None = None) -> None:
    """Run kefu until SIGTERM or SIGINT. Raises StartupError when it cannot start."""
    kefu = kefu or Kefu(settings)
    kefu.prepare()
    kefu.defer_model_loading = True
    runner = web.AppRunner(kefu.web_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
        log.info("listening on http://%s:%d (database %s)", settings.host, settings.port,
                 redacted_url(settings.database_url))
        kefu.start_model_loading()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
