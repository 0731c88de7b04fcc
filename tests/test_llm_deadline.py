"""One deadline per answer (RAG_LLM_DEADLINE) against the scripted server on 127.0.0.1.

A slow server, a stream that stalls or trickles, and retries that would outlast
the deadline all end in an ``LLMFailure`` of kind ``"deadline"``; through the
answer pipeline that becomes the extractive answer with the reason in
``Answer.warnings``, and ``rag ask`` prints it. A follow-up's rewrite and its
answer share the one deadline: two calls that each fit it do not both get it. The assertions are about
behaviour (what the client got, how many requests the server saw, the reason),
never about elapsed seconds. Also: the ``OPENAI_*`` names the openai SDK's
users set, and which name wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from _openai_server import TEST_KEY, OpenAIServer, Reply, openai_server  # noqa: F401
from rag.answer.pipeline import build_pipeline
from rag.config import DEFAULT_LLM_DEADLINE, LLMSettings, Settings
from rag.errors import ConfigError
from rag.llm import Deadline, LLMFailure, chat_model, invoke_with_retries, stream_with_retries
from test_pipeline import CLOUD, CORPUS, FILES, CorpusRetriever, answer_of

ROOT = Path(__file__).resolve().parent.parent
SLOW = 30.0  # a server delay far beyond every deadline below; close() wakes it at teardown
TINY_DEADLINE = 0.5
# The shared-deadline tests: each model call takes PART of the deadline on the server,
# so one call fits (with 0.8 s to spare for the client) and two in a row cannot.
SHARED_DEADLINE = 2.0
PART = 0.6 * SHARED_DEADLINE
HISTORY = [("崂山区的城市云脑是什么？", "城市云脑是崂山区的全新数字底座。[1]")]
FOLLOW_UP = "那它汇集了多少数据？"
LLM_ANSWER = "崂山区城市云脑汇集数据16亿余条。[1]"


def llm(server: OpenAIServer, **changes) -> LLMSettings:
    values = dict(base_url=server.url, api_key=TEST_KEY, model="qwen-test", timeout=60.0,
                  max_retries=2, deadline=TINY_DEADLINE)
    values.update(changes)
    return LLMSettings(**values)


def chain(settings: LLMSettings):
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    return prompt | chat_model(settings) | StrOutputParser()


# --- the client --------------------------------------------------------------------

def test_slow_server_ends_at_the_deadline_not_after_every_retry(openai_server):
    settings = llm(openai_server)  # timeout 60 s × 3 tries would be 3 minutes
    openai_server.script(*[Reply("太慢了", delay=SLOW)] * 3)
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(chain(settings), {"q": "问题"}, settings)
    assert err.value.kind == "deadline" and err.value.attempts == 1
    assert "RAG_LLM_DEADLINE" in str(err.value) and "0.5 秒" in str(err.value)
    assert len(openai_server.chat_requests) == 1  # no retry once the deadline has passed


def test_stream_stalling_midway_ends_at_the_deadline(openai_server):
    settings = llm(openai_server)
    openai_server.script(Reply(pieces=["开头", "永远", "不来"], piece_delay=SLOW))
    received = []
    with pytest.raises(LLMFailure) as err:
        for piece in stream_with_retries(chain(settings), {"q": "问题"}, settings):
            received.append(piece)
    assert received == ["开头"]
    assert err.value.kind == "deadline"
    assert len(openai_server.chat_requests) == 1


def test_trickling_stream_is_cut_at_the_deadline(openai_server):
    """Every piece comes well within the request timeout, but the whole never ends in time."""
    settings = llm(openai_server)
    pieces = [f"第{i}段" for i in range(400)]
    openai_server.script(Reply(pieces=pieces, piece_delay=0.05))
    received = []
    with pytest.raises(LLMFailure) as err:
        for piece in stream_with_retries(chain(settings), {"q": "问题"}, settings):
            received.append(piece)
    assert err.value.kind == "deadline"
    assert 1 <= len(received) < len(pieces)
    assert received == pieces[: len(received)]


def test_retries_stop_when_the_wait_would_pass_the_deadline(openai_server):
    settings = llm(openai_server, max_retries=5)
    openai_server.script(*[Reply(status=503, headers={"retry-after": "5"})] * 6)
    waits: list[float] = []
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(chain(settings), {"q": "问题"}, settings, sleep=waits.append)
    assert err.value.kind == "deadline" and err.value.attempts == 1 and waits == []
    assert "503" in str(err.value)  # the last cause is named
    assert len(openai_server.chat_requests) == 1


def test_retries_within_the_deadline_still_happen(openai_server):
    settings = llm(openai_server, deadline=DEFAULT_LLM_DEADLINE)
    openai_server.script(Reply(status=503, headers={"retry-after-ms": "5"}), Reply("好的。"))
    assert invoke_with_retries(chain(settings), {"q": "问题"}, settings) == "好的。"
    assert len(openai_server.chat_requests) == 2


def test_one_deadline_can_cover_several_calls(openai_server):
    settings = llm(openai_server, deadline=DEFAULT_LLM_DEADLINE)
    openai_server.script(Reply("改写后的问题"), Reply("回答", delay=SLOW))
    now = [0.0]
    shared = Deadline(DEFAULT_LLM_DEADLINE, clock=lambda: now[0])
    assert invoke_with_retries(chain(settings), {"q": "问"}, settings, deadline=shared) == "改写后的问题"
    assert shared.running  # a deadline made running keeps running, like a wall clock
    now[0] += DEFAULT_LLM_DEADLINE  # the first call used up the answer's time
    with pytest.raises(LLMFailure) as err:
        list(stream_with_retries(chain(settings), {"q": "问"}, settings, deadline=shared))
    assert err.value.kind == "deadline"
    assert len(openai_server.chat_requests) == 1  # a spent deadline sends no request at all


def test_an_answer_budget_runs_only_while_a_call_waits(openai_server):
    settings = llm(openai_server, deadline=DEFAULT_LLM_DEADLINE)
    openai_server.script(Reply("改写后的问题"), Reply("回答"))
    budget = Deadline(DEFAULT_LLM_DEADLINE, running=False)
    assert invoke_with_retries(chain(settings), {"q": "问"}, settings, deadline=budget) == "改写后的问题"
    assert not budget.running and 0 < budget.remaining() < DEFAULT_LLM_DEADLINE
    left = budget.remaining()
    assert budget.remaining() == left  # between calls it stands still
    assert list(stream_with_retries(chain(settings), {"q": "问"}, settings, deadline=budget))
    assert not budget.running and budget.remaining() < left


def test_deadline_counts_down_on_its_clock():
    now = [100.0]
    deadline = Deadline(30, clock=lambda: now[0])
    assert deadline.remaining() == 30 and not deadline.expired
    now[0] = 129.5
    assert deadline.remaining() == pytest.approx(0.5)
    now[0] = 131
    assert deadline.remaining() == 0 and deadline.expired


def test_an_answer_budget_stands_still_between_calls():
    now = [100.0]
    budget = Deadline(30, clock=lambda: now[0], running=False)
    now[0] = 200  # retrieval, loading the embedder: not the model's time
    assert budget.remaining() == 30 and not budget.running
    assert budget.resume() and not budget.resume()  # only the first resume owns the pause
    now[0] = 210
    budget.pause()
    now[0] = 500
    assert budget.remaining() == 20
    budget.resume()
    now[0] = 520
    assert budget.remaining() == 0 and budget.expired


def test_request_timeout_never_outlives_the_deadline(openai_server):
    model = chat_model(llm(openai_server, timeout=60.0, deadline=5.0))
    assert model.request_timeout == 5.0
    model = chat_model(llm(openai_server, timeout=2.0, deadline=30.0))
    assert model.request_timeout == 2.0


# --- through the answer pipeline ------------------------------------------------------

@pytest.fixture(scope="module")
def retriever() -> CorpusRetriever:
    return CorpusRetriever([CORPUS / f for f in FILES])


@pytest.mark.parametrize("streaming", [False, True])
def test_pipeline_falls_back_with_the_deadline_reason(openai_server, retriever, streaming):
    settings = Settings(llm_mode="openai", llm=llm(openai_server))
    openai_server.script(*[Reply("来得太晚", delay=SLOW)] * 3)
    pipeline = build_pipeline(settings, retriever)
    answer = answer_of(pipeline, CLOUD, streaming=streaming)
    assert answer.mode == "extractive" and answer.citations and "16亿" in answer.text
    note = answer.warnings[0]
    assert "RAG_LLM_DEADLINE" in note and "已改用抽取式回答" in note
    assert len(openai_server.chat_requests) == 1


def test_pipeline_stream_cut_midway_ends_with_the_extractive_answer(openai_server, retriever):
    settings = Settings(llm_mode="openai", llm=llm(openai_server))
    openai_server.script(Reply(pieces=["城市云脑"] + ["汇集"] * 400, piece_delay=0.05))
    items = list(build_pipeline(settings, retriever).stream(CLOUD))
    assert items[0] == "城市云脑" and "\n\n" in items
    final = items[-1]
    assert final.mode == "extractive" and "16亿" in final.text
    assert "RAG_LLM_DEADLINE" in final.warnings[0]


def across_threads(items) -> list:
    """Every item of ``items``, each next() on a thread of its own, as Gradio iterates."""
    iterator, got = iter(items), []
    while True:
        box: list = []
        worker = threading.Thread(target=lambda into: into.append(next(iterator, None)), args=(box,))
        worker.start()
        worker.join()
        if box == [None]:
            return got
        got.append(box[0])


@pytest.mark.slow
def test_one_slow_call_fits_the_deadline(openai_server, retriever):
    """The control for the test below: PART of the deadline is enough for one call."""
    settings = Settings(llm_mode="openai", llm=llm(openai_server, deadline=SHARED_DEADLINE))
    openai_server.script(Reply(LLM_ANSWER, delay=PART))
    answer = build_pipeline(settings, retriever).invoke(CLOUD)
    assert answer.mode == "llm" and "16亿" in answer.text and not answer.warnings


@pytest.mark.slow
@pytest.mark.parametrize("consume", ["invoke", "stream across threads"])
def test_follow_up_rewrite_and_answer_share_one_deadline(openai_server, retriever, consume):
    """Rewrite and answer each take PART of the deadline: together they outlast it, so
    the answer is the extractive one, made from the model's rewrite, with the reason."""
    settings = Settings(llm_mode="openai", llm=llm(openai_server, deadline=SHARED_DEADLINE))
    openai_server.script(Reply(CLOUD, delay=PART), Reply(LLM_ANSWER, delay=PART))
    pipeline = build_pipeline(settings, retriever)
    if consume == "invoke":
        answer = pipeline.invoke(FOLLOW_UP, history=HISTORY)
    else:
        items = across_threads(pipeline.stream(FOLLOW_UP, history=HISTORY))
        answer = items[-1]
        assert "".join(items[:-1]) == answer.text
    _rewrite, ask = openai_server.chat_requests
    assert answer.query == CLOUD and f"问题：{CLOUD}" in ask.message_text("user")  # rewrite used
    assert answer.mode == "extractive" and answer.citations and "16亿" in answer.text
    [note] = answer.warnings
    assert "RAG_LLM_DEADLINE" in note and f"{SHARED_DEADLINE:g} 秒" in note
    assert "已改用抽取式回答" in note and "\n" not in note
    assert not note.startswith("改写追问失败")  # the rewrite finished; the answer ran out


@pytest.mark.parametrize("streaming", [False, True])
def test_deadline_spent_while_rewriting_skips_the_answer_call(openai_server, retriever, streaming):
    settings = Settings(llm_mode="openai", llm=llm(openai_server))
    openai_server.script(Reply(CLOUD, delay=SLOW))
    pipeline = build_pipeline(settings, retriever)
    if streaming:
        answer = list(pipeline.stream(FOLLOW_UP, history=HISTORY))[-1]
    else:
        answer = pipeline.invoke(FOLLOW_UP, history=HISTORY)
    assert len(openai_server.chat_requests) == 1  # the rewrite only: no second wait
    assert "云脑" in answer.query and answer.query.endswith(FOLLOW_UP)  # the key-term rewrite
    assert answer.mode == "extractive" and answer.citations and "16亿" in answer.text
    [note] = answer.warnings
    assert note.startswith("改写追问失败") and "RAG_LLM_DEADLINE" in note
    assert "已改用抽取式回答" in note and "\n" not in note


@pytest.mark.slow
def test_rag_ask_prints_the_fallback_reason(openai_server):
    """The CLI, as a person runs it, against a server slower than the deadline."""
    openai_server.script(*[Reply("来得太晚", delay=SLOW)] * 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_INDEX_DIR=str(ROOT / "index"), RAG_CORPUS_DIR=str(ROOT / "corpus"),
               OPENAI_BASE_URL=openai_server.url, OPENAI_API_KEY=TEST_KEY,
               OPENAI_MODEL="qwen-test", RAG_LLM_DEADLINE=str(TINY_DEADLINE))
    run = subprocess.run([sys.executable, "-m", "rag", "ask", CLOUD], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "16亿" in run.stdout
    notes = [line for line in run.stderr.splitlines() if line.startswith("注意：")]
    assert any("RAG_LLM_DEADLINE" in line and "已改用抽取式回答" in line for line in notes)
    assert "Traceback" not in run.stderr
    assert len(openai_server.chat_requests) == 1
    assert openai_server.chat_requests[0].body["model"] == "qwen-test"  # OPENAI_MODEL honoured


# --- settings --------------------------------------------------------------------------

def test_openai_sdk_names_are_honoured():
    s = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_MODEL": "gpt-x", "OPENAI_TIMEOUT": "7",
                           "OPENAI_MAX_RETRIES": "0"})
    assert s.llm_mode == "openai"
    assert (s.llm.model, s.llm.timeout, s.llm.max_retries) == ("gpt-x", 7.0, 0)
    assert s.llm.deadline == DEFAULT_LLM_DEADLINE == 30.0


def test_rag_names_win_over_openai_names():
    s = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_MODEL": "gpt-x", "RAG_LLM_MODEL": "qwen",
                           "OPENAI_TIMEOUT": "7", "RAG_LLM_TIMEOUT": "9",
                           "OPENAI_MAX_RETRIES": "0", "RAG_LLM_MAX_RETRIES": "3",
                           "RAG_LLM_DEADLINE": "12.5"})
    assert (s.llm.model, s.llm.timeout, s.llm.max_retries, s.llm.deadline) == ("qwen", 9.0, 3, 12.5)


@pytest.mark.parametrize("env, name", [
    ({"RAG_LLM_DEADLINE": "soon"}, "RAG_LLM_DEADLINE"),
    ({"OPENAI_TIMEOUT": "long"}, "OPENAI_TIMEOUT"),
    ({"OPENAI_MAX_RETRIES": "two"}, "OPENAI_MAX_RETRIES"),
])
def test_bad_numbers_name_the_setting(env, name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_a_deadline_that_cannot_work_is_a_config_error():
    with pytest.raises(ConfigError, match="RAG_LLM_DEADLINE"):
        chat_model(LLMSettings(api_key="k", model="m", deadline=0))
