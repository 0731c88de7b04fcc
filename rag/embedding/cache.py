"""In-process vector caches shared by the stages that embed the same text.

One answer embeds its question once: retrieval and the answerability judge both ask
``query_vector``, so the second asks the cache (a query embedding is ~15 ms of a ~20–40 ms
extractive answer on this machine's CPU).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

QUERY_CACHE_SIZE = 512  # questions; 512 × 384 float32 ≈ 0.8 MB


class VectorLRU:
    """A thread-safe least-recently-used map from a text key to a vector."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: str, value: np.ndarray) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


def cache_key(embedder: Any, text: str) -> str:
    """Model id and text: two embedders of one model share entries, two models never do."""
    return f"{getattr(embedder, 'model_id', type(embedder).__name__)}\x1f{text}"


_queries = VectorLRU(QUERY_CACHE_SIZE)


def query_vector(embedder: Any, question: str) -> np.ndarray:
    """The query-side vector of ``question``, embedded once per process and model."""
    key = cache_key(embedder, "query: " + question)
    vector = _queries.get(key)
    if vector is None:
        vector = np.asarray(embedder.embed([question], query=True)[0], dtype=np.float32)
        _queries.put(key, vector)
    return vector


def clear_query_cache() -> None:
    """Forget every cached question vector (benchmarks time each question as a new one)."""
    with _queries.lock:
        _queries.data.clear()
