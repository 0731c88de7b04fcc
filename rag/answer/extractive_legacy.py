"""Temporary: today's rule-based evidence check and extractive answerer behind the new seams.

Removed when ``rag.answer.evidence`` / ``judge`` / ``extractive`` replace
``rag.answering``.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..schema import Answer, Passage
from .base import Verdict


class LegacyExtractiveGenerator:
    """``rag.answering.ExtractiveAnswerer.compose`` as a Generator."""

    mode = "extractive"
    refuses_unanswerable = True

    def __init__(self, idf=None) -> None:
        from ..answering import ExtractiveAnswerer

        self.answerer = ExtractiveAnswerer(idf)

    def stream(self, question: str, passages: list[Passage], evidence: Any = None
               ) -> Iterator[str | Answer]:
        from ..answering import assess_evidence

        if evidence is None:
            evidence = assess_evidence(question, passages, self.answerer.idf)
        answer = self.answerer.compose(question, passages, evidence)
        yield answer.text
        yield answer


class LegacyJudge:
    """``rag.answering.assess_evidence`` as the pipeline's judge step."""

    def __init__(self, idf=None) -> None:
        self.idf = idf

    def __call__(self, question: str, passages: list[Passage]) -> Verdict:
        from ..answering import assess_evidence

        evidence = assess_evidence(question, passages, self.idf)
        # Nothing on the subject: an entity the passages never name, or no overlap at all.
        subject_found = bool(passages) and not evidence.missing and not evidence.reason.startswith(
            "段落与问题的重合度过低")
        return Verdict(evidence.answerable, subject_found, evidence.reason, evidence)
