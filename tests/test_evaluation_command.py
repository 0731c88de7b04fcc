"""rag.evaluation.command: `rag eval` end to end on a real index, and bad input failing before scoring."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from test_evaluation_run import small_question_rows


def _write(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in rows), "utf-8")
    return path


@pytest.fixture(scope="module")
def small_questions(tmp_path_factory) -> tuple[Path, list[dict]]:
    rows = small_question_rows()
    return _write(tmp_path_factory.mktemp("eval"), rows), rows


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
    assert "answerable refused before the model is called" in printed

    data = json.loads(out.read_text("utf-8"))
    for dotted in ("retrieval.recall@1", "retrieval.recall@5", "retrieval.mrr", "answer.evidence_rate",
                   "answer.refusal_accuracy", "answer.false_refusal_rate", "answer.near_miss_refusal",
                   "answer.off_topic_refusal", "gate.false_refusal_rate", "latency_ms.answer_p50"):
        section, key = dotted.split(".", 1)
        assert data[dotted] == data[section][key]
        assert data[dotted] is not None, dotted
    r = data["retrieval"]
    assert 0 <= r["recall@1"] <= r["recall@3"] <= r["recall@5"] <= r["recall@10"] <= 1
    assert r["mrr"] <= r["recall@10"]
    # Hybrid retrieval over one file finds the evidence for most questions.
    assert r["recall@5"] >= 0.75
    assert 0 <= data["answer"]["refusal_accuracy"] <= 1
    assert data["latency_ms"]["answer_p50"] > 0
    assert data["config"]["n_questions"] == len(rows) == len(data["questions"])
    assert data["config"]["n_unanswerable"] == 4 and data["config"]["llm_gate_measured"]
    assert {q["llm_gate"] for q in data["questions"]} <= {"pass", "refuse"}
    assert {q["id"] for q in data["questions"]} == {row["id"] for row in rows}
    assert (tmp_path / "report.md").read_text("utf-8").startswith("## Evaluation")
    assert sorted(os.listdir(tmp_path)) == ["report.json", "report.md"]  # no temporary files left

    # --split keeps only that part of the question set; --retrieval-only skips answers and the gate
    test_ids = {row["id"] for row in rows if row.get("split") == "test"}
    code = main(["eval", str(path), "--index-dir", str(small_index_dir), "--split", "test",
                 "--retrieval-only", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text("utf-8"))
    assert {q["id"] for q in data["questions"]} == test_ids
    assert data["gate"] == {} and data["latency_ms"]["answer_p50"] is None


def test_rag_eval_cli_reports_bad_question_file(tmp_path, capsys):
    from rag.cli import main

    row = {"id": "q1", "question": "会议在哪里举行？", "answer": "北京", "evidence": ["在北京举行"],
           "doc": "a.txt", "type": "entity", "split": "test"}
    bad = _write(tmp_path, [row, "not json"])
    assert main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "q.jsonl:2: not valid JSON" in err and err.count("\n") == 1


@pytest.mark.parametrize("target", ["dir", "dir_slash", "under_a_file"])
def test_bad_json_path_fails_before_scoring_in_one_chinese_line(tmp_path, capsys, target):
    from rag.cli import main

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("x", "utf-8")
    json_path = {"dir": str(out_dir), "dir_slash": f"{out_dir}/",
                 "under_a_file": str(out_dir / "notes.txt" / "r.json")}[target]
    # The index does not exist: had scoring started, the error would be about the index.
    code = main(["eval", "--index-dir", str(tmp_path / "no-index"), "--json", json_path])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("错误：") and err.count("\n") == 1, err
    assert "目录" in err and "索引" not in err and "Traceback" not in err
    assert sorted(os.listdir(out_dir)) == ["notes.txt"], "no stray temporary file"
    assert sorted(os.listdir(tmp_path)) == ["out"], "nothing was created"


def test_python_dash_m_entry_point_reports_bad_paths(tmp_path, capsys):
    from rag.evaluation import main

    assert main(["--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("错误：输出路径")
