"""The knowledge-base tab's article table and chunk preview: pure functions, no Gradio.

The table shows the newest articles first (a fresh upload lands on page one), filters by
a search over title, file and publication, and pages; the preview shows exactly what
the index holds for one article: its chunks in order, their character spans in the
article text, and where one chunk repeats the end of the previous one (the overlap).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime

PAGE_SIZE = 10  # rows per page: the table fits a laptop screen without scrolling
HEADERS = ["标题", "文件", "来源", "段落数", "索引时间"]


def local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return stamp or ""


def article_key(row: dict) -> str:
    """A stable choice value for one article: its file and title."""
    return f"{row['source']}\n{row['title']}"


def split_key(key: str) -> tuple[str, str]:
    source, _, title = (key or "").partition("\n")
    return source, title


@dataclass(frozen=True)
class Page:
    """One page of the filtered article list."""

    rows: list[list]
    page: int  # 1-based, clamped to the pages that exist
    pages: int
    matches: int
    total: int

    @property
    def caption(self) -> str:
        if not self.total:
            return "知识库中还没有文章。"
        if not self.matches:
            return f"没有匹配的文章（共 {self.total} 篇）。"
        found = f"找到 {self.matches} 篇（共 {self.total} 篇）" if self.matches != self.total else f"共 {self.total} 篇"
        return f"{found}，第 {self.page} / {self.pages} 页，最新索引的在前。"


def newest_first(articles: list[dict]) -> list[dict]:
    """Articles sorted by when their file was indexed, newest first; then by file and title."""
    by_name = sorted(articles, key=lambda r: (r.get("source", ""), r.get("title", "")))
    return sorted(by_name, key=lambda r: r.get("indexed_at") or "", reverse=True)


def matches(row: dict, query: str) -> bool:
    q = (query or "").strip().casefold()
    if not q:
        return True
    hay = " ".join(str(row.get(k, "")) for k in ("title", "source", "publication")).casefold()
    return all(part in hay for part in q.split())


def page_of(articles: list[dict], query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    """The rows of page ``page`` of the articles matching ``query``, newest first."""
    found = [r for r in newest_first(articles) if matches(r, query)]
    pages = max(1, math.ceil(len(found) / page_size))
    page = min(max(1, int(page or 1)), pages)
    chunk = found[(page - 1) * page_size: page * page_size]
    rows = [[r["title"], r["source"], r.get("publication", ""), r.get("chunks", 0), local_time(r.get("indexed_at", ""))]
            for r in chunk]
    return Page(rows, page, pages, len(found), len(articles))


def article_choices(articles: list[dict]) -> list[tuple[str, str]]:
    """(label, key) pairs for the chunk-preview picker, newest first."""
    return [(f"{r['title']}（{r['source']}）", article_key(r)) for r in newest_first(articles)]


def render_chunks(chunks: list[dict], title: str = "", source: str = "") -> str:
    """The chunks of one article as HTML: number, span, id; text repeated from the previous chunk dimmed."""
    if not chunks:
        return '<div class="src-none">这篇文章在索引中没有段落（索引可能正在重建，或文章已被删除）。</div>'
    chunks = sorted(chunks, key=lambda c: (c["start"], c["end"]))
    total = sum(len(c["text"]) for c in chunks)
    head = (f'<div class="chunk-meta">《{html.escape(title)}》 · 文件 {html.escape(source)} · '
            f'{len(chunks)} 个段落，共 {total} 字（含重叠）。灰色文字与上一段重叠。</div>')
    items = []
    prev_end = None
    for i, c in enumerate(chunks, 1):
        text, start, end = c["text"], int(c["start"]), int(c["end"])
        overlap = max(0, min(prev_end - start, len(text))) if prev_end is not None else 0
        body = (f'<span class="chunk-overlap">{html.escape(text[:overlap])}</span>' if overlap else "")
        body += html.escape(text[overlap:])
        items.append(
            f'<div class="chunk" id="chunk-{i}"><div class="chunk-meta">段落 {i} · 字符 {start}–{end}'
            f'（{end - start} 字{f"，与上一段重叠 {overlap} 字" if overlap else ""}） · '
            f'<code>{html.escape(str(c.get("chunk_id", "")))}</code></div>'
            f'<div class="chunk-text">{body}</div></div>'
        )
        prev_end = end
    return head + '<div class="chunk-list">' + "".join(items) + "</div>"
