"""Word documents (.docx, read with python-docx): paragraphs, then tables.

The title is the first non-empty paragraph when Word marks it as one: the Title
style or a Heading style, or a short paragraph set apart by bold, centring or a
font larger than the body's. Every paragraph in a heading style (Title, Heading 1–9,
标题 1–9) or with an outline level is reported as a heading, for the article splitter; a file with no heading
style at all reports the headlines its writer set in bold over body text.
"""

from __future__ import annotations

import io
import re
import zipfile
from statistics import median

from ...errors import LoadError
from . import MAX_LABEL_CHARS, Extracted, Heading, register

_TITLE_STYLES = ("title", "heading 1", "heading 2", "标题", "标题 1", "标题 2")
# A title paragraph is a headline, not a sentence: at most this many characters
# (the longest title in the sample corpus is 38).
MAX_TITLE_CHARS = 60
# The title paragraph is among the first few (after a section label or a dateline).
TITLE_SCAN_PARAGRAPHS = 3
# A run this much larger than the body's font marks a title paragraph.
TITLE_FONT_RATIO = 1.15
# Heading styles by name: "Heading 2", "标题 2" (WPS, Chinese custom styles) → level 2;
# "Title", "标题" (Chinese Word's name for Title) → level 0.
_LEVEL_STYLE_RE = re.compile(r"^(?:heading|标题)\s*(\d)$")
_DOCUMENT_TITLE_STYLES = ("title", "标题")
# w:outlineLvl 9 means body text (ECMA-376 Part 1, §17.3.1.20); 0–8 are levels 1–9.
BODY_OUTLINE_LEVEL = 9


def _outline_value(ppr) -> int | None:
    """The ``w:outlineLvl`` value of paragraph properties (0 = level 1), None when not set."""
    from docx.oxml.ns import qn

    element = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    try:
        return int(element.get(qn("w:val"))) if element is not None else None
    except (TypeError, ValueError):
        return None


def _heading_level(paragraph) -> int | None:
    """The paragraph's heading level (0 Title, 1 Heading 1 / 标题 1 / outline level 1, …), None for body text.

    The paragraph's own outline level wins, then its style and the styles it is based on:
    by name (Word's English names, or the Chinese ones WPS and custom styles use), else
    by the style's outline level.
    """
    try:
        value = _outline_value(paragraph._p.pPr)
        style = paragraph.style
        while value is None and style is not None:
            name = (style.name or "").strip().lower()
            if name in _DOCUMENT_TITLE_STYLES:
                return 0
            m = _LEVEL_STYLE_RE.match(name)
            if m:
                return int(m.group(1))
            value = _outline_value(style.element.pPr)
            style = style.base_style
    except (AttributeError, KeyError, ValueError):
        return None
    return value + 1 if value is not None and value < BODY_OUTLINE_LEVEL else None


def _headline(text: str) -> bool:
    return len(text) <= MAX_TITLE_CHARS and not text.endswith(("。", "！", "？"))


def _headings(paragraphs) -> tuple[Heading, ...]:
    """Every paragraph Word marks as a heading (style or outline level) that reads as one; in a file with no
    heading styles at all, the headlines set apart by bold type (``_bold_headlines``)."""
    found = []
    for p in paragraphs:
        text = p.text.strip()
        if text and _headline(text) and (level := _heading_level(p)) is not None:
            found.append(Heading(text, level))
    return tuple(found) or _bold_headlines(paragraphs)


def _bold_headlines(paragraphs) -> tuple[Heading, ...]:
    """Headlines a writer set in bold instead of a heading style: a paragraph all in bold that reads as a headline,
    longer than a section label, with a paragraph of body text (a sentence, not bold) right after it. A masthead's
    bold lines stand over one another and are none; they are reported at level 1, for the article splitter."""
    texts = [p for p in paragraphs if p.text.strip()]
    found = []
    for p, nxt in zip(texts, texts[1:]):
        text = p.text.strip()
        if (_headline(text) and len(text) > MAX_LABEL_CHARS and _all_bold(p) and not _all_bold(nxt)
                and re.search("[。！？]", nxt.text)):
            found.append(Heading(text, 1))
    return tuple(found)


def _all_bold(paragraph) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    return bool(runs) and all(r.bold for r in runs)


def _style_name(paragraph) -> str:
    try:
        return (paragraph.style.name or "").lower()
    except (AttributeError, KeyError, ValueError):
        return ""


def _font_size(paragraph) -> float | None:
    sizes = [r.font.size.pt for r in paragraph.runs if r.text.strip() and r.font.size is not None]
    return max(sizes) if sizes else None


def _set_apart(paragraph, body_size: float | None) -> bool:
    if _all_bold(paragraph):
        return True
    try:
        if paragraph.alignment is not None and int(paragraph.alignment) == 1:  # WD_ALIGN_PARAGRAPH.CENTER
            return True
    except (TypeError, ValueError):
        pass
    size = _font_size(paragraph)
    return bool(size and body_size and size >= TITLE_FONT_RATIO * body_size)


def _title(paragraphs) -> str:
    """The first Title/Heading paragraph among the first few, else a set-apart first paragraph."""
    texts = [p for p in paragraphs if p.text.strip()]
    if len(texts) < 2:
        return ""

    for p in texts[:TITLE_SCAN_PARAGRAPHS]:
        if _style_name(p).startswith(_TITLE_STYLES) and _headline(p.text.strip()):
            return p.text.strip()
    first = texts[0]
    sizes = [s for s in (_font_size(p) for p in texts[1:]) if s]
    if _headline(first.text.strip()) and len(first.text.strip()) > MAX_LABEL_CHARS and _set_apart(first, median(sizes) if sizes else None):
        return first.text.strip()
    return ""


class DocxFormat:
    name = "docx"
    suffixes = (".docx",)
    kind = "docx"
    description = "Word .docx 文档"

    def detects(self, data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return "word/document.xml" in zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False

    def read(self, data: bytes, label: str) -> Extracted:
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises many kinds on bad packages
            raise LoadError(f"{label} 无法作为 Word 文档读取（{exc}）；请重新另存为 .docx") from None
        paragraphs = list(document.paragraphs)
        lines = [p.text for p in paragraphs]
        for table in document.tables:
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if cell.text.strip() and (not cells or cells[-1] != cell.text.strip()):
                        cells.append(cell.text.strip())
                if cells:
                    lines.append(" ".join(cells))
        return Extracted("\n\n".join(lines), _title(paragraphs), _headings(paragraphs))


register(DocxFormat())
