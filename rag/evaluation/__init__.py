"""Evaluation: score retrieval and answers on a question set (``rag eval``).

One module per job:

- ``questions``: the question-set format (JSON Lines), loading and validation, splits;
- ``metrics``: the metric functions and their definitions, and the summaries of a run;
- ``run``: ``evaluate`` — each question through an ``Assistant``, scored per question,
  plus the LLM-mode gate run against ``scripted_llm`` (a scripted OpenAI-compatible
  server on 127.0.0.1);
- ``report``: ``EvalReport`` as Markdown or JSON, atomic writes, output-path checks;
- ``compare``: several configurations side by side (``--compare``), table and chart;
- ``command``: the ``rag eval`` options and command body.

    from rag.evaluation import evaluate
    report = evaluate(assistant, "eval/questions.jsonl", top_k=5, split="test", llm_gate=True)
    report.get("answer.false_refusal_rate"), report.get("gate.false_refusal_rate")
"""

from __future__ import annotations

from ..errors import EvalOutputError, QuestionSetError
from .command import DEFAULT_RESULTS_DIR, add_eval_arguments, main, run_eval_command
from .compare import COMPARE_COLUMNS, Variant, compare_chart, compare_markdown, compare_variants, run_compare
from .metrics import (
    CITATION_SUPPORT_THRESHOLD,
    MRR_DEPTH,
    QUESTION_TYPES,
    RECALL_KS,
    RELAXED_EVIDENCE_THRESHOLD,
    all_evidence_rank,
    bigram_coverage,
    bigrams,
    char_f1,
    citation_validity,
    cited_claims,
    evidence_in_answer,
    evidence_in_answer_relaxed,
    false_refusal_rate,
    first_hit_rank,
    mean_reciprocal_rank,
    passage_hits,
    percentile,
    recall_at_k,
    refusal_accuracy,
    squash,
    strip_marks,
)
from .questions import (
    DEFAULT_QUESTIONS,
    REQUIRED_KEYS,
    SPLITS,
    Question,
    coerce_questions,
    load_questions,
    select_split,
)
from .report import EvalReport, QuestionResult, check_output_path, write_json, write_text
from .run import add_llm_gate, evaluate, measure_llm_gate, score_question

__all__ = [
    "CITATION_SUPPORT_THRESHOLD", "COMPARE_COLUMNS", "DEFAULT_QUESTIONS", "DEFAULT_RESULTS_DIR",
    "EvalOutputError", "EvalReport", "MRR_DEPTH", "QUESTION_TYPES", "Question", "QuestionResult",
    "QuestionSetError", "RECALL_KS", "RELAXED_EVIDENCE_THRESHOLD", "REQUIRED_KEYS", "SPLITS", "Variant",
    "add_eval_arguments", "add_llm_gate", "all_evidence_rank", "bigram_coverage", "bigrams", "char_f1", "check_output_path",
    "citation_validity", "cited_claims", "coerce_questions", "compare_chart", "compare_markdown",
    "compare_variants", "evaluate", "evidence_in_answer", "evidence_in_answer_relaxed", "false_refusal_rate",
    "first_hit_rank", "load_questions", "main", "mean_reciprocal_rank", "measure_llm_gate", "passage_hits",
    "percentile", "recall_at_k", "refusal_accuracy", "run_compare", "run_eval_command", "score_question",
    "select_split", "squash", "strip_marks", "write_json", "write_text",
]
