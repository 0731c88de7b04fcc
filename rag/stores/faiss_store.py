"""The embedded default store: FAISS for dense search, the in-process BM25 for lexical search.

Both live as files inside the snapshot (``faiss.index``, ``bm25.npz``, ``bm25_vocab.json``),
so a snapshot is complete on its own and swapping ``CURRENT`` swaps the store with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import IndexCorruptError
from ..lexical import BM25Index
from .base import CANDIDATES, RRF_K, BuildContext, Hit, StoreRow, rrf_fuse

# Past this many chunks exact search gets slow (22 ms at 44,500 chunks) and HNSW takes over:
# at efSearch 128 it keeps recall@10 ≥ 0.92 at 0.2 ms (bench/results/scale.md).
HNSW_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80  # FAISS's own examples use 40–80; 80 measured ≥ 0.92 recall@10
HNSW_EF_SEARCH = 128
FAISS_FILE = "faiss.index"


def make_faiss_index(vectors: np.ndarray, dim: int):
    """Exact inner-product search for small indexes, HNSW beyond ``HNSW_THRESHOLD`` chunks."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index, "hnsw-ip"
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index, "flat-ip"


class FaissStore:
    """A loaded FAISS + BM25 pair; row ``i`` is the snapshot's chunk ``i``."""

    kind = "faiss"
    # The dense ranking's weight in RRF for a question in the articles' language: character-bigram BM25
    # ranks better than e5 there. Tune split, 202 Chinese answerable questions (RAG_INDEX_DIR=index python
    # bench/fusion_weights.py, bench/results/fusion_weights.json): weight 1 / 0.5 / 0.25 / 0 gives R@1
    # 0.837 / 0.861 / 0.876 / 0.866, MRR 0.905 / 0.920 / 0.928 / 0.922; better in three of four batches.
    same_language_dense_weight = 0.25

    def __init__(self, faiss_index, bm25: BM25Index, chunk_ids: Sequence[str]) -> None:
        self.faiss_index = faiss_index
        self.bm25 = bm25
        self.chunk_ids = list(chunk_ids)

    def count(self) -> int:
        return len(self.chunk_ids)

    def dense_rows(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.count())
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self.faiss_index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]:
        ids, scores = self.dense_rows(vector, k)
        return [Hit(self.chunk_ids[i], float(s), dense_score=float(s)) for i, s in zip(ids.tolist(), scores.tolist())]

    def lexical_search(self, query: str, k: int) -> list[Hit]:
        ids, scores = self.bm25.search(query, k)
        return [Hit(self.chunk_ids[i], float(s), lexical_score=float(s)) for i, s in zip(ids.tolist(), scores.tolist())]

    def search(self, query, vector, k, *, fusion="rrf", candidates=CANDIDATES, dense_weight=1.0) -> list[Hit]:
        dense: dict[int, float] = {}
        rankings: list[list[int]] = []
        weights: list[float] = []
        if fusion in ("rrf", "dense"):
            ids, scores = self.dense_rows(vector, candidates)
            dense = dict(zip(ids.tolist(), scores.tolist()))
            rankings.append(ids.tolist())
            weights.append(dense_weight if fusion == "rrf" else 1.0)
        lexical: dict[int, float] = {}
        if fusion in ("rrf", "bm25"):
            ids, scores = self.bm25.search(query, candidates)
            lexical = dict(zip(ids.tolist(), scores.tolist()))
            rankings.append(ids.tolist())
            weights.append(1.0)
        fused = rrf_fuse(rankings, len(self.chunk_ids), RRF_K, weights)
        # ties by row, as before: stable whichever ranking named a chunk first
        order = sorted(fused, key=lambda pair: (-pair[1], pair[0]))[:k]
        return [Hit(self.chunk_ids[i], score, dense.get(i), lexical.get(i)) for i, score in order]

    def idf(self, term: str) -> float:
        return self.bm25.idf(term)


class FaissWriter:
    """Collects the rows of the next snapshot and writes FAISS + BM25 files at commit."""

    fresh = True  # FAISS files are rewritten whole: cheap next to embedding
    doc_ids: set[str] = set()

    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx

    def upsert(self, rows: Sequence[StoreRow]) -> None:
        """Nothing to do before commit: the files are written from the final rows."""

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Nothing to do before commit: removed documents are simply not written."""

    def commit(self, rows: Sequence[StoreRow]) -> tuple[dict, list[str]]:
        import faiss

        vectors = (np.vstack([r.vector for r in rows]).astype(np.float32) if rows
                   else np.zeros((0, self.ctx.dim), dtype=np.float32))
        dense, kind = make_faiss_index(vectors, self.ctx.dim)
        faiss.write_index(dense, str(self.ctx.staging / FAISS_FILE))
        files = [FAISS_FILE] + BM25Index.build([r.lexical_text for r in rows]).save(self.ctx.staging)
        return {"kind": "faiss", "faiss_type": kind}, files

    def abort(self) -> None:
        """The staging directory is discarded by the builder."""


class FaissBackend:
    kind = "faiss"

    def writer(self, ctx: BuildContext, previous=None) -> FaissWriter:
        return FaissWriter(ctx)

    def open(self, snapshot: Path, manifest, chunk_ids: Sequence[str]) -> FaissStore:
        import faiss

        fix = "请运行 `rag index --rebuild` 重建索引。"
        try:
            dense = faiss.read_index(str(Path(snapshot) / FAISS_FILE))
            if hasattr(dense, "hnsw"):
                dense.hnsw.efSearch = HNSW_EF_SEARCH
            bm25 = BM25Index.load(Path(snapshot))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorruptError(f"{snapshot} 中的 FAISS/BM25 文件无法读取（{exc}）。{fix}") from exc
        n = len(chunk_ids)
        if dense.ntotal != n or bm25.size != n:
            raise IndexCorruptError(
                f"{snapshot} 中的索引不一致（{n} 个片段，FAISS {dense.ntotal}，BM25 {bm25.size}）。{fix}"
            )
        if dense.d != manifest.dim:
            raise IndexCorruptError(f"FAISS 维度 {dense.d} 与清单中的 {manifest.dim} 不同。{fix}")
        return FaissStore(dense, bm25, chunk_ids)

    def describe(self) -> dict:
        return {"kind": "faiss"}
