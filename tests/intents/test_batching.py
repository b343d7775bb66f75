"""EncodeBatcher: concurrent encodes share one call of the model, each caller gets its own vectors, an error of the
model reaches every caller of its batch, and nobody waits for companions who are not coming."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from intents.batching import EncodeBatcher
from intents.embedders import Embedder

JOIN_GUARD_SECONDS = 60  # a hung batcher fails the test instead of hanging the suite; no duration is asserted


class GatedEmbedder:
    """Wraps a real embedder; records each call's texts, fails a call that contains `fail_on`, and (while `gate`
    is closed) holds the first call open so that the test can queue companions behind it."""

    def __init__(self, inner: Embedder, fail_on: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail_on = fail_on

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.entered.set()
        self.gate.wait(JOIN_GUARD_SECONDS)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"the model choked on {self.fail_on!r}")
        return self.inner.encode(texts)


def run_in_threads(batcher: EncodeBatcher, requests: list[list[str]], first_index: int = 0
                   ) -> list[threading.Thread]:
    """Start one thread per request; its outcome (vectors or exception) lands in `outcomes[first_index + i]`."""
    threads = []
    for i, texts in enumerate(requests, start=first_index):
        def call(texts: list[str] = texts, i: int = i) -> None:
            try:
                outcomes[i] = batcher.encode(texts)
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                outcomes[i] = exc
        threads.append(threading.Thread(target=call, daemon=True))
    for thread in threads:
        thread.start()
    return threads


outcomes: dict[int, object] = {}


def pending_texts(batcher: EncodeBatcher) -> int:
    """Texts queued behind the batch in progress."""
    with batcher._cond:
        return batcher._pending_texts


@pytest.fixture(autouse=True)
def _clear_outcomes() -> None:
    outcomes.clear()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + JOIN_GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the batcher never got there"
        time.sleep(0.001)


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(JOIN_GUARD_SECONDS)
        assert not thread.is_alive(), "a caller is still waiting"


def test_callers_queued_behind_a_batch_share_one_model_call_and_get_their_own_vectors(
        use_embedder: Embedder) -> None:
    model = GatedEmbedder(use_embedder)
    batcher = EncodeBatcher(model, max_batch=64, max_wait=0)
    first = run_in_threads(batcher, [["Where is my order?"]])
    model.entered.wait(JOIN_GUARD_SECONDS)
    requests = [["¿Dónde está mi pedido?"], ["Das Paket ist kaputt", "Ich will mein Geld zurück"],
                ["我的包裹在哪里"], ["Thanks, all good"], ["The lamp arrived broken"]]
    threads = run_in_threads(batcher, requests, first_index=1)
    wait_until(lambda: pending_texts(batcher) == 6)
    model.gate.set()
    join(first + threads)

    assert len(model.calls) == 2  # the first caller alone, then everyone who queued meanwhile in one call
    assert sorted(model.calls[1]) == sorted(text for texts in requests for text in texts)
    for i, texts in enumerate(requests, start=1):
        vectors = outcomes[i]
        assert isinstance(vectors, np.ndarray) and vectors.shape == (len(texts), 512)
        np.testing.assert_allclose(vectors, use_embedder.encode(texts), atol=1e-4)
    np.testing.assert_allclose(outcomes[0], use_embedder.encode(["Where is my order?"]), atol=1e-4)


def test_an_error_of_the_model_reaches_every_caller_of_that_batch_and_only_them(use_embedder: Embedder) -> None:
    model = GatedEmbedder(use_embedder, fail_on="boom")
    batcher = EncodeBatcher(model, max_batch=64, max_wait=0)
    first = run_in_threads(batcher, [["a calm first message"]])
    model.entered.wait(JOIN_GUARD_SECONDS)
    threads = run_in_threads(batcher, [["hello"], ["boom"], ["where is my parcel"]], first_index=1)
    wait_until(lambda: pending_texts(batcher) == 3)
    model.gate.set()
    join(first + threads)

    assert isinstance(outcomes[0], np.ndarray)  # its batch did not contain the bad text
    for i in (1, 2, 3):
        assert isinstance(outcomes[i], RuntimeError) and "boom" in str(outcomes[i])
    # The batcher still works after a failed batch.
    np.testing.assert_allclose(batcher.encode(["hello"]), use_embedder.encode(["hello"]), atol=1e-4)


def test_a_lone_caller_does_not_wait_for_companions_beyond_max_wait(use_embedder: Embedder) -> None:
    batcher = EncodeBatcher(use_embedder, max_batch=64, max_wait=0.01)
    threads = run_in_threads(batcher, [["just me"]])
    join(threads)
    np.testing.assert_allclose(outcomes[0], use_embedder.encode(["just me"]), atol=1e-4)
    assert batcher.batches == 1


def test_a_full_batch_goes_at_once_and_a_big_request_goes_straight_to_the_model(use_embedder: Embedder) -> None:
    # max_wait of an hour: the callers only finish because a full batch does not wait for more companions.
    batcher = EncodeBatcher(use_embedder, max_batch=4, max_wait=3600)
    join(run_in_threads(batcher, [["one"], ["two"], ["three"], ["four"]]))
    for i, text in enumerate(["one", "two", "three", "four"]):
        np.testing.assert_allclose(outcomes[i], use_embedder.encode([text]), atol=1e-4)

    catalogue = ["where is my order", "refund please", "the item is broken", "hello", "thanks"]
    np.testing.assert_allclose(batcher.encode(catalogue), use_embedder.encode(catalogue), atol=1e-4)
    assert batcher.encode([]).shape == (0, 512)


def test_bad_settings_are_refused(use_embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        EncodeBatcher(use_embedder, max_batch=0)
    with pytest.raises(ValueError, match="max_wait"):
        EncodeBatcher(use_embedder, max_wait=-1)
