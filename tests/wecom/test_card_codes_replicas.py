"""WeCom template card response codes across replicas (bot.card_update_codes): a click that reached one replica's
callback serves the card update another replica sends, every code is spent once whichever replica spends it, and a
transient failure leaves the code for the retry. Two senders over one database against the fake WeCom, SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from adapters.wecom.client import WeComApi
from adapters.wecom.robots import GroupRobots
from adapters.wecom.sender import CHANNEL, Recipients, WeComCardSender
from bot.card_update_codes import CardUpdateCodes
from bot.messages import Card, CardField
from bot.outbox import SendError
from models.db import create_db_engine
from tests.fakes.wecom import FakeWeCom
from tests.wecom.test_wecom_sender import TRIAGE, item

RESOLVED = Card(kind="triage", title="Ticket #7 · resolved", ticket_id=7, fields=(CardField("Status", "resolved"),))


def replica_sender(fake: FakeWeCom, engine: Engine) -> WeComCardSender:
    """One replica's WeCom sender: its own API client, the response codes in the shared database."""
    api = WeComApi(fake.corp_id, fake.secret, api_url=fake.api_url, timeout=5)
    robots = GroupRobots({}, webhook_url=fake.api_url + "webhook/send", per_minute=20, timeout=5, merged_title=str)
    return WeComCardSender(api, robots, agent_id=fake.agent_id, default=Recipients("zhangsan|lisi"), language="zh",
                           timezone=ZoneInfo("Asia/Shanghai"), codes=CardUpdateCodes(engine, CHANNEL))


async def test_a_click_received_by_one_replica_updates_the_card_from_the_other(
    fake_wecom: FakeWeCom, engine: Engine,
) -> None:
    first, second = replica_sender(fake_wecom, engine), replica_sender(fake_wecom, engine)
    ref = await first.send(item(TRIAGE))
    assert ref is not None
    task = ref.split(":")[1]
    assert await first.send(item(RESOLVED, "card_update", ref)) == ref  # the posting code, spent
    first.remember_code(task, fake_wecom.click_code(task))  # a click: WeCom called the first replica back

    assert await second.send(item(RESOLVED, "card_update", ref)) == ref  # the click's code, from the other replica
    again = await first.send(item(RESOLVED, "card_update", ref))  # both spent: a new message instead

    assert len(fake_wecom.cards[task].versions) == 3  # posted, then updated in place twice
    assert again is not None and again.startswith("msg:")
    assert [c.errcode for c in fake_wecom.calls("message/update_template_card")] == [0, 0]  # no spent code tried


async def test_a_transient_failure_keeps_the_code_for_the_retry_from_any_replica(
    fake_wecom: FakeWeCom, engine: Engine,
) -> None:
    first, second = replica_sender(fake_wecom, engine), replica_sender(fake_wecom, engine)
    ref = await first.send(item(TRIAGE))
    assert ref is not None
    task = ref.split(":")[1]
    fake_wecom.fail("message/update_template_card", -1)  # WeCom busy

    try:
        await first.send(item(RESOLVED, "card_update", ref))
    except SendError as exc:
        assert exc.transient
    else:
        raise AssertionError("a busy WeCom must fail the update transiently")
    assert await second.send(item(RESOLVED, "card_update", ref)) == ref  # the retry, wherever it runs

    assert len(fake_wecom.cards[task].versions) == 2


def test_replicas_taking_a_cards_codes_at_once_spend_each_once(migrated_url: str) -> None:
    setup = create_db_engine(migrated_url)
    codes = CardUpdateCodes(setup, CHANNEL)
    for n in range(3):
        codes.remember("kefu-t7-1", f"rc-click-{n}")
    threads = 8
    taken: list[str | None] = []
    start = threading.Barrier(threads)

    def replica() -> None:
        engine = create_db_engine(migrated_url)
        try:
            start.wait()
            taken.append(CardUpdateCodes(engine, CHANNEL).take("kefu-t7-1", "rc-posted"))
        finally:
            engine.dispose()

    workers = [threading.Thread(target=replica) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    setup.dispose()

    spent = [code for code in taken if code is not None]
    assert len(taken) == threads
    assert sorted(spent) == ["rc-click-0", "rc-click-1", "rc-click-2", "rc-posted"]  # four codes, each once
