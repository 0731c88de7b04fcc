"""The generator seam: one protocol for every way of writing an answer.

The pipeline (``rag/answer/pipeline.py``) validates, rewrites, retrieves and
judges; then it hands the question, the retrieved passages and the evidence to
exactly one ``Generator``, chosen once when the pipeline is built (extractive or
LLM, see ``rag/answer/generators.py``). A generator:

- ``stream(question, passages, evidence)`` yields text pieces as it produces them
  (zero or more ``str``), then exactly one ``Answer``;
- in that final ``Answer``, ``[n]`` refers to ``answer.citations[n-1]``. The
  citations may include passages the text does not cite (the LLM generator passes
  all retrieved passages): the pipeline's citation check keeps only what is cited,
  renumbers the marks and moves any mark that landed inside a word to the end of
  its sentence. A generator that finds no answer returns ``refused=True`` and no
  citations;
- raises ``GenerationFailure`` (or an ``rag.errors.LLMError``) when it cannot
  answer at all (model unreachable, empty reply); the pipeline then falls back to
  the extractive generator and says why in ``Answer.warnings``.

``refuses_unanswerable`` is the generator's gate policy: True (extractive) means
the pipeline refuses before generating whenever the judge finds the passages do
not answer the question; False (LLM) means the pipeline refuses before
generating only when retrieval found nothing on the question's subject at all
(``evidence.subject_found`` is False) and otherwise lets the model decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Protocol, runtime_checkable

from ..errors import RagError
from ..schema import Answer, Passage


class GenerationFailure(RagError):
    """A generator could not produce an answer; the message (Chinese) says why."""


@runtime_checkable
class Generator(Protocol):
    """Writes a cited answer from retrieved passages."""

    mode: str  # the Answer.mode it produces: "extractive" or "llm"
    refuses_unanswerable: bool  # gate policy, see the module docstring

    def stream(self, question: str, passages: list[Passage], evidence: Any = None
               ) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then exactly one ``Answer``."""
        ...


def final_answer(items: Iterable[str | Answer]) -> Answer:
    """The ``Answer`` at the end of a generator's (or the pipeline's) stream."""
    final: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            final = item
    if final is None:
        raise GenerationFailure("生成器没有给出回答（流结束时没有 Answer）")
    return final


@dataclass
class Verdict:
    """The judge step's result: may the question be answered from these passages?

    ``answerable`` is the judge's decision (the extractive gate uses it);
    ``subject_found`` says whether retrieval found anything on the question's
    subject at all (the LLM gate uses only this); ``reason`` is plain Chinese for a
    person; ``evidence`` is handed to the generator as it is.
    """

    answerable: bool
    subject_found: bool
    reason: str = ""
    evidence: Any = None
    probability: float | None = None


class Judge(Protocol):
    def __call__(self, question: str, passages: list[Passage]) -> Verdict: ...
