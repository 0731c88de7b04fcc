"""The answerability judge: the one place that decides whether the passages answer a question.

``Judge().decide(question, evidence) -> Decision(answerable, reason, probability)``.

The decision is a small logistic regression over the evidence's question-level
features (``rag/answer/evidence.py``), trained on the tune split of the project's
question set by ``bench/train_judge.py`` and stored with its threshold in
``judge_model.json`` next to this file. Inference is numpy only: the app needs no
scikit-learn. Two models are stored: ``full`` for Chinese questions, and ``crosslingual``
for questions in another language, over the same features with their words matched against the
Chinese articles through the glossary (``translation``), trained on such questions alone. Two rules
(``REFUSAL_RULES``) stand beside them and refuse whatever the classifier says: a factoid question whose
figures the passages give for another period only (``Evidence.period_mismatch``), and a question asking
for the day that the passages date to a month at most (``Evidence.day_missing``). The classifier's
threshold is chosen with them (a question a rule refuses counts as refused). A list question whose count
the passages state with fewer items beside it (``Evidence.list_shortfall``) is a feature, ``list_short``.

A refusal's reason is plain Chinese for a person (「文章提到了“X”，但没有给出具体数字」),
never scores or token lists.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from ..text import CJK_RE
from .analysis import QuestionAnalysis, analyze, coordinated_parts, question_parts
from .base import Verdict
from .evidence import Evidence, gather_evidence, mentions
from .model import MODEL_PATH, Classifier, JudgeModel, default_model

MAX_ANCHOR_CHARS = 16  # a longer anchor reads badly inside a reason


@dataclass(frozen=True)
class Decision:
    """Whether the passages answer the question; when not, why, in words for a person."""

    answerable: bool
    reason: str = ""
    probability: float = 1.0  # the model's P(answerable)

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("Decision.probability must lie in [0, 1]")
        if not self.answerable and not self.reason:
            raise ValueError("a refusal needs a reason")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Decision":
        return cls(bool(data["answerable"]), str(data.get("reason", "")), float(data.get("probability", 1.0)))


def _quote(text: str) -> str:
    return f"“{text[:MAX_ANCHOR_CHARS]}”"


def refusal_reason(evidence: Evidence) -> str:
    """Why the passages do not answer, as a person would say it."""
    analysis = evidence.analysis
    if not evidence.passages or not evidence.sentences:
        return "没有检索到相关的文章内容"
    # The articles are Chinese: an English question's own words (「little giant」) are missing from them by nature.
    # An English question's own Latin names count when nothing placed them (Nike, where the glossary knows Laoshan).
    missing = evidence.missing_names or [e for e in evidence.missing_entities
                                         if not analysis.crosslingual or CJK_RE.search(e)] or evidence.unplaced
    # A day asked for says more than the period rule, which reads 「3月哪一天」 as asking about March.
    if evidence.day_missing and not missing:
        return f"文章只说到{_quote(evidence.day_missing)}，没有给出具体哪一天"
    if evidence.period_mismatch and not evidence.missing_names:
        asked, stated = evidence.period_mismatch
        return f"文章说的是{_quote(stated)}的情况，没有给出{_quote(asked)}的"
    if evidence.list_shortfall and not missing:
        short = evidence.list_shortfall
        return f"文章提到了{_quote(short.asked)}，但没有{'全部' if short.found else '一一'}列出"
    if missing:
        return f"文章中没有提到{'、'.join(_quote(e) for e in missing[:3])}"
    if not evidence.subject_found:
        return "文章中没有找到与这个问题相关的内容"
    if not evidence.found_anchors:  # on the subject, but no piece of the question reads as a name (an English one)
        return f"文章中没有给出{analysis.slot or '所问的具体内容'}"
    anchor = evidence.found_anchors[0]
    return f"文章提到了{_quote(anchor)}，但没有给出{analysis.slot or '所问的具体内容'}"


# The refusal rules beside the classifier: each names what it reads in the evidence. They refuse whatever the
# classifier says, so ``bench/train_judge.py`` sets the classifier's operating point for them and the
# classifier together (a question refused by a rule counts as refused at every threshold).
REFUSAL_RULES: dict[str, Callable[[Evidence], bool]] = {
    "period": lambda evidence: bool(evidence.period_mismatch),
    "day": lambda evidence: bool(evidence.day_missing),
}


def rules_refusing(evidence: Evidence) -> tuple[str, ...]:
    """The names of the refusal rules that refuse this evidence (empty when none does)."""
    return tuple(name for name, rule in REFUSAL_RULES.items() if rule(evidence))


class Judge:
    """Decides answerability from the evidence with the trained classifier."""

    def __init__(self, model: JudgeModel | None = None, *, enabled: bool = True) -> None:
        self._model = model
        self.enabled = enabled

    @property
    def model(self) -> JudgeModel:
        return self._model or default_model()

    def classifier(self, analysis: QuestionAnalysis) -> Classifier | None:
        model = self.model
        return model.crosslingual if analysis.crosslingual else model.full

    def probability(self, evidence: Evidence) -> float:
        classifier = self.classifier(evidence.analysis)
        return classifier.probability(evidence) if classifier else 1.0

    def decide(self, question: str | QuestionAnalysis, evidence: Evidence) -> Decision:
        """Answerable or not, with a reason a person can read."""
        if not evidence.passages or not evidence.sentences:
            return Decision(False, refusal_reason(evidence), 0.0)
        if not self.enabled:
            return Decision(True, "", 1.0)
        classifier = self.classifier(evidence.analysis)
        if classifier is None:
            return Decision(True, "", 1.0)
        p = classifier.probability(evidence)
        # Nothing on the subject at all (below the floor every answerable tune question clears): the
        # same rule the LLM-mode gate applies, so no mode answers an off-corpus question.
        # The refusal rules (REFUSAL_RULES), which bench/train_judge.py weighs against the classifier held out
        # by batch on the 3068 tune questions the shipped model was trained on (judge_cv.json "rules"):
        # - the figures are for another period than the one asked (2023年1—10月 for 2023年全年): 37 unanswerable
        #   questions refused, 15 of them by the rule alone, and 1 answerable one; without it the classifier's
        #   point falls from 0.653 to 0.643 refused at 4.4% false refusals;
        # - a day asked for, a month at most given (「3月下旬」 for 「3月哪一天」): 14 unanswerable refused, 1 by
        #   the rule alone and no answerable one.
        # A list question's count stated with fewer items beside it (「…等地的18所高校」) was a rule too. It is
        # now a feature (``list_short``): on 2470 questions the rule refused 20 unanswerable and 4 answerable
        # ones, and the classifier refused as many without it (0.609 against 0.608); as a feature, 0.620.
        if p < classifier.threshold or not evidence.subject_found or rules_refusing(evidence):
            return Decision(False, refusal_reason(evidence), p)
        return Decision(True, "", p)


class EvidenceJudge:
    """The pipeline's judge step (``rag.answer.base.Judge``): gather the evidence, then decide.

    ``index`` gives IDF weights and stored sentence vectors, ``embedder`` the e5 model, ``translate``
    (optional) the articles' Chinese words for a question in another language, ``unknown_names``
    (optional) the names in it the glossary cannot place;
    the ``Verdict`` carries the evidence on to the generator, so nothing is computed twice.
    """

    def __init__(self, index: Any, embedder: Any, judge: Judge | None = None,
                 translate: Callable[[str], Sequence[str]] | None = None,
                 unknown_names: Callable[[str], Sequence[str]] | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.judge = judge or Judge()
        self.translate = translate
        self.unknown_names = unknown_names

    def __call__(self, question: str, passages: list) -> Verdict:
        analysis = analyze(question)
        evidence = self._evidence(analysis, passages)
        decision = self.judge.decide(analysis, evidence)
        if not decision.answerable and evidence.subject_found:
            # A question that asks two things is answered when the passages answer one of them: each part is
            # judged on its own, the answer is still composed for the whole question.
            for part in map(analyze, question_parts(question)):
                part_decision = self.judge.decide(part, self._evidence(part, passages))
                if part_decision.answerable:
                    decision = part_decision
                    break
            else:
                decision = self._coordinated(question, passages) or decision
        reason = decision.reason or (refusal_reason(evidence) if not evidence.subject_found else "")
        # the LLM-mode gate's reading: off-corpus only when nothing on the subject was found, not merely a name
        on_subject = evidence.subject_found or evidence.subject_named
        return Verdict(decision.answerable, on_subject, reason, evidence, decision.probability)

    def _coordinated(self, question: str, passages: list) -> Decision | None:
        """「A和B各自X」 asks X of A and of B: answerable when the passages name both A and B (every term of each)
        and answer each part judged on its own (the whole question's evidence mixes the two and covers neither
        well); None otherwise. Naming both keeps the judge, weak on a near miss, from answering the part about B
        from a passage about A only."""
        parts = coordinated_parts(question)
        if not parts:  # most refused questions: nothing to join
            return None
        joined = re.sub(r"\s+", "", "".join(p.title + p.text for p in passages))
        if not all(mentions(joined, term) for _, conjunct in parts for term in analyze(conjunct).terms):
            return None
        decisions = [self.judge.decide(part, self._evidence(part, passages))
                     for part in (analyze(text) for text, _ in parts)]
        if all(d.answerable for d in decisions):
            return min(decisions, key=lambda d: d.probability)
        return None

    def _evidence(self, analysis: QuestionAnalysis, passages: list) -> Evidence:
        model = self.judge.model
        question = analysis.text
        return gather_evidence(analysis, passages, self.index, self.embedder, ranker=model.ranker, subject=model.subject,
                               reader=model.reader,
                               translation=self.translate(question) if self.translate else (),
                               unknown_names=self.unknown_names(question) if self.unknown_names else ())


__all__ = ["EvidenceJudge", "Decision", "Judge", "REFUSAL_RULES", "rules_refusing", "JudgeModel", "Classifier",
           "default_model", "refusal_reason", "MODEL_PATH", "analyze"]
