"""Metric functions on hand-made cases with known answers, question-file errors,
and one end-to-end `rag eval` run against a real index."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.evaluation import (
    QuestionSetError,
    all_evidence_rank,
    bigram_coverage,
    char_f1,
    citation_validity,
    cited_claims,
    coerce_questions,
    evidence_in_answer,
    evidence_in_answer_relaxed,
    false_refusal_rate,
    first_hit_rank,
    load_questions,
    mean_reciprocal_rank,
    percentile,
    recall_at_k,
    refusal_accuracy,
    score_question,
    select_split,
    strip_marks,
)
from rag.schema import Answer, Passage


def _q(**over):
    base = {
        "id": "q1", "question": "会议在哪里举行？", "answer": "北京",
        "evidence": ["在北京举行"], "doc": "a.txt", "type": "entity", "split": "test",
    }
    base.update(over)
    return base


def _passage(text: str, n: int = 0) -> Passage:
    return Passage(text=text, source="a.txt", title="标题", score=1.0, start=n, end=n + len(text),
                   chunk_id=f"c{n}")


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


def test_score_question_refusal_and_answer():
    q = coerce_questions([_q()])[0]
    answered = Answer(text="会议在北京举行。[1]", citations=[_passage("会议在北京举行。")])
    row = score_question(q, ["无关", "会议在北京举行。"], answered,
                         lambda c, p: bigram_coverage(c, p) >= 0.5)
    assert (row.rank, row.evidence_hit, row.refused) == (2, True, False)
    assert (row.citations_valid, row.citations_total) == (1, 1)
    assert row.failures(top_k=1) == ["evidence not in top 1"]
    assert row.failures(top_k=5) == []

    refused = Answer(text="抱歉，文章中没有找到答案。", refused=True)
    row = score_question(q, ["会议在北京举行。"], refused)
    assert row.refused and not row.evidence_hit and row.f1 == 0.0
    assert row.failures(top_k=5) == ["wrongly refused"]

    una = coerce_questions([_q(id="u1", type="unanswerable", answer="", evidence=[], doc=None)])[0]
    assert score_question(una, [], refused).failures(5) == []
    assert score_question(una, [], answered).failures(5) == ["answered an unanswerable question"]


# --- question files ----------------------------------------------------------

def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_reads_valid_file_and_splits(tmp_path):
    path = _write(tmp_path, [
        json.dumps(_q(), ensure_ascii=False),
        "",
        json.dumps(_q(id="q2", split="tune", evidence=["在 北京\n举行"]), ensure_ascii=False),
    ])
    qs = load_questions(path)
    assert [q.id for q in qs] == ["q1", "q2"]
    assert qs[1].evidence == ("在北京举行",)  # whitespace removed
    assert [q.id for q in select_split(qs, "tune")] == ["q2"]
    assert len(select_split(qs, "all")) == 2


def test_bad_json_line_is_named(tmp_path):
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False), '{"id": "q2", "question": '])
    with pytest.raises(RagError, match=r"q\.jsonl:2: not valid JSON"):
        load_questions(path)


def test_missing_key_is_named(tmp_path):
    bad = _q(id="q2")
    del bad["evidence"]
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False), json.dumps(bad, ensure_ascii=False)])
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:2: missing key\(s\) evidence"):
        load_questions(path)


@pytest.mark.parametrize("over, message", [
    ({"type": "trivia"}, "type 'trivia'"),
    ({"evidence": []}, "needs 1–3 non-empty evidence"),
    ({"type": "unanswerable"}, "unanswerable question has evidence"),
    ({"split": "train"}, "split 'train'"),
    ({"question": "  "}, "'question' must be a non-empty string"),
])
def test_invalid_fields_are_rejected(tmp_path, over, message):
    path = _write(tmp_path, [json.dumps(_q(**over), ensure_ascii=False)])
    with pytest.raises(QuestionSetError, match=message):
        load_questions(path)


def test_duplicate_ids_and_missing_file(tmp_path):
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False)] * 2)
    with pytest.raises(QuestionSetError, match="appears twice"):
        load_questions(path)
    with pytest.raises(QuestionSetError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionSetError, match="no question has split 'tune'"):
        select_split(load_questions(_write(tmp_path, [json.dumps(_q(), ensure_ascii=False)])), "tune")


# --- end to end: `rag eval` on a real index ------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SMALL_FILE = "004_a725a1633d20dd26.txt"


@pytest.fixture(scope="module")
def small_questions(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The project's questions on the small corpus's file, plus three unanswerable ones."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    on_file = [r for r in rows if r["doc"] == SMALL_FILE or (isinstance(r["doc"], list) and r["doc"] == [SMALL_FILE])]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"][:3]
    assert len(on_file) >= 4 and len(unanswerable) == 3, "the question set covers the small file"
    path = tmp_path_factory.mktemp("eval") / "small.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in on_file + unanswerable), "utf-8")
    return path, on_file + unanswerable


@pytest.mark.slow
def test_rag_eval_cli_end_to_end(small_index_dir, small_corpus_dir, small_questions, tmp_path, capsys):
    from rag.cli import main

    path, rows = small_questions
    out = tmp_path / "report.json"
    code = main(["eval", str(path), "--index-dir", str(small_index_dir), "--corpus-dir", str(small_corpus_dir),
                 "--json", str(out), "--markdown", str(tmp_path / "report.md")])
    printed = capsys.readouterr().out
    assert code == 0
    assert "| any evidence hit |" in printed and "### Failures" in printed

    data = json.loads(out.read_text("utf-8"))
    for dotted in ("retrieval.recall@1", "retrieval.recall@5", "retrieval.mrr", "answer.evidence_rate",
                   "answer.refusal_accuracy", "answer.false_refusal_rate", "latency_ms.answer_p50"):
        section, key = dotted.split(".", 1)
        assert data[dotted] == data[section][key]
        assert data[dotted] is not None
    r = data["retrieval"]
    assert 0 <= r["recall@1"] <= r["recall@3"] <= r["recall@5"] <= r["recall@10"] <= 1
    assert r["mrr"] <= r["recall@10"]
    # Hybrid retrieval over one file finds the evidence for most questions.
    assert r["recall@5"] >= 0.75
    assert 0 <= data["answer"]["refusal_accuracy"] <= 1
    assert data["latency_ms"]["answer_p50"] > 0
    assert data["config"]["n_questions"] == len(rows) == len(data["questions"])
    assert data["config"]["n_unanswerable"] == 3
    assert {q["id"] for q in data["questions"]} == {row["id"] for row in rows}
    assert (tmp_path / "report.md").read_text("utf-8").startswith("## Evaluation")

    # --split keeps only that part of the question set
    test_ids = {row["id"] for row in rows if row.get("split") == "test"}
    code = main(["eval", str(path), "--index-dir", str(small_index_dir), "--split", "test",
                 "--retrieval-only", "--json", str(out)])
    assert code == 0
    assert {q["id"] for q in json.loads(out.read_text("utf-8"))["questions"]} == test_ids


def test_rag_eval_cli_reports_bad_question_file(tmp_path, capsys):
    from rag.cli import main

    bad = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False), "not json"])
    assert main(["eval", str(bad)]) == 2
    assert "q.jsonl:2: not valid JSON" in capsys.readouterr().err


@pytest.mark.slow
def test_rag_eval_compare_writes_table_and_chart(small_index_dir, small_corpus_dir, small_questions, tmp_path, capsys):
    from rag.cli import main

    path, rows = small_questions
    results = tmp_path / "results"
    code = main(["eval", str(path), "--compare", "--index-dir", str(small_index_dir),
                 "--corpus-dir", str(small_corpus_dir), "--chunk-sizes", "300,450",
                 "--results-dir", str(results), "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    table = (results / "compare.md").read_text("utf-8")
    assert table.count("\n| ") == 1 + 5  # header + 5 configurations
    assert (results / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    variants = {v["config"]["label"]: v for v in json.loads((results / "compare.json").read_text("utf-8"))["variants"]}
    assert variants["dense only"]["config"]["fusion"] == "dense"
    assert variants["BM25 only"]["config"]["fusion"] == "bm25"
    assert variants["hybrid, chunk 450"]["config"]["chunk_size"] == 450
    assert (tmp_path / "cache" / "chunk-450-80" / "CURRENT").is_file()
    hybrid = next(v for label, v in variants.items() if label.startswith("hybrid RRF"))
    no_check = variants["hybrid, no refusal check"]
    assert no_check["config"]["refuse_check"] is False
    # Without the refusal check the answerer refuses no more often than with it.
    assert no_check["answer"]["false_refusal_rate"] <= hybrid["answer"]["false_refusal_rate"]
    assert no_check["answer"]["refusal_accuracy"] <= hybrid["answer"]["refusal_accuracy"]
    assert all(v["config"]["n_questions"] == len(rows) for v in variants.values())


@pytest.mark.slow
def test_evaluate_api_on_question_dicts(small_assistant, small_questions):
    from rag.evaluation import EvalReport, evaluate

    _, rows = small_questions
    report = evaluate(small_assistant, rows, top_k=3)
    assert isinstance(report, EvalReport)
    assert report.config["top_k"] == 3 and report.config["n_questions"] == len(rows)
    assert report.get("retrieval.recall@5") == report.retrieval["recall@5"]
    assert set(report.by_type) == {r["type"] for r in rows}
    # Rows agree with the aggregate figures they are summed from.
    answerable = [r for r in report.rows if r.answerable]
    assert report.retrieval["recall@3"] == sum(r.rank is not None and r.rank <= 3 for r in answerable) / len(answerable)
    assert report.answer["false_refusal_rate"] == sum(r.refused for r in answerable) / len(answerable)
    failures = report.failures()
    assert all(why for _, why in failures)
    assert f"### Failures ({len(failures)})" in report.to_markdown()
