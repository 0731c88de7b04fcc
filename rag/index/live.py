"""The loaded live index: documents, chunks, their vectors, sentence vectors and a vector store.

``load_index`` verifies a snapshot (manifest, settings, checksums, consistency) and opens the
store its manifest names; it never returns an index it cannot vouch for.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..config import ChunkSettings
from ..errors import IndexCorruptError
from ..schema import Chunk, Document
from ..stores import Hit, VectorStore, make_backend
from .manifest import Manifest, check_compatible, read_snapshot_manifest
from .snapshots import REBUILD_HINT, current_snapshot, sha256_file
from .vectors import vector_key

DOCUMENTS_FILE = "documents.jsonl"
CHUNKS_FILE = "chunks.jsonl"
VECTORS_FILE = "vectors.npy"
SENTENCE_VECTORS_FILE = "sentences.npy"
SENTENCE_KEYS_FILE = "sentences.json"


@dataclass
class Index:
    """A loaded snapshot, read-only and shared by every request."""

    directory: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    store: VectorStore
    sentence_keys: dict[str, int] = field(default_factory=dict)  # vector_key → row of sentence_matrix
    sentence_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    def __post_init__(self) -> None:
        self.rows = {c.chunk_id: i for i, c in enumerate(self.chunks)}

    @property
    def size(self) -> int:
        return len(self.chunks)

    # -- what the answer pipeline reads

    def idf(self, term: str) -> float:
        """BM25 idf of one lexical term (``rag.lexical.tokenize``); 0 for unknown terms."""
        return self.store.idf(term)

    def sentence_vectors(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Stored passage-side embeddings of titles and sentences, by exact text; None where not stored."""
        out: list[np.ndarray | None] = []
        model = self.manifest.embed_model
        for t in texts:
            row = self.sentence_keys.get(vector_key(model, t))
            out.append(None if row is None else self.sentence_matrix[row])
        return out

    def chunk(self, chunk_id: str) -> Chunk | None:
        row = self.rows.get(chunk_id)
        return None if row is None else self.chunks[row]

    def chunk_vector(self, chunk_id: str) -> np.ndarray | None:
        row = self.rows.get(chunk_id)
        return None if row is None else self.vectors[row]

    def search(self, query: str, vector: np.ndarray | None, k: int, *, fusion: str = "rrf") -> list[Hit]:
        """The store's best ``k`` chunks for a query (text and, unless ``bm25``, its vector)."""
        return self.store.search(query, vector, k, fusion=fusion)

    # -- compatibility with the FAISS-only index (bench scripts, older callers)

    @property
    def bm25(self):
        """The in-process BM25 of the FAISS store (other stores have none: use ``idf``)."""
        return getattr(self.store, "bm25", None)

    @property
    def faiss_index(self):
        return getattr(self.store, "faiss_index", None)

    def search_dense(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        hits = self.store.dense_search(query_vector, k)
        rows = np.array([self.rows[h.chunk_id] for h in hits if h.chunk_id in self.rows], dtype=np.int64)
        scores = np.array([h.score for h in hits if h.chunk_id in self.rows], dtype=np.float32)
        return rows, scores

    # -- listing

    def articles(self) -> list[dict]:
        """One row per article: title, file, chunk count, when its file was indexed."""
        counts = Counter(c.doc_id for c in self.chunks)
        rows = []
        for doc in self.documents.values():
            entry = self.manifest.files.get(doc.source)
            rows.append({
                "title": doc.title, "source": doc.source, "publication": doc.publication,
                "chunks": counts.get(doc.doc_id, 0), "indexed_at": entry.indexed_at if entry else "",
            })
        return sorted(rows, key=lambda r: (r["source"], r["title"]))

    def chunks_for(self, source: str) -> list[dict]:
        """What the index holds for one file: its chunks in order, with exact spans."""
        return [
            {"title": c.title, "chunk_id": c.chunk_id, "start": c.start, "end": c.end, "text": c.text}
            for c in self.chunks if c.source == source
        ]


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_documents_and_chunks(snap: Path) -> tuple[dict[str, Document], list[Chunk]]:
    documents: dict[str, Document] = {}
    for row in _read_jsonl(snap / DOCUMENTS_FILE):
        doc = Document(**row)
        documents[doc.doc_id] = doc
    chunks = []
    for row in _read_jsonl(snap / CHUNKS_FILE):
        doc = documents[row["doc_id"]]
        chunks.append(Chunk(
            doc_id=doc.doc_id, source=doc.source, title=doc.title, start=row["start"],
            end=row["end"], text=doc.text[row["start"]:row["end"]], chunk_id=row["chunk_id"],
        ))
    return documents, chunks


def read_sentence_vectors(snap: Path) -> tuple[dict[str, int], np.ndarray]:
    """Stored sentence vectors (empty for version-1 snapshots, which have none)."""
    if not (snap / SENTENCE_KEYS_FILE).is_file():
        return {}, np.zeros((0, 0), dtype=np.float32)
    keys = json.loads((snap / SENTENCE_KEYS_FILE).read_text("utf-8"))
    matrix = np.load(snap / SENTENCE_VECTORS_FILE, allow_pickle=False)
    if matrix.shape[0] != len(keys):
        raise ValueError(f"{len(keys)} sentence keys but {matrix.shape[0]} sentence vectors")
    return {k: i for i, k in enumerate(keys)}, matrix


def load_index(
    index_dir: Path, embed_model: str, chunk: ChunkSettings | None = None, *, store_options: dict | None = None,
) -> Index:
    """Load and verify the live snapshot and open the store its manifest names.

    ``store_options`` (``uri``, ``token``) reach a server-backed store; without them the
    location recorded in the manifest is used.
    """
    snap = current_snapshot(index_dir)
    manifest = read_snapshot_manifest(snap)
    check_compatible(manifest, embed_model, chunk)
    for name, digest in manifest.checksums.items():
        path = snap / name
        if not path.is_file():
            raise IndexCorruptError(f"索引文件 {path} 缺失。{REBUILD_HINT}")
        if sha256_file(path) != digest:
            raise IndexCorruptError(f"索引文件 {path} 已损坏（校验和不符）。{REBUILD_HINT}")
    try:
        documents, chunks = read_documents_and_chunks(snap)
        vectors = np.load(snap / VECTORS_FILE, allow_pickle=False)
        sentence_keys, sentence_matrix = read_sentence_vectors(snap)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"{snap} 中的索引无法读取（{exc}）。{REBUILD_HINT}") from exc
    n = len(chunks)
    if vectors.shape != (n, manifest.dim):
        raise IndexCorruptError(f"{snap} 中的索引不一致（{n} 个片段，向量 {vectors.shape}）。{REBUILD_HINT}")
    options = {"uri": manifest.store.get("uri", ""), **{k: v for k, v in (store_options or {}).items() if v}}
    backend = make_backend(manifest.store_kind, **options)
    store = backend.open(snap, manifest, [c.chunk_id for c in chunks])
    return Index(snap, manifest, documents, chunks, vectors, store, sentence_keys, sentence_matrix)
