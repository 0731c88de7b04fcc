"""Deprecated: answering moved to the ``rag.answer`` package.

- question analysis → ``rag.answer.analysis``
- sentence evidence → ``rag.answer.evidence`` (``gather_evidence``)
- the refusal decision → ``rag.answer.judge`` (``Judge``, ``EvidenceJudge``)
- the extractive answerer → ``rag.answer.extractive`` (``ExtractiveGenerator``)

This module only re-exports those names and adapts the old call shapes
(``assess_evidence``, ``ExtractiveAnswerer``) for callers not yet switched over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .answer.analysis import answer_type, carries_number, expected_unit, extract_terms, named_entities
from .answer.evidence import Evidence as SentenceEvidenceSet
from .answer.evidence import gather_evidence
from .answer.extractive import REFUSAL_TEXT, ExtractiveGenerator, refusal
from .answer.judge import Judge
from .answer.validation import MAX_QUESTION_CHARS, validate_question
from .schema import Answer, Passage

IdfFn = Callable[[str], float]

__all__ = [
    "MAX_QUESTION_CHARS", "REFUSAL_TEXT", "ExtractiveAnswerer", "RefusalPolicy", "answer_type", "assess_evidence",
    "carries_number", "expected_unit", "extract_terms", "named_entities", "refusal", "validate_question",
]


@dataclass(frozen=True)
class RefusalPolicy:
    """Kept for old callers; the decision is now the trained judge's (``rag.answer.judge``)."""

    min_coverage: float = 0.0
    min_focus: float = 0.0
    require_entities: bool = True


@dataclass
class Evidence:
    """The old shape of the decision: answerable, reason, and the new evidence behind it."""

    answerable: bool
    reason: str
    qtype: str = "other"
    missing: list[str] = field(default_factory=list)
    sentences: list = field(default_factory=list)
    evidence: SentenceEvidenceSet | None = None


class _IdfIndex:
    def __init__(self, idf: IdfFn | None) -> None:
        self.idf = idf or (lambda term: 1.0)


def _embedder():
    from .config import Settings
    from .embedding import make_embedder

    return make_embedder(Settings.from_env().embed_model)


def assess_evidence(question: str, passages: list[Passage], idf: IdfFn | None = None,
                    policy: RefusalPolicy | None = None, *, embedder: Any = None) -> Evidence:
    """Gather the evidence and ask the judge (old call shape)."""
    ev = gather_evidence(question, passages, _IdfIndex(idf), embedder or _embedder())
    decision = Judge().decide(question, ev)
    return Evidence(decision.answerable, decision.reason, ev.qtype, list(ev.missing_entities), ev.sentences, ev)


class ExtractiveAnswerer:
    """Old interface of the extractive answerer, on the new judge and generator."""

    mode = "extractive"

    def __init__(self, idf: IdfFn | None = None, *, refuse_check: bool = True,
                 policy: RefusalPolicy = RefusalPolicy(), embedder: Any = None, **_ignored: Any) -> None:
        self.idf = idf
        self.refuse_check = refuse_check
        self.policy = policy
        self._embedder = embedder

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = _embedder()
        return self._embedder

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        if not passages:
            return refusal(question, passages, "没有检索到相关的文章内容")
        evidence = assess_evidence(question, passages, self.idf, embedder=self.embedder)
        if self.refuse_check and not evidence.answerable:
            return refusal(question, passages, evidence.reason)
        return self.compose(question, passages, evidence)

    def compose(self, question: str, passages: list[Passage], evidence: Evidence) -> Answer:
        ev = evidence.evidence if isinstance(evidence, Evidence) else evidence
        if ev is None:
            ev = gather_evidence(question, passages, _IdfIndex(self.idf), self.embedder)
        return ExtractiveGenerator(_IdfIndex(self.idf), self.embedder).compose(question, passages, ev)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        result = self.answer(question, passages)
        yield result.text
        yield result
