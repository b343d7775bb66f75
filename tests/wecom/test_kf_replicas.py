"""微信客服 pulls across replicas: one pull of an account at a time over the shared database. A callback that reaches
a second replica while the first is pulling hands its pull over (the first reads once more, with that callback's
token), a lapsed claim is taken over and the lapsed pull can no longer move the cursor back, and threads that
claim at once get one claim between them. SQLite and PostgreSQL; the real wechatpy client against the fake WeCom."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.wecom.kf import CHANNEL, PULL_LEASE, WeComKfChannel, claim_pull, finish_pull, save_cursor
from bot.messages import Inbound, IngestResult
from bot.settings import Settings, WeComSettings
from models.db import create_db_engine, utcnow
from models.tables import ChannelCursor
from tests.fakes.wecom import FakeWeCom
from tests.wecom.conftest import AES_KEY, TOKEN


@dataclass
class RecordingPipeline:
    """A replica's pipeline as far as these tests look: which messages it was handed. `gate`, when set, holds the
    first message until the test opens it, so that another replica's callback arrives mid-pull."""

    gate: asyncio.Event | None = None
    handed: list[str] = field(default_factory=list)
    holding: asyncio.Event = field(default_factory=asyncio.Event)

    async def ingest(self, inbound: Inbound) -> IngestResult:
        self.handed.append(inbound.channel_message_id)
        if self.gate is not None and not self.gate.is_set():
            self.holding.set()
            await self.gate.wait()
        return IngestResult(ticket_id=1, message_id=len(self.handed), intent="order_status", confidence=0.9,
                            language=None, action="suggested")


@dataclass
class Replica:
    settings: Settings
    engine: Engine
    pipeline: RecordingPipeline


@pytest.fixture
async def replicas(engine: Engine, fake_wecom: FakeWeCom) -> AsyncIterator[list[tuple[WeComKfChannel, Replica]]]:
    wecom = WeComSettings(corp_id=fake_wecom.corp_id, kf_secret=fake_wecom.kf_secret, token=TOKEN, aes_key=AES_KEY,
                          api_url=fake_wecom.api_url)
    made = []
    for gate in (asyncio.Event(), None):
        core = Replica(Settings(), engine, RecordingPipeline(gate))
        made.append((WeComKfChannel(wecom, core), core))
    yield made
    for channel, _core in made:
        await channel.close()


def saved(engine: Engine, key: str) -> ChannelCursor:
    with Session(engine) as session:
        return session.scalars(select(ChannelCursor).where(ChannelCursor.channel == CHANNEL,
                                                           ChannelCursor.key == key)).one()


async def test_a_callback_at_another_replica_mid_pull_is_read_by_the_pull_in_progress(
    replicas: list[tuple[WeComKfChannel, Replica]], fake_wecom: FakeWeCom, engine: Engine,
) -> None:
    (first, first_core), (second, second_core) = replicas
    one, _ = fake_wecom.customer_writes("wx-ana", "¿dónde está mi pedido?")
    two, token = fake_wecom.customer_writes("wx-li", "where is my parcel?")
    pulling = asyncio.create_task(first.pull(fake_wecom.open_kfid, token))
    await first_core.pipeline.holding.wait()  # the first replica is ingesting the page it read

    three, later_token = fake_wecom.customer_writes("wx-mei", "Wo ist mein Paket?")
    handed_over = await second.pull(fake_wecom.open_kfid, later_token)
    assert first_core.pipeline.gate is not None
    first_core.pipeline.gate.set()
    read = await pulling

    assert handed_over == 0 and second_core.pipeline.handed == []  # the second replica read nothing itself
    assert read == 3 and first_core.pipeline.handed == [one, two, three]  # each message handed over once
    pulls = [(call.body["cursor"], call.body["token"]) for call in fake_wecom.calls("kf/sync_msg")]
    assert pulls == [("", token), ("cur-2", later_token)]  # once more, from the saved cursor, with its token
    row = saved(engine, fake_wecom.open_kfid)
    assert (row.cursor, row.claimed_by, row.pull_again) == ("cur-3", None, False)  # read to the end, let go


async def test_once_a_pull_has_let_go_the_next_callback_pulls_wherever_it_arrives(
    replicas: list[tuple[WeComKfChannel, Replica]], fake_wecom: FakeWeCom, engine: Engine,
) -> None:
    (first, first_core), (second, second_core) = replicas
    assert first_core.pipeline.gate is not None
    first_core.pipeline.gate.set()
    one, token = fake_wecom.customer_writes("wx-ana", "¿dónde está mi pedido?")
    assert await first.pull(fake_wecom.open_kfid, token) == 1

    two, token = fake_wecom.customer_writes("wx-ana", "¿hola?")
    assert await second.pull(fake_wecom.open_kfid, token) == 1

    assert (first_core.pipeline.handed, second_core.pipeline.handed) == ([one], [two])
    assert saved(engine, fake_wecom.open_kfid).cursor == "cur-2"


def test_a_lapsed_claim_is_taken_over_and_the_lapsed_pull_cannot_move_the_cursor_back(engine: Engine) -> None:
    now = utcnow()
    assert claim_pull(engine, "wk-1", "replica-a:1", "token-1", now) == ""
    assert save_cursor(engine, "wk-1", "cur-5", "replica-a:1", now)
    assert claim_pull(engine, "wk-1", "replica-b:1", "token-2", now + PULL_LEASE / 2) is None  # asked again

    later = now + PULL_LEASE + timedelta(seconds=1)  # replica a stopped renewing (it died, or hangs)
    assert claim_pull(engine, "wk-1", "replica-b:2", "token-3", later) == "cur-5"
    assert save_cursor(engine, "wk-1", "cur-9", "replica-b:2", later)

    assert not save_cursor(engine, "wk-1", "cur-7", "replica-a:1", later)  # a's page came late: not saved
    assert finish_pull(engine, "wk-1", "replica-a:1", later) is None
    assert saved(engine, "wk-1").cursor == "cur-9"
    assert finish_pull(engine, "wk-1", "replica-b:2", later) is None  # nobody asked since b claimed: let go
    assert saved(engine, "wk-1").claimed_by is None


def test_threads_claiming_one_account_at_once_get_one_claim(migrated_url: str) -> None:
    threads = 8
    now = utcnow()
    outcomes: list[Any] = []
    start = threading.Barrier(threads)

    def replica(n: int) -> None:
        engine = create_db_engine(migrated_url)
        try:
            start.wait()
            outcomes.append(claim_pull(engine, "wk-1", f"replica-{n}", f"token-{n}", now))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=replica, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes, key=repr) == [""] + [None] * (threads - 1)
    engine = create_db_engine(migrated_url)
    try:
        row = saved(engine, "wk-1")
        assert row.claimed_by is not None and row.pull_again  # the others asked the claimant to read once more
        again = finish_pull(engine, "wk-1", row.claimed_by, now)
        assert again is not None and again[0] == ""
    finally:
        engine.dispose()
