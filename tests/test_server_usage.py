"""Token usage for /v1 (rag.server.usage): the counting rule, the wire shape, and the LLM's own
usage read through LangChain callbacks from a real OpenAI-compatible server (the scripted one)."""

from __future__ import annotations

import pytest

from _llama_server import llama_server  # noqa: F401 - the fixture
from _openai_server import TEST_KEY, Reply, openai_server  # noqa: F401 - the fixture
from rag.config import LLMSettings
from rag.llm import LLMFailure, chat_model, invoke_with_retries, stream_with_retries
from rag.schema import Answer
from rag.server.usage import COUNTED, LLM, Usage, UsageMeter, count_tokens

LLM_TEXT = "会议在北京举行。[1]"


# --- the counting rule: multilingual-e5-small's tokenizer, without prefix and specials -----

@pytest.mark.parametrize("text, tokens", [
    ("", 0), ("   \n", 0), ("a", 1), ("hello world", 3),
    ("崂山区的“1134”模式指的是什么？", 14),
])
def test_count_tokens_is_the_e5_tokenizer(text, tokens):
    assert count_tokens(text) == tokens
    assert count_tokens(text) == count_tokens(text)  # deterministic


def test_counted_usage_sums_the_prompt_texts():
    usage = Usage.counted(["系统", "崂山区的“1134”模式指的是什么？"], "hello world")
    assert usage.prompt_tokens == count_tokens("系统") + 14 and usage.completion_tokens == 3
    assert usage.to_dict() == {"prompt_tokens": usage.prompt_tokens, "completion_tokens": 3,
                               "total_tokens": usage.prompt_tokens + 3}
    assert usage.source == COUNTED


# --- the value ---------------------------------------------------------------------------

def test_usage_round_trips_and_validates():
    usage = Usage(120, 30, LLM, cached_tokens=100, reasoning_tokens=0)
    d = usage.to_dict()
    assert d == {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150,
                 "prompt_tokens_details": {"cached_tokens": 100}, "completion_tokens_details": {"reasoning_tokens": 0}}
    assert Usage.from_dict(d, LLM) == usage
    for bad in [dict(prompt_tokens=-1, completion_tokens=0, source=LLM),
                dict(prompt_tokens=1.5, completion_tokens=0, source=LLM),
                dict(prompt_tokens=1, completion_tokens=0, source="guess")]:
        with pytest.raises(ValueError):
            Usage(**bad)


def test_usage_metadata_of_several_calls_is_summed():
    usage = Usage.from_metadata([
        {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "input_token_details": {"cache_read": 4}},
        {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9, "input_token_details": {"cache_read": 0}},
    ])
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (17, 7, 24)
    assert usage.cached_tokens == 4 and usage.reasoning_tokens is None  # only what every call reported


# --- the LLM's own usage, through the project's LLM layer -----------------------------------

def settings_for(server, retries: int = 0) -> LLMSettings:
    return LLMSettings(base_url=server.url, api_key=TEST_KEY, model="scripted-model", max_retries=retries,
                       timeout=30, deadline=60)


def test_an_invoked_call_reports_the_servers_usage(openai_server):
    openai_server.script(Reply(LLM_TEXT))
    llm = settings_for(openai_server)
    meter = UsageMeter()
    # invoke_with_retries runs the model in a worker thread: the meter follows the context there
    message = meter.call(invoke_with_retries, chat_model(llm), "问题", llm)
    assert message.content == LLM_TEXT
    assert meter.llm_calls == 1
    # the scripted server reports prompt_tokens 10 and one completion token per character
    assert meter.llm_usage() == Usage(10, len(LLM_TEXT), LLM)
    assert meter.usage(Answer(LLM_TEXT, mode="llm"), ["问题"], "reply") == Usage(10, len(LLM_TEXT), LLM)


def test_a_failed_attempt_is_not_counted_the_retry_is(openai_server):
    openai_server.script(Reply(status=500, error_message="boom"), Reply(LLM_TEXT))
    llm = settings_for(openai_server, retries=1)
    meter = UsageMeter()
    meter.call(invoke_with_retries, chat_model(llm), "问题", llm, lambda seconds: None)
    assert len(openai_server.chat_requests) == 2 and meter.llm_calls == 2
    assert meter.llm_usage() == Usage(10, len(LLM_TEXT), LLM)


def test_a_stream_without_usage_is_unknown_never_zero(openai_server):
    """The project streams answers; a server that sends no usage in the stream leaves it unknown."""
    openai_server.script(Reply(LLM_TEXT))
    llm = settings_for(openai_server)
    meter = UsageMeter()
    pieces = list(meter.iterate(stream_with_retries(chat_model(llm), "问题", llm)))
    assert "".join(pieces) == LLM_TEXT and meter.llm_calls == 1
    assert meter.llm_usage() is None
    assert meter.usage(Answer(LLM_TEXT, mode="llm"), ["问题"], LLM_TEXT) is None
    # an extractive answer (e.g. the fallback) is counted by the rule whatever the LLM did
    counted = meter.usage(Answer("答。", mode="extractive"), ["问题"], "答。")
    assert counted == Usage(count_tokens("问题"), count_tokens("答。"), COUNTED)


def test_a_failed_call_leaves_the_llm_usage_unknown(openai_server):
    openai_server.script(Reply(status=400, error_message="bad request"))
    llm = settings_for(openai_server)
    meter = UsageMeter()
    with pytest.raises(LLMFailure):
        meter.call(invoke_with_retries, chat_model(llm), "问题", llm)
    assert meter.llm_calls == 1 and meter.llm_usage() is None


def test_meters_are_separate(openai_server):
    openai_server.script(Reply(LLM_TEXT), Reply(LLM_TEXT))
    llm = settings_for(openai_server)
    first, second = UsageMeter(), UsageMeter()
    first.call(invoke_with_retries, chat_model(llm), "问题", llm)
    invoke_with_retries(chat_model(llm), "问题", llm)  # outside any meter
    assert first.llm_calls == 1 and second.llm_calls == 0 and second.llm_usage() is None
    # no model call at all: an LLM-mode answer (e.g. refused before the model) is counted
    assert second.usage(Answer("没有答案。", mode="llm"), ["问"], "没有答案。").source == COUNTED


@pytest.mark.slow
def test_a_real_servers_streamed_usage_flows_through(llama_server):
    """llama.cpp's llama-server reports usage in a stream when asked (stream_options.include_usage,
    which ChatOpenAI sends with stream_usage=True): the meter passes those numbers through as they are."""
    from langchain_openai import ChatOpenAI

    llm = LLMSettings(base_url=llama_server.url, api_key="local", model=llama_server.model, timeout=120,
                      deadline=300, max_retries=0)
    model = ChatOpenAI(base_url=llm.base_url, api_key=llm.api_key, model=llm.model, max_retries=0,
                       stream_usage=True, max_tokens=8, temperature=0)
    meter = UsageMeter()
    pieces = list(meter.iterate(stream_with_retries(model, "用一个词回答：天空是什么颜色？", llm)))
    usage = meter.llm_usage()
    assert pieces and usage is not None and usage.source == LLM
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 8
    assert meter.usage(Answer("".join(pieces), mode="llm"), ["问"], "答") == usage
