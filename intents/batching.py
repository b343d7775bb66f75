"""Micro-batching of encodes across threads: `EncodeBatcher` wraps an embedder so that concurrent callers share
one call of the model.

Encoding one short message costs nearly as much as encoding a dozen together (the model streams its weights once
per call), so when several threads encode at the same moment — the inbound API ingests messages on a pool of
threads — one of them (the leader) waits a moment for companions (at most `max_wait` seconds, or until
`max_batch` texts are pending), encodes every pending text in one call and hands each caller its own rows. Texts
that arrive while a batch is being encoded form the next batch. A lone caller waits `max_wait` at most; a request
of `max_batch` texts or more (a catalogue) is encoded directly. An error of the model reaches every caller whose
texts were in that batch, and no one else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from intents.embedders import Embedder

DEFAULT_MAX_BATCH = 32
DEFAULT_MAX_WAIT_SECONDS = 0.002


@dataclass
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class EncodeBatcher:
    """An `Embedder` that coalesces concurrent `encode` calls into batches for `inner` (see the module docstring)."""

    def __init__(self, inner: Embedder, *, max_batch: int = DEFAULT_MAX_BATCH,
                 max_wait: float = DEFAULT_MAX_WAIT_SECONDS) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait < 0:
            raise ValueError(f"max_wait must be 0 or more seconds, got {max_wait}")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batches = 0  # inner calls made for coalesced requests (tests and benchmarks read it)
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._pending_texts = 0
        self._leading = False

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) >= self.max_batch:
            return self.inner.encode(list(texts))
        request = _Request(list(texts))
        with self._cond:
            self._pending.append(request)
            self._pending_texts += len(request.texts)
            if self._pending_texts >= self.max_batch:
                self._cond.notify_all()  # a leader waiting for companions can go now
            while not request.done:
                if self._leading:
                    self._cond.wait()
                    continue
                self._lead()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _lead(self) -> None:
        """Gather companions for up to `max_wait`, then encode everything pending (called holding the lock)."""
        self._leading = True
        try:
            deadline = time.monotonic() + self.max_wait
            while self._pending_texts < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, self._pending, self._pending_texts = self._pending, [], 0
            self._cond.release()
            try:
                self._encode_batch(batch)
            finally:
                self._cond.acquire()
        finally:
            self._leading = False
            self._cond.notify_all()  # the callers served, and a waiting caller may lead the next batch

    def _encode_batch(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        try:
            vectors = np.asarray(self.inner.encode(texts), dtype=np.float32)
            if vectors.shape[0] != len(texts):
                raise RuntimeError(f"the embedder returned {vectors.shape[0]} vectors for {len(texts)} texts")
        except BaseException as exc:
            for request in batch:
                request.error, request.done = exc, True
            return
        finally:
            self.batches += 1
        start = 0
        for request in batch:
            end = start + len(request.texts)
            request.vectors, request.done = vectors[start:end], True
            start = end
