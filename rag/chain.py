"""The answer chain: retrieve → answer → Answer, with one interface for every mode.

Minimal extractive version; the LangChain (LCEL) chain with the LLM replaces it.
Interface used by ``Assistant``: ``build_chain(settings, retriever, extractive)``
returning an object with ``invoke(question, top_k, history) -> Answer`` and
``stream(question, top_k, history) -> Iterator[str | Answer]``.
"""

from __future__ import annotations

from typing import Iterator

from .answering import ExtractiveAnswerer, validate_question
from .config import Settings
from .retrieval import Retriever
from .schema import Answer


class AnswerChain:
    def __init__(self, retriever: Retriever, answerer: ExtractiveAnswerer) -> None:
        self.retriever = retriever
        self.answerer = answerer

    def invoke(self, question: str, top_k: int = 5, history=None) -> Answer:
        question, warnings = validate_question(question)
        passages = self.retriever.retrieve(question, top_k=top_k)
        result = self.answerer.answer(question, passages)
        result.warnings[:0] = warnings
        return result

    def stream(self, question: str, top_k: int = 5, history=None) -> Iterator[str | Answer]:
        result = self.invoke(question, top_k=top_k, history=history)
        yield result.text
        yield result


def build_chain(settings: Settings, retriever: Retriever, extractive: ExtractiveAnswerer) -> AnswerChain:
    return AnswerChain(retriever, extractive)
