"""A knowledge base (rag/kb/base.py) on real files and a real (small) index: self-repair of a
missing, damaged or mismatched index; upload → background build → answer; two-step delete."""

from __future__ import annotations

import pytest

from rag.config import ChunkSettings
from rag.errors import KnowledgeBaseError
from rag.index import loader_id
from rag.kb import AccessPolicy, Actor, KnowledgeBase

from _app_server import copy_dir

ARTICLE = """松鼠镇图书馆完成扩建

松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米，是原来的两倍。扩建工程由镇政府投资1850万元，历时十四个月。
新馆设有儿童阅览区、古籍修复室和一间可容纳120人的报告厅。馆长周明远表示，扩建后每天可接待读者约900人次。
"""
QUESTION = "松鼠镇图书馆扩建后新馆面积是多少平方米？"
ADMIN = Actor()


@pytest.fixture
def private(tmp_path, small_settings, small_corpus_dir, small_index_dir):
    """Settings over private copies of the small corpus and its index."""
    return small_settings.replace(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                                  index_dir=copy_dir(small_index_dir, tmp_path / "index"))


def open_kb(settings) -> KnowledgeBase:
    return KnowledgeBase(settings, policy=AccessPolicy.local())


def titles(kb) -> list[tuple[str, str]]:
    return sorted((a["source"], a["title"]) for a in kb.articles())


def live_snapshot(settings):
    return settings.index_dir / (settings.index_dir / "CURRENT").read_text("utf-8").strip()


def test_starts_on_a_missing_index_and_says_how_to_build(tmp_path, private):
    kb = open_kb(private.replace(index_dir=tmp_path / "none"))
    health = kb.warm()
    assert health.state == "missing" and "重建索引" in health.message and health.needs_rebuild
    assert kb.articles() == [] and not kb.has_index() and kb.files()


def test_starts_on_a_damaged_index_and_reports_it(private):
    vectors = next(p for p in live_snapshot(private).iterdir() if p.suffix == ".npy")
    vectors.write_bytes(vectors.read_bytes()[:100])
    kb = open_kb(private)
    health = kb.warm()
    assert health.state == "damaged" and "损坏" in health.message and "重建索引" in health.message
    assert health.detail and kb.articles() == []
    assert health.to_dict()["needs_rebuild"] is True


def test_starts_on_an_index_built_with_other_settings(private):
    kb = open_kb(private.replace(chunk=ChunkSettings(size=300, overlap=100)))  # RAG_CHUNK_OVERLAP=100
    health = kb.warm()
    assert health.state == "mismatch" and "设置不符" in health.message and "重建索引" in health.message


@pytest.mark.slow
def test_rebuild_repairs_a_damaged_index(private):
    for f in live_snapshot(private).iterdir():
        if f.suffix in (".npy", ".index", ".jsonl"):
            f.write_bytes(b"garbage")
    kb = rebuilt(private, "damaged")
    try:
        assert not kb.assistant().answer("崂山区的“1134”模式指的是什么？").refused
    finally:
        kb.close()


def rebuilt(settings, state: str) -> KnowledgeBase:
    """The knowledge base over ``settings``, found in ``state``, after a rebuild that leaves it healthy."""
    kb = open_kb(settings)
    try:
        assert kb.health().state == state
        kb.rebuild(ADMIN)
        final = kb.wait_for_build()
        assert final.state == "done", final.error
        assert kb.health().ok and kb.articles()
    except BaseException:
        kb.close()
        raise
    return kb


@pytest.mark.slow
def test_upload_builds_in_the_background_and_delete_takes_two_steps(private, tmp_path):
    kb = open_kb(private)
    try:
        titles_before = titles(kb)
        change = kb.upload([("../../松鼠镇图书馆.txt", ARTICLE.encode("utf-8"))], ADMIN)
        assert change.saved == ["松鼠镇图书馆.txt"] and not change.errors
        assert change.status.running and "正在建索引" in change.message
        assert not (tmp_path / "松鼠镇图书馆.txt").exists()  # nothing written outside the corpus
        assert (kb.corpus_dir / "松鼠镇图书馆.txt").read_text("utf-8") == ARTICLE
        final = kb.wait_for_build()
        assert final.state == "done", final.error
        assert final.report["added"] == ["松鼠镇图书馆.txt"] and final.report["embedded"] >= 1
        assert "松鼠镇图书馆完成扩建" in [a["title"] for a in kb.articles()]
        answer = kb.assistant().answer(QUESTION)
        assert not answer.refused and "3200" in answer.text
        assert answer.citations[0].source == "松鼠镇图书馆.txt"

        with pytest.raises(KnowledgeBaseError, match="确认"):
            kb.delete("松鼠镇图书馆.txt", ADMIN, confirm=None)  # one step is not enough
        conf = kb.request_delete("松鼠镇图书馆.txt", ADMIN)
        assert "松鼠镇图书馆.txt" in conf.message and conf.action == "delete-file"
        with pytest.raises(KnowledgeBaseError, match="确认"):
            kb.delete("松鼠镇图书馆.txt", ADMIN, confirm="forged")
        assert (kb.corpus_dir / "松鼠镇图书馆.txt").exists()
        removed = kb.delete("松鼠镇图书馆.txt", ADMIN, confirm=conf.token)
        assert removed.status is not None and "已删除" in removed.message
        assert not (kb.corpus_dir / "松鼠镇图书馆.txt").exists()
        final = kb.wait_for_build()
        assert final.state == "done" and final.report["removed"] == ["松鼠镇图书馆.txt"], final.error
        assert titles(kb) == titles_before
        after = kb.assistant().answer(QUESTION)  # the deleted article no longer answers
        assert "3200" not in after.text and all(c.source != "松鼠镇图书馆.txt" for c in after.citations)
    finally:
        kb.close()


@pytest.mark.parametrize("name", ["nope.txt", "../corpus/004_a725a1633d20dd26.txt", ""])
def test_delete_only_files_in_the_corpus(private, name):
    kb = open_kb(private)
    before = sorted(p.name for p in kb.corpus_dir.iterdir())
    with pytest.raises(KnowledgeBaseError, match="没有文件"):
        kb.request_delete(name, ADMIN)
    with pytest.raises(KnowledgeBaseError, match="没有文件"):
        kb.delete(name, ADMIN, confirm="x")
    assert sorted(p.name for p in kb.corpus_dir.iterdir()) == before


def test_a_delete_token_is_for_one_file_only(private):
    kb = open_kb(private)
    (kb.corpus_dir / "b.txt").write_text(ARTICLE, "utf-8")
    conf = kb.request_delete("b.txt", ADMIN)
    with pytest.raises(KnowledgeBaseError, match="确认"):
        kb.delete("004_a725a1633d20dd26.txt", ADMIN, confirm=conf.token)
    assert (kb.corpus_dir / "004_a725a1633d20dd26.txt").exists() and (kb.corpus_dir / "b.txt").exists()
    assert kb.build_status().builds == 0


def test_construction_is_cheap_and_reads_nothing(tmp_path, private):
    kb = open_kb(private.replace(index_dir=tmp_path / "none"))
    assert kb.build_status().state == "idle" and kb.modes == ["extractive"]
    assert kb.assistant()._index is None  # nothing loaded until asked


def make_stale(settings, *, loader="000000000000", format_version=None):
    """Mark the live snapshot as built by an older program (its manifest is not checksummed)."""
    import json

    path = live_snapshot(settings) / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["loader"] = loader
    if format_version is not None:
        manifest["format_version"] = format_version
    path.write_text(json.dumps(manifest), "utf-8")


def test_an_index_an_older_version_built_answers_and_offers_the_rebuild(private):
    make_stale(private)
    kb = open_kb(private)
    health = kb.warm()
    assert health.state == "stale" and health.can_answer and health.needs_rebuild
    assert "旧版本" in health.message and "重建索引" in health.message and "000000000000" in health.detail
    assert kb.articles()  # still answers from it


def test_an_index_of_an_older_format_is_stale_too(private):
    make_stale(private, loader=loader_id(), format_version=1)
    assert open_kb(private).warm().state == "stale"


@pytest.mark.slow
def test_rebuild_refreshes_a_stale_index(private):
    make_stale(private)
    rebuilt(private, "stale").close()
