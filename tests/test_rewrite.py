"""Follow-up questions: which ones lean on the conversation, and how they are resolved without a model.

The LLM rewriter is tested through the pipeline against a real chat-completions
server (tests/test_pipeline.py); here, how it takes the answer's deadline.
"""

from __future__ import annotations

from functools import partial

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from _openai_server import TEST_KEY, Reply, openai_server  # noqa: F401
from rag.answer.rewriting import (
    KeyTermRewriter,
    LLMRewriter,
    carry_terms,
    clean_rewrite,
    format_history,
    is_elliptical,
    normalize_history,
    standalone_question,
)
from rag.config import LLMSettings
from rag.llm import Deadline, chat_model, invoke_with_retries

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


# --- the model's rewriter and the answer's deadline ----------------------------------

HISTORY = [("崂山区的城市云脑是什么？", "城市云脑是崂山区的全新数字底座。[1]")]


def model_rewriter(server, invoke=None) -> LLMRewriter:
    settings = LLMSettings(base_url=server.url, api_key=TEST_KEY, model="qwen-test")
    chain = (ChatPromptTemplate.from_messages([("human", "{history}\n追问：{question}")])
             | chat_model(settings) | StrOutputParser())
    return LLMRewriter(chain, invoke or partial(invoke_with_retries, llm=settings))


def test_a_spent_deadline_means_the_key_term_rewrite_and_no_request(openai_server):
    spent = Deadline(0.0)
    rewrite = model_rewriter(openai_server).rewrite("那它汇集了多少数据？", HISTORY, deadline=spent)
    assert rewrite.failure is not None and rewrite.failure.kind == "deadline"
    assert "RAG_LLM_DEADLINE" in str(rewrite.failure)
    assert rewrite.query == standalone_question("那它汇集了多少数据？", HISTORY)
    assert openai_server.requests == []


def test_the_model_rewrites_within_a_live_deadline_and_old_invokes_still_work(openai_server):
    openai_server.script(Reply(CLOUD), Reply(CLOUD))
    rewriter = model_rewriter(openai_server)
    assert rewriter.rewrite("那它汇集了多少数据？", HISTORY, deadline=Deadline(30)).query == CLOUD
    two_arguments = model_rewriter(openai_server, invoke=lambda chain, inputs: chain.invoke(inputs))
    assert two_arguments.rewrite("那它汇集了多少数据？", HISTORY).query == CLOUD
    assert len(openai_server.chat_requests) == 2
    # A rewriter without a model takes the deadline too, and never waits.
    assert KeyTermRewriter().rewrite("规模呢？", HISTORY, deadline=Deadline(0.0)).query != "规模呢？"
