"""Hybrid retrieval: the store's dense and lexical rankings fused by weighted reciprocal rank.

The fusion runs where the store runs it (in Python for FAISS + BM25; in Milvus with
``RRFRanker(60)`` at equal weights, else in Python); this module embeds the query, weighs the
dense ranking by the question's language, asks the index and builds Passages.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import numpy as np

from .embedding import Embedder
from .embedding.cache import query_vector
from .glossary import Glossary, cedict_path
from .index import Index
from .schema import Passage
from .stores import CANDIDATES, FUSIONS, RRF_K
from .text import is_crosslingual


# Articles up to this many characters get their glossary built on the first English question (the
# sample's 0.3 M characters take about 2 s: jieba, pinyin and the dictionary); a larger index builds it in
# the background.
SYNC_GLOSSARY_CHARS = 1_000_000

# Weight of the dense ranking against the lexical one in RRF for a question in another language than the
# articles: its lexical query holds the glossary's names and dictionary words, and the two rankings count
# alike (tune, 22 English answerable questions, names only: R@5 0.727 at weight 1 against 0.545 at 0.25,
# bench/results/fusion_weights.json; 32, with two dictionary words a word: MRR 0.652 / 0.707 / 0.704 at
# 0.5 / 1 / 2).
# A question in the articles' language gets its store's own weight (``same_language_dense_weight``),
# which depends on the store's lexical analyzer.
CROSSLINGUAL_DENSE_WEIGHT = 1.0


class Retriever(Protocol):
    def retrieve(self, question: str, top_k: int = 5) -> list[Passage]: ...


class HybridRetriever:
    """``fusion`` selects ``"rrf"`` (dense + BM25), ``"dense"`` or ``"bm25"`` alone; the
    choice and the RRF constant were made with ``rag eval --compare``. ``dense_weight`` fixes the
    dense ranking's weight in RRF; by default it follows the question's language: the store's
    ``same_language_dense_weight`` for a Chinese question, ``CROSSLINGUAL_DENSE_WEIGHT`` otherwise."""

    def __init__(
        self, index: Index, embedder: Embedder, *, fusion: str = "rrf", rrf_k: int = RRF_K,
        candidates: int = CANDIDATES, dense_weight: float | None = None,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.dense_weight = dense_weight
        self._glossary: Glossary | None = None
        self._glossary_lock = threading.Lock()
        self._glossary_thread: threading.Thread | None = None

    def glossary(self) -> Glossary:
        """Chinese names for a question's pinyin and English names, built from the index's articles once
        (waits for the build)."""
        with self._glossary_lock:
            if self._glossary is None:
                self._glossary = Glossary.from_texts((d.text for d in self.index.documents.values()), cedict_path())
            return self._glossary

    def _ready_glossary(self) -> Glossary | None:
        """The glossary, built here for a small index; for a large one built in the background, so no
        question waits for it (None until it is ready)."""
        if self._glossary is not None:
            return self._glossary
        if sum(len(d.text) for d in self.index.documents.values()) <= SYNC_GLOSSARY_CHARS:
            return self.glossary()
        with self._glossary_lock:
            if self._glossary_thread is None:
                self._glossary_thread = threading.Thread(target=self.glossary, name="glossary", daemon=True)
                self._glossary_thread.start()
        return None

    def translation(self, question: str) -> list[str]:
        """For a question in another language, the Chinese names of its capitalised words (Laoshan → 崂山,
        Biocytogen → 百奥赛图) and the articles' words for its English ones (revenue → 收入); [] for a
        Chinese question, or while a large index's glossary is still being built."""
        if not is_crosslingual(question):
            return []
        glossary = self._ready_glossary()
        return glossary.expand(question) if glossary is not None else []

    def unknown_names(self, question: str) -> list[str]:
        """For a question in another language, its capitalised names the glossary cannot place (Nike, Etsy:
        ``Glossary.unknown_names``); [] for a Chinese question, or while a large index's glossary is built."""
        if not is_crosslingual(question):
            return []
        glossary = self._ready_glossary()
        return glossary.unknown_names(question) if glossary is not None else []

    def lexical_query(self, question: str) -> str:
        """The text BM25 searches: a question in another language with its ``translation``; a Chinese
        one as it is."""
        terms = self.translation(question)
        return f"{question} {' '.join(terms)}" if terms else question

    def weight_of_dense(self, question: str) -> float:
        """The dense ranking's weight in RRF for this question."""
        if self.dense_weight is not None:
            return self.dense_weight
        if is_crosslingual(question):
            return CROSSLINGUAL_DENSE_WEIGHT
        return float(getattr(self.index.store, "same_language_dense_weight", 1.0))

    def retrieve(self, question: str, top_k: int = 5, timings: dict | None = None) -> list[Passage]:
        """The ``top_k`` best passages; ``timings`` (if given) gets ms for "embed" and "search"."""
        t0 = time.perf_counter()
        qv = query_vector(self.embedder, question) if self.fusion != "bm25" else None
        t1 = time.perf_counter()
        lexical = self.lexical_query(question) if self.fusion != "dense" else question
        hits = self.index.store.search(lexical, qv, top_k, fusion=self.fusion, candidates=self.candidates,
                                       dense_weight=self.weight_of_dense(question))
        t2 = time.perf_counter()
        if timings is not None:
            timings["embed"] = (t1 - t0) * 1000
            timings["search"] = (t2 - t1) * 1000
        passages = []
        for h in hits:
            c = self.index.chunk(h.chunk_id)
            if c is None:  # the store moved ahead of this snapshot (a build is switching): skip
                continue
            dense = h.dense_score
            if dense is None and qv is not None and self.fusion == "rrf" and self.index.store.kind != "faiss":
                dense = float(np.dot(self.index.chunk_vector(h.chunk_id), qv))
            doc = self.index.documents[c.doc_id]
            passages.append(Passage(
                text=c.text, source=c.source, title=c.title, score=h.score, start=c.start,
                end=c.end, chunk_id=c.chunk_id, doc_id=c.doc_id, publication=doc.publication,
                dense_score=dense, lexical_score=h.lexical_score,
            ))
        return passages
