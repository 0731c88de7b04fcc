"""Building a snapshot, as a sequence of named steps.

    discover → load → chunk → embed (titles and sentences) → pool (chunk vectors) → write → switch

Builds are incremental: a file whose bytes (and the cleaning code) are unchanged keeps its
documents and chunks; any title or sentence embedded before under the same model reuses its
vector (``VectorCache``, keyed on exactly the embedded text). Chunk vectors are pooled from
those piece vectors (``rag.index.vectors``), so nothing is embedded twice. ``build_index(paths)``
adds or updates the files under ``paths`` and keeps every other indexed file; ``prune``
drops indexed files that no longer exist (by default when the whole corpus root is indexed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..config import ChunkSettings
from ..embedding import Embedder, passage_token_counts
from ..errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, LoadError, RagError
from ..schema import Chunk, Document, content_hash
from ..stores import BuildContext, StoreBackend, StoreRow, make_backend
from . import snapshots
from .live import (
    CHUNKS_FILE, DOCUMENTS_FILE, SENTENCE_KEYS_FILE, SENTENCE_VECTORS_FILE, VECTORS_FILE, Index, load_index,
)
from .manifest import FORMAT_VERSION, MANIFEST_FILE, FileEntry, Manifest, loader_id
from .vectors import VectorCache, chunk_pieces, chunk_vector_key, embedding_text, pool

BuildProgress = Callable[[str, int, int], None]  # (stage, done, total)
STEPS = ("discover", "load", "chunk", "embed", "pool", "write", "switch")


@dataclass
class BuildReport:
    """What a build did, file by file, for the CLI and the UI to show."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # indexed files outside ``paths``, left in place
    skipped: list[str] = field(default_factory=list)  # unreadable files
    warnings: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0  # chunks with at least one title or sentence embedded in this build
    reused: int = 0  # chunks whose every piece vector came from the cache
    sentences: int = 0  # distinct titles and sentences with stored vectors
    sentences_embedded: int = 0  # of those, embedded in this build
    cleaned: list[str] = field(default_factory=list)  # leftovers of crashed builds removed
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    snapshot: str = ""
    store: str = "faiss"

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        parts = [
            f"added {len(self.added)}", f"changed {len(self.changed)}", f"removed {len(self.removed)}",
            f"unchanged {len(self.unchanged)}", f"kept {len(self.kept)}", f"skipped {len(self.skipped)}",
        ]
        return (f"{', '.join(parts)}; {self.chunks} chunks ({self.embedded} embedded, {self.reused} reused), "
                f"{self.sentences} sentences ({self.sentences_embedded} embedded), store {self.store}, "
                f"in {self.seconds:.1f}s")


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def _previous(index_dir: Path, embed_model: str, report: BuildReport, store_options: dict) -> Index | None:
    """The live index if its vectors can be reused, else None (with a note why)."""
    try:
        return load_index(index_dir, embed_model, None, store_options=store_options)
    except IndexNotFoundError:
        return None
    except IndexMismatchError as exc:
        report.warnings.append(f"未复用之前的索引：{exc}")
    except IndexCorruptError as exc:
        report.warnings.append(f"之前的索引已损坏（damaged），本次构建将替换它：{exc}")
    except RagError as exc:  # e.g. its store is unreachable: the snapshot files still give vectors
        report.warnings.append(f"之前的索引无法打开（{exc}），本次构建将替换它。")
        return _previous_files_only(index_dir, embed_model)
    return None


def _previous_files_only(index_dir: Path, embed_model: str) -> Index | None:
    """The previous snapshot's documents and vectors without its store (for reuse only)."""
    from .live import read_documents_and_chunks, read_sentence_vectors
    from .manifest import read_snapshot_manifest

    try:
        snap = snapshots.current_snapshot(index_dir)
        manifest = read_snapshot_manifest(snap)
        if manifest.embed_model != embed_model:
            return None
        documents, chunks = read_documents_and_chunks(snap)
        vectors = np.load(snap / VECTORS_FILE, allow_pickle=False)
        keys, matrix = read_sentence_vectors(snap)
    except (RagError, OSError, ValueError, KeyError, TypeError):
        return None
    if vectors.shape[0] != len(chunks):
        return None
    return Index(snap, manifest, documents, chunks, vectors, store=None, sentence_keys=keys, sentence_matrix=matrix)


class Build:
    """One build of one index directory; each public method is one named step."""

    def __init__(
        self, index_dir: Path, embedder: Embedder, chunk: ChunkSettings, backend: StoreBackend, *,
        root: Path | None, rebuild: bool, prune: bool | None, progress: BuildProgress | None,
        store_options: dict,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embedder, self.chunk_settings, self.backend = embedder, chunk, backend
        self.root, self.rebuild, self.prune, self.progress = root, rebuild, prune, progress
        self.store_options = store_options
        self.report = BuildReport(store=backend.kind)
        self.previous: Index | None = None
        self.loader = loader_id()
        self.cache = VectorCache(embedder.model_id)
        self.files: list[Path] = []
        self.documents: list[Document] = []
        self.entries: dict[str, FileEntry] = {}
        self.chunks: list[Chunk] = []
        self.pieces: list[list[str]] = []  # per chunk: what its vector is pooled from
        self.sentence_texts: list[str] = []  # distinct pieces, in first-seen order
        self.chunk_vectors = np.zeros((0, 0), dtype=np.float32)

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    @property
    def same_loader(self) -> bool:
        return self.previous is not None and self.previous.manifest.loader == self.loader

    @property
    def same_chunking(self) -> bool:
        return self.same_loader and self.previous.manifest.chunk == asdict(self.chunk_settings)

    # -- steps

    def discover(self, paths: list[Path]) -> None:
        from ..loading import find_files

        self.report.cleaned = snapshots.clean_leftovers(self.index_dir)
        if not self.rebuild:
            self.previous = _previous(self.index_dir, self.embedder.model_id, self.report, self.store_options)
        if self.previous is not None:
            self._seed_cache(self.previous)
        self.files = find_files(paths)
        if not self.files and (self.previous is None or not self.previous.documents):
            raise RagError(f"在 {', '.join(map(str, paths))} 中没有找到可索引的文件（.txt .md .pdf .docx .html）。")
        if self.prune is None:  # indexing the whole corpus root: files gone from it are gone from the index
            self.prune = self.root is not None and any(
                Path(p).resolve() == Path(self.root).resolve() for p in paths)

    def _seed_cache(self, previous: Index) -> None:
        if previous.manifest.embed_model != self.embedder.model_id:
            return
        keys = sorted(previous.sentence_keys, key=previous.sentence_keys.__getitem__)
        self.cache.add(keys, previous.sentence_matrix)

    def load(self) -> None:
        from ..loading import load_file

        report, previous = self.report, self.previous
        old_docs: dict[str, list[Document]] = {}
        if previous is not None:
            for doc in previous.documents.values():
                old_docs.setdefault(doc.source, []).append(doc)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        seen: set[str] = set()
        for i, path in enumerate(self.files):
            self._tick("load", i + 1, len(self.files))
            name = _relative_name(path, self.root)
            seen.add(name)
            digest = snapshots.sha256_file(path)
            old_entry = previous.manifest.files.get(name) if previous else None
            if self.same_loader and old_entry and old_entry.sha256 == digest and name in old_docs:
                self.documents.extend(old_docs[name])
                self.entries[name] = old_entry
                report.unchanged.append(name)
                continue
            try:
                docs = load_file(path, self.root)
            except LoadError as exc:
                report.skipped.append(name)
                if name in old_docs:
                    self.documents.extend(old_docs[name])
                    self.entries[name] = old_entry
                    report.warnings.append(f"{exc} — kept the previously indexed version of {name}（保留了之前索引的版本）")
                else:
                    report.warnings.append(str(exc))
                continue
            self.documents.extend(docs)
            self.entries[name] = FileEntry(sha256=digest, indexed_at=now, articles=len(docs), chunks=0)
            (report.changed if old_entry else report.added).append(name)
        for name in sorted(set(old_docs) - seen):
            if self.prune and not self._exists(name):
                report.removed.append(name)
            elif self.same_loader:
                self.documents.extend(old_docs[name])
                self.entries[name] = previous.manifest.files[name]
                report.kept.append(name)
            else:  # the cleaning code changed: keeping stale text would mix versions
                report.removed.append(name)
                report.warnings.append(f"{name} 未在本次索引的路径中，且清洗代码已更新：已移出索引，请重新索引它。")

    def _exists(self, name: str) -> bool:
        return self.root is not None and (Path(self.root) / name).is_file()

    def chunk(self) -> None:
        old_chunks: dict[str, list[Chunk]] = {}
        if self.same_chunking:
            for c in self.previous.chunks:
                old_chunks.setdefault(c.doc_id, []).append(c)
        from ..chunking import chunk_document

        for doc in self.documents:
            self.chunks.extend(old_chunks.get(doc.doc_id) or chunk_document(doc, self.chunk_settings))
        per_file = Counter(c.source for c in self.chunks)
        for name, entry in self.entries.items():
            entry.chunks = per_file[name]
        self.report.chunks = len(self.chunks)

    def embed(self) -> None:
        """Embed every title and sentence not cached yet, once each."""
        self.pieces = [chunk_pieces(c) for c in self.chunks]
        self.sentence_texts = list(dict.fromkeys(t for pieces in self.pieces for t in pieces))
        embedded = set(self.cache.fill(
            self.sentence_texts, self.embedder.embed, progress=lambda d, t: self._tick("embed", d, t)))
        self.report.sentences = len(self.sentence_texts)
        self.report.sentences_embedded = len(embedded)
        self.report.embedded = sum(1 for pieces in self.pieces if any(t in embedded for t in pieces))
        self.report.reused = len(self.chunks) - self.report.embedded

    def pool(self) -> None:
        """Each chunk's vector: its pieces' vectors averaged by the tokens each fed the model."""
        counts = dict(zip(self.sentence_texts, passage_token_counts(self.embedder, self.sentence_texts)))
        dim = self._dim()
        self.chunk_vectors = np.zeros((len(self.chunks), dim), dtype=np.float32)
        for i, pieces in enumerate(self.pieces):
            self.chunk_vectors[i] = pool(self.cache.matrix(pieces, dim), [counts[t] for t in pieces])

    def _dim(self) -> int:
        if len(self.cache):
            return int(next(iter(self.cache.vectors.values())).shape[0])
        return int(getattr(self.embedder, "dim", 0))

    def unchanged(self) -> bool:
        """Nothing to write: same files, chunks, format and store as the live snapshot."""
        p = self.previous
        report = self.report
        return (
            p is not None and p.store is not None and self.same_chunking and not report.added
            and not report.changed and not report.removed
            and p.manifest.format_version == FORMAT_VERSION and p.manifest.store_kind == self.backend.kind
            and p.manifest.store.get("uri", "") == self.backend.describe().get("uri", "")
            and [c.chunk_id for c in self.chunks] == [c.chunk_id for c in p.chunks]
        )

    def write(self) -> tuple[Path, str]:
        """Write the snapshot (files + store) under a temporary name; returns (staging, name)."""
        self._tick("write", 0, 1)
        dim = self._dim()
        digest = content_hash(*(c.chunk_id for c in self.chunks))
        name = snapshots.new_snapshot_name(digest)
        staging = snapshots.staging_dir(self.index_dir, name)
        chunk_texts = [embedding_text(c) for c in self.chunks]
        vectors = self.chunk_vectors
        model = self.embedder.model_id
        with open(staging / DOCUMENTS_FILE, "w", encoding="utf-8") as f:
            for d in self.documents:
                f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
        with open(staging / CHUNKS_FILE, "w", encoding="utf-8") as f:
            for c, t in zip(self.chunks, chunk_texts):
                row = {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end,
                       "vector_key": chunk_vector_key(model, c)}
                f.write(json.dumps(row) + "\n")
        np.save(staging / VECTORS_FILE, vectors, allow_pickle=False)
        sentence_keys = [self.cache.key(t) for t in self.sentence_texts]
        np.save(staging / SENTENCE_VECTORS_FILE, self.cache.matrix(self.sentence_texts, dim), allow_pickle=False)
        (staging / SENTENCE_KEYS_FILE).write_text(json.dumps(sentence_keys), "utf-8")
        files = [DOCUMENTS_FILE, CHUNKS_FILE, VECTORS_FILE, SENTENCE_VECTORS_FILE, SENTENCE_KEYS_FILE]

        publications = {d.doc_id: d.publication for d in self.documents}
        rows = [StoreRow(c, v, t, publications.get(c.doc_id, "")) for c, v, t in zip(self.chunks, vectors, chunk_texts)]
        fresh_store = self.rebuild or not self.same_chunking or self.previous is None \
            or self.previous.manifest.store_kind != self.backend.kind \
            or self.previous.manifest.format_version != FORMAT_VERSION  # other chunk-vector recipe
        ctx = BuildContext(self.index_dir, staging, name, self.embedder.model_id, dim, rebuild=self.rebuild,
                           fresh=fresh_store)
        writer = self.backend.writer(ctx, self.previous)
        try:
            if writer.fresh:
                writer.upsert(rows)
            else:
                final_docs = {c.doc_id for c in self.chunks}
                writer.delete_documents(writer.doc_ids - final_docs)
                writer.upsert([r for r in rows if r.doc_id not in writer.doc_ids])
            record, store_files = writer.commit(rows)
        except BaseException:
            writer.abort()
            raise
        files += store_files
        manifest = Manifest(
            embed_model=self.embedder.model_id, dim=dim, chunk=asdict(self.chunk_settings), files=self.entries,
            loader=self.loader, store=record, faiss_type=record.get("faiss_type", ""), sentences=len(sentence_keys),
            checksums={f: snapshots.sha256_file(staging / f) for f in files},
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), "utf-8")
        return staging, name

    def switch(self, staging: Path, name: str) -> None:
        snapshots.publish(self.index_dir, staging, name)
        snapshots.remove_stale(self.index_dir, keep=name)
        self.report.snapshot = name
        self._tick("write", 1, 1)


def build_index(
    paths: Iterable[Path], index_dir: Path, embedder: Embedder, chunk: ChunkSettings,
    *, root: Path | None = None, rebuild: bool = False, prune: bool | None = None,
    progress: BuildProgress | None = None, backend: StoreBackend | None = None,
    store_options: dict | None = None,
) -> BuildReport:
    """Add or update the files under ``paths``, keep the other indexed files, reuse every vector it can.

    ``rebuild``: start from nothing (no reuse, new store collection). ``prune``: drop indexed
    files that no longer exist under ``root`` (default: when ``paths`` includes ``root`` itself).
    ``backend``: the vector store to write (default FAISS); ``store_options`` open the previous one.
    """
    started = time.perf_counter()
    backend = backend or make_backend("faiss")
    build = Build(index_dir, embedder, chunk, backend, root=root, rebuild=rebuild, prune=prune,
                  progress=progress, store_options=store_options or {})
    report = build.report
    paths = [Path(p) for p in paths]

    def step(name: str, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        report.step_seconds[name] = round(time.perf_counter() - t, 3)
        return out

    with snapshots.build_lock(index_dir):
        step("discover", build.discover, paths)
        step("load", build.load)
        step("chunk", build.chunk)
        step("embed", build.embed)
        step("pool", build.pool)
        if build.unchanged():
            report.snapshot = build.previous.directory.name
        else:
            staging, name = step("write", build.write)
            step("switch", build.switch, staging, name)
    report.seconds = time.perf_counter() - started
    return report


def convert_store(
    index_dir: Path, embed_model: str, backend: StoreBackend, *, store_options: dict | None = None,
) -> BuildReport:
    """Write the live snapshot's chunks and vectors into another store, as a new snapshot.

    Nothing is read, chunked or embedded: documents, chunk spans, chunk and sentence vectors are
    copied as they are; only the search engine is written (fresh, e.g. a new Milvus collection).
    """
    import shutil

    started = time.perf_counter()
    index_dir = Path(index_dir)
    report = BuildReport(store=backend.kind)
    with snapshots.build_lock(index_dir):
        report.cleaned = snapshots.clean_leftovers(index_dir)
        live = _previous(index_dir, embed_model, report, store_options or {})
        if live is None:
            raise RagError(f"{index_dir} 中没有可转换的索引：请先运行 `rag index`。")
        name = snapshots.new_snapshot_name(content_hash(*(c.chunk_id for c in live.chunks)))
        staging = snapshots.staging_dir(index_dir, name)
        keep = [DOCUMENTS_FILE, CHUNKS_FILE, VECTORS_FILE, SENTENCE_VECTORS_FILE, SENTENCE_KEYS_FILE]
        files = [f for f in keep if (live.directory / f).is_file()]
        for f in files:
            shutil.copy2(live.directory / f, staging / f)
        publications = {d.doc_id: d.publication for d in live.documents.values()}
        rows = [StoreRow(c, v, embedding_text(c), publications.get(c.doc_id, ""))
                for c, v in zip(live.chunks, live.vectors)]
        ctx = BuildContext(index_dir, staging, name, embed_model, live.manifest.dim, rebuild=True, fresh=True)
        writer = backend.writer(ctx, live)
        try:
            writer.upsert(rows)
            record, store_files = writer.commit(rows)
        except BaseException:
            writer.abort()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        files += store_files
        manifest = live.manifest
        manifest.store = record
        manifest.faiss_type = record.get("faiss_type", "")
        manifest.checksums = {f: snapshots.sha256_file(staging / f) for f in files}
        manifest.created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), "utf-8")
        snapshots.publish(index_dir, staging, name)
        snapshots.remove_stale(index_dir, keep=name)
        report.snapshot = name
        report.chunks = report.reused = len(rows)
        report.unchanged = sorted(manifest.files)
    report.seconds = time.perf_counter() - started
    return report
