"""The OpenAI-compatible /v1 endpoint of ``python app.py``, through real HTTP clients.

The app runs as a subprocess on a copy of the small sample index with RAG_API_KEY set;
the clients are the official ``openai`` SDK, LangChain's ``ChatOpenAI`` and raw ``httpx``
requests for the error cases. The ``rag-zh-llm`` model writes with a scripted
OpenAI-compatible server (tests/_openai_server.py) running in this process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
import openai
import pytest

from _app_server import ROOT, AppServer, copy_dir
from _openai_server import TEST_KEY as LLM_KEY
from _openai_server import OpenAIServer, Reply

pytestmark = pytest.mark.slow

KEY = "test-key-7b1e"
QUESTION = "崂山区的“1134”模式指的是什么？"
FOLLOW_UP = "那个中心是什么？"


@pytest.fixture(scope="module")
def llm():
    server = OpenAIServer(api_key=LLM_KEY).start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_corpus_dir, small_index_dir, llm):
    base = tmp_path_factory.mktemp("server")
    corpus = copy_dir(small_corpus_dir, base / "corpus")
    index = copy_dir(small_index_dir, base / "index")
    # One answer at a time and none waiting: the tests ask one after another, and must never be
    # told "busy"; test_a_second_question_while_one_runs_is_told_busy checks the bound.
    srv = AppServer(corpus, index, base / "app.log", RAG_API_KEY=KEY, RAG_LLM="extractive",
                    OPENAI_API_KEY=LLM_KEY, OPENAI_BASE_URL=llm.url, RAG_LLM_MODEL="scripted-model",
                    RAG_LLM_MAX_RETRIES="0", RAG_LLM_TIMEOUT="20", RAG_CONCURRENCY="1", RAG_QUEUE_SIZE="0")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "v1", api_key=KEY, max_retries=0)


@pytest.fixture(scope="module")
def plain(client):
    return client.chat.completions.create(model="rag-zh", messages=[{"role": "user", "content": QUESTION}])


def raw(server, body, key: str | None = KEY, method: str = "POST", path: str = "v1/chat/completions"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    content = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return httpx.request(method, server.url + path, content=content if method == "POST" else None,
                         headers={**headers, "Content-Type": "application/json"}, timeout=300)


# --- the openai SDK ---------------------------------------------------------------

def test_models_lists_one_model_per_answer_mode_and_knowledge_base(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["rag-zh", "rag-zh-extractive", "rag-zh-llm",
                                      "rag-zh:default", "rag-zh-extractive:default", "rag-zh-llm:default"]
    assert models[2].model_extra["rag"] == {"kb": "default", "mode": "llm"}  # Answer.mode's words


def test_sdk_gets_a_cited_answer(plain):
    msg = plain.choices[0].message
    assert plain.object == "chat.completion" and plain.choices[0].finish_reason == "stop"
    assert msg.role == "assistant"
    assert "1134" in msg.content and "[1]" in msg.content
    assert "**来源**" in msg.content and "004_a725a1633d20dd26.txt" in msg.content
    extra = plain.model_extra
    cite = extra["citations"][0]
    assert set(cite) == {"n", "title", "source", "start", "end", "text", "publication"}
    assert cite["n"] == 1 and cite["source"] == "004_a725a1633d20dd26.txt"
    assert cite["end"] - cite["start"] == len(cite["text"])
    assert f"《{cite['title']}》" in msg.content
    assert extra["rag"]["refused"] is False and extra["rag"]["mode"] == "extractive"
    assert extra["rag"]["kb"] == "default"


def test_an_extractive_answer_reports_counted_usage(plain):
    from rag.server.usage import count_tokens

    usage = plain.usage  # counted with multilingual-e5-small's tokenizer (docs/api.md)
    assert usage.prompt_tokens == count_tokens(QUESTION) > 0
    assert usage.completion_tokens == count_tokens(plain.choices[0].message.content) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert plain.model_extra["rag"]["usage_source"] == "counted"


def test_a_stream_ends_with_usage_when_asked(client, plain):
    chunks = list(client.chat.completions.create(
        model="rag-zh", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": QUESTION}]))
    *answer, last = chunks
    assert last.choices == [] and last.usage == plain.usage  # the same counts as the plain reply
    assert all(c.usage is None and c.choices for c in answer)
    assert answer[-1].choices[0].finish_reason == "stop" and answer[-1].model_extra["rag"]["usage_source"] == "counted"
    plain_stream = list(client.chat.completions.create(
        model="rag-zh", stream=True, messages=[{"role": "user", "content": QUESTION}]))
    assert all(c.choices for c in plain_stream) and "usage" not in plain_stream[-1].model_extra


def test_sdk_streams_the_same_cited_answer(client, plain):
    stream = client.chat.completions.create(
        model="rag-zh", stream=True, messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)  # the SDK stops at data: [DONE]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) >= 4  # role, text pieces, sources, finish
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == plain.model_extra["citations"]


def test_earlier_turns_are_the_history(client, plain):
    follow = client.chat.completions.create(model="rag-zh", messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": plain.choices[0].message.content},
        {"role": "user", "content": FOLLOW_UP},
    ])
    assert "1134" in follow.model_extra["rag"]["query"]
    alone = client.chat.completions.create(model="rag-zh", messages=[{"role": "user", "content": FOLLOW_UP}])
    assert alone.model_extra["rag"]["query"] == FOLLOW_UP


def test_text_parts_and_top_k_extension(client):
    r = client.chat.completions.create(
        model="rag-zh-extractive", messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        extra_body={"top_k": 1})
    assert len(r.model_extra["citations"]) == 1


LLM_TEXT = "崂山区打造了“1134”模式，即1套机制、1个中心、3项能力、4大场景。"


def ask_llm(client, stream: bool = False, top_k: int = 1):
    return client.chat.completions.create(
        model="rag-zh-llm", stream=stream, messages=[{"role": "user", "content": QUESTION}],
        extra_body={"top_k": top_k})


def test_llm_model_answers_through_the_model(client, llm):
    llm.reset()
    llm.script(Reply(LLM_TEXT + "[1]"))
    r = ask_llm(client)
    assert r.model_extra["rag"]["mode"] == "llm"
    assert r.choices[0].message.content.startswith(LLM_TEXT + "[1]")
    assert len(r.model_extra["citations"]) == 1 and len(llm.chat_requests) == 1
    # The answer was streamed from the model and the scripted server, like vLLM or llama-server
    # without stream_options, sent no usage: unknown, so null — never zeros.
    assert r.usage is None and r.model_extra["rag"]["usage_source"] is None


def test_llm_stream_whose_marks_the_check_changed_ends_with_the_checked_answer(client, llm):
    llm.reset()
    llm.script(Reply(LLM_TEXT + "[7]"))  # [7]: there is no 7th passage
    chunks = list(ask_llm(client, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    streamed, checked = text.split("\n\n（以下是核对引用后的回答）\n\n")
    assert streamed == LLM_TEXT + "[7]"  # shown as the model wrote it, while it came
    assert checked.startswith(LLM_TEXT + "[1]") and "**来源**\n- [1] 《" in checked
    assert "[7]" not in checked.split("\n\n")[0]
    assert [c["n"] for c in chunks[-1].model_extra["citations"]] == [1]


def test_a_second_question_while_one_runs_is_told_busy(client, llm):
    import threading

    llm.reset()
    release = threading.Event()
    llm.script(Reply(LLM_TEXT + "[1]", gate=release))  # the model stops after its first piece
    first = ask_llm(client, stream=True)
    try:
        got = ""
        for chunk in first:  # until the model's first piece arrived: the answer is running
            got += chunk.choices[0].delta.content or ""
            if got:
                break
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(model="rag-zh", messages=[{"role": "user", "content": QUESTION}])
        assert "busy" in str(err.value) and "服务器正忙" in str(err.value)
    finally:
        release.set()
    rest = "".join(c.choices[0].delta.content or "" for c in first)
    assert (got + rest).startswith(LLM_TEXT)
    again = client.chat.completions.create(model="rag-zh", messages=[{"role": "user", "content": QUESTION}])
    assert again.model_extra["citations"]


@pytest.mark.parametrize("stream", [False, True])
def test_llm_fallback_warning_is_kept(client, llm, stream):
    llm.reset()
    llm.script(Reply(status=500, error_message="boom"))
    r = ask_llm(client, stream=stream, top_k=5)
    if stream:
        chunks = list(r)
        content = "".join(c.choices[0].delta.content or "" for c in chunks)
        extra = chunks[-1].model_extra
    else:
        content, extra = r.choices[0].message.content, r.model_extra
    assert any("抽取式" in w for w in extra["rag"]["warnings"]), extra
    assert "注意：" in content and "[1]" in content
    assert extra["rag"]["mode"] == "extractive"
    if not stream:  # the fallback answer is extractive: counted
        assert r.usage.completion_tokens > 0 and extra["rag"]["usage_source"] == "counted"


def test_unknown_model_is_answered_with_the_model_list(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert "gpt-4o" in str(err.value) and "rag-zh-extractive" in str(err.value)


def test_wrong_key_through_the_sdk(server):
    bad = openai.OpenAI(base_url=server.url + "v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


# --- LangChain's ChatOpenAI -------------------------------------------------------

def test_langchain_chat_openai_against_v1(server):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server.url + "v1", api_key=KEY, model="rag-zh", max_retries=0)
    reply = llm.invoke(QUESTION)
    assert "1134" in reply.content and "[1]" in reply.content
    pieces = [c.content for c in llm.stream(QUESTION)]
    assert len([p for p in pieces if p]) >= 2
    assert "".join(pieces) == reply.content


# --- raw requests: authentication and bad input -----------------------------------

def test_missing_and_wrong_tokens_get_the_same_401(server):
    ok = {"model": "rag-zh", "messages": [{"role": "user", "content": QUESTION}]}
    responses = [raw(server, ok, key=None), raw(server, ok, key="nope"), raw(server, ok, key=KEY[:-1]),
                 raw(server, None, key=None, method="GET", path="v1/models")]
    assert [r.status_code for r in responses] == [401] * 4
    assert len({r.text for r in responses}) == 1
    assert responses[0].headers["www-authenticate"] == "Bearer"
    assert KEY not in responses[0].text and KEY[:4] not in responses[0].text
    basic = httpx.post(server.url + "v1/chat/completions", json=ok, auth=("user", KEY), timeout=60)
    assert basic.status_code == 401


@pytest.mark.parametrize("body, words", [
    ({"model": "rag-zh"}, "messages"),
    ({"model": "rag-zh", "messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": QUESTION}]}, "model"),
    ({"model": "rag-zh", "messages": [{"role": "bot", "content": QUESTION}]}, "role"),
    ({"model": "rag-zh", "messages": [{"role": "tool", "content": QUESTION}]}, "role"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": 42}]}, "content"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": [{"type": "image_url",
                                                                     "image_url": {"url": "x"}}]}]}, "content"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": None}]}, "content"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": QUESTION},
                                      {"role": "assistant", "content": "答"}]}, "user"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": "？？？"}]}, "问题"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": QUESTION}], "top_k": 0}, "top_k"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": QUESTION}], "n": 2}, "n"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}] * 150
      + [{"role": "user", "content": QUESTION}]}, "messages"),
    ({"model": "rag-zh", "messages": [{"role": "user", "content": "长" * 30_000},
                                      {"role": "assistant", "content": "答"},
                                      {"role": "user", "content": QUESTION}]}, "history"),
    ([1, 2], "JSON object"),
])
def test_malformed_bodies_get_400_with_a_message(server, body, words):
    r = raw(server, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert words in error["message"] and error["type"] == "invalid_request_error"


def test_not_json_and_unknown_model_raw(server):
    r = raw(server, b"{not json")
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
    r = raw(server, {"model": "nope", "messages": [{"role": "user", "content": QUESTION}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert "rag-zh, rag-zh-extractive, rag-zh-llm, rag-zh:default" in r.json()["error"]["message"]
    r = raw(server, {"model": "rag-zh:news", "messages": [{"role": "user", "content": QUESTION}]})
    assert r.status_code == 404 and r.json()["error"]["param"] == "model"
    assert "知识库“news”不存在" in r.json()["error"]["message"] and "RAG_CORPUS_DIR" in r.json()["error"]["message"]


def test_raw_stream_is_server_sent_events_ending_in_done(server):
    body = {"model": "rag-zh", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", server.url + "v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: "):] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and chunks[0]["id"].startswith("chatcmpl-")
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_the_page_is_still_served(server):
    page = httpx.get(server.url, timeout=60)
    assert page.status_code == 200 and "<html" in page.text
    # Chinese from the first byte, before any script runs (Gradio's template says "en").
    assert re.search(r'<html\b[^>]*\blang="zh-CN"', page.text)
    assert int(page.headers["content-length"]) == len(page.content)
    config = httpx.get(server.url + "config", timeout=60).json()
    from rag.ui import launch_options

    look = launch_options()  # theme/css/head given to mount_gradio_app reach the page
    assert config["css"] == look["css"] and config["head"] == look["head"]
    assert config["theme"] == look["theme"].name


# --- app.py start-up errors are one line --------------------------------------------

@pytest.mark.parametrize("env, args, words", [
    ({"RAG_PORT": "http"}, [], "RAG_PORT"),
    ({"RAG_PORT": "70000"}, [], "65535"),
    ({}, ["--port", "-1"], "--port"),
    ({"RAG_UPLOAD_MAX_MB": "ten"}, [], "RAG_UPLOAD_MAX_MB"),
    ({"RAG_CONCURRENCY": "0"}, [], "--concurrency"),
    ({}, ["--queue-size", "many"], "--queue-size"),
    ({}, ["--no-such-option"], "--help"),
])
def test_bad_settings_are_one_line_errors(env, args, words, tmp_path):
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    full.update(RAG_HOME=str(tmp_path), **env)
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), *args], env=full, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and words in lines[0]


def test_a_port_in_use_is_a_one_line_error(server, tmp_path):
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    full.update(RAG_HOME=str(tmp_path), RAG_PORT=str(server.port))
    out = subprocess.run([sys.executable, str(ROOT / "app.py")], env=full, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(server.port) in out.stderr and len(out.stderr.strip().splitlines()) == 1


# --- behind the page's login (RAG_AUTH) without RAG_API_KEY ---------------------------

class LoginAppServer(AppServer):
    """Behind a login every route answers 401: ready as soon as /v1 answers at all."""

    def _wait_ready(self) -> None:
        import time

        for _ in range(1200):  # bound only against a hung CI job
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                httpx.get(self.url + "v1/models", timeout=5)
                return
            except httpx.HTTPError:
                time.sleep(0.25)
        raise RuntimeError(f"app.py did not become ready:\n{self.log()}")


def test_with_a_login_and_no_api_key_v1_stays_closed(tmp_path, small_corpus_dir, small_index_dir):
    from gradio_client import Client

    corpus = copy_dir(small_corpus_dir, tmp_path / "corpus")
    index = copy_dir(small_index_dir, tmp_path / "index")
    with LoginAppServer(corpus, index, tmp_path / "app.log", RAG_AUTH="admin:pw-4411") as srv:
        closed = [raw(srv, {"model": "rag-zh", "messages": [{"role": "user", "content": QUESTION}]}, key=k)
                  for k in (None, "anything", "pw-4411")]
        assert [r.status_code for r in closed] == [401, 401, 401]
        assert httpx.get(srv.url + "config", timeout=60).status_code == 401  # the page needs the login
        answer = Client(srv.url, auth=("admin", "pw-4411"), verbose=False).predict(
            QUESTION, [], 2, api_name="/chat")
        assert answer["citations"] and "1134" in answer["text"]


# --- several knowledge bases under RAG_HOME: one model id per knowledge base -------------

TINY_QUESTION = "甲公司的机器人售价多少？"  # answered by tests/_articles.py's a.txt only
TINY_FILES = {"a.txt", "b.txt"}


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory, two_kb_home):
    base = tmp_path_factory.mktemp("server_kbs")
    with AppServer(None, None, base / "app.log", RAG_HOME=str(two_kb_home), RAG_API_KEY=KEY) as srv:
        yield srv


@pytest.fixture(scope="module")
def kb_client(kb_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=kb_server.url + "v1", api_key=KEY, max_retries=0)


def test_models_list_every_knowledge_base(kb_client):
    models = {m.id: m.model_extra["rag"] for m in kb_client.models.list().data}
    assert list(models)[:2] == ["rag-zh", "rag-zh-extractive"]  # no LLM configured
    assert models["rag-zh:tiny"] == {"kb": "tiny", "mode": "extractive"}
    assert {"rag-zh:default", "rag-zh-extractive:default", "rag-zh-extractive:tiny"} <= set(models)


def test_the_knowledge_base_model_answers_from_its_files(kb_client):
    r = kb_client.chat.completions.create(model="rag-zh:tiny", messages=[{"role": "user", "content": TINY_QUESTION}])
    assert "三万元" in r.choices[0].message.content and "a.txt" in r.choices[0].message.content
    assert r.model == "rag-zh:tiny" and r.model_extra["rag"]["kb"] == "tiny"
    assert r.model_extra["citations"][0]["source"] == "a.txt"
    assert {c["source"] for c in r.model_extra["citations"]} <= TINY_FILES
    assert r.usage.total_tokens > 0 and r.model_extra["rag"]["usage_source"] == "counted"
    default = kb_client.chat.completions.create(model="rag-zh", messages=[{"role": "user", "content": TINY_QUESTION}])
    assert default.model_extra["rag"]["kb"] == "default"
    assert not {c["source"] for c in default.model_extra["citations"]} & TINY_FILES
    sample = kb_client.chat.completions.create(model="rag-zh-extractive:default",
                                               messages=[{"role": "user", "content": QUESTION}])
    assert "1134" in sample.choices[0].message.content


def test_the_knowledge_base_model_streams(kb_client):
    chunks = list(kb_client.chat.completions.create(
        model="rag-zh-extractive:tiny", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": TINY_QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "三万元" in text and "a.txt" in text
    stop = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"][0]
    assert stop.model_extra["rag"]["kb"] == "tiny" and stop.model_extra["citations"][0]["source"] == "a.txt"
    assert chunks[-1].usage.completion_tokens > 0


def test_an_unknown_knowledge_base_is_404_naming_the_existing_ones(kb_client, kb_server):
    with pytest.raises(openai.NotFoundError) as err:
        kb_client.chat.completions.create(model="rag-zh:nope", messages=[{"role": "user", "content": TINY_QUESTION}])
    message = str(err.value)
    assert "知识库“nope”不存在" in message and "default、tiny" in message and "rag kb create nope" in message
    assert "rag-zh:<知识库名>" in message
    r = raw(kb_server, {"model": "rag-zh:nope", "stream": True, "messages": [{"role": "user", "content": "问"}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


def test_knowledge_base_models_still_need_the_key(kb_server):
    body = {"model": "rag-zh:tiny", "messages": [{"role": "user", "content": TINY_QUESTION}]}
    assert raw(kb_server, body, key=None).status_code == 401
    assert raw(kb_server, body, key="wrong").status_code == 401
    assert raw(kb_server, None, key=None, method="GET", path="v1/models").status_code == 401
