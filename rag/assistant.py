"""The assistant: one index, one embedder, one answer chain, loaded lazily and shared.

Module-level ``rag.answer`` and friends use one of these built from the environment;
callers that want several indexes make their own ``Assistant(settings)``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Iterator

from .config import Settings
from .embedding import Embedder, make_embedder
from .index import BuildProgress, BuildReport, Index, build_index, load_index
from .retrieval import HybridRetriever
from .answering import ExtractiveAnswerer, validate_question
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
        self._chain = None
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
                self._index, self._retriever, self._chain = None, None, None
            if self._index is None:
                self._index = load_index(self.settings.index_dir, self.embedder.model_id, self.settings.chunk)
            return self._index

    def _is_live(self, index: Index) -> bool:
        try:
            name = (Path(self.settings.index_dir) / "CURRENT").read_text("utf-8").strip()
        except OSError:
            return True  # keep answering from what is loaded
        return name == index.directory.name

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            index = self.index
            if self._retriever is None or self._retriever.index is not index:
                self._retriever = HybridRetriever(index, self.embedder, fusion=self.settings.fusion)
                self._chain = None
            return self._retriever

    @property
    def extractive(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.index.bm25.idf, refuse_check=self.settings.refuse_check)

    @property
    def chain(self):
        with self._lock:
            retriever = self.retriever
            if self._chain is None:
                from .chain import build_chain

                self._chain = build_chain(self.settings, retriever, self.extractive)
            return self._chain

    def reload(self) -> None:
        """Drop the loaded index so the next request reads the live snapshot."""
        with self._lock:
            self._index = None
            self._retriever = None
            self._chain = None

    # -- questions

    def retrieve(self, question: str, top_k: int = 5, timings: dict | None = None) -> list[Passage]:
        """The ``top_k`` passages most likely to answer ``question``, best first."""
        question, _ = validate_question(question)
        return self.retriever.retrieve(question, top_k=top_k, timings=timings)

    def answer(self, question: str, top_k: int = 5, history: list[tuple[str, str]] | None = None) -> Answer:
        """A cited answer, or a refusal when the articles do not hold one."""
        validate_question(question)
        return self.chain.invoke(question, top_k=top_k, history=history)

    def stream_answer(
        self, question: str, top_k: int = 5, history: list[tuple[str, str]] | None = None
    ) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the complete checked Answer."""
        validate_question(question)
        yield from self.chain.stream(question, top_k=top_k, history=history)

    # -- the knowledge base

    def build_index(
        self, paths: Iterable[Path] | None = None, *, rebuild: bool = False,
        progress: BuildProgress | None = None,
    ) -> BuildReport:
        """Index the given files (default: the corpus directory); then answer from the new index."""
        paths = list(paths) if paths else [self.settings.corpus_dir]
        report = build_index(
            paths, self.settings.index_dir, self.embedder, self.settings.chunk,
            root=self.settings.corpus_dir, rebuild=rebuild, progress=progress,
        )
        self.reload()
        return report

    def articles(self) -> list[dict]:
        """The indexed articles: title, file, chunk count, when indexed."""
        return self.index.articles()
