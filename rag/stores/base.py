"""The vector-store seam: what the index needs from a search engine, as small Protocols.

A store holds one row per chunk (its id, document id, dense vector and lexical text) and
answers dense, lexical and hybrid queries. Building goes through a ``StoreWriter`` (add or
replace rows, delete whole documents, then ``commit``); answering goes through a
``VectorStore`` opened from a snapshot's manifest. Implementations register themselves in
``rag.stores.registry`` and are chosen once by ``RAG_VECTOR_STORE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

from ..schema import Chunk

# Reciprocal-rank-fusion constant: k = 60 from Cormack, Clarke & Büttcher (SIGIR 2009),
# also Milvus's RRFRanker default; `rag eval --compare` kept it.
RRF_K = 60
# Candidates each ranking contributes before fusion (chosen with `rag eval --compare`).
CANDIDATES = 50
FUSIONS = ("rrf", "dense", "bm25")


@dataclass(frozen=True)
class StoreRow:
    """One chunk as a store holds it."""

    chunk: Chunk
    vector: np.ndarray
    lexical_text: str  # what BM25 indexes: the embedded text (title + chunk)
    publication: str = ""

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class Hit:
    """A chunk found by a store: fused score plus the component scores it knows."""

    chunk_id: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None


@dataclass(frozen=True)
class BuildContext:
    """What a store needs to know to write the next snapshot."""

    index_dir: Path
    staging: Path  # the snapshot directory being written
    snapshot: str  # its final name
    embed_model: str
    dim: int
    rebuild: bool  # the user asked for a full rebuild: replace whatever the store holds
    fresh: bool = True  # write everything afresh (rebuild, first build, store switch, new chunking)


class VectorStore(Protocol):
    """A loaded, read-only search index over the chunks of one snapshot."""

    kind: str

    def count(self) -> int: ...

    # The dense ranking's weight in RRF for a question in the articles' language, measured for the
    # store's own lexical analyzer (rag.retrieval uses it; cross-lingual questions weigh both alike).
    same_language_dense_weight: float

    def search(self, query: str, vector: np.ndarray | None, k: int, *, fusion: str = "rrf",
               candidates: int = CANDIDATES, dense_weight: float = 1.0) -> list[Hit]:
        """Best ``k`` chunks: hybrid (``rrf``), ``dense`` or lexical (``bm25``) ranking. In ``rrf`` the
        dense ranking counts ``dense_weight`` times as much as the lexical one."""

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]: ...

    def lexical_search(self, query: str, k: int) -> list[Hit]: ...

    def idf(self, term: str) -> float:
        """BM25 idf of one lexical term (rag.lexical.tokenize), identical across stores."""


class StoreWriter(Protocol):
    """Writes a store for a new snapshot; nothing is visible to readers before ``commit``."""

    fresh: bool  # True when the writer starts empty (a rebuild): every row must be upserted
    doc_ids: set[str]  # documents the store holds already (empty when fresh)

    def upsert(self, rows: Sequence[StoreRow]) -> None: ...

    def delete_documents(self, doc_ids: Iterable[str]) -> None: ...

    def commit(self, rows: Sequence[StoreRow]) -> tuple[dict, list[str]]:
        """Finish: ``rows`` is the complete final content in snapshot order. Returns the
        manifest's store record and the snapshot files written (for checksums)."""

    def abort(self) -> None:
        """Undo what was written when the build fails before ``commit`` returned."""


class StoreBackend(Protocol):
    """A registered store implementation: opens writers and readers."""

    kind: str

    def writer(self, ctx: BuildContext, previous: "object | None") -> StoreWriter:
        """``previous`` is the live Index (or None); reuse it when it was written by this backend."""

    def open(self, snapshot: Path, manifest: "object", chunk_ids: Sequence[str]) -> VectorStore: ...

    def describe(self) -> dict:
        """Where the store lives, for the manifest and messages (never secrets)."""


def rrf_fuse(rankings: Sequence[Sequence], k: int, rrf_k: int = RRF_K,
             weights: Sequence[float] | None = None) -> list[tuple[object, float]]:
    """Weighted reciprocal rank fusion of several best-first id lists: an id at 0-based ``rank`` of list
    ``j`` scores ``weights[j] / (rrf_k + rank + 1)`` (weights default to 1, plain RRF); ties broken by
    first appearance."""
    fused: dict = {}
    order: dict = {}
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    for ranking, weight in zip(rankings, weights):
        for rank, cid in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + rank + 1)
            order.setdefault(cid, len(order))
    best = sorted(fused, key=lambda c: (-fused[c], order[c]))[:k]
    return [(c, fused[c]) for c in best]
