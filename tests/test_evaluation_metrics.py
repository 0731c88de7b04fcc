"""rag.evaluation.metrics: metric functions on hand-made cases with known answers, and run summaries."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from rag.evaluation.metrics import (
    all_evidence_rank,
    answer_summary,
    bigram_coverage,
    by_type_summary,
    char_f1,
    citation_validity,
    cited_claims,
    evidence_in_answer,
    evidence_in_answer_relaxed,
    false_refusal_rate,
    first_hit_rank,
    gate_summary,
    latency_summary,
    mean_reciprocal_rank,
    percentile,
    recall_at_k,
    refusal_accuracy,
    retrieval_summary,
    strip_marks,
    support_function,
)


# --- retrieval metrics -------------------------------------------------------

def test_first_hit_rank_ignores_whitespace_in_passages():
    passages = ["无关内容。", "会议 12 月\n在北 京举行。", "在北京举行。"]
    assert first_hit_rank(passages, ["在北京举行"]) == 2
    assert first_hit_rank(passages, ["上海"]) is None
    # depth limits the search
    assert first_hit_rank(passages, ["在北京举行"], depth=1) is None


def test_first_hit_rank_any_evidence_counts():
    passages = ["甲乙丙", "丁戊己"]
    assert first_hit_rank(passages, ["戊己", "甲乙"]) == 1


def test_all_evidence_rank_needs_every_string():
    passages = ["甲乙丙", "无关", "丁戊己"]
    assert all_evidence_rank(passages, ["甲乙", "戊己"]) == 3
    assert all_evidence_rank(passages, ["甲乙", "庚"]) is None


def test_recall_at_k_and_mrr_known_values():
    ranks = [1, 2, None, 4]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 3) == 0.5
    assert recall_at_k(ranks, 5) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    # ranks past the MRR depth count as misses
    assert mean_reciprocal_rank([11], depth=10) == 0.0
    assert math.isnan(recall_at_k([], 5))


# --- answer metrics ----------------------------------------------------------

def test_strip_marks_and_cited_claims():
    text = "会议在北京举行。[1] 时间是12月[2][3]。"
    assert strip_marks(text) == "会议在北京举行。 时间是12月。"
    assert cited_claims(text) == [("会议在北京举行。", 1), ("时间是12月", 2), ("", 3)]
    assert cited_claims("甲[1, 2]") == [("甲", 1), ("甲", 2)]


def test_char_f1_known_values():
    assert char_f1("北京", "北京") == 1.0
    assert char_f1("北京市", "北京") == pytest.approx(0.8)  # p=2/3, r=1
    assert char_f1("上海", "北京") == 0.0
    # whitespace, punctuation and marks are ignored
    assert char_f1("北 京。[1]", "北京") == 1.0
    assert char_f1("", "") == 1.0
    assert char_f1("北京", "") == 0.0


def test_evidence_in_answer_strict_and_relaxed():
    evidence = ["12月11日至12日在北京举行"]
    assert evidence_in_answer("会议 12 月 11 日至 12 日在北京举行。[1]", evidence)
    # marks inside the evidence span are removed before matching
    assert evidence_in_answer("12月11日至12日[1]在北京举行", evidence)
    assert not evidence_in_answer("会议在北京举行。", evidence)
    # the evidence has 13 distinct bigrams; this answer holds 5 of them (12 在北 北京 京举 举行)
    assert bigram_coverage("12月11日至12日在北京举行", "在北京举行12") == pytest.approx(5 / 13)
    assert not evidence_in_answer_relaxed("在北京举行12", evidence)
    assert evidence_in_answer_relaxed("12月11日至在北京举行", evidence)  # 10/13 ≥ 0.6


def test_refusal_rates():
    assert refusal_accuracy([True, True, False, True]) == 0.75
    assert false_refusal_rate([False] * 9 + [True]) == 0.1
    assert math.isnan(refusal_accuracy([]))


def test_percentile_matches_linear_interpolation():
    values = [10, 20, 30, 40, 50]
    assert percentile(values, 50) == 30
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile([7.0], 95) == 7.0
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_citation_validity_counts_unsupported_and_out_of_range_marks():
    passages = ["中央经济工作会议12月11日至12日在北京举行。", "扩大国内需求。"]
    text = "会议在北京举行。[1] 会议要扩大国内需求。[1] 另有一句。[3]"
    supports = lambda claim, passage: bigram_coverage(claim, passage) >= 0.5
    # claim 1 supported by passage 1; claim 2 is not in passage 1; [3] does not exist
    assert citation_validity(text, passages, supports) == (1, 3)


def test_support_function_uses_the_pipelines_citation_check():
    supports = support_function()
    assert supports("会议在北京举行。", "中央经济工作会议12月11日至12日在北京举行。")
    assert not supports("会议在上海举行，讨论了房价。", "扩大国内需求。")


# --- summaries of a run's rows ------------------------------------------------

def _row(**over):
    base = dict(id="q", type="entity", answerable=True, lang="zh", near_miss=False, rank=1, all_rank=1,
                refused=False, evidence_hit=True, evidence_hit_relaxed=True, f1=1.0, citations_valid=1,
                citations_total=1, answer_chars=10, embed_ms=1.0, search_ms=2.0, retrieve_ms=3.0,
                answer_ms=4.0, llm_gate="")
    base.update(over)
    return SimpleNamespace(**base)


def _una(**over):
    return _row(type="unanswerable", answerable=False, rank=None, all_rank=None, evidence_hit=False,
                evidence_hit_relaxed=False, f1=0.0, **over)


def test_answer_summary_splits_refusals_by_near_miss_and_counts_english():
    rows = [
        _row(), _row(refused=True, evidence_hit=False),
        _row(lang="en"), _row(lang="en", refused=True, evidence_hit=False), _row(lang="en", evidence_hit=False),
        _una(near_miss=True, refused=True), _una(near_miss=True, refused=False), _una(near_miss=True, refused=True),
        _una(refused=True),
    ]
    a = answer_summary(rows)
    assert a["false_refusal_rate"] == 2 / 5
    assert a["refusal_accuracy"] == 3 / 4
    assert a["near_miss_refusal"] == 2 / 3 and a["n_near_miss"] == 3
    assert a["off_topic_refusal"] == 1.0
    assert a["english_answered_rate"] == 2 / 3 and a["n_english_answerable"] == 3
    assert a["english_evidence_rate"] == 1 / 3
    assert a["evidence_rate"] == 2 / 5


def test_gate_summary_counts_refusals_before_the_model():
    rows = [_row(llm_gate="pass"), _row(llm_gate="refuse"), _row(llm_gate="pass"), _row(llm_gate="pass"),
            _una(near_miss=True, llm_gate="pass"), _una(near_miss=True, llm_gate="refuse"),
            _una(llm_gate="refuse"), _row(llm_gate="")]  # the last was not run: not counted
    g = gate_summary(rows)
    assert g["false_refusal_rate"] == 1 / 4 and g["refused_answerable"] == 1 and g["n_answerable"] == 4
    assert g["refused_near_miss"] == 0.5 and g["refused_off_topic"] == 1.0
    assert g["n_run"] == 7
    assert math.isnan(gate_summary([_row()])["false_refusal_rate"])


def test_retrieval_latency_and_by_type_summaries():
    rows = [_row(rank=1), _row(rank=3, all_rank=None), _row(rank=None, all_rank=None, answer_ms=None), _una()]
    r = retrieval_summary(rows)
    assert (r["recall@1"], r["recall@3"], r["n"]) == (1 / 3, 2 / 3, 3)
    assert r["recall_all@5"] == 1 / 3
    lat = latency_summary(rows)
    assert lat["answer_p50"] == 4.0 and lat["retrieve_p95"] == 3.0  # a skipped answer is not a latency
    types = by_type_summary(rows)
    assert types["entity"]["n"] == 3 and types["unanswerable"] == {"n": 1, "refused_rate": 0.0}
