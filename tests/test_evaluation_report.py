"""rag.evaluation.report: the Markdown and JSON forms of a report, output-path checks, atomic writes."""

from __future__ import annotations

import json
import math
import os

import pytest

from rag.errors import EvalOutputError, RagError
from rag.evaluation.metrics import answer_summary, by_type_summary, gate_summary, latency_summary, retrieval_summary
from rag.evaluation.report import EvalReport, check_output_path, write_json, write_text
from rag.evaluation.report import QuestionResult


def _rows() -> list[QuestionResult]:
    return [
        QuestionResult("q1", "entity", "test", "会议在哪里举行？", "北京", True, rank=1, all_rank=1,
                       answer="会议在北京举行。[1]", evidence_hit=True, evidence_hit_relaxed=True, f1=0.5,
                       citations_valid=1, citations_total=1, answer_chars=8, retrieve_ms=2.0, answer_ms=5.0,
                       llm_gate="pass"),
        QuestionResult("q2", "number", "test", "How many?", "3", True, lang="en", rank=None, refused=True,
                       answer="资料中没有找到答案。", retrieve_ms=2.0, answer_ms=5.0, llm_gate="refuse"),
        QuestionResult("q3", "unanswerable", "test", "成立于哪一年？", "", False, near_miss=True,
                       answer="成立于2010年。[1]", retrieve_ms=2.0, answer_ms=5.0, llm_gate="pass"),
    ]


def _report(rows=None, gate=True) -> EvalReport:
    rows = rows or _rows()
    return EvalReport(
        config={"label": "t", "split": "test", "top_k": 5, "n_questions": len(rows),
                "n_answerable": 2, "n_unanswerable": 1},
        retrieval=retrieval_summary(rows), answer=answer_summary(rows),
        gate=gate_summary(rows) if gate else {}, latency_ms=latency_summary(rows),
        by_type=by_type_summary(rows), rows=rows,
    )


def test_to_dict_is_nested_and_flat_and_carries_every_row():
    data = _report().to_dict()
    for section in ("retrieval", "answer", "gate", "latency_ms"):
        for key, value in data[section].items():
            assert data[f"{section}.{key}"] == value or (math.isnan(value) and math.isnan(data[f"{section}.{key}"]))
    assert data["gate.false_refusal_rate"] == 0.5
    assert [q["id"] for q in data["questions"]] == ["q1", "q2", "q3"]
    q2 = data["questions"][1]
    assert q2["lang"] == "en" and "wrongly refused" in q2["failures"]
    assert "LLM mode: refused before the model" in q2["failures"]
    assert data["questions"][2]["failures"] == ["answered an unanswerable question"]


def test_markdown_shows_refusal_language_and_gate_figures():
    text = _report().to_markdown()
    assert text.startswith("## Evaluation: t")
    assert "| — near-miss refused (1) | 0.000 |" in text
    assert "| English answered (1 answerable) | 0.000 |" in text
    assert "| answerable refused before the model is called | 0.500 (1 of 2) |" in text
    assert "### Failures (2)" in text
    assert "LLM mode (scripted model" not in _report(gate=False).to_markdown()
    assert "| q3 | unanswerable |" in _report().to_markdown(max_failures=5)
    assert "… 1 more in the JSON output." in _report().to_markdown(max_failures=1)


def test_failure_table_keeps_an_english_question_s_word_breaks_on_one_line():
    rows = _rows()
    rows[1].question = "How many\n satellites |  were launched?"
    text = _report(rows).to_markdown()
    assert "| How many satellites ｜ were launched? |" in text


def test_write_json_is_strict_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "deep" / "er" / "report.json"
    write_json(_report().to_dict(), out)
    data = json.loads(out.read_text("utf-8"))  # strict JSON: NaN became null
    assert data["answer"]["citation_validity"] == 1.0
    assert data["retrieval"]["recall_all@10"] is not None
    assert os.listdir(out.parent) == ["report.json"]
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # like a file written with open()
    write_text("第二版\n", out)  # replaced in place, still no temporary file
    assert out.read_text("utf-8") == "第二版\n" and os.listdir(out.parent) == ["report.json"]


def test_bad_output_paths_are_refused_with_a_chinese_message(tmp_path):
    with pytest.raises(EvalOutputError, match="是一个目录"):
        check_output_path(tmp_path)
    with pytest.raises(EvalOutputError, match="是一个目录"):
        check_output_path(f"{tmp_path}/sub/")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", "utf-8")
    with pytest.raises(EvalOutputError, match="是一个文件而不是目录"):
        check_output_path(a_file / "report.json")
    with pytest.raises(EvalOutputError, match="为空"):
        check_output_path(" ")
    assert isinstance(EvalOutputError("x"), RagError)
    assert check_output_path(tmp_path / "new" / "r.json") == tmp_path / "new" / "r.json"
    assert not (tmp_path / "new").exists(), "checking creates nothing"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(EvalOutputError, match="写权限"):
            check_output_path(locked / "r.json")
    finally:
        locked.chmod(0o700)
