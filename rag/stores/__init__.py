"""Vector stores behind one seam, chosen once by configuration (``RAG_VECTOR_STORE``).

- ``faiss`` (default): FAISS + in-process BM25, files inside each snapshot; nothing to run.
- ``milvus``: Milvus Lite (``RAG_MILVUS_URI`` = a local ``*.db`` file) or a Milvus server /
  cluster (``http://host:19530``, ``RAG_MILVUS_TOKEN`` when it needs one);
  ``pip install -e '.[milvus]'``.

``make_backend(kind, uri=…, token=…)`` is the registry's only entrance; add a store with
``register(kind, factory)``.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ConfigError
from .base import (
    CANDIDATES, FUSIONS, RRF_K, BuildContext, Hit, StoreBackend, StoreRow, StoreWriter, VectorStore, rrf_fuse,
)

StoreFactory = Callable[..., StoreBackend]
_REGISTRY: dict[str, StoreFactory] = {}


def register(kind: str, factory: StoreFactory) -> None:
    _REGISTRY[kind] = factory


def _faiss(**_options) -> StoreBackend:
    from .faiss_store import FaissBackend

    return FaissBackend()


def _milvus(*, uri: str = "", token: str = "", alias: str = "", **_options) -> StoreBackend:
    from .milvus_store import MilvusBackend

    return MilvusBackend(uri, token, alias)


register("faiss", _faiss)
register("milvus", _milvus)


def store_kinds() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def make_backend(kind: str = "faiss", **options) -> StoreBackend:
    """The store backend registered as ``kind`` (options: ``uri``, ``token``, ``alias``)."""
    kind = (kind or "faiss").strip().lower()
    if kind not in _REGISTRY:
        raise ConfigError(f"RAG_VECTOR_STORE={kind!r} 不可用：请设为 {' 或 '.join(_REGISTRY)}。")
    return _REGISTRY[kind](**options)


__all__ = [
    "BuildContext", "CANDIDATES", "FUSIONS", "Hit", "RRF_K", "StoreBackend", "StoreRow", "StoreWriter",
    "VectorStore", "make_backend", "register", "rrf_fuse", "store_kinds",
]
