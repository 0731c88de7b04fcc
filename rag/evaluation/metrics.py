"""Metric functions (pure, tested on hand-made cases) and the summaries of a run's rows.

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
  false_refusal_rate: share of answerable questions refused. ``near_miss_refusal``
  and ``off_topic_refusal`` split refusal_accuracy by the question's ``near_miss`` flag.
- english_answered_rate: share of answerable English questions (``lang: en``) not
  refused; ``english_evidence_rate`` is their evidence_rate.
- LLM-mode gate (``gate`` section, when the set was also run in LLM mode):
  ``false_refusal_rate`` = share of answerable questions refused before the model
  was called (``Answer.gate == "refuse"``); ``refused_near_miss`` / ``refused_off_topic``
  = share of those unanswerable questions the gate kept from the model.
- citation_validity: share of ``[n]`` marks whose passage supports the text they
  close (``rag.answer.citations.support_score`` at its ``SUPPORT_THRESHOLD``, else
  bigram containment >= ``CITATION_SUPPORT_THRESHOLD``); a mark pointing past the
  citation list counts as invalid.
- latency_ms: p50/p95 of query embedding, search, the whole ``retrieve`` call and
  the whole ``answer`` call.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter
from typing import Callable, Iterable, Sequence

from ..text import squash

QUESTION_TYPES = ("number", "entity", "definition", "list", "why", "multi", "unanswerable")
RECALL_KS = (1, 3, 5, 10)
MRR_DEPTH = 10
RELAXED_EVIDENCE_THRESHOLD = 0.6
# Share of a sentence's distinct character bigrams that must appear in the cited
# passage for the citation to count as supporting it (fallback measure only).
CITATION_SUPPORT_THRESHOLD = 0.5
LATENCY_STAGES = ("embed", "search", "retrieve", "answer")
GATE_REFUSE = "refuse"  # Answer.gate when the pipeline refused before calling the generator

_MARKS = re.compile(r"\[\d+(?:\s*[,，、]\s*\d+)*\]")


# ---------------------------------------------------------------- text


def strip_marks(text: str) -> str:
    """Answer text without its [n] citation marks."""
    return _MARKS.sub("", text)


# ---------------------------------------------------------------- retrieval


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


# ---------------------------------------------------------------- answers


def _f1_chars(text: str) -> list[str]:
    return [
        ch for ch in strip_marks(text)
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S"))
    ]


def char_f1(prediction: str, gold: str) -> float:
    """Bag-of-characters F1, ignoring whitespace, punctuation, symbols and [n] marks."""
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


def share(flags: Sequence[bool]) -> float:
    """Share of true values (NaN for none)."""
    if not flags:
        return float("nan")
    return sum(map(bool, flags)) / len(flags)


def refusal_accuracy(refused_on_unanswerable: Sequence[bool]) -> float:
    """Share of unanswerable questions that were refused."""
    return share(refused_on_unanswerable)


def false_refusal_rate(refused_on_answerable: Sequence[bool]) -> float:
    """Share of answerable questions that were refused."""
    return share(refused_on_answerable)


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


# ---------------------------------------------------------------- citations


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


def support_function() -> Callable[[str, str], bool]:
    """The answer pipeline's citation support test when importable, else bigram containment."""
    try:
        from ..answer import citations
    except ImportError:  # the pipeline is optional for scoring saved answers
        citations = None
    score = getattr(citations, "support_score", None)
    if score is None:
        return lambda claim, passage: bigram_coverage(claim, passage) >= CITATION_SUPPORT_THRESHOLD
    threshold = getattr(citations, "SUPPORT_THRESHOLD", CITATION_SUPPORT_THRESHOLD)
    return lambda claim, passage: score(claim, passage) >= threshold


def citation_validity(answer_text: str, passage_texts: Sequence[str], supports=None) -> tuple[int, int]:
    """(valid marks, all marks) in one answer; ``[n]`` refers to ``passage_texts[n-1]``."""
    supports = supports or support_function()
    valid = total = 0
    for claim, n in cited_claims(answer_text):
        total += 1
        if 1 <= n <= len(passage_texts) and claim and supports(claim, passage_texts[n - 1]):
            valid += 1
    return valid, total


# ---------------------------------------------------------------- summaries of a run's rows
# ``rows`` are ``report.QuestionResult`` values (anything with the same attributes).


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def retrieval_summary(rows: Sequence) -> dict:
    ranks = [r.rank for r in rows if r.answerable]
    all_ranks = [r.all_rank for r in rows if r.answerable]
    out = {f"recall@{k}": recall_at_k(ranks, k) for k in RECALL_KS}
    out["mrr"] = mean_reciprocal_rank(ranks)
    for k in (1, 5, 10):
        out[f"recall_all@{k}"] = recall_at_k(all_ranks, k)
    out["n"] = len(ranks)
    return out


def answer_summary(rows: Sequence) -> dict:
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    near = [r for r in una if r.near_miss]
    off = [r for r in una if not r.near_miss]
    english = [r for r in ans if r.lang == "en"]
    given = [r for r in rows if not r.refused]
    valid = sum(r.citations_valid for r in rows)
    total = sum(r.citations_total for r in rows)
    return {
        "evidence_rate": mean([float(r.evidence_hit) for r in ans]),
        "evidence_rate_relaxed": mean([float(r.evidence_hit_relaxed) for r in ans]),
        "char_f1": mean([r.f1 for r in ans]),
        "refusal_accuracy": refusal_accuracy([r.refused for r in una]),
        "false_refusal_rate": false_refusal_rate([r.refused for r in ans]),
        "near_miss_refusal": share([r.refused for r in near]),
        "off_topic_refusal": share([r.refused for r in off]),
        "english_answered_rate": share([not r.refused for r in english]),
        "english_evidence_rate": mean([float(r.evidence_hit) for r in english]),
        "citation_validity": valid / total if total else float("nan"),
        "citations_total": total,
        "median_answer_chars": statistics.median([r.answer_chars for r in given]) if given else float("nan"),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
        "n_near_miss": len(near),
        "n_english_answerable": len(english),
    }


def gate_summary(rows: Sequence) -> dict:
    """The LLM-mode gate figures from the rows' ``llm_gate`` ("" when that run was skipped)."""
    ran = [r for r in rows if r.llm_gate]
    ans = [r for r in ran if r.answerable]
    near = [r for r in ran if not r.answerable and r.near_miss]
    off = [r for r in ran if not r.answerable and not r.near_miss]
    refused = [r for r in ans if r.llm_gate == GATE_REFUSE]
    return {
        "false_refusal_rate": share([r.llm_gate == GATE_REFUSE for r in ans]),
        "refused_answerable": len(refused),
        "refused_near_miss": share([r.llm_gate == GATE_REFUSE for r in near]),
        "refused_off_topic": share([r.llm_gate == GATE_REFUSE for r in off]),
        "n_run": len(ran),
        "n_answerable": len(ans),
    }


def latency_summary(rows: Sequence) -> dict:
    out = {}
    for stage in LATENCY_STAGES:
        values = [v for v in (getattr(r, f"{stage}_ms") for r in rows) if v is not None and not math.isnan(v)]
        out[f"{stage}_p50"] = percentile(values, 50)
        out[f"{stage}_p95"] = percentile(values, 95)
    return out


def by_type_summary(rows: Sequence) -> dict:
    out = {}
    for qtype in QUESTION_TYPES:
        group = [r for r in rows if r.type == qtype]
        if not group:
            continue
        m: dict = {"n": len(group), "refused_rate": mean([float(r.refused) for r in group])}
        if qtype != "unanswerable":
            ret, ans = retrieval_summary(group), answer_summary(group)
            m.update({k: ret[k] for k in ("recall@1", "recall@5", "mrr")})
            m.update({k: ans[k] for k in ("evidence_rate", "evidence_rate_relaxed", "char_f1")})
        out[qtype] = m
    return out
