"""Running an evaluation: each question through an ``Assistant``, scored into a ``QuestionResult``.

``evaluate`` scores retrieval (a ``retrieve`` call at depth max(top_k, 10)) and the
extractive answers, and — with ``llm_gate=True`` — runs the same questions once more
in LLM mode against a scripted OpenAI-compatible server on 127.0.0.1
(``scripted_llm``) to record the answer pipeline's pre-generation decision
(``Answer.gate``) for each. That second run measures the gate only: the scripted
model's replies are not scored.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Callable, Sequence

from .metrics import (
    MRR_DEPTH,
    all_evidence_rank,
    answer_summary,
    by_type_summary,
    char_f1,
    citation_validity,
    evidence_in_answer,
    evidence_in_answer_relaxed,
    first_hit_rank,
    gate_summary,
    latency_summary,
    retrieval_summary,
    squash,
    strip_marks,
    support_function,
)
from .questions import Question, coerce_questions, select_split
from .report import EvalReport, QuestionResult
from .scripted_llm import OpenAIServer, Reply

if TYPE_CHECKING:
    from ..assistant import Assistant
    from ..config import Settings

# The scripted model of the gate run: an API key and model name it accepts, and the
# reply it gives (a refusal; its content is not scored).
GATE_PROBE_KEY = "sk-rag-eval-gate-probe"
GATE_PROBE_MODEL = "rag-eval-gate-probe"
GATE_PROBE_REPLY = "资料中没有找到这个问题的答案。"

Progress = Callable[[int, int], None]


def score_question(q: Question, passage_texts: Sequence[str], answer, supports=None) -> QuestionResult:
    """Score one question from its retrieved passage texts and its Answer."""
    row = QuestionResult(q.id, q.type, q.split, q.question, q.answer, q.answerable,
                         lang=q.lang, near_miss=q.near_miss)
    if q.answerable:
        row.rank = first_hit_rank(passage_texts, q.evidence)
        row.all_rank = all_evidence_rank(passage_texts, q.evidence)
    if answer is not None:
        row.answer = answer.text
        row.refused = bool(answer.refused)
        if not row.refused:
            row.answer_chars = len(squash(strip_marks(answer.text)))
            row.citations_valid, row.citations_total = citation_validity(
                answer.text, [p.text for p in answer.citations], supports
            )
            if q.answerable:
                row.evidence_hit = evidence_in_answer(answer.text, q.evidence)
                row.evidence_hit_relaxed = evidence_in_answer_relaxed(answer.text, q.evidence)
                row.f1 = char_f1(answer.text, q.answer)
    return row


def _run_config(assistant, *, label: str, split: str, top_k: int, rows: Sequence[QuestionResult]) -> dict:
    settings = getattr(assistant, "settings", None)
    return {
        "label": label or "default",
        "split": split,
        "top_k": top_k,
        "n_questions": len(rows),
        "n_answerable": sum(r.answerable for r in rows),
        "n_unanswerable": sum(not r.answerable for r in rows),
        "fusion": getattr(settings, "fusion", None),
        "chunk_size": getattr(getattr(settings, "chunk", None), "size", None),
        "chunk_overlap": getattr(getattr(settings, "chunk", None), "overlap", None),
        "refuse_check": getattr(settings, "refuse_check", None),
        "embed_model": getattr(settings, "embed_model", None),
        "llm_mode": getattr(settings, "llm_mode", None),
        "llm_gate_measured": any(r.llm_gate for r in rows),
    }


def evaluate(
    assistant: "Assistant",
    questions,
    top_k: int = 5,
    *,
    split: str = "all",
    label: str = "",
    answers: bool = True,
    llm_gate: bool = False,
    warmup: bool = True,
    progress: Progress | None = None,
) -> EvalReport:
    """Run every question through ``assistant`` and score retrieval and answers.

    Retrieval is scored on a separate ``retrieve`` call at depth max(top_k, 10) (for
    recall@10 and MRR); the answer comes from ``answer(question, top_k)``. One
    untimed warm-up question first loads the index and the model, so latencies are
    warm. ``llm_gate=True`` adds the LLM-mode gate run (see ``measure_llm_gate``).
    """
    qs = select_split(coerce_questions(questions), split)
    supports = support_function()
    depth = max(top_k, MRR_DEPTH)
    if warmup:
        assistant.retrieve(qs[0].question, top_k=depth)
        if answers:
            assistant.answer(qs[0].question, top_k=top_k)
    rows = []
    for i, q in enumerate(qs, 1):
        timings: dict = {}
        t0 = time.perf_counter()
        passages = assistant.retrieve(q.question, top_k=depth, timings=timings)
        retrieve_ms = (time.perf_counter() - t0) * 1000
        answer = None
        answer_ms = None
        if answers:
            t0 = time.perf_counter()
            answer = assistant.answer(q.question, top_k=top_k)
            answer_ms = (time.perf_counter() - t0) * 1000
        row = score_question(q, [p.text for p in passages], answer, supports)
        row.top_source = passages[0].source if passages else ""
        row.embed_ms = timings.get("embed")
        row.search_ms = timings.get("search")
        row.retrieve_ms = retrieve_ms
        row.answer_ms = answer_ms
        rows.append(row)
        if progress:
            progress(i, len(qs))
    report = EvalReport(
        config=_run_config(assistant, label=label, split=split, top_k=top_k, rows=rows),
        retrieval=retrieval_summary(rows),
        answer=answer_summary(rows),
        latency_ms=latency_summary(rows),
        by_type=by_type_summary(rows),
        rows=rows,
    )
    if llm_gate:
        add_llm_gate(report, assistant.settings, qs, top_k=top_k)
    return report


def add_llm_gate(report: EvalReport, settings: "Settings", questions: Sequence[Question], *, top_k: int,
                 progress: Progress | None = None) -> EvalReport:
    """Run ``questions`` (those of ``report``) in LLM mode and add the gate figures to ``report``."""
    decisions = measure_llm_gate(settings, questions, top_k=top_k, progress=progress)
    for row in report.rows:
        row.llm_gate = decisions.get(row.id, "")
    report.gate = gate_summary(report.rows)
    report.config["llm_gate_measured"] = any(r.llm_gate for r in report.rows)
    return report


def llm_settings(settings: "Settings", base_url: str) -> "Settings":
    """``settings`` in LLM mode against the scripted model at ``base_url`` (no retries)."""
    llm = dataclasses.replace(settings.llm, base_url=base_url, api_key=GATE_PROBE_KEY,
                              model=GATE_PROBE_MODEL, max_retries=0)
    return settings.replace(llm_mode="openai", llm=llm)


def measure_llm_gate(
    settings: "Settings",
    questions: Sequence[Question],
    *,
    top_k: int,
    progress: Progress | None = None,
    server: OpenAIServer | None = None,
) -> dict[str, str]:
    """``{question id: Answer.gate}`` for every question answered in LLM mode.

    Starts the scripted OpenAI-compatible server on 127.0.0.1 for the duration (or
    uses ``server``, started, which accepts ``GATE_PROBE_KEY``), answers each question
    through a fresh ``Assistant`` configured for it, and records whether the
    pipeline refused before calling the model.
    """
    if server is None:
        with OpenAIServer(api_key=GATE_PROBE_KEY, default=Reply(GATE_PROBE_REPLY)) as own:
            return measure_llm_gate(settings, questions, top_k=top_k, progress=progress, server=own)
    from ..assistant import Assistant

    assistant = Assistant(llm_settings(settings, server.url))
    decisions: dict[str, str] = {}
    for i, q in enumerate(questions, 1):
        decisions[q.id] = assistant.answer(q.question, top_k=top_k).gate or ""
        if progress:
            progress(i, len(questions))
    return decisions
