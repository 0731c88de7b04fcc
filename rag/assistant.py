"""The assistant: one index, one embedder, one answer pipeline, loaded lazily and shared.

Module-level ``rag.answer`` and friends use one of these built from the environment;
callers that want several indexes make their own ``Assistant(settings)``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Iterator

from .config import Settings
from .embedding import Embedder, make_embedder
from .index import BuildProgress, BuildReport, Index, build_index, live_snapshot_name, load_index
from .retrieval import HybridRetriever
from .answer.validation import validate_question, validate_top_k
from .schema import Answer, Passage


class Assistant:
    """Answers questions over one index. Cheap to construct; loads on first use."""

    def __init__(self, settings: Settings | None = None, *, kb: str | None = None) -> None:
        """``kb``: answer from that knowledge base under RAG_HOME (rag.kb); the default one is
        seeded from the checkout on first use, other names must have been created."""
        settings = settings or Settings.from_env()
        if kb is not None:
            settings = settings.for_kb(kb)
        if settings.kb is not None:
            from .kb.home import ensure_kb

            ensure_kb(settings)
        self.settings = settings
        self._index: Index | None = None
        self._retriever: HybridRetriever | None = None
        self._pipeline = None
        self._lock = threading.RLock()

    # -- lazily loaded parts

    @property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings.embed_model)

    @property
    def index(self) -> Index:
        """The live index; a snapshot switched by another process (`rag index`) is picked up."""
        with self._lock:
            if self._index is not None and not self._is_live(self._index):
                self._index, self._retriever, self._pipeline = None, None, None
            if self._index is None:
                self._index = load_index(self.settings.index_dir, self.embedder.model_id, self.settings.chunk,
                                         store_options=self._store_options())
            return self._index

    def _store_options(self) -> dict:
        """Where a server-backed store lives (from the settings; used when the snapshot's store matches)."""
        if self.settings.vector_store == "milvus":
            return {"uri": self.settings.milvus_uri, "token": self.settings.milvus_token}
        return {}

    def _store_backend(self):
        from .stores import make_backend

        return make_backend(self.settings.vector_store, **self._store_options())

    def _is_live(self, index: Index) -> bool:
        name = live_snapshot_name(self.settings.index_dir)
        return name is None or name == index.directory.name  # no pointer: keep answering from what is loaded

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            index = self.index
            if self._retriever is None or self._retriever.index is not index:
                self._retriever = HybridRetriever(index, self.embedder, fusion=self.settings.fusion)
                self._pipeline = None
            return self._retriever

    @property
    def pipeline(self):
        """The answer pipeline (``rag.answer.pipeline``) over the live index."""
        with self._lock:
            retriever = self.retriever
            if self._pipeline is None:
                from .answer.pipeline import build_pipeline

                self._pipeline = build_pipeline(self.settings, retriever, index=self.index,
                                                embedder=self.embedder)
            return self._pipeline

    def reload(self) -> None:
        """Drop the loaded index so the next request reads the live snapshot."""
        with self._lock:
            self._index = None
            self._retriever = None
            self._pipeline = None

    # -- questions

    def retrieve(self, question: str, top_k: int | None = None, timings: dict | None = None
                 ) -> list[Passage]:
        """The ``top_k`` passages (default ``settings.top_k``) most likely to answer ``question``."""
        question, _ = validate_question(question)
        top_k = validate_top_k(top_k, self.settings.top_k)
        return self.retriever.retrieve(question, top_k=top_k, timings=timings)

    def answer(self, question: str, top_k: int | None = None,
               history: list[tuple[str, str]] | None = None) -> Answer:
        """A cited answer, or a refusal when the articles do not hold one."""
        validate_question(question)  # bad input fails before anything loads
        validate_top_k(top_k, self.settings.top_k)
        return self.pipeline.invoke(question, history=history, top_k=top_k)

    def stream_answer(
        self, question: str, top_k: int | None = None, history: list[tuple[str, str]] | None = None
    ) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the complete checked Answer.

        The question and ``top_k`` are checked at the call, before the first piece.
        """
        validate_question(question)
        validate_top_k(top_k, self.settings.top_k)
        return self.pipeline.stream(question, history=history, top_k=top_k)

    # -- the knowledge base

    def build_index(
        self, paths: Iterable[Path] | None = None, *, rebuild: bool = False, prune: bool | None = None,
        progress: BuildProgress | None = None,
    ) -> BuildReport:
        """Add or update the given files (default: the corpus directory) in the configured store,
        keeping the other indexed files (``prune``: drop those that no longer exist); then answer
        from the new index."""
        paths = list(paths) if paths else [self.settings.corpus_dir]
        report = build_index(
            paths, self.settings.index_dir, self.embedder, self.settings.chunk,
            root=self.settings.corpus_dir, rebuild=rebuild, prune=prune, progress=progress,
            backend=self._store_backend(), store_options=self._store_options(),
        )
        self.reload()
        return report

    def articles(self) -> list[dict]:
        """The indexed articles: title, file, chunk count, when indexed."""
        return self.index.articles()
