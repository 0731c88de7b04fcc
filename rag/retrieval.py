"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import time
from typing import Protocol

from .embedding import Embedder
from .index import Index
from .schema import Passage


class Retriever(Protocol):
    def retrieve(self, question: str, top_k: int = 5) -> list[Passage]: ...


class HybridRetriever:
    """Fuses the dense and the BM25 ranking with reciprocal rank fusion (RRF).

    ``fusion`` selects ``"rrf"`` (both), ``"dense"`` or ``"bm25"`` alone; the
    choice and ``rrf_k`` were made with ``rag eval --compare``.
    """

    def __init__(
        self, index: Index, embedder: Embedder, *, fusion: str = "rrf", rrf_k: int = 60,
        candidates: int = 50, dense_weight: float = 1.0, lexical_weight: float = 1.0,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight

    def retrieve(self, question: str, top_k: int = 5, timings: dict | None = None) -> list[Passage]:
        """The ``top_k`` best passages; ``timings`` (if given) gets ms for "embed" and "search"."""
        t0 = time.perf_counter()
        dense: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        if self.fusion in ("rrf", "dense"):
            qv = self.embedder.embed([question], query=True)[0]
            t1 = time.perf_counter()
            ids, scores = self.index.search_dense(qv, self.candidates)
            for rank, (i, s) in enumerate(zip(ids.tolist(), scores.tolist())):
                dense[i], dense_rank[i] = s, rank
        else:
            t1 = time.perf_counter()
        lexical: dict[int, float] = {}
        lexical_rank: dict[int, int] = {}
        if self.fusion in ("rrf", "bm25"):
            ids, scores = self.index.bm25.search(question, self.candidates)
            for rank, (i, s) in enumerate(zip(ids.tolist(), scores.tolist())):
                lexical[i], lexical_rank[i] = s, rank

        fused: dict[int, float] = {}
        for i, r in dense_rank.items():
            fused[i] = fused.get(i, 0.0) + self.dense_weight / (self.rrf_k + r + 1)
        for i, r in lexical_rank.items():
            fused[i] = fused.get(i, 0.0) + self.lexical_weight / (self.rrf_k + r + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:top_k]
        t2 = time.perf_counter()
        if timings is not None:
            timings["embed"] = (t1 - t0) * 1000
            timings["search"] = (t2 - t1) * 1000

        passages = []
        for i in order:
            c = self.index.chunks[i]
            doc = self.index.documents[c.doc_id]
            passages.append(Passage(
                text=c.text, source=c.source, title=c.title, score=fused[i], start=c.start,
                end=c.end, chunk_id=c.chunk_id, doc_id=c.doc_id, publication=doc.publication,
                dense_score=dense.get(i), lexical_score=lexical.get(i),
            ))
        return passages
