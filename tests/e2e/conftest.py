"""Fixtures for end-to-end tests: kefu's aiohttp app on a test server (in process) or `kefu serve` as a real
subprocess, a fake callback receiver standing in for the operator's system, and helpers to count rows and wait.

The intent model (USE multilingual + the starter catalogue) is fitted once per test session; its embeddings are
cached on disk, and subprocesses share that cache, so each `kefu serve` start takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import Kefu
from bot.pipeline import Classifier
from bot.settings import Settings
from models.db import create_db_engine
from models.tables import Customer, Message, OutboxItem, Ticket
from tests.fakes.callback_server import CallbackServer

API_TOKEN = "test-token-0123456789"
API_SECRET = "test-secret-9876543210"
ROOT = Path(__file__).resolve().parents[2]
FAST_OUTBOX = {"base_delay_seconds": 0.05, "max_delay_seconds": 0.5, "poll_interval_seconds": 0.05,
               "send_timeout_seconds": 5.0, "claim_seconds": 2.0}
WAIT_SECONDS = 60.0


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def intent_model(embedding_cache: Path) -> Classifier:
    from intents.catalogue import starter_catalogue
    from intents.classifier import IntentClassifier
    from intents.embedders import CachedEmbedder, load_embedder

    return IntentClassifier.fit(starter_catalogue(), CachedEmbedder(load_embedder(), embedding_cache))


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (Customer, Ticket, Message, OutboxItem)}


async def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll `condition` (sync or async) until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def callback_server() -> AsyncIterator[CallbackServer]:
    async with CallbackServer(secret=API_SECRET) as server:
        yield server


@dataclass
class RunningKefu:
    client: TestClient[Any, Any]
    kefu: Kefu
    engine: Engine  # a separate engine for the test's own queries

    async def post(self, body: Any, **headers: str) -> aiohttp.ClientResponse:
        return await self.client.post("/api/v1/messages", json=body,
                                      headers={"Authorization": f"Bearer {API_TOKEN}", **headers})


def kefu_settings(database_url: str, var_dir: Path, callback_url: str | None, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, var_dir=var_dir, api_token=API_TOKEN, api_secret=API_SECRET,
                    webhook_callback_url=callback_url, outbox=FAST_OUTBOX, **overrides)


@pytest.fixture
async def start_kefu(
    migrated_url: str, tmp_path: Path, intent_model: Classifier
) -> AsyncIterator[Callable[..., Awaitable[RunningKefu]]]:
    """Start kefu in process on the test database: `await start_kefu(callback_url, model_loader=..., wait=True)`."""
    started: list[tuple[TestClient[Any, Any], Engine]] = []

    async def start(callback_url: str | None, *, model_loader: Any = None, wait: bool = True,
                    **overrides: Any) -> RunningKefu:
        settings = kefu_settings(migrated_url, tmp_path / "var", callback_url, **overrides)
        kefu = Kefu(settings, model_loader=model_loader or (lambda _settings, _engine: intent_model))
        client: TestClient[Any, Any] = TestClient(TestServer(kefu.web_app()))
        await client.start_server()
        engine = create_db_engine(migrated_url)
        started.append((client, engine))
        running = RunningKefu(client, kefu, engine)
        if wait:
            async def ready() -> bool:
                return (await client.get("/readyz")).status == 200

            await wait_until(ready, "/readyz to answer 200")
        return running

    yield start
    for client, engine in started:
        await client.close()
        engine.dispose()


# ---- real `kefu serve` subprocesses -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """`python -m bot serve` in a subprocess with the given environment; its output goes to a log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
            env={**env, "PYTHONPATH": str(ROOT)}, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_ready(self) -> None:
        async with aiohttp.ClientSession() as session:
            async def ready() -> bool:
                if self.process.poll() is not None:
                    pytest.fail(f"kefu serve exited with {self.process.returncode}:\n{self.output()}")
                try:
                    async with session.get(self.url + "/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(ready, "kefu serve to become ready", timeout=120)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self._log.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


@pytest.fixture
def serve_env(migrated_url: str, tmp_path: Path, embedding_cache: Path) -> dict[str, str]:
    """Environment for `kefu serve`: the test database, a var folder sharing the session's embedding cache,
    the test credentials and a fast outbox."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "cache").symlink_to(embedding_cache, target_is_directory=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("KEFU_")}
    env.update({
        "KEFU_DATABASE_URL": migrated_url,
        "KEFU_VAR_DIR": str(var_dir),
        "KEFU_API_TOKEN": API_TOKEN,
        "KEFU_API_SECRET": API_SECRET,
        "KEFU_LOG_FORMAT": "json",
    })
    env.update({f"KEFU_OUTBOX__{key.upper()}": str(value) for key, value in FAST_OUTBOX.items()})
    return env


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], ServeProcess]]:
    processes: list[ServeProcess] = []

    def start(env: dict[str, str]) -> ServeProcess:
        process = ServeProcess(env, tmp_path, tmp_path / f"serve-{len(processes) + 1}.log")
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.close()
