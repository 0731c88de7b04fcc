"""The persisted index: snapshots of documents, chunks, vectors and sentence vectors, plus a vector store.

- ``snapshots``: the ``CURRENT`` pointer and snapshot directories (the only reader/writer of CURRENT);
- ``manifest``: what a snapshot was built from, checksums, compatibility checks;
- ``vectors``: what gets embedded (titles and sentences), how chunk vectors are pooled from them, and the
  embedding cache keyed on exactly the embedded text + model;
- ``build``: the build as named steps (discover → load → chunk → embed → pool → write → switch);
- ``live``: the loaded ``Index`` the answer pipeline reads (search, ``idf``, ``sentence_vectors``, …).

The search engine behind a snapshot is a ``rag.stores`` backend (FAISS by default, Milvus by setting).
"""

from ..stores.faiss_store import HNSW_EF_SEARCH, HNSW_M, HNSW_THRESHOLD, make_faiss_index
from .build import STEPS, Build, BuildProgress, BuildReport, build_index, convert_store
from .live import Index, load_index
from .manifest import FORMAT_VERSION, FileEntry, Manifest, check_compatible, loader_id, read_manifest
from .snapshots import (
    build_lock, clean_leftovers, copy_live_snapshot, current_snapshot, ensure_writable, has_index,
    live_snapshot_name,
)
from .vectors import VectorCache, chunk_pieces, chunk_vector_key, embedding_text, pool, vector_key

__all__ = [
    "Build", "BuildProgress", "BuildReport", "convert_store", "FORMAT_VERSION", "FileEntry", "HNSW_EF_SEARCH", "HNSW_M",
    "HNSW_THRESHOLD", "Index", "Manifest", "STEPS", "VectorCache", "build_index",
    "build_lock", "check_compatible", "chunk_pieces", "chunk_vector_key", "clean_leftovers", "copy_live_snapshot",
    "current_snapshot", "embedding_text", "ensure_writable", "has_index", "live_snapshot_name", "load_index",
    "loader_id", "make_faiss_index", "pool", "read_manifest", "vector_key",
]
