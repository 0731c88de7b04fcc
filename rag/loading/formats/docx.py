"""Word documents (.docx, read with python-docx): paragraphs, then tables.

The title is the first non-empty paragraph when Word marks it as one: the Title
style or a Heading style, or a short paragraph set apart by bold, centring or a
font larger than the body's.
"""

from __future__ import annotations

import io
import zipfile
from statistics import median

from ...errors import LoadError
from . import Extracted, register

_TITLE_STYLES = ("title", "heading 1", "heading 2", "标题", "标题 1", "标题 2")
# A title paragraph is a headline, not a sentence: at most this many characters
# (the longest title in the sample corpus is 38).
MAX_TITLE_CHARS = 60
# The title paragraph is among the first few (after a section label or a dateline).
TITLE_SCAN_PARAGRAPHS = 3
# A short bold first paragraph ("要闻") is a section label, not a title.
MAX_LABEL_CHARS = 6
# A run this much larger than the body's font marks a title paragraph.
TITLE_FONT_RATIO = 1.15


def _style_name(paragraph) -> str:
    try:
        return (paragraph.style.name or "").lower()
    except (AttributeError, KeyError, ValueError):
        return ""


def _font_size(paragraph) -> float | None:
    sizes = [r.font.size.pt for r in paragraph.runs if r.text.strip() and r.font.size is not None]
    return max(sizes) if sizes else None


def _set_apart(paragraph, body_size: float | None) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    if runs and all(r.bold for r in runs):
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

    def headline(p) -> bool:
        text = p.text.strip()
        return len(text) <= MAX_TITLE_CHARS and not text.endswith(("。", "！", "？"))

    for p in texts[:TITLE_SCAN_PARAGRAPHS]:
        if _style_name(p).startswith(_TITLE_STYLES) and headline(p):
            return p.text.strip()
    first = texts[0]
    sizes = [s for s in (_font_size(p) for p in texts[1:]) if s]
    if headline(first) and len(first.text.strip()) > MAX_LABEL_CHARS and _set_apart(first, median(sizes) if sizes else None):
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
        return Extracted("\n\n".join(lines), _title(paragraphs))


register(DocxFormat())
