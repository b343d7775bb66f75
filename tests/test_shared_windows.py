"""Windows that replicas share through the database (bot.shared_windows): two robot pacers over one database, as two
`kefu serve` replicas posting through one robot, never exceed its 20 posts a minute together and honour each
other's platform limit errors; two console login throttles lock a name out after their combined failures; threads,
each with its own engine as a replica has, never take more places than a window has. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy.engine import Engine

from adapters.webchat.console_auth import LoginThrottle
from bot.outbox import SendError
from bot.shared_windows import SharedWindows
from bot.webhook_pacing import RateLimited, SharedSendWindow, WebhookPacer
from models.db import create_db_engine


class Clock:
    """Wall-clock seconds that move only when a test moves them (every replica reads the same clock)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Robot:
    """What one robot received, whichever replica posted it; answers each post with its number."""

    def __init__(self) -> None:
        self.posted: list[str] = []
        self.errors: list[Exception] = []

    async def send(self, message: str) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.posted.append(message)
        return f"post {len(self.posted)}"

    @staticmethod
    def combine(messages: Sequence[str]) -> str:
        return " + ".join(messages)


def replica_pacer(engine: Engine, robot: Robot, clock: Clock, per_minute: int = 20) -> WebhookPacer[str, str]:
    """One replica's pacer of the robot "alerts": its own window object over the shared database row."""
    window = SharedSendWindow(engine, "wecom_robot", "alerts", per_minute, clock)
    return WebhookPacer("WeCom robot 'alerts'", send=robot.send, combine=robot.combine, per_minute=per_minute,
                        gather_seconds=0.01, window=window)


async def test_two_replicas_posting_through_one_robot_stay_within_its_minute_together(engine: Engine) -> None:
    robot, clock = Robot(), Clock()
    first, second = replica_pacer(engine, robot, clock), replica_pacer(engine, robot, clock)

    put_off: list[SendError] = []
    for n in range(15):
        for name, replica in (("a", first), ("b", second)):
            try:
                await replica.post(f"{name}{n}")
            except SendError as exc:
                put_off.append(exc)

    assert len(robot.posted) == 20  # 10 from each replica, then the minute is full for both
    assert len(put_off) == 10
    for error in put_off:
        assert error.transient and error.retry_after == pytest.approx(60)
    clock.now += 60  # the first posts are a minute old
    assert await second.post("b-later") == "post 21"


async def test_the_platforms_limit_error_seen_by_one_replica_puts_the_others_posts_off(engine: Engine) -> None:
    robot, clock = Robot(), Clock()
    first, second = replica_pacer(engine, robot, clock), replica_pacer(engine, robot, clock)
    robot.errors.append(RateLimited("WeCom rate-limited the message (errcode 45009)"))

    with pytest.raises(SendError) as refused:
        await first.post("one")
    clock.now += 20
    with pytest.raises(SendError) as put_off:
        await second.post("two")

    assert refused.value.retry_after == 60 and "45009" in str(refused.value)
    assert put_off.value.transient and put_off.value.retry_after == pytest.approx(40)
    assert robot.posted == []
    clock.now += 40
    assert await second.post("two") == "post 1"


async def test_a_robot_of_another_platform_or_name_has_its_own_minute(engine: Engine) -> None:
    clock = Clock()
    full = SharedSendWindow(engine, "wecom_robot", "alerts", 1, clock)
    assert full.claim() == 0 and full.claim() == pytest.approx(60)

    for other in (SharedSendWindow(engine, "dingtalk_robot", "alerts", 1, clock),
                  SharedSendWindow(engine, "wecom_robot", "ops", 1, clock)):
        assert other.room() == 1 and other.claim() == 0


async def test_two_replicas_lock_a_name_out_after_their_combined_failed_logins(engine: Engine) -> None:
    clock = Clock()
    first, second = LoginThrottle(engine, clock=clock), LoginThrottle(engine, clock=clock)

    for throttle in (first, second, first, second, first):  # five wrong passwords, spread over both replicas
        assert await throttle.attempt("203.0.113.9", "amira") is None
        clock.now += 10

    for throttle in (first, second):
        wait = await throttle.attempt("203.0.113.9", "Amira")  # the name's case does not matter
        assert wait == pytest.approx(300 - 50)
    assert await second.attempt("203.0.113.9", "jonas") is None  # another name is not locked out
    assert await second.attempt("198.51.100.4", "amira") is None  # nor the name from another address
    clock.now += 250  # the first failure is five minutes old
    assert await second.attempt("203.0.113.9", "amira") is None


async def test_a_right_password_clears_the_failures_and_an_attempt_that_was_no_guess_is_taken_back(
    engine: Engine,
) -> None:
    clock = Clock()
    first, second = LoginThrottle(engine, clock=clock), LoginThrottle(engine, clock=clock)
    for _ in range(4):
        assert await first.attempt("203.0.113.9", "amira") is None
    assert await second.attempt("203.0.113.9", "amira") is None
    await second.withdraw("203.0.113.9", "amira")  # the two new passwords differed: no password was checked
    assert await first.attempt("203.0.113.9", "amira") is None  # still the fifth
    assert await first.attempt("203.0.113.9", "amira") is not None

    await second.succeeded("198.51.100.4", "amira")  # a login elsewhere does not unlock this address
    assert await first.attempt("203.0.113.9", "amira") is not None
    clock.now += 300
    assert await first.attempt("203.0.113.9", "amira") is None
    await second.succeeded("203.0.113.9", "amira")
    for _ in range(5):
        assert await first.attempt("203.0.113.9", "amira") is None


def test_quiet_login_windows_are_deleted_and_busy_ones_kept(engine: Engine) -> None:
    clock = Clock()
    windows = SharedWindows(engine, "console_login", limit=5, seconds=300, clock=clock)
    robots = SharedWindows(engine, "wecom_robot", limit=20, seconds=60, clock=clock)
    windows.claim("quiet")
    robots.claim("alerts")
    clock.now += 200
    windows.claim("busy")
    clock.now += 101

    assert windows.prune() == 1  # "quiet" only: "busy" is within its window, the robot is another scope
    assert windows.room("busy") == 4 and windows.room("quiet") == 5
    assert robots.prune() == 1


def test_threads_each_with_its_own_engine_never_take_more_places_than_the_window_has(migrated_url: str) -> None:
    clock = Clock()
    threads, attempts, limit = 8, 6, 20
    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def replica() -> None:
        engine = create_db_engine(migrated_url)
        windows = SharedWindows(engine, "wecom_robot", limit=limit, seconds=60, clock=clock)
        try:
            start.wait()
            mine = sum(1 for _ in range(attempts) if windows.claim("alerts") == 0)
            taken.append(mine)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=replica) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert sum(taken) == limit  # 48 tries for 20 places: exactly 20 taken, never 21
    engine = create_db_engine(migrated_url)
    try:
        assert SharedWindows(engine, "wecom_robot", limit=limit, seconds=60, clock=clock).room("alerts") == 0
    finally:
        engine.dispose()
