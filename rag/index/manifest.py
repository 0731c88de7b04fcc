"""The manifest of a snapshot: what it was built from and with, and checksums of its files."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..config import ChunkSettings
from ..errors import IndexCorruptError, IndexMismatchError
from ..lexical import TOKENIZER_ID
from .snapshots import REBUILD_HINT, current_snapshot

# 2: sentence vectors, the embedding-cache key over the embedded text + model, the store record.
# Version-1 snapshots still load (without sentence vectors) and their vectors are reused.
# 3: chunk vectors pooled from the stored title and sentence vectors (rag.index.vectors); every
# piece is stored. Older snapshots still load and answer; the next build rewrites them in full.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
MANIFEST_FILE = "manifest.json"


@functools.lru_cache(maxsize=1)
def loader_id() -> str:
    """Fingerprint of the cleaning and splitting code: when it changes, files are read again.

    Computed once per process: the fingerprint of the code this process runs."""
    from .. import chunking, loading

    fingerprint = getattr(loading, "fingerprint", None)
    loading_part = fingerprint() if callable(fingerprint) else inspect.getsource(loading)
    return hashlib.sha256((loading_part + inspect.getsource(chunking)).encode()).hexdigest()[:12]


@dataclass
class FileEntry:
    """What the manifest records about one indexed file."""

    sha256: str
    indexed_at: str
    articles: int
    chunks: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FileEntry":
        return cls(**{f.name: data[f.name] for f in fields(cls)})


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
    store: dict = field(default_factory=lambda: {"kind": "faiss"})  # which VectorStore holds the search index
    sentences: int = 0  # distinct sentences with stored vectors

    def __post_init__(self) -> None:
        if self.dim < 0 or not self.embed_model:
            raise ValueError("manifest needs an embedding model and a non-negative dimension")

    @property
    def store_kind(self) -> str:
        return self.store.get("kind", "faiss")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = {k: v.to_dict() for k, v in self.files.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Manifest":
        data = dict(data)
        data["files"] = {k: FileEntry.from_dict(v) for k, v in data["files"].items()}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        return cls.from_dict(json.loads(text))


def read_snapshot_manifest(snap: Path) -> Manifest:
    try:
        return Manifest.from_json((Path(snap) / MANIFEST_FILE).read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexCorruptError(f"{snap} 中的清单无法读取（{exc}）。{REBUILD_HINT}") from exc


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of the live snapshot."""
    return read_snapshot_manifest(current_snapshot(index_dir))


def check_compatible(manifest: Manifest, embed_model: str, chunk: ChunkSettings | None) -> None:
    """Raise IndexMismatchError when the index was built with other settings."""
    if manifest.format_version not in READABLE_VERSIONS:
        raise IndexMismatchError(
            f"索引格式版本为 {manifest.format_version}，本程序读取 {READABLE_VERSIONS}。{REBUILD_HINT}"
        )
    if manifest.embed_model != embed_model:
        raise IndexMismatchError(
            f"索引是用嵌入模型 {manifest.embed_model!r} 建的，当前配置为 {embed_model!r}（RAG_EMBED_MODEL）："
            f"请设置 RAG_EMBED_MODEL={manifest.embed_model}，或运行 `rag index --rebuild` 重建。"
        )
    if chunk is not None and manifest.chunk != asdict(chunk):
        raise IndexMismatchError(
            f"索引的切分设置为 {manifest.chunk}，当前配置为 {asdict(chunk)}（RAG_CHUNK_SIZE / RAG_CHUNK_OVERLAP）："
            "请运行 `rag index` 重建索引，或改回原设置。"
        )
