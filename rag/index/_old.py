"""The persisted index: documents, chunks, vectors (FAISS) and BM25, with a manifest.

Layout under the index directory::

    CURRENT                 name of the live snapshot (replaced atomically)
    snap-<time>-<id>/       manifest.json, documents.jsonl, chunks.jsonl,
                            vectors.npy, faiss.index, bm25.npz, bm25_vocab.json

A build writes a whole new snapshot, then switches ``CURRENT`` with one
``os.replace``: a crash mid-build leaves the previous snapshot live and intact.
Builds are incremental: a file whose bytes are unchanged keeps its chunks, and a
chunk whose text was embedded before (same model) reuses its vector.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import faiss
import numpy as np

from .chunking import chunk_document
from .config import ChunkSettings
from .embedding import Embedder
from .errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, LoadError, RagError
from .lexical import TOKENIZER_ID, BM25Index
from .schema import Chunk, Document

FORMAT_VERSION = 1
# Past this many chunks exact search gets slow (22 ms at 44,500 chunks) and HNSW takes over:
# at efSearch 128 it keeps recall@10 ≥ 0.92 at 0.2 ms (bench/results/scale.md).
HNSW_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_SEARCH = 128


def make_faiss_index(vectors: np.ndarray, dim: int) -> tuple["faiss.Index", str]:
    """Exact inner-product search for small indexes, HNSW beyond ``HNSW_THRESHOLD`` chunks."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.add(vectors)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index, "hnsw-ip"
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index, "flat-ip"


def loader_id() -> str:
    """Fingerprint of the cleaning and splitting code: when it changes, files are read again."""
    import inspect

    from . import chunking, loading

    return hashlib.sha256((inspect.getsource(loading) + inspect.getsource(chunking)).encode()).hexdigest()[:12]
BuildProgress = Callable[[str, int, int], None]  # (stage, done, total)

_BUILD_HINT = "Build it with `rag index` (the sample corpus takes a few minutes)."


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded: the chunk, prefixed by its article title for context."""
    if chunk.text.startswith(chunk.title):
        return chunk.text
    return f"{chunk.title}\n{chunk.text}"


@dataclass
class FileEntry:
    """What the manifest records about one indexed file."""

    sha256: str
    indexed_at: str
    articles: int
    chunks: int


@dataclass
class Manifest:
    embed_model: str
    dim: int
    chunk: dict
    files: dict[str, FileEntry]
    checksums: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    tokenizer: str = TOKENIZER_ID
    faiss_type: str = "flat-ip"
    loader: str = ""  # loader_id() of the code that cleaned and chunked the files
    created_at: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["files"] = {k: FileEntry(**v) for k, v in data["files"].items()}
        return cls(**data)


@dataclass
class Index:
    """A loaded snapshot, read-only and shared by every request."""

    directory: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: "faiss.Index"
    bm25: BM25Index

    @property
    def size(self) -> int:
        return len(self.chunks)

    def search_dense(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self.faiss_index.search(query_vector.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

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


# ---------------------------------------------------------------- reading

def current_snapshot(index_dir: Path) -> Path:
    """The live snapshot directory, or IndexNotFoundError saying how to build one."""
    index_dir = Path(index_dir)
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexNotFoundError(f"No index in {index_dir}. {_BUILD_HINT}")
    name = pointer.read_text("utf-8").strip()
    snap = index_dir / name
    if not name or "/" in name or not snap.is_dir():
        raise IndexCorruptError(
            f"{pointer} points at {name!r}, which is missing. Rebuild with `rag index --rebuild`."
        )
    return snap


def read_manifest(index_dir: Path) -> Manifest:
    snap = current_snapshot(index_dir)
    try:
        return Manifest.from_json((snap / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(
            f"The manifest in {snap} is unreadable ({exc}). Rebuild with `rag index --rebuild`."
        ) from exc


def check_compatible(manifest: Manifest, embed_model: str, chunk: ChunkSettings | None) -> None:
    """Raise IndexMismatchError when the index was built with other settings."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index has format version {manifest.format_version}, this program reads "
            f"{FORMAT_VERSION}. Rebuild with `rag index --rebuild`."
        )
    if manifest.embed_model != embed_model:
        raise IndexMismatchError(
            f"The index was built with embedding model {manifest.embed_model!r} but "
            f"{embed_model!r} is configured (RAG_EMBED_MODEL). Set RAG_EMBED_MODEL="
            f"{manifest.embed_model} or rebuild with `rag index --rebuild`."
        )
    if chunk is not None and manifest.chunk != asdict(chunk):
        raise IndexMismatchError(
            f"The index was built with chunk settings {manifest.chunk}, but {asdict(chunk)} "
            "are configured (RAG_CHUNK_SIZE / RAG_CHUNK_OVERLAP). Rebuild with `rag index`."
        )


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_index(index_dir: Path, embed_model: str, chunk: ChunkSettings | None = None) -> Index:
    """Load and verify the live snapshot; never returns an index it cannot vouch for."""
    snap = current_snapshot(index_dir)
    manifest = read_manifest(index_dir)
    check_compatible(manifest, embed_model, chunk)
    fix = "Rebuild with `rag index --rebuild`."
    for name, digest in manifest.checksums.items():
        path = snap / name
        if not path.is_file():
            raise IndexCorruptError(f"Index file {path} is missing. {fix}")
        if _sha256_file(path) != digest:
            raise IndexCorruptError(f"Index file {path} is damaged (checksum differs). {fix}")
    try:
        documents = {}
        for row in _read_jsonl(snap / "documents.jsonl"):
            doc = Document(**row)
            documents[doc.doc_id] = doc
        chunks = []
        for row in _read_jsonl(snap / "chunks.jsonl"):
            doc = documents[row["doc_id"]]
            chunks.append(Chunk(
                doc_id=doc.doc_id, source=doc.source, title=doc.title, start=row["start"],
                end=row["end"], text=doc.text[row["start"]:row["end"]], chunk_id=row["chunk_id"],
            ))
        vectors = np.load(snap / "vectors.npy", allow_pickle=False)
        faiss_index = faiss.read_index(str(snap / "faiss.index"))
        if hasattr(faiss_index, "hnsw"):
            faiss_index.hnsw.efSearch = HNSW_EF_SEARCH
        bm25 = BM25Index.load(snap)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"The index in {snap} cannot be read ({exc}). {fix}") from exc
    n = len(chunks)
    if vectors.shape != (n, manifest.dim) or faiss_index.ntotal != n or bm25.size != n:
        raise IndexCorruptError(
            f"The index in {snap} is inconsistent ({n} chunks, vectors {vectors.shape}, "
            f"FAISS {faiss_index.ntotal}, BM25 {bm25.size}). {fix}"
        )
    if faiss_index.d != manifest.dim:
        raise IndexCorruptError(f"FAISS dimension {faiss_index.d} differs from the manifest's {manifest.dim}. {fix}")
    return Index(snap, manifest, documents, chunks, vectors, faiss_index, bm25)


# ---------------------------------------------------------------- building

@dataclass
class BuildReport:
    """What a build did, file by file, for the CLI and the UI to show."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unreadable files
    warnings: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0  # chunks whose vectors were computed in this build
    reused: int = 0  # chunks whose vectors came from the cache
    seconds: float = 0.0
    snapshot: str = ""

    def summary(self) -> str:
        parts = [
            f"added {len(self.added)}", f"changed {len(self.changed)}",
            f"removed {len(self.removed)}", f"unchanged {len(self.unchanged)}",
            f"skipped {len(self.skipped)}",
        ]
        return (f"{', '.join(parts)}; {self.chunks} chunks ({self.embedded} embedded, "
                f"{self.reused} reused) in {self.seconds:.1f}s")


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Serialise builds of one index directory across threads and processes."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _previous(index_dir: Path, embed_model: str, report: BuildReport) -> Index | None:
    """The live index if its vectors can be reused, else None (with a note why)."""
    try:
        return load_index(index_dir, embed_model, None)
    except IndexNotFoundError:
        return None
    except IndexMismatchError as exc:
        report.warnings.append(f"previous index not reused: {exc}")
    except IndexCorruptError as exc:
        report.warnings.append(f"previous index is damaged and was replaced: {exc}")
    return None


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def _write_snapshot(
    index_dir: Path, manifest: Manifest, documents: list[Document], chunks: list[Chunk],
    vectors: np.ndarray,
) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.sha256("".join(c.chunk_id for c in chunks).encode()).hexdigest()[:8]
    name = f"snap-{stamp}-{digest}-{os.getpid()}"
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with open(tmp / "documents.jsonl", "w", encoding="utf-8") as f:
        for d in documents:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            row = {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end,
                   "text_hash": c.text_hash}
            f.write(json.dumps(row) + "\n")
    np.save(tmp / "vectors.npy", vectors.astype(np.float32), allow_pickle=False)
    dense, manifest.faiss_type = make_faiss_index(vectors, manifest.dim)
    faiss.write_index(dense, str(tmp / "faiss.index"))
    files = ["documents.jsonl", "chunks.jsonl", "vectors.npy", "faiss.index"]
    files += BM25Index.build([embedding_text(c) for c in chunks]).save(tmp)
    manifest.checksums = {f: _sha256_file(tmp / f) for f in files}
    manifest.created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (tmp / "manifest.json").write_text(manifest.to_json(), "utf-8")
    for f in files + ["manifest.json"]:
        with open(tmp / f, "rb") as fh:
            os.fsync(fh.fileno())
    final = index_dir / name
    os.replace(tmp, final)
    pointer_tmp = index_dir / f".tmp-CURRENT-{os.getpid()}"
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def _remove_stale(index_dir: Path, keep: Path) -> None:
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry != keep and (entry.name.startswith("snap-") or entry.name.startswith(".tmp-")):
            shutil.rmtree(entry, ignore_errors=True)


def build_index(
    paths: Iterable[Path], index_dir: Path, embedder: Embedder, chunk: ChunkSettings,
    *, root: Path | None = None, rebuild: bool = False, progress: BuildProgress | None = None,
) -> BuildReport:
    """Index exactly the files under ``paths``, reusing all the previous index can give."""
    from .loading import find_files, load_file

    started = time.perf_counter()
    index_dir = Path(index_dir)
    report = BuildReport()
    with build_lock(index_dir):
        previous = None if rebuild else _previous(index_dir, embedder.model_id, report)
        current_loader = loader_id()
        same_loader = previous is not None and previous.manifest.loader == current_loader
        same_chunking = same_loader and previous.manifest.chunk == asdict(chunk)
        old_docs: dict[str, list[Document]] = {}
        if previous is not None:
            for doc in previous.documents.values():
                old_docs.setdefault(doc.source, []).append(doc)
        cache: dict[str, np.ndarray] = {}
        if previous is not None:
            for c, v in zip(previous.chunks, previous.vectors):
                cache[c.text_hash] = v

        files = find_files([Path(p) for p in paths])
        if not files and not old_docs:
            raise RagError(f"No supported files found in {', '.join(map(str, paths))} (.txt .md .pdf .docx .html).")
        documents: list[Document] = []
        entries: dict[str, FileEntry] = {}
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        seen: set[str] = set()
        for i, path in enumerate(files):
            if progress:
                progress("load", i + 1, len(files))
            name = _relative_name(path, root)
            seen.add(name)
            digest = _sha256_file(path)
            old_entry = previous.manifest.files.get(name) if previous else None
            if same_loader and old_entry and old_entry.sha256 == digest and name in old_docs:
                documents.extend(old_docs[name])
                entries[name] = old_entry
                report.unchanged.append(name)
                continue
            try:
                docs = load_file(path, root)
            except LoadError as exc:
                report.skipped.append(name)
                if name in old_docs:
                    documents.extend(old_docs[name])
                    entries[name] = old_entry
                    report.warnings.append(f"{exc} — kept the previously indexed version of {name}")
                else:
                    report.warnings.append(str(exc))
                continue
            documents.extend(docs)
            entries[name] = FileEntry(sha256=digest, indexed_at=now, articles=len(docs), chunks=0)
            (report.changed if old_entry else report.added).append(name)
        report.removed = sorted(set(old_docs) - seen)

        chunks: list[Chunk] = []
        if same_chunking:
            old_chunks: dict[str, list[Chunk]] = {}
            for c in previous.chunks:
                old_chunks.setdefault(c.doc_id, []).append(c)
        for doc in documents:
            doc_chunks = old_chunks.get(doc.doc_id) if same_chunking else None
            doc_chunks = doc_chunks or chunk_document(doc, chunk)
            chunks.extend(doc_chunks)
        per_file = Counter(c.source for c in chunks)
        for name, entry in entries.items():
            entry.chunks = per_file[name]

        todo = [c for c in chunks if c.text_hash not in cache]
        todo_unique = list({c.text_hash: c for c in todo}.values())
        if todo_unique:
            def on_embed(done: int, total: int) -> None:
                if progress:
                    progress("embed", done, total)
            vecs = embedder.embed([embedding_text(c) for c in todo_unique], progress=on_embed)
            for c, v in zip(todo_unique, vecs):
                cache[c.text_hash] = v
        nothing_changed = (
            previous is not None and same_chunking and not report.added and not report.changed
            and not report.removed and [c.chunk_id for c in chunks] == [c.chunk_id for c in previous.chunks]
        )
        if nothing_changed:
            report.chunks, report.reused = len(chunks), len(chunks)
            report.snapshot = previous.directory.name
            report.seconds = time.perf_counter() - started
            return report
        report.embedded = len(todo_unique)
        report.reused = len(chunks) - len(todo)
        report.chunks = len(chunks)
        dim = int(next(iter(cache.values())).shape[0]) if cache else int(getattr(embedder, "dim", 0))
        vectors = (np.vstack([cache[c.text_hash] for c in chunks]) if chunks
                   else np.zeros((0, dim), dtype=np.float32))
        manifest = Manifest(embed_model=embedder.model_id, dim=dim, chunk=asdict(chunk), files=entries,
                            loader=current_loader)
        if progress:
            progress("write", 0, 1)
        snap = _write_snapshot(index_dir, manifest, documents, chunks, vectors)
        _remove_stale(index_dir, snap)
        report.snapshot = snap.name
        report.seconds = time.perf_counter() - started
        if progress:
            progress("write", 1, 1)
    return report
