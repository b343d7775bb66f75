"""`kefu serve` as a real process: replies survive a SIGKILL, SIGTERM stops it cleanly, a PostgreSQL database
behind the latest schema stops it at start with a one-line error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.db import create_db_engine, is_sqlite
from models.tables import OutboxItem
from tests.e2e.conftest import API_TOKEN, ROOT, ServeProcess, wait_until
from tests.fakes.callback_server import CallbackServer

pytestmark = pytest.mark.slow


async def _post(process: ServeProcess, body: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(
        process.url + "/api/v1/messages", json=body, headers={"Authorization": f"Bearer {API_TOKEN}"}
    ) as response:
        assert response.status == 202, await response.text()
        return dict(await response.json())


async def test_replies_pending_when_kefu_is_killed_are_delivered_once_after_a_restart(
    serve_env: dict[str, str], serve_process: Any, migrated_url: str
) -> None:
    async with CallbackServer(secret=serve_env["KEFU_API_SECRET"]) as callback:
        customers = ["kill-a", "kill-b"]
        callback.hang_next(120)  # the first send hangs: kefu dies in the middle of it, the other still waits
        env = {**serve_env, "KEFU_WEBHOOK_CALLBACK_URL": callback.url, "KEFU_OUTBOX__SEND_TIMEOUT_SECONDS": "90"}
        first = serve_process(env)
        await first.wait_ready()
        for n, customer in enumerate(customers):
            answer = await _post(first, {"channel_message_id": f"kill-{n}", "customer": {"id": customer},
                                         "text": "¿cuánto tarda el envío?"})
            assert answer["action"] == "auto_replied"
        await wait_until(lambda: callback.requests, "a send to be in flight")

        first.kill()

        second = serve_process(env)  # the callback now answers at once
        await second.wait_ready()
        await wait_until(lambda: len(callback.received) == len(customers), "the replies after the restart")

        engine = create_db_engine(migrated_url)
        try:
            def all_sent() -> bool:
                with Session(engine) as session:
                    items = session.scalars(select(OutboxItem).where(OutboxItem.kind == "reply")).all()
                    return len(items) == len(customers) and all(i.status == "sent" for i in items)

            await wait_until(all_sent, "the replies to be recorded as sent")
        finally:
            engine.dispose()
        assert sorted(r["conversation_id"] for r in callback.received) == customers
        assert all(r["language"] == "es" for r in callback.received)
        assert second.terminate() == 0  # SIGTERM: a clean stop
        assert '"msg": "stopped"' in second.output()


async def test_log_lines_are_json_with_the_request_id(serve_env: dict[str, str], serve_process: Any) -> None:
    process = serve_process(serve_env)
    await process.wait_ready()
    async with aiohttp.ClientSession() as session, session.post(
        process.url + "/api/v1/messages",
        json={"channel_message_id": "log-1", "customer": {"id": "log-c"}, "text": "my parcel arrived broken"},
        headers={"Authorization": f"Bearer {API_TOKEN}", "X-Request-Id": "req-log-1"},
    ) as response:
        assert response.status == 202
    assert process.terminate() == 0
    lines = [json.loads(line) for line in process.output().splitlines() if line.startswith("{")]
    assert lines, process.output()
    assert all({"ts", "level", "logger", "msg", "request_id"} <= set(line) for line in lines)
    traced = [line for line in lines if line["request_id"] == "req-log-1"]
    assert {line["logger"] for line in traced} >= {"kefu.pipeline", "kefu.app"}
    assert not any("my parcel arrived broken" in line["msg"] for line in lines)  # no message bodies at info
    assert not any(API_TOKEN in json.dumps(line) for line in lines)
    assert any(line["msg"].startswith("channels: webhook, webchat (customers); team: console;") for line in lines)


def test_an_outdated_postgresql_schema_stops_kefu_with_a_one_line_error(database_url: str, tmp_path: Path) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite is migrated automatically at start")
    env = {"KEFU_DATABASE_URL": database_url, "KEFU_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "18080"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    error_lines = result.stderr.strip().splitlines()
    assert error_lines[-1].startswith("kefu: database postgresql+psycopg://")
    assert error_lines[-1].endswith("is not at the latest schema: run `kefu db upgrade` first")
    assert "Traceback" not in result.stderr


def test_an_sqlite_database_is_migrated_at_start(tmp_path: Path) -> None:
    from bot.app import Kefu
    from bot.settings import Settings
    from models.migrate import is_at_head

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    Kefu(Settings(database_url=url, var_dir=tmp_path / "var", api_token="t")).prepare()
    assert is_at_head(url)
