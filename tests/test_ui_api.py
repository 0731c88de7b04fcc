"""The Gradio API endpoints (/chat, /chat_stream, /ask, /articles) through ``gradio_client``.

``python app.py`` runs as a subprocess on a copy of the small sample index, with an LLM
configured as the default answer mode but unreachable (a closed port): every answer is
the extractive fallback, and every output must say so.
"""

from __future__ import annotations

import json

import pytest
from gradio_client import Client

from _app_server import AppServer, copy_dir, free_port

pytestmark = pytest.mark.slow

QUESTION = "崂山区的“1134”模式指的是什么？"
FOLLOW_UP = "那个中心是什么？"
FALLBACK = "已改用抽取式回答"


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_corpus_dir, small_index_dir):
    base = tmp_path_factory.mktemp("ui_api")
    corpus = copy_dir(small_corpus_dir, base / "corpus")
    index = copy_dir(small_index_dir, base / "index")
    srv = AppServer(corpus, index, base / "app.log", RAG_LLM="openai", OPENAI_API_KEY="sk-unused",
                    OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1", RAG_LLM_MODEL="some-model",
                    RAG_LLM_MAX_RETRIES="0", RAG_LLM_TIMEOUT="5")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def first(client) -> dict:
    return client.predict(QUESTION, [], 5, api_name="/chat")


def test_view_api_documents_chat_with_typed_described_parameters(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/chat", "/chat_stream", "/ask", "/articles"} <= set(api)
    params = {p["parameter_name"]: p for p in api["/chat"]["parameters"]}
    assert list(params) == ["question", "history", "top_k", "kb"]
    assert params["question"]["python_type"]["type"] == "str"
    assert params["history"]["python_type"]["type"] == "list[list[str]]"
    assert params["top_k"]["python_type"]["type"] == "int"
    assert params["kb"]["python_type"]["type"] == "str"
    assert params["history"]["parameter_default"] == [] and params["top_k"]["parameter_default"] == 5
    assert params["kb"]["parameter_default"] == "default"  # the app's default knowledge base
    assert "knowledge base" in params["kb"]["python_type"]["description"]
    stream_params = [p["parameter_name"] for p in api["/chat_stream"]["parameters"]]
    assert stream_params == ["question", "history", "top_k", "kb"]
    assert not params["question"]["parameter_has_default"]
    for p in params.values():
        assert len(p["python_type"]["description"]) > 20, p
    assert "1 to 50" in params["top_k"]["python_type"]["description"]
    assert api["/chat"]["description"] and api["/chat"]["returns"][0]["python_type"]["type"].startswith("dict")
    assert "citations" in api["/chat"]["returns"][0]["python_type"]["description"]
    assert api["/chat_stream"]["returns"][0]["python_type"]["type"].startswith("dict")
    assert api["/articles"]["returns"][0]["python_type"]["type"].startswith("list[dict")
    # the page's own event handlers are not part of the documented API
    assert not any(name in api for name in ("/respond", "/delete", "/upload"))


def test_chat_returns_the_answer_dict(first):
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first
    assert set(first) >= {"text", "citations", "refused", "mode", "warnings", "query"}
    assert "1134" in first["text"] and "[1]" in first["text"] and first["refused"] is False
    c = first["citations"][0]
    assert set(c) == {"n", "title", "source", "start", "end", "text", "publication"}
    assert c["n"] == 1 and c["end"] - c["start"] == len(c["text"])
    assert first["mode"] == "extractive" and any(FALLBACK in w for w in first["warnings"])


def test_chat_honours_history_and_top_k(client, first):
    follow = client.predict(FOLLOW_UP, [[QUESTION, first["text"]]], 2, api_name="/chat")
    assert "1134" in follow["query"]
    alone = client.predict(FOLLOW_UP, [], 2, api_name="/chat")
    assert alone["query"] == FOLLOW_UP
    assert len(client.predict(QUESTION, [], 1, api_name="/chat")["citations"]) <= 1


def test_chat_stream_grows_then_ends_with_the_dict(client, first):
    job = client.submit(QUESTION, [], 5, api_name="/chat_stream")
    outputs = list(job)
    if not outputs or outputs[-1] != job.outputs()[-1]:
        outputs = job.outputs()
    partial, final = outputs[:-1], outputs[-1]
    assert partial and all(o["done"] is False and set(o) == {"text", "done"} for o in partial)
    texts = [o["text"] for o in partial]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:]))
    assert final["done"] is True
    assert {k: final[k] for k in ("text", "citations", "refused")} == \
           {k: first[k] for k in ("text", "citations", "refused")}


def test_ask_is_markdown_with_the_fallback_warning_and_sources(client):
    md = client.predict(QUESTION, api_name="/ask")
    assert "1134" in md and "[1]" in md
    assert "注意：" in md and FALLBACK in md
    assert "**来源**" in md and "004_a725a1633d20dd26.txt" in md


def test_articles_lists_the_index(client):
    arts = client.predict(api_name="/articles")
    assert arts and all("title" in a and "source" in a for a in arts)


@pytest.mark.parametrize("args, words", [
    (("", [], 5), "问题"),
    (("？？？", [], 5), "问题"),
    ((QUESTION, "not a list", 5), "history"),
    ((QUESTION, [["only a question"]], 5), "history"),
    ((QUESTION, [["问", "答"]] * 101, 5), "history"),
    ((QUESTION, [], 0), "top_k"),
    ((QUESTION, [], 99), "top_k"),
])
def test_bad_input_gets_a_message(client, args, words):
    with pytest.raises(Exception) as err:
        client.predict(*args, api_name="/chat")
    assert words in str(err.value)


def test_one_explicit_knowledge_base_names_no_other(client):
    assert client.predict(QUESTION, [], 2, "", api_name="/chat")["kb"] == "default"
    with pytest.raises(Exception) as err:
        client.predict(QUESTION, [], 2, "news", api_name="/chat")
    assert "知识库“news”不存在" in str(err.value) and "RAG_CORPUS_DIR" in str(err.value)


# --- several knowledge bases under RAG_HOME: kb= picks one --------------------------------

TINY_QUESTION = "甲公司的机器人售价多少？"  # answered by tests/_articles.py's a.txt only
TINY_FILES = {"a.txt", "b.txt"}


@pytest.fixture(scope="module")
def kb_client(tmp_path_factory, two_kb_home):
    base = tmp_path_factory.mktemp("ui_api_kbs")
    with AppServer(None, None, base / "app.log", RAG_HOME=str(two_kb_home)) as srv:
        yield Client(srv.url, verbose=False)


def test_chat_answers_from_the_named_knowledge_base(kb_client):
    tiny = kb_client.predict(TINY_QUESTION, [], 3, "tiny", api_name="/chat")
    assert tiny["kb"] == "tiny" and not tiny["refused"]
    assert "三万元" in tiny["text"] and tiny["citations"][0]["source"] == "a.txt"
    assert {c["source"] for c in tiny["citations"]} <= TINY_FILES
    default = kb_client.predict(TINY_QUESTION, [], 3, api_name="/chat")  # kb left out: the default one
    assert default["kb"] == "default"
    assert not {c["source"] for c in default["citations"]} & TINY_FILES
    sample = kb_client.predict(QUESTION, [], 3, "default", api_name="/chat")
    assert sample["citations"] and "1134" in sample["text"]
    assert kb_client.predict(QUESTION, [], 3, "tiny", api_name="/chat")["refused"] is True


def test_chat_stream_ask_and_articles_take_kb_too(kb_client):
    job = kb_client.submit(TINY_QUESTION, [], 3, "tiny", api_name="/chat_stream")
    list(job)
    final = job.outputs()[-1]
    assert final["done"] is True and final["kb"] == "tiny" and final["citations"][0]["source"] == "a.txt"
    md = kb_client.predict(TINY_QUESTION, "tiny", api_name="/ask")
    assert "三万元" in md and "a.txt" in md
    titles = {a["title"] for a in kb_client.predict("tiny", api_name="/articles")}
    assert titles == {"甲公司发布新产品", "乙市建设科创走廊"}


@pytest.mark.parametrize("endpoint, args", [
    ("/chat", (TINY_QUESTION, [], 3, "nope")),
    ("/chat_stream", (TINY_QUESTION, [], 3, "nope")),
    ("/ask", (TINY_QUESTION, "nope")),
    ("/articles", ("nope",)),
])
def test_an_unknown_knowledge_base_is_named_with_the_existing_ones(kb_client, endpoint, args):
    with pytest.raises(Exception) as err:
        kb_client.predict(*args, api_name=endpoint)
    message = str(err.value)
    assert "知识库“nope”不存在" in message and "default、tiny" in message and "rag kb create nope" in message
