"""The knowledge-base table (newest first, search, pages) and the chunk preview."""

from __future__ import annotations

import re

from rag.ui.listing import PAGE_SIZE, article_choices, article_key, page_of, render_chunks, split_key


def article(i: int, stamp: str = "2026-11-20T08:00:00+00:00", **kw) -> dict:
    return {"title": kw.get("title", f"文章{i:02d}"), "source": kw.get("source", f"f{i // 5}.txt"),
            "publication": kw.get("publication", "科技日报"), "chunks": 3, "indexed_at": stamp}


ARTICLES = [article(i) for i in range(23)]


def test_pages_of_ten_with_a_caption():
    first, last = page_of(ARTICLES, page=1), page_of(ARTICLES, page=3)
    assert (len(first.rows), len(last.rows), first.pages) == (PAGE_SIZE, 3, 3)
    assert first.caption == "共 23 篇，第 1 / 3 页，最新索引的在前。"
    assert page_of(ARTICLES, page=99).page == 3 and page_of(ARTICLES, page=0).page == 1


def test_a_new_upload_is_on_the_first_page():
    fresh = article(99, stamp="2026-11-22T05:00:00+00:00", title="松鼠镇图书馆完成扩建", source="松鼠镇.txt")
    rows = page_of(ARTICLES + [fresh]).rows
    assert rows[0][:2] == ["松鼠镇图书馆完成扩建", "松鼠镇.txt"]


def test_search_matches_title_file_or_publication_all_words():
    other = article(50, title="崂山区智慧城市", publication="青岛日报", source="004.txt")
    arts = ARTICLES + [other]
    assert [r[0] for r in page_of(arts, "崂山").rows] == ["崂山区智慧城市"]
    assert [r[0] for r in page_of(arts, "004.TXT").rows] == ["崂山区智慧城市"]
    assert [r[0] for r in page_of(arts, "青岛 智慧").rows] == ["崂山区智慧城市"]
    none = page_of(arts, "不存在的词")
    assert none.rows == [] and none.caption == "没有匹配的文章（共 24 篇）。"
    assert page_of(arts, "科技日报").caption.startswith("找到 23 篇（共 24 篇）")


def test_empty_knowledge_base_says_so():
    assert page_of([]).caption == "知识库中还没有文章。"


def test_article_keys_round_trip():
    key = article_key(ARTICLES[0])
    assert split_key(key) == ("f0.txt", "文章00")
    assert article_choices(ARTICLES)[0][1] in {article_key(a) for a in ARTICLES}


def test_chunk_preview_shows_spans_and_dims_the_overlap():
    text = "第一句话在这里。第二句话也在这里。第三句话收尾。"
    chunks = [
        {"title": "T", "chunk_id": "c2", "start": 8, "end": len(text), "text": text[8:]},
        {"title": "T", "chunk_id": "c1", "start": 0, "end": 17, "text": text[:17]},
    ]
    out = render_chunks(chunks, "T", "a.txt")
    assert out.index("c1") < out.index("c2")  # in text order
    assert "段落 1 · 字符 0–17" in out and f"段落 2 · 字符 8–{len(text)}" in out
    assert "与上一段重叠 9 字" in out
    assert re.search(r'<span class="chunk-overlap">第二句话也在这里。</span>第三句话收尾。', out)


def test_chunk_preview_escapes_html_and_handles_no_chunks():
    out = render_chunks([{"title": "T", "chunk_id": "c", "start": 0, "end": 8, "text": "<b>x</b>"}], "<T>", "a.txt")
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "&lt;T&gt;" in out
    assert "没有段落" in render_chunks([], "T", "a.txt")
