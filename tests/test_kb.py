"""Knowledge-base management on real files and a real (small) index."""

from __future__ import annotations

import threading

import pytest

from rag.errors import IndexNotFoundError, RagError
from rag.kb import KnowledgeBase, UploadError, sanitize_filename

from _app_server import copy_dir

ARTICLE = """松鼠镇图书馆完成扩建

松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米，是原来的两倍。扩建工程由镇政府投资1850万元，历时十四个月。
新馆设有儿童阅览区、古籍修复室和一间可容纳120人的报告厅。馆长周明远表示，扩建后每天可接待读者约900人次。
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("中文 文章（第一期）.txt", "中文 文章（第一期）.txt"),
        ("a\x00b\nc\u202e.TXT", "abc.txt"),
        (".hidden.txt", "hidden.txt"),
        ("what?<>|*.pdf", "what.pdf"),
        ("a..b.docx", "a.b.docx"),
        ("...txt", "txt"),  # no suffix left: the upload check refuses it as unsupported
        ("长" * 300 + ".txt", "长" * 120 + ".txt"),
    ],
)
def test_sanitize_filename(raw, safe):
    assert sanitize_filename(raw) == safe


@pytest.mark.parametrize("raw", ["", "..", "../..", "/", " . ", "\x00\x01"])
def test_sanitize_filename_refuses_empty_names(raw):
    with pytest.raises(UploadError, match="文件名"):
        sanitize_filename(raw)


@pytest.fixture
def kb(tmp_path, small_settings, small_corpus_dir, small_index_dir):
    """A knowledge base over private copies of the small corpus and its index."""
    settings = small_settings.replace(
        corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
        index_dir=copy_dir(small_index_dir, tmp_path / "index"),
    )
    return KnowledgeBase(settings, max_upload_bytes=64 * 1024)


def state(kb: KnowledgeBase) -> tuple:
    files = sorted((p.name, p.read_bytes()) for p in kb.corpus_dir.iterdir())
    return files, (kb.settings.index_dir / "CURRENT").read_text()


@pytest.mark.parametrize(
    "name, data, expect",
    [
        ("picture.txt", PNG, "内容与文件类型不符"),
        ("big.txt", ("长" * 30_000).encode("utf-8"), "文件太大"),
        ("program.exe", b"MZ" + bytes(100), "不支持"),
        ("noext", ARTICLE.encode(), "不支持"),
        ("empty.txt", b"   \n", "内容与文件类型不符"),
        ("004_a725a1633d20dd26.txt", ARTICLE.encode(), "已有同名文件"),
        ("../..", ARTICLE.encode(), "文件名"),
    ],
)
def test_refused_upload_changes_nothing(kb, name, data, expect):
    before = state(kb)
    change = kb.upload([(name, data)])
    assert change.saved == [] and change.rejected == [name]
    assert expect in change.errors[0], change.errors
    assert change.report is None
    assert state(kb) == before


def test_oversized_file_on_disk_is_refused_before_reading(kb, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (kb.max_upload_bytes + 1))
    change = kb.upload([("big.txt", big)])
    assert "文件太大" in change.errors[0] and "上限为 0.06 MB" in change.errors[0]


def test_upload_indexes_and_delete_removes(kb, tmp_path):
    before_articles = kb.articles()
    old = kb.assistant()
    change = kb.upload([("../../松鼠镇图书馆.txt", ARTICLE.encode("utf-8"))])
    assert change.saved == ["松鼠镇图书馆.txt"] and not change.errors
    assert change.report.added == ["松鼠镇图书馆.txt"] and change.report.embedded >= 1
    assert not (tmp_path / "松鼠镇图书馆.txt").exists()  # nothing written outside the corpus
    assert (kb.corpus_dir / "松鼠镇图书馆.txt").read_text("utf-8") == ARTICLE
    assert kb.assistant() is not old  # swapped to an assistant on the new snapshot
    titles = [a["title"] for a in kb.articles()]
    assert "松鼠镇图书馆完成扩建" in titles
    answer = kb.assistant().answer("松鼠镇图书馆扩建后新馆面积是多少平方米？")
    assert not answer.refused and "3200" in answer.text
    assert answer.citations[0].source == "松鼠镇图书馆.txt"

    removed = kb.delete("松鼠镇图书馆.txt")
    assert removed.report.removed == ["松鼠镇图书馆.txt"]
    assert not (kb.corpus_dir / "松鼠镇图书馆.txt").exists()
    assert kb.articles() == before_articles
    assert kb.assistant().answer("松鼠镇图书馆扩建后新馆面积是多少平方米？").refused


def test_batch_keeps_good_files_and_reports_bad_ones(kb):
    change = kb.upload([("good.md", ARTICLE.encode()), ("bad.txt", PNG)])
    assert change.saved == ["good.md"] and change.rejected == ["bad.txt"]
    assert [k for k, _ in change.lines][:2] == ["ok", "error"]
    assert (kb.corpus_dir / "good.md").exists() and not (kb.corpus_dir / "bad.txt").exists()


@pytest.mark.parametrize("name", ["nope.txt", "../corpus/004_a725a1633d20dd26.txt", ""])
def test_delete_only_files_in_the_corpus(kb, name):
    before = state(kb)
    with pytest.raises(RagError, match="没有文件"):
        kb.delete(name)
    assert state(kb) == before


def test_questions_are_answered_from_the_old_index_during_a_build(kb):
    """A full rebuild runs in a thread; the assistant in use keeps its loaded snapshot."""
    old = kb.assistant()
    before = old.answer("崂山区的“1134”模式指的是什么？")
    assert not before.refused
    started = threading.Event()
    seen: list = []

    def progress(stage, done, total):
        if stage == "embed" and not started.is_set():
            started.set()
            seen.append(kb.assistant())  # who answers while vectors are computed
            seen.append(kb.assistant().answer("崂山区的“1134”模式指的是什么？"))

    worker = threading.Thread(target=lambda: kb.rebuild(full=True, progress=progress))
    worker.start()
    worker.join()
    assert started.is_set()
    assert seen[0] is old and seen[1].text == before.text
    assert kb.assistant() is not old
    assert kb.assistant().answer("崂山区的“1134”模式指的是什么？").text == before.text


def test_first_build_from_an_empty_index(tmp_path, small_settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "图书馆.txt").write_text(ARTICLE, "utf-8")
    kb = KnowledgeBase(small_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert not kb.has_index() and kb.articles() == [] and kb.files() == ["图书馆.txt"]
    with pytest.raises(IndexNotFoundError, match="rag index"):
        kb.assistant().answer("松鼠镇图书馆扩建后新馆面积是多少平方米？")
    change = kb.rebuild()
    assert change.report.added == ["图书馆.txt"] and kb.has_index()
    assert "3200" in kb.assistant().answer("松鼠镇图书馆扩建后新馆面积是多少平方米？").text
