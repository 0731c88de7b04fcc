"""Evaluation: score retrieval and answers on a question set (``rag eval``).

Question set: JSON Lines, one object a line, keys ``id``, ``question``, ``answer``
(``""`` when unanswerable), ``evidence`` (1–3 strings copied from the article with
all whitespace removed; ``[]`` when unanswerable), ``doc``, ``type`` and optionally
``split`` (``"tune"`` or ``"test"``).

Definitions (the same in the report, the JSON and the tests):

- A passage *hits* an evidence string when the passage text with all whitespace
  removed contains it.
- recall@k: share of answerable questions with ANY evidence string hit by ANY of the
  top-k passages. ``recall_all@k`` is the stricter variant: EVERY evidence string is
  hit by some passage in the top k.
- MRR: mean of 1/rank of the first hit, 0 when no hit in the top 10.
- evidence_rate: share of answerable questions whose answer (``[n]`` marks and
  whitespace removed) contains at least one evidence string. ``evidence_rate_relaxed``
  accepts an evidence string when >= 60% of its distinct character bigrams appear in
  the answer. A refused answer contains nothing.
- char_f1: bag-of-characters F1 between answer and gold answer (whitespace,
  punctuation and marks removed), mean over answerable questions (a refusal scores 0).
- refusal_accuracy: share of unanswerable questions refused;
  false_refusal_rate: share of answerable questions refused.
- citation_validity: share of ``[n]`` marks whose passage supports the text they
  close (``rag.citations.support_score`` when that module exists, else bigram
  containment >= ``CITATION_SUPPORT_THRESHOLD``); a mark pointing past the citation
  list counts as invalid.
- latency_ms: p50/p95 of query embedding, search, the whole ``retrieve`` call and
  the whole ``answer`` call.

``EvalReport.to_dict()`` is nested (``{"retrieval": {"recall@1": ...}}``) and also
carries every leaf under its flat dotted name (``"retrieval.recall@1"``), so both
``d["retrieval"]["recall@1"]`` and ``d["retrieval.recall@1"]`` work.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .config import PROJECT_ROOT
from .errors import QuestionSetError, RagError

if TYPE_CHECKING:
    from .assistant import Assistant
    from .config import Settings

QUESTION_TYPES = ("number", "entity", "definition", "list", "why", "multi", "unanswerable")
SPLITS = ("tune", "test")
REQUIRED_KEYS = ("id", "question", "answer", "evidence", "doc", "type")
RECALL_KS = (1, 3, 5, 10)
MRR_DEPTH = 10
RELAXED_EVIDENCE_THRESHOLD = 0.6
# Share of a sentence's distinct character bigrams that must appear in the cited
# passage for the citation to count as supporting it (fallback measure only).
CITATION_SUPPORT_THRESHOLD = 0.5
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
DEFAULT_RESULTS_DIR = PROJECT_ROOT / "eval" / "results"


# ---------------------------------------------------------------------------
# Questions


@dataclass(frozen=True)
class Question:
    """One evaluation question; ``evidence`` strings are stored whitespace-free."""

    id: str
    question: str
    answer: str
    evidence: tuple[str, ...]
    doc: Any
    type: str
    split: str = ""

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def _question_from_dict(obj: Any, where: str) -> Question:
    if not isinstance(obj, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise QuestionSetError(
            f"{where}: missing key(s) {', '.join(missing)}; every question needs "
            f"{', '.join(REQUIRED_KEYS)}"
        )
    qid = str(obj["id"]).strip()
    if not qid:
        raise QuestionSetError(f"{where}: 'id' is empty")
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        raise QuestionSetError(f"{where} (id {qid}): 'question' must be a non-empty string")
    gold = obj["answer"]
    if not isinstance(gold, str):
        raise QuestionSetError(f"{where} (id {qid}): 'answer' must be a string ('' if unanswerable)")
    qtype = obj["type"]
    if qtype not in QUESTION_TYPES:
        raise QuestionSetError(
            f"{where} (id {qid}): type {qtype!r} is not one of {', '.join(QUESTION_TYPES)}"
        )
    evidence = obj["evidence"]
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise QuestionSetError(f"{where} (id {qid}): 'evidence' must be a list of strings")
    evidence = tuple(e for e in (squash(e) for e in evidence) if e)
    if qtype == "unanswerable" and evidence:
        raise QuestionSetError(f"{where} (id {qid}): an unanswerable question has evidence []")
    if qtype != "unanswerable" and not evidence:
        raise QuestionSetError(
            f"{where} (id {qid}): an answerable question needs 1–3 non-empty evidence strings"
        )
    split = obj.get("split", "") or ""
    if split and split not in SPLITS:
        raise QuestionSetError(f"{where} (id {qid}): split {split!r} must be 'tune' or 'test'")
    return Question(qid, question.strip(), gold, evidence, obj["doc"], qtype, split)


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate a JSON Lines question file; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise QuestionSetError(f"question file {path} not found; pass the path to a .jsonl file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise QuestionSetError(f"{path} is not UTF-8 text; save the question file as UTF-8") from None
    questions = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        questions.append(_question_from_dict(obj, where))
    return _check_unique(questions, str(path))


def coerce_questions(questions: str | Path | Iterable[Any]) -> list[Question]:
    """Accept a path, a list of dicts or a list of Question values."""
    if isinstance(questions, (str, Path)):
        return load_questions(questions)
    out = []
    for i, q in enumerate(questions, 1):
        out.append(q if isinstance(q, Question) else _question_from_dict(q, f"question #{i}"))
    return _check_unique(out, "question list")


def _check_unique(questions: list[Question], where: str) -> list[Question]:
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise QuestionSetError(f"{where}: id {q.id!r} appears twice; ids must be unique")
        seen.add(q.id)
    if not questions:
        raise QuestionSetError(f"{where} holds no questions")
    return questions


def select_split(questions: Sequence[Question], split: str) -> list[Question]:
    """Questions of one split (``tune``/``test``), or all of them for ``all``."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise QuestionSetError(f"split {split!r}: use tune, test or all")
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise QuestionSetError(f"no question has split {split!r}; use --split all")
    return chosen


# ---------------------------------------------------------------------------
# Metric functions (pure; tested on hand-made cases)

_WS = re.compile(r"\s+")
_MARKS = re.compile(r"\[\d+(?:\s*[,，、]\s*\d+)*\]")


def squash(text: str) -> str:
    """Remove all whitespace: how evidence strings are written and matched."""
    return _WS.sub("", text)


def strip_marks(text: str) -> str:
    """Answer text without its [n] citation marks."""
    return _MARKS.sub("", text)


def passage_hits(passage_text: str, evidence: Iterable[str]) -> bool:
    """True when the whitespace-free passage contains any evidence string."""
    flat = squash(passage_text)
    return any(e and squash(e) in flat for e in evidence)


def first_hit_rank(passage_texts: Sequence[str], evidence: Sequence[str], depth: int = MRR_DEPTH) -> int | None:
    """1-based rank of the first passage hitting any evidence string, or None."""
    for rank, text in enumerate(passage_texts[:depth], 1):
        if passage_hits(text, evidence):
            return rank
    return None


def all_evidence_rank(passage_texts: Sequence[str], evidence: Sequence[str], depth: int = MRR_DEPTH) -> int | None:
    """Smallest k at which every evidence string is hit by some top-k passage, or None."""
    remaining = {squash(e) for e in evidence if e}
    if not remaining:
        return None
    for rank, text in enumerate(passage_texts[:depth], 1):
        flat = squash(text)
        remaining = {e for e in remaining if e not in flat}
        if not remaining:
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first hit is at rank <= k."""
    if not ranks:
        return float("nan")
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None], depth: int = MRR_DEPTH) -> float:
    """Mean of 1/rank (0 when there is no hit within ``depth``)."""
    if not ranks:
        return float("nan")
    return sum(1.0 / r for r in ranks if r is not None and r <= depth) / len(ranks)


def _f1_chars(text: str) -> list[str]:
    return [
        ch for ch in strip_marks(text)
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S"))
    ]


def char_f1(prediction: str, gold: str) -> float:
    """Bag-of-characters F1, ignoring whitespace, punctuation, symbols and [n] marks."""
    from collections import Counter

    pred, ref = Counter(_f1_chars(prediction)), Counter(_f1_chars(gold))
    if not pred or not ref:
        return float(not pred and not ref)
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def bigrams(text: str) -> set[str]:
    """Distinct character bigrams (a single character counts as its own unit)."""
    text = squash(text)
    if len(text) == 1:
        return {text}
    return {text[i:i + 2] for i in range(len(text) - 1)}


def bigram_coverage(needle: str, haystack: str) -> float:
    """Share of the needle's distinct character bigrams present in the haystack."""
    want = bigrams(needle)
    if not want:
        return 0.0
    have = bigrams(haystack)
    return len(want & have) / len(want)


def evidence_in_answer(answer_text: str, evidence: Sequence[str]) -> bool:
    """Strict: the answer (marks and whitespace removed) contains an evidence string."""
    flat = squash(strip_marks(answer_text))
    return any(e and squash(e) in flat for e in evidence)


def evidence_in_answer_relaxed(
    answer_text: str, evidence: Sequence[str], threshold: float = RELAXED_EVIDENCE_THRESHOLD
) -> bool:
    """Relaxed: >= ``threshold`` of some evidence string's bigrams appear in the answer."""
    flat = strip_marks(answer_text)
    return any(e and bigram_coverage(e, flat) >= threshold for e in evidence)


def refusal_accuracy(refused_on_unanswerable: Sequence[bool]) -> float:
    """Share of unanswerable questions that were refused."""
    if not refused_on_unanswerable:
        return float("nan")
    return sum(map(bool, refused_on_unanswerable)) / len(refused_on_unanswerable)


def false_refusal_rate(refused_on_answerable: Sequence[bool]) -> float:
    """Share of answerable questions that were refused."""
    if not refused_on_answerable:
        return float("nan")
    return sum(map(bool, refused_on_answerable)) / len(refused_on_answerable)


def percentile(values: Sequence[float], q: float) -> float:
    """q-th percentile (0–100) with linear interpolation, like numpy's default."""
    if not values:
        return float("nan")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} must be within 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def cited_claims(answer_text: str) -> list[tuple[str, int]]:
    """(claim text, n) for every [n] mark: the claim is the text since the previous mark run.

    Handles both ``句子。[1]`` and ``句子[1]。`` (the stray leading punctuation of the
    next claim is dropped).
    """
    claims = []
    pos = 0
    for m in _MARKS.finditer(answer_text):
        claim = answer_text[pos:m.start()].strip().lstrip("。！？；，、.!?;,: ")
        for n in re.findall(r"\d+", m.group()):
            claims.append((claim, int(n)))
        pos = m.end()
    return claims


def _support_function() -> Callable[[str, str], bool]:
    """The project's citation checker when present, else bigram containment."""
    try:
        from . import citations  # written by another engineer; optional here
    except ImportError:
        citations = None
    score = getattr(citations, "support_score", None) if citations else None
    if score is None:
        return lambda claim, passage: bigram_coverage(claim, passage) >= CITATION_SUPPORT_THRESHOLD
    threshold = getattr(citations, "SUPPORT_THRESHOLD", CITATION_SUPPORT_THRESHOLD)
    return lambda claim, passage: score(claim, passage) >= threshold


def citation_validity(answer_text: str, passage_texts: Sequence[str], supports=None) -> tuple[int, int]:
    """(valid marks, all marks) in one answer; ``[n]`` refers to ``passage_texts[n-1]``."""
    supports = supports or _support_function()
    valid = total = 0
    for claim, n in cited_claims(answer_text):
        total += 1
        if 1 <= n <= len(passage_texts) and claim and supports(claim, passage_texts[n - 1]):
            valid += 1
    return valid, total


# ---------------------------------------------------------------------------
# Running an evaluation


@dataclass
class QuestionResult:
    """Everything measured for one question: the rows of the failure table."""

    id: str
    type: str
    split: str
    question: str
    gold: str
    answerable: bool
    rank: int | None = None  # first hit within MRR_DEPTH
    all_rank: int | None = None  # all evidence covered
    top_source: str = ""
    answer: str = ""
    refused: bool = False
    evidence_hit: bool = False
    evidence_hit_relaxed: bool = False
    f1: float = 0.0
    citations_valid: int = 0
    citations_total: int = 0
    answer_chars: int = 0
    embed_ms: float | None = None
    search_ms: float | None = None
    retrieve_ms: float = 0.0
    answer_ms: float = 0.0

    def failures(self, top_k: int) -> list[str]:
        """Why this question counts as a failure (empty when it does not)."""
        why = []
        if self.answerable:
            if self.rank is None or self.rank > top_k:
                why.append(f"evidence not in top {top_k}")
            if self.refused:
                why.append("wrongly refused")
            elif not self.evidence_hit_relaxed:
                why.append("answer lacks evidence")
        elif not self.refused:
            why.append("answered an unanswerable question")
        return why


@dataclass
class EvalReport:
    """Metrics of one run, with per-type figures and per-question rows."""

    config: dict
    retrieval: dict
    answer: dict
    latency_ms: dict
    by_type: dict
    rows: list[QuestionResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Nested sections plus every leaf under its flat dotted name."""
        nested = {
            "config": self.config,
            "retrieval": self.retrieval,
            "answer": self.answer,
            "latency_ms": self.latency_ms,
            "by_type": self.by_type,
            "questions": [
                {**vars(r), "failures": r.failures(self.config["top_k"])} for r in self.rows
            ],
        }
        flat = {}
        for section in ("retrieval", "answer", "latency_ms"):
            for key, value in getattr(self, section).items():
                flat[f"{section}.{key}"] = value
        return {**nested, **flat}

    def get(self, dotted: str):
        """A metric by its dotted name, e.g. ``report.get("retrieval.recall@5")``."""
        section, _, key = dotted.partition(".")
        return getattr(self, section)[key]

    def failures(self) -> list[tuple[QuestionResult, list[str]]]:
        k = self.config["top_k"]
        return [(r, r.failures(k)) for r in self.rows if r.failures(k)]

    def to_markdown(self, max_failures: int | None = None) -> str:
        """A readable report: headline metrics, per-type table, latency and failures."""
        c, r, a, lat = self.config, self.retrieval, self.answer, self.latency_ms
        lines = [
            f"## Evaluation: {c.get('label', 'run')}",
            "",
            f"{c['n_questions']} questions ({c['n_answerable']} answerable, "
            f"{c['n_unanswerable']} unanswerable), split `{c.get('split', 'all')}`, "
            f"top_k {c['top_k']}, fusion `{c.get('fusion', '?')}`, chunk size "
            f"{c.get('chunk_size', '?')}, refusal check {c.get('refuse_check', '?')}.",
            "",
            "| Retrieval | R@1 | R@3 | R@5 | R@10 | MRR | all-evidence R@5 |",
            "|---|---|---|---|---|---|---|",
            f"| any evidence hit | {_f(r['recall@1'])} | {_f(r['recall@3'])} | {_f(r['recall@5'])} "
            f"| {_f(r['recall@10'])} | {_f(r['mrr'])} | {_f(r['recall_all@5'])} |",
            "",
            "| Answers | value |",
            "|---|---|",
            f"| evidence in answer (strict) | {_f(a['evidence_rate'])} |",
            f"| evidence in answer (relaxed, ≥60% bigrams) | {_f(a['evidence_rate_relaxed'])} |",
            f"| char F1 vs gold (answerable) | {_f(a['char_f1'])} |",
            f"| refusal accuracy (unanswerable) | {_f(a['refusal_accuracy'])} |",
            f"| false-refusal rate (answerable) | {_f(a['false_refusal_rate'])} |",
            f"| citation validity ({a['citations_total']} marks) | {_f(a['citation_validity'])} |",
            f"| median answer length (chars) | {_f(a['median_answer_chars'], 0)} |",
            "",
            "| Latency (ms) | p50 | p95 |",
            "|---|---|---|",
        ]
        for stage in ("embed", "search", "retrieve", "answer"):
            lines.append(
                f"| {stage} | {_f(lat.get(f'{stage}_p50'), 1)} | {_f(lat.get(f'{stage}_p95'), 1)} |"
            )
        lines += [
            "",
            "| Type | n | R@1 | R@5 | MRR | evidence | F1 | refused |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for t, m in self.by_type.items():
            lines.append(
                f"| {t} | {m['n']} | {_f(m.get('recall@1'))} | {_f(m.get('recall@5'))} "
                f"| {_f(m.get('mrr'))} | {_f(m.get('evidence_rate'))} | {_f(m.get('char_f1'))} "
                f"| {_f(m['refused_rate'])} |"
            )
        failures = self.failures()
        lines += ["", f"### Failures ({len(failures)})", ""]
        if failures:
            lines += [
                "| id | type | rank | refused | why | question | answer |",
                "|---|---|---|---|---|---|---|",
            ]
            for row, why in failures[: max_failures or len(failures)]:
                lines.append(
                    f"| {row.id} | {row.type} | {row.rank or '–'} | {'yes' if row.refused else 'no'} "
                    f"| {'; '.join(why)} | {_cell(row.question)} | {_cell(row.answer, 80)} |"
                )
            if max_failures and len(failures) > max_failures:
                lines.append(f"\n… {len(failures) - max_failures} more in the JSON output.")
        return "\n".join(lines) + "\n"


def _f(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _cell(text: str, limit: int = 60) -> str:
    text = squash(text).replace("|", "｜")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _retrieval_metrics(rows: Sequence[QuestionResult]) -> dict:
    ranks = [r.rank for r in rows if r.answerable]
    all_ranks = [r.all_rank for r in rows if r.answerable]
    out = {f"recall@{k}": recall_at_k(ranks, k) for k in RECALL_KS}
    out["mrr"] = mean_reciprocal_rank(ranks)
    for k in (1, 5, 10):
        out[f"recall_all@{k}"] = recall_at_k(all_ranks, k)
    out["n"] = len(ranks)
    return out


def _answer_metrics(rows: Sequence[QuestionResult]) -> dict:
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    given = [r for r in rows if not r.refused]
    valid = sum(r.citations_valid for r in rows)
    total = sum(r.citations_total for r in rows)
    return {
        "evidence_rate": _mean([float(r.evidence_hit) for r in ans]),
        "evidence_rate_relaxed": _mean([float(r.evidence_hit_relaxed) for r in ans]),
        "char_f1": _mean([r.f1 for r in ans]),
        "refusal_accuracy": refusal_accuracy([r.refused for r in una]),
        "false_refusal_rate": false_refusal_rate([r.refused for r in ans]),
        "citation_validity": valid / total if total else float("nan"),
        "citations_total": total,
        "median_answer_chars": statistics.median([r.answer_chars for r in given]) if given else float("nan"),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
    }


def _latency(rows: Sequence[QuestionResult]) -> dict:
    out = {}
    for stage in ("embed", "search", "retrieve", "answer"):
        values = [v for v in (getattr(r, f"{stage}_ms") for r in rows) if v is not None]
        out[f"{stage}_p50"] = percentile(values, 50)
        out[f"{stage}_p95"] = percentile(values, 95)
    return out


def _by_type(rows: Sequence[QuestionResult]) -> dict:
    out = {}
    for qtype in QUESTION_TYPES:
        group = [r for r in rows if r.type == qtype]
        if not group:
            continue
        m: dict = {"n": len(group), "refused_rate": _mean([float(r.refused) for r in group])}
        if qtype != "unanswerable":
            ret, ans = _retrieval_metrics(group), _answer_metrics(group)
            m.update({k: ret[k] for k in ("recall@1", "recall@5", "mrr")})
            m.update({k: ans[k] for k in ("evidence_rate", "evidence_rate_relaxed", "char_f1")})
        out[qtype] = m
    return out


def score_question(
    q: Question, passage_texts: Sequence[str], answer, supports=None
) -> QuestionResult:
    """Score one question from its retrieved passage texts and its Answer."""
    row = QuestionResult(q.id, q.type, q.split, q.question, q.answer, q.answerable)
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


def evaluate(
    assistant: "Assistant",
    questions,
    top_k: int = 5,
    *,
    split: str = "all",
    label: str = "",
    answers: bool = True,
    warmup: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Run every question through ``assistant`` and score retrieval and answers.

    Retrieval is scored on a separate ``retrieve`` call at depth max(top_k, 10) (for
    recall@10 and MRR); the answer comes from ``answer(question, top_k)``. One
    untimed warm-up question first loads the index and the model, so latencies
    are warm.
    """
    qs = select_split(coerce_questions(questions), split)
    supports = _support_function()
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
        answer_ms = float("nan")
        if answers:
            t0 = time.perf_counter()
            answer = assistant.answer(q.question, top_k=top_k)
            answer_ms = (time.perf_counter() - t0) * 1000
        row = score_question(q, [p.text for p in passages], answer, supports)
        row.top_source = passages[0].source if passages else ""
        row.embed_ms = timings.get("embed")
        row.search_ms = timings.get("search")
        row.retrieve_ms = retrieve_ms
        row.answer_ms = answer_ms if answers else None
        rows.append(row)
        if progress:
            progress(i, len(qs))
    settings = getattr(assistant, "settings", None)
    config = {
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
    }
    return EvalReport(
        config=config,
        retrieval=_retrieval_metrics(rows),
        answer=_answer_metrics(rows),
        latency_ms=_latency(rows),
        by_type=_by_type(rows),
        rows=rows,
    )


# ---------------------------------------------------------------------------
# Writing results


def _jsonable(value):
    """NaN becomes null so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def write_json(data: dict, path: str | Path) -> Path:
    """Write strict JSON (UTF-8, Chinese kept readable), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_jsonable(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------
# Comparing configurations


@dataclass(frozen=True)
class Variant:
    """One configuration of a --compare run: a label and the Settings changes it makes."""

    label: str
    changes: dict


def compare_variants(base: "Settings", chunk_sizes: Sequence[int], cache_dir: Path) -> list[Variant]:
    """Hybrid vs dense vs BM25, refusal check on/off, and the extra chunk sizes."""
    from .config import ChunkSettings

    size = base.chunk.size
    variants = [
        Variant(f"hybrid RRF (chunk {size})", {"fusion": "rrf", "refuse_check": True}),
        Variant("dense only", {"fusion": "dense", "refuse_check": True}),
        Variant("BM25 only", {"fusion": "bm25", "refuse_check": True}),
        Variant("hybrid, no refusal check", {"fusion": "rrf", "refuse_check": False}),
    ]
    for other in chunk_sizes:
        if other == size:
            continue
        overlap = min(base.chunk.overlap, max(0, other // 2 - 1))
        chunk = ChunkSettings(size=other, overlap=overlap)
        variants.append(Variant(
            f"hybrid, chunk {other}",
            {"fusion": "rrf", "refuse_check": True, "chunk": chunk,
             "index_dir": cache_dir / f"chunk-{other}-{overlap}"},
        ))
    return variants


def _seed_from_base(source_index: Path, target_index: Path) -> None:
    """Copy the base index's live snapshot into a new variant index directory.

    The build then treats it as the previous index: chunk texts that repeat keep
    their vectors and only new texts are embedded.
    """
    import shutil

    source_index, target_index = Path(source_index), Path(target_index)
    pointer = source_index / "CURRENT"
    if (target_index / "CURRENT").exists() or not pointer.is_file():
        return
    snap = pointer.read_text("utf-8").strip()
    if not (source_index / snap).is_dir():
        return
    target_index.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source_index / snap, target_index / snap, dirs_exist_ok=True)
    (target_index / "CURRENT").write_text(snap + "\n", encoding="utf-8")


def run_compare(
    base: "Settings",
    questions: Sequence[Question],
    *,
    top_k: int,
    split: str,
    chunk_sizes: Sequence[int],
    cache_dir: Path,
    results_dir: Path,
    log: Callable[[str], None] = lambda msg: None,
) -> list[EvalReport]:
    """Evaluate every variant and write compare.md, compare.json and compare.png."""
    from .assistant import Assistant

    reports = []
    for variant in compare_variants(base, chunk_sizes, cache_dir):
        settings = base.replace(**variant.changes)
        assistant = Assistant(settings)
        if "index_dir" in variant.changes:
            log(f"building index for {variant.label} in {settings.index_dir} …")
            _seed_from_base(base.index_dir, settings.index_dir)
            assistant.build_index()
        log(f"evaluating {variant.label} …")
        reports.append(evaluate(assistant, questions, top_k=top_k, split=split, label=variant.label))
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "compare.md").write_text(compare_markdown(reports), encoding="utf-8")
    write_json({"variants": [r.to_dict() for r in reports]}, results_dir / "compare.json")
    compare_chart(reports, results_dir / "compare.png")
    return reports


COMPARE_COLUMNS = (
    ("R@1", "retrieval", "recall@1"),
    ("R@5", "retrieval", "recall@5"),
    ("MRR", "retrieval", "mrr"),
    ("evidence in answer", "answer", "evidence_rate"),
    ("relaxed evidence", "answer", "evidence_rate_relaxed"),
    ("char F1", "answer", "char_f1"),
    ("refusal acc.", "answer", "refusal_accuracy"),
    ("false refusals", "answer", "false_refusal_rate"),
    ("citation validity", "answer", "citation_validity"),
    ("retrieve p50 ms", "latency_ms", "retrieve_p50"),
    ("answer p50 ms", "latency_ms", "answer_p50"),
)


def compare_markdown(reports: Sequence[EvalReport]) -> str:
    """One row per configuration, the headline metrics as columns."""
    if not reports:
        return ""
    c = reports[0].config
    lines = [
        "## Configurations compared",
        "",
        f"{c['n_questions']} questions (split `{c['split']}`, {c['n_answerable']} answerable, "
        f"{c['n_unanswerable']} unanswerable), top_k {c['top_k']}, embedding `{c.get('embed_model')}`.",
        "",
        "| configuration | chunks | " + " | ".join(name for name, _, _ in COMPARE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(COMPARE_COLUMNS),
    ]
    for r in reports:
        cells = []
        for _, section, key in COMPARE_COLUMNS:
            value = getattr(r, section).get(key)
            cells.append(_f(value, 1 if section == "latency_ms" else 3))
        chunk = f"{r.config.get('chunk_size')}/{r.config.get('chunk_overlap')}"
        lines.append(f"| {r.config['label']} | {chunk} | " + " | ".join(cells) + " |")
    lines += ["", "Chunks: size/overlap in characters. Definitions: see `rag/evaluation.py`."]
    return "\n".join(lines) + "\n"


def compare_chart(reports: Sequence[EvalReport], path: Path) -> Path:
    """Grouped bars of the quality metrics per configuration, plus answer latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        ("R@1", lambda r: r.retrieval["recall@1"]),
        ("R@5", lambda r: r.retrieval["recall@5"]),
        ("MRR", lambda r: r.retrieval["mrr"]),
        ("evidence in answer", lambda r: r.answer["evidence_rate"]),
        ("refusal accuracy", lambda r: r.answer["refusal_accuracy"]),
        ("1 − false refusals", lambda r: 1 - r.answer["false_refusal_rate"]),
    ]
    fig, (ax, ax_lat) = plt.subplots(
        1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [3, 1]}
    )
    n = len(reports)
    width = 0.8 / max(n, 1)
    xs = range(len(metrics))
    for i, report in enumerate(reports):
        values = [_nan0(fn(report)) for _, fn in metrics]
        ax.bar([x + (i - (n - 1) / 2) * width for x in xs], values, width, label=report.config["label"])
    ax.set_xticks(list(xs))
    ax.set_xticklabels([name for name, _ in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of questions")
    ax.set_title(f"Quality by configuration ({reports[0].config['n_questions']} questions)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(n, 4), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    labels = [r.config["label"] for r in reports]
    ax_lat.barh(labels, [_nan0(r.latency_ms["answer_p50"]) for r in reports], color="tab:gray")
    ax_lat.set_xlabel("answer p50 (ms)")
    ax_lat.invert_yaxis()
    ax_lat.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _nan0(value) -> float:
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


# ---------------------------------------------------------------------------
# Command line: `rag eval`


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of `rag eval` (also used by `python -m rag.evaluation`)."""
    parser.add_argument(
        "questions", nargs="?", default=str(DEFAULT_QUESTIONS),
        help="question set, JSON Lines (default: eval/questions.jsonl)",
    )
    parser.add_argument("--split", choices=("tune", "test", "all"), default="all",
                        help="which part of the question set to score (default: all)")
    parser.add_argument("--top-k", type=int, default=None,
                        help="passages per answer and the k of the failure table (default: RAG_TOP_K or 5)")
    parser.add_argument("--json", metavar="OUT", help="write every metric and per-question row as JSON")
    parser.add_argument("--markdown", metavar="OUT", help="also write the Markdown report to a file")
    parser.add_argument("--index-dir", help="index to evaluate (default: RAG_INDEX_DIR or index/)")
    parser.add_argument("--corpus-dir", help="articles the index is built from (for --compare)")
    parser.add_argument("--fusion", choices=("rrf", "dense", "bm25"), help="retrieval fusion to use")
    parser.add_argument("--no-refuse-check", action="store_true",
                        help="turn the extractive answerer's refusal check off")
    parser.add_argument("--retrieval-only", action="store_true",
                        help="score retrieval only; skip answers (faster)")
    parser.add_argument("--max-failures", type=int, default=40,
                        help="failure rows shown in the Markdown report (default 40; all in --json)")
    parser.add_argument("--compare", action="store_true",
                        help="evaluate several configurations side by side; writes compare.md/.json/.png")
    parser.add_argument("--chunk-sizes", default="200,300,500",
                        help="chunk sizes for --compare, comma-separated (default 200,300,500)")
    parser.add_argument("--results-dir", default=str(DEFAULT_RESULTS_DIR),
                        help="where --compare writes its table and chart (default eval/results)")
    parser.add_argument("--cache-dir", default=None,
                        help="where --compare builds extra indexes (default <index-dir>/../.cache/compare)")
    return parser


def _settings_from_args(args) -> "Settings":
    from .config import Settings

    settings = Settings.from_env()
    changes: dict = {}
    if args.index_dir:
        changes["index_dir"] = Path(args.index_dir)
    if args.corpus_dir:
        changes["corpus_dir"] = Path(args.corpus_dir)
    if args.fusion:
        changes["fusion"] = args.fusion
    if args.no_refuse_check:
        changes["refuse_check"] = False
    if args.top_k is not None:
        changes["top_k"] = args.top_k
    return settings.replace(**changes) if changes else settings


def _progress_printer(label: str) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _parse_sizes(raw: str) -> list[int]:
    try:
        sizes = [int(s) for s in raw.split(",") if s.strip()]
    except ValueError:
        raise QuestionSetError(f"--chunk-sizes {raw!r}: give whole numbers, e.g. 200,300,500") from None
    if not sizes:
        raise QuestionSetError("--chunk-sizes is empty; give e.g. 200,300,500")
    return sizes


def run_eval_command(args) -> int:
    """Body of `rag eval`: print the report; write JSON/Markdown/compare outputs as asked."""
    settings = _settings_from_args(args)
    top_k = settings.top_k
    questions = load_questions(args.questions)
    select_split(questions, args.split)  # fail early on an empty split
    if args.compare:
        cache_dir = Path(args.cache_dir) if args.cache_dir else settings.index_dir.parent / ".cache" / "compare"
        results = Path(args.results_dir)
        reports = run_compare(
            settings, questions, top_k=top_k, split=args.split,
            chunk_sizes=_parse_sizes(args.chunk_sizes), cache_dir=cache_dir, results_dir=results,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
        print(compare_markdown(reports))
        print(f"wrote {results / 'compare.md'}, {results / 'compare.json'}, {results / 'compare.png'}")
        if args.json:
            write_json({"variants": [r.to_dict() for r in reports]}, args.json)
        return 0

    from .assistant import Assistant

    assistant = Assistant(settings)
    report = evaluate(
        assistant, questions, top_k=top_k, split=args.split, answers=not args.retrieval_only,
        progress=_progress_printer("eval"),
    )
    text = report.to_markdown(max_failures=args.max_failures)
    print(text)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(report.to_markdown(), encoding="utf-8")
    if args.json:
        write_json(report.to_dict(), args.json)
        print(f"wrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rag.evaluation …`: the same as `rag eval …`."""
    parser = add_eval_arguments(argparse.ArgumentParser(prog="rag eval", description=__doc__.split("\n")[0]))
    args = parser.parse_args(argv)
    try:
        return run_eval_command(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
