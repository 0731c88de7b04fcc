"""PDF (.pdf, read with PyMuPDF): the text layer page by page, and the title from the layout.

The title is the run of first lines on page 1 set in a font clearly larger than
the body text; every run of large-font lines in the document is reported as a
heading, leveled by its font size. A PDF without a text layer (a scan) cannot be read without OCR,
and the error says so.
"""

from __future__ import annotations

import re

from ...errors import LoadError
from . import MAX_LABEL_CHARS, Extracted, Heading, register

# A title line is set at least this much larger than the body (the weighted median
# font size); headline fonts are typically 1.3–2× the body's.
TITLE_FONT_RATIO = 1.15
# The title is among the first lines of page 1 (after a section label, or a masthead,
# issue line and table of contents).
TITLE_SCAN_LINES = 40
# Running text (a sentence or clause mark) follows a title within this many lines.
TEXT_AFTER_TITLE_LINES = 3
# A title runs over at most this many lines and characters.
MAX_TITLE_LINES = 3
MAX_TITLE_CHARS = 80
# Lines of one title differ in size by at most this many points (rounding).
SAME_SIZE_PT = 0.6

_TEXT_RE = re.compile(r"[，。！？；、,]")
_LETTER_RE = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\u2f00-\u2fdf]")


def _page_lines(page) -> list[tuple[str, float]]:
    """(text, font size) of the page's lines in reading order."""
    out: list[tuple[str, float]] = []
    for block in page.get_text("dict").get("blocks", []):
        if block.get("type") != 0:
            continue
        for line in block.get("lines", []):
            spans = [s for s in line.get("spans", []) if s.get("text", "").strip()]
            if not spans:
                continue
            text = "".join(s["text"] for s in line["spans"]).strip()
            out.append((text, max(float(s.get("size", 0)) for s in spans)))
    return out


def _body_size(lines: list[tuple[str, float]]) -> float:
    """The font size most characters are set in (median weighted by characters)."""
    weighted = sorted((size, len(text)) for text, size in lines)
    total = sum(n for _, n in weighted)
    seen = 0
    for size, n in weighted:
        seen += n
        if seen * 2 >= total:
            return size
    return 0.0


def layout_title(lines: list[tuple[str, float]]) -> str:
    """The first run of large-font lines on a page that text follows; "" when there is none.

    A run followed only by short lines without punctuation (a masthead over the issue
    number and the table of contents) is not an article title; the next run is tried.
    """
    if len(lines) < 2:
        return ""
    body = _body_size(lines)
    for i, run, _ in _large_runs(lines, body):
        if i >= TITLE_SCAN_LINES:
            break
        after = lines[i + len(run): i + len(run) + TEXT_AFTER_TITLE_LINES]
        title = " ".join(run)
        kicker = len(title) <= MAX_LABEL_CHARS and bool(after) and after[0][1] >= TITLE_FONT_RATIO * body
        if not kicker and any(_TEXT_RE.search(t) for t, _ in after) and len(title) <= MAX_TITLE_CHARS:
            return title
    return ""


def _large_runs(lines: list[tuple[str, float]], body: float):
    """(index, lines of text, size) of each run of same-size lines set larger than ``body``."""
    i = 0
    while i < len(lines):
        text, size = lines[i]
        if size < TITLE_FONT_RATIO * body or not _LETTER_RE.search(text):
            i += 1
            continue
        run = [text]
        while (i + len(run) < len(lines) and len(run) < MAX_TITLE_LINES
               and abs(lines[i + len(run)][1] - size) <= SAME_SIZE_PT):
            run.append(lines[i + len(run)][0])
        yield i, run, size
        i += len(run)


def layout_headings(lines: list[tuple[str, float]]) -> tuple[Heading, ...]:
    """Every run of large-font lines of the document, as headings leveled by font size.

    The largest heading size is level 1, the next (more than ``SAME_SIZE_PT`` smaller)
    level 2, and so on. A run with a full stop is a pull quote, not a heading.
    """
    body = _body_size(lines)
    runs = [(" ".join(run), size) for _, run, size in _large_runs(lines, body)]
    runs = [(text, size) for text, size in runs if len(text) <= MAX_TITLE_CHARS and "。" not in text]
    levels: list[float] = []  # one size per level, largest first
    for size in sorted({size for _, size in runs}, reverse=True):
        if not levels or levels[-1] - size > SAME_SIZE_PT:
            levels.append(size)
    return tuple(Heading(text, next(k for k, lv in enumerate(levels, 1) if lv - size <= SAME_SIZE_PT))
                 for text, size in runs)


class PdfFormat:
    name = "pdf"
    suffixes = (".pdf",)
    kind = "pdf"
    description = "PDF 文件"

    def detects(self, data: bytes) -> bool:
        return b"%PDF-" in data[:1024]

    def read(self, data: bytes, label: str) -> Extracted:
        import pymupdf

        try:
            document = pymupdf.open(stream=data, filetype="pdf")
        except Exception as exc:  # PyMuPDF raises FileDataError, RuntimeError, ValueError…
            raise LoadError(f"{label} 无法作为 PDF 读取（{exc}）；请重新保存或导出该 PDF") from None
        try:
            if document.needs_pass and not document.authenticate(""):
                raise LoadError(f"{label} 设有密码；请去掉密码后重新加载")
            try:
                pages = [page.get_text("text") for page in document]
                laid_out = [_page_lines(page) for page in document]
            except LoadError:
                raise
            except Exception as exc:
                raise LoadError(f"{label} 无法作为 PDF 读取（{exc}）；请重新保存或导出该 PDF") from None
        finally:
            document.close()
        if not any(p.strip() for p in pages):
            raise LoadError(
                f"{label} 没有文字层（可能是扫描件或图片），无法直接读取文字；"
                "请先用 OCR 软件识别文字（例如导出为可搜索的 PDF）后再加载"
            )
        first = laid_out[0] if laid_out else []
        return Extracted("\n\n".join(pages), layout_title(first), layout_headings([l for p in laid_out for l in p]))


register(PdfFormat())
