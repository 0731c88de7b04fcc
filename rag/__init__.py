"""Question answering over Chinese articles, with citations that point at exact passages.

    import rag
    a = rag.answer("中央经济工作会议在哪里举行？")
    print(a.text)            # 会议…在北京举行。[1]
    print(a.citations[0])    # Passage(title=…, source=…, start=…, end=…)

Module-level functions share one ``Assistant`` per process, configured from the
environment (``RAG_INDEX_DIR``, ``RAG_CORPUS_DIR``, ``OPENAI_*``, ``RAG_LLM*``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterator

from .config import Settings
from .errors import (
    ConfigError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMError,
    LoadError,
    PromptError,
    QuestionError,
    QuestionSetError,
    RagError,
)
from .schema import Answer, Chunk, Document, Passage

if TYPE_CHECKING:
    from .assistant import Assistant

__all__ = [
    "Answer", "Assistant", "Chunk", "ConfigError", "Document", "IndexCorruptError",
    "IndexMismatchError", "IndexNotFoundError", "LLMError", "LoadError", "Passage",
    "PromptError", "QuestionError", "QuestionSetError", "RagError", "Settings", "answer", "default_assistant",
    "evaluate", "retrieve", "stream_answer",
]

_default: "Assistant | None" = None
_lock = threading.Lock()


def __getattr__(name: str):
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    raise AttributeError(name)


def default_assistant() -> "Assistant":
    """The process-wide assistant, built from the environment on first use."""
    global _default
    with _lock:
        if _default is None:
            from .assistant import Assistant

            _default = Assistant(Settings.from_env())
        return _default


def retrieve(question: str, top_k: int | None = None) -> list[Passage]:
    """The passages most likely to answer ``question``, best first (``top_k`` default: RAG_TOP_K)."""
    return default_assistant().retrieve(question, top_k=top_k)


def answer(question: str, top_k: int | None = None, history: list[tuple[str, str]] | None = None
           ) -> Answer:
    """Answer ``question`` from the articles, with [n] marks pointing at ``citations``.

    (``rag.answer`` is also the package of the answer pipeline; once it is imported,
    ``rag.answer(...)`` calls the package, which does the same as this function.)
    """
    return default_assistant().answer(question, top_k=top_k, history=history)


def stream_answer(
    question: str, top_k: int | None = None, history: list[tuple[str, str]] | None = None
) -> Iterator[str | Answer]:
    """Yield text pieces as they are produced, then the complete, checked ``Answer``."""
    return default_assistant().stream_answer(question, top_k=top_k, history=history)


def evaluate(questions, top_k: int = 5):
    """Score retrieval and answers on a question set (path or list of dicts)."""
    from .evaluation import evaluate as _evaluate

    return _evaluate(default_assistant(), questions, top_k=top_k)
