"""The shared pacing of robot webhooks (bot.webhook_pacing) with a fake clock and a recording platform: the sliding
minute, bursts merged within the platform's size limit, a full minute putting sends off with the seconds until it
frees, the platform's own limit error counting the minute full, and no send lost or answered twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.outbox import SendError
from bot.webhook_pacing import RateLimited, SendWindow, WebhookPacer


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Platform:
    """Records the messages posted; answers each with its number, or with the error queued for it."""

    def __init__(self, fits: int = 100) -> None:
        self.fits = fits  # how many messages fit in one post
        self.posted: list[str] = []
        self.errors: list[Exception] = []

    async def send(self, message: str) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.posted.append(message)
        return f"post {len(self.posted)}"

    def combine(self, messages: Sequence[str]) -> str | None:
        return " + ".join(messages) if len(messages) <= self.fits else None


def pacer(platform: Platform, clock: Clock, *, per_minute: int = 20,
          gather_seconds: float = 1.0) -> WebhookPacer[str, str]:
    return WebhookPacer("test robot 'alerts'", send=platform.send, combine=platform.combine, per_minute=per_minute,
                        gather_seconds=gather_seconds, clock=clock)


def test_the_window_counts_the_posts_of_the_last_minute_only() -> None:
    clock = Clock()
    window = SendWindow(3, clock)
    for _ in range(3):
        window.record()
        clock.now += 10

    assert window.room() == 0 and window.wait_seconds() == pytest.approx(30)
    clock.now += 30  # the first post is a minute old
    assert window.room() == 1 and window.wait_seconds() == 0
    window.record()
    assert window.wait_seconds() == pytest.approx(10)


def test_a_platform_limit_counts_the_window_full_for_a_whole_minute() -> None:
    clock = Clock()
    window = SendWindow(20, clock)
    window.record()
    clock.now += 50

    assert window.fill() == 60
    clock.now += 59
    assert window.room() == 0 and window.wait_seconds() == pytest.approx(1)
    clock.now += 1
    assert window.room() == 20


async def test_a_burst_goes_out_merged_and_every_sender_gets_the_post_that_carried_it() -> None:
    platform = Platform()
    robot = pacer(platform, Clock())

    results = await asyncio.gather(*(robot.post(f"alert {n}") for n in range(1, 6)))

    assert platform.posted == ["alert 1 + alert 2 + alert 3 + alert 4 + alert 5"]
    assert results == ["post 1"] * 5


async def test_a_burst_larger_than_one_message_goes_out_in_as_few_messages_as_fit() -> None:
    platform = Platform(fits=3)
    robot = pacer(platform, Clock())

    results = await asyncio.gather(*(robot.post(f"a{n}") for n in range(1, 8)))

    assert platform.posted == ["a1 + a2 + a3", "a4 + a5 + a6", "a7"]
    assert results == ["post 1"] * 3 + ["post 2"] * 3 + ["post 3"]


async def test_a_lone_send_to_a_busy_robot_waits_for_the_ones_handed_over_meanwhile() -> None:
    platform = Platform()
    robot = pacer(platform, Clock(), per_minute=4, gather_seconds=1.0)
    await robot.post("one")
    await robot.post("two")  # half the minute used

    first = asyncio.ensure_future(robot.post("three"))
    for _ in range(3):
        await asyncio.sleep(0)  # "three" is gathering
    assert platform.posted == ["one", "two"]
    results = await asyncio.gather(first, robot.post("four"))

    assert platform.posted == ["one", "two", "three + four"]
    assert results == ["post 3", "post 3"]


async def test_a_full_window_puts_sends_off_until_it_frees_without_posting() -> None:
    clock = Clock()
    platform = Platform()
    robot = pacer(platform, clock, per_minute=2)
    await robot.post("one")
    clock.now += 15
    await robot.post("two")
    clock.now += 5

    outcomes = await asyncio.gather(robot.post("three"), robot.post("four"), return_exceptions=True)

    assert platform.posted == ["one", "two"]
    for put_off in outcomes:
        assert isinstance(put_off, SendError) and put_off.transient
        assert put_off.retry_after == pytest.approx(40) and "waiting" in str(put_off)
    clock.now += 40
    assert await robot.post("three") == "post 3"


async def test_the_platforms_limit_error_fails_the_send_and_puts_the_next_off_for_the_minute() -> None:
    clock = Clock()
    platform = Platform()
    robot = pacer(platform, clock)
    platform.errors.append(RateLimited("test robot is sending too fast (errcode 130101)"))

    with pytest.raises(SendError) as refused:
        await robot.post("one")
    clock.now += 30
    with pytest.raises(SendError) as put_off:
        await robot.post("two")

    assert refused.value.transient and refused.value.retry_after == 60 and "130101" in str(refused.value)
    assert put_off.value.transient and put_off.value.retry_after == pytest.approx(30)
    assert platform.posted == []
    clock.now += 30
    assert await robot.post("two") == "post 1"


async def test_a_failed_post_fails_only_the_sends_it_carried() -> None:
    platform = Platform(fits=2)
    robot = pacer(platform, Clock())
    platform.errors.append(SendError("refused: errcode 93000", transient=False))
    platform.errors.append(ConnectionResetError("peer went away"))

    outcomes = await asyncio.gather(*(robot.post(f"a{n}") for n in range(1, 6)), return_exceptions=True)

    refused, refused_too, broken, broken_too, sent = outcomes
    assert isinstance(refused, SendError) and refused is refused_too and not refused.transient
    assert isinstance(broken, SendError) and broken is broken_too and broken.transient
    assert "ConnectionResetError" in str(broken) and "test robot 'alerts'" in str(broken)
    assert sent == "post 1" and platform.posted == ["a5"]


async def test_a_send_given_up_before_it_went_out_is_not_posted() -> None:
    platform = Platform()
    robot = pacer(platform, Clock(), per_minute=2, gather_seconds=1.0)
    await robot.post("one")  # half the minute used: a lone send gathers

    abandoned = asyncio.ensure_future(robot.post("two"))
    await asyncio.sleep(0)
    abandoned.cancel()
    kept = await robot.post("three")

    assert platform.posted == ["one", "three"] and kept == "post 2"
