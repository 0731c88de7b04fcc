"""rag.evaluation.run: scoring one question, evaluate() on a real index, the LLM-mode gate run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.metrics import bigram_coverage
from rag.evaluation.questions import coerce_questions
from rag.evaluation.run import (
    GATE_PROBE_KEY,
    GATE_PROBE_REPLY,
    QuestionResult,
    evaluate,
    llm_settings,
    measure_llm_gate,
    score_question,
)
from rag.evaluation.scripted_llm import OpenAIServer, Reply
from rag.schema import Answer, Passage

ROOT = Path(__file__).resolve().parent.parent
SMALL_FILE = "004_a725a1633d20dd26.txt"


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


def test_score_question_carries_language_and_near_miss_and_the_gate_failure():
    q = coerce_questions([_q(lang="en", question="Where was it held?")])[0]
    row = score_question(q, ["会议在北京举行。"], None)
    assert (row.lang, row.near_miss, row.rank) == ("en", False, 1)
    row.llm_gate = "refuse"
    assert "LLM mode: refused before the model" in row.failures(top_k=5)
    assert QuestionResult(**row.to_dict()) == row


def test_llm_settings_point_at_the_scripted_model_without_retries(small_settings):
    s = llm_settings(small_settings, "http://127.0.0.1:9/v1")
    assert s.llm_mode == "openai" and s.llm.base_url == "http://127.0.0.1:9/v1"
    assert s.llm.max_retries == 0 and s.llm.configured
    assert s.index_dir == small_settings.index_dir


def small_question_rows() -> list[dict]:
    """The project's questions on the small corpus's file, plus near-miss and off-topic ones."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    on_file = [r for r in rows if r["doc"] == SMALL_FILE]
    near = [r for r in rows if r.get("near_miss")][:2]
    off = [r for r in rows if r["type"] == "unanswerable" and not r.get("near_miss")][:2]
    assert len(on_file) >= 4 and len(near) == len(off) == 2, "the question set covers the small file"
    return on_file + near + off


@pytest.mark.slow
def test_evaluate_api_on_question_dicts(small_assistant):
    from rag.evaluation import EvalReport

    rows = small_question_rows()
    report = evaluate(small_assistant, rows, top_k=3)
    assert isinstance(report, EvalReport)
    assert report.config["top_k"] == 3 and report.config["n_questions"] == len(rows)
    assert report.get("retrieval.recall@5") == report.retrieval["recall@5"]
    assert set(report.by_type) == {r["type"] for r in rows}
    # Rows agree with the aggregate figures they are summed from.
    answerable = [r for r in report.rows if r.answerable]
    assert report.retrieval["recall@3"] == sum(r.rank is not None and r.rank <= 3 for r in answerable) / len(answerable)
    assert report.answer["false_refusal_rate"] == sum(r.refused for r in answerable) / len(answerable)
    assert report.answer["n_near_miss"] == 2
    assert report.gate == {} and not report.config["llm_gate_measured"]
    failures = report.failures()
    assert all(why for _, why in failures)
    assert f"### Failures ({len(failures)})" in report.to_markdown()


@pytest.mark.slow
def test_llm_gate_run_against_the_scripted_server(small_assistant, small_settings):
    questions = coerce_questions(small_question_rows())
    with OpenAIServer(api_key=GATE_PROBE_KEY, default=Reply(GATE_PROBE_REPLY)) as server:
        decisions = measure_llm_gate(small_settings, questions, top_k=5, server=server)
        asked = [r.message_text("user") for r in server.chat_requests]
    assert set(decisions) == {q.id for q in questions}
    assert set(decisions.values()) <= {"pass", "refuse"} and "pass" in decisions.values()
    # "refuse" means the model was never asked; "pass" means it was, once.
    passed = [q for q in questions if decisions[q.id] == "pass"]
    assert len(asked) == len(passed)
    assert all(any(q.question in text for text in asked) for q in passed)
    refused = [q for q in questions if decisions[q.id] == "refuse"]
    assert not any(q.question in text for q in refused for text in asked)

    report = evaluate(small_assistant, questions, top_k=5, llm_gate=True)
    assert report.config["llm_gate_measured"]
    g = report.gate
    answerable = [r for r in report.rows if r.answerable]
    assert g["n_answerable"] == len(answerable) and g["n_run"] == len(questions)
    assert g["false_refusal_rate"] == sum(r.llm_gate == "refuse" for r in answerable) / len(answerable)
    assert report.to_dict()["gate.false_refusal_rate"] == g["false_refusal_rate"]
    assert "answerable refused before the model is called" in report.to_markdown()
