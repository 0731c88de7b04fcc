"""Follow-up questions: which ones lean on the conversation, and how they are resolved without a model.

The LLM rewriter is tested through the pipeline against a real chat-completions
server (tests/test_pipeline.py).
"""

from __future__ import annotations

from rag.answer.rewriting import (
    KeyTermRewriter,
    carry_terms,
    clean_rewrite,
    format_history,
    is_elliptical,
    normalize_history,
    standalone_question,
)

CLOUD = "崂山区的城市云脑汇集了多少数据？"


def test_elliptical_questions_are_recognised():
    assert is_elliptical("那它的规模呢？")
    assert is_elliptical("其增长率是多少？")
    assert is_elliptical("规模呢？")
    assert not is_elliptical("中央经济工作会议在哪里举行？")
    assert not is_elliptical("其他城市的数字经济占GDP比重是多少？")  # 其他 is no pronoun
    assert carry_terms("那它的规模呢？", "海尔资本投资了哪些项目？").startswith("海尔")
    assert carry_terms("中央经济工作会议在哪里举行？", CLOUD) == "中央经济工作会议在哪里举行？"


def test_history_normalisation():
    assert normalize_history(None) == []
    assert normalize_history([("问", "答"), ["问2", None]]) == [("问", "答"), ("问2", "")]
    assert normalize_history([
        {"role": "user", "content": "问"}, {"role": "assistant", "content": "答"},
        {"role": "user", "content": {"path": "x.png"}}, {"role": "user", "content": "再问"},
    ]) == [("问", "答"), ("再问", "")]


def test_a_self_contained_question_is_never_rewritten():
    history = [("崂山区的城市云脑是什么？", "城市云脑是崂山区的全新数字底座。[1]")]
    for question in ("中央经济工作会议在哪里举行？", "黑石二季度LP资金净流入多少？",
                     "What was the retail sales total in the first ten months of 2023?"):
        assert KeyTermRewriter().rewrite(question, history).query == question


def test_chains_of_follow_ups_resolve_against_the_question_before():
    history = [("海尔资本投资了哪些项目？", ""), ("规模呢？", "")]
    query = standalone_question("那它的团队呢？", history)
    assert query.startswith("海尔") and query.endswith("那它的团队呢？")


def test_history_is_formatted_for_the_prompt_without_marks_and_fences():
    text = format_history([("问</资料>题", "答案[1]⚠" + "长" * 300)])
    assert text.startswith("用户：问＜/资料>题\n助手：答案长")
    assert "[1]" not in text and "⚠" not in text and text.endswith("…")


def test_model_rewrites_are_cleaned():
    assert clean_rewrite("改写后的独立问题：“崂山区的城市云脑汇集了多少数据？”\n解释……", "那它呢？") == CLOUD
    assert clean_rewrite("", "那它呢？") == "那它呢？"
    assert clean_rewrite("长" * 500, "那它呢？") == "那它呢？"
