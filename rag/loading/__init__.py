"""Loading: files → cleaned text → articles (one ``Document`` per article).

The sample corpus is newsletter issues extracted from PDF: hard line breaks in the
middle of sentences, stray spaces between characters, page numbers, a table of
contents, photo credits, and several articles per file, each ending with a
``来源：…`` line. Cleaning repairs the text without rewriting it (characters and
punctuation are kept; only whitespace, line breaks and layout lines change), so
evidence copied from the source is still found in the cleaned articles.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import LoadError
from ..schema import Document

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".pdf", ".docx", ".html", ".htm"})
_TEXT_SUFFIXES = {".txt", ".md"}
_HTML_SUFFIXES = {".html", ".htm"}

# ----------------------------------------------------------------------------- sniffing

# Signatures of common binary files people drop into a folder by mistake.
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office (.doc/.xls) file; save it as .docx"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg media file"),
    (b"RIFF", "a RIFF media file (WAV/AVI/WebP)"),
    (b"%!PS", "a PostScript file"),
    (b"{\\rtf", "an RTF document; save it as .docx or .txt"),
]


def _label(name: str, suffix: str = "") -> str:
    return name or (f"the {suffix} file" if suffix else "the file")


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


_HTML_RE = re.compile(
    r"^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<!--)", re.I
)
_HTML_TAGS_RE = re.compile(r"</?(p|div|br|span|h[1-6]|a|li|ul|table|tr|td|body|html)[\s>/]", re.I)


def _looks_html(text: str) -> bool:
    head = text[:2000]
    return bool(_HTML_RE.match(head)) or len(_HTML_TAGS_RE.findall(head)) >= 3


def sniff_kind(data: bytes, suffix: str, name: str = "") -> str:
    """What a file really holds: "text", "pdf", "docx" or "html", judged by content.

    Raises LoadError when the bytes are binary, or do not match the suffix (a PNG
    renamed ``.txt`` is rejected, not indexed as garbage).
    """
    suffix = (suffix or "").lower()
    label = _label(name, suffix)
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"{label}: {suffix} files are not supported; use one of "
            f"{' '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    if not data or not data.strip():
        raise LoadError(f"{label} is empty; skipped")
    names = _zip_names(data)
    if _is_pdf(data):
        kind = "pdf"
    elif names is not None:
        if "word/document.xml" not in names:
            what = "a damaged ZIP file" if not names else "a ZIP archive, not a Word .docx document"
            raise LoadError(f"{label} is {what}; skipped")
        kind = "docx"
    else:
        for magic, what in _MAGIC:
            if data.startswith(magic):
                raise LoadError(f"{label} is {what}, not a text document; skipped")
        text = decode_bytes(data, label)  # raises for binary or undecodable bytes
        kind = "html" if suffix in _HTML_SUFFIXES or (not suffix and _looks_html(text)) else "text"
    if suffix:
        expected = {"pdf": {".pdf"}, "docx": {".docx"}, "html": _HTML_SUFFIXES, "text": _TEXT_SUFFIXES}
        if suffix not in expected[kind]:
            real = {"pdf": "a PDF", "docx": "a Word .docx document", "text": "plain text", "html": "HTML"}
            fix = {"pdf": ".pdf", "docx": ".docx", "text": ".txt", "html": ".html"}[kind]
            raise LoadError(
                f"{label} is {real[kind]}, which does not match its {suffix} suffix; "
                f"rename it to {fix} if that is what it is"
            )
    return kind


# ----------------------------------------------------------------------------- decoding

_BOMS = [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]


def _char_ok(ch: str) -> bool:
    """A character that ordinary Chinese or English text is made of."""
    o = ord(ch)
    return (
        0x20 <= o < 0x7F
        or ch in "\n\r\t\f"
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2000 <= o <= 0x206F  # general punctuation: “” — …
        or 0x00A0 <= o <= 0x024F  # Latin-1, Latin extended
        or 0x2460 <= o <= 0x24FF  # circled numbers ①
        or 0x2100 <= o <= 0x22FF  # letterlike, arrows, math
        or 0x25A0 <= o <= 0x27BF  # shapes ◎ ■ ★
        or 0x0370 <= o <= 0x03FF  # Greek
        or 0x0400 <= o <= 0x04FF  # Cyrillic
        or 0x3040 <= o <= 0x30FF  # kana
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or ch == "\ufeff"
    )


def _plausible(text: str) -> bool:
    if not text:
        return True
    ok = sum(map(_char_ok, text))
    return ok / len(text) >= 0.97


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(text)


def decode_bytes(data: bytes, name: str = "") -> str:
    """Bytes of a text file → str: BOM, then UTF-8, then GB18030, charset-normalizer last.

    Binary data (NUL bytes without a UTF-16/32 BOM, many control characters) and bytes
    no encoding explains raise LoadError naming the file.
    """
    label = _label(name)
    text: str | None = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(enc)
            except UnicodeDecodeError:
                raise LoadError(f"{label} starts with a {enc} byte-order mark but is not valid {enc}") from None
            break
    if text is None:
        if b"\x00" in data:
            raise LoadError(
                f"{label} looks binary (NUL bytes), not text; skipped "
                "(if it is UTF-16 text, save it with a byte-order mark or as UTF-8)"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if text is None:
        # UTF-8 with a few damaged bytes (a truncated download) stays UTF-8: read as
        # GB18030 it would turn into plausible-looking but wrong Chinese.
        candidate = data.decode("utf-8", errors="replace")
        if candidate.count("\ufffd") <= max(3, len(candidate) // 1000):
            text = candidate
    if text is None:
        try:
            candidate = data.decode("gb18030")
            if _plausible(candidate):
                text = candidate
        except UnicodeDecodeError:
            pass
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        candidate = str(best) if best is not None else None
        if candidate is not None and _plausible(candidate):
            text = candidate
    if text is None:
        raise LoadError(
            f"{label} is not readable text (tried UTF-8, UTF-16 with BOM, GB18030); "
            "save it as UTF-8 and load it again"
        )
    if _control_ratio(text) > 0.01:
        raise LoadError(f"{label} looks binary (control characters), not text; skipped")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ----------------------------------------------------------------------------- reading

_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl",
    "figcaption", "figure", "hr", "main", "aside", "nav", "address", "caption",
)


def _pdf_text(data: bytes, label: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(f"{label} is password-protected; remove the password and load it again")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"{label} could not be read as PDF ({exc}); re-save or re-export it") from None
    return "\n\n".join(pages)


def _docx_text(data: bytes, label: str) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on bad packages
        raise LoadError(f"{label} could not be read as a Word document ({exc}); re-save it as .docx") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cell.text.strip() and (not cells or cells[-1] != cell.text.strip()):
                    cells.append(cell.text.strip())
            if cells:
                lines.append(" ".join(cells))
    return "\n\n".join(lines)


def _html_text(data: bytes, label: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_bytes(data, label), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        if tag.name == "head":
            title = tag.find("title")
            title_text = title.get_text(" ", strip=True) if title else ""
            tag.decompose()
            if title_text and not soup.find("h1"):  # the page headline wins over <title>
                soup.insert(0, soup.new_string(title_text + "\n\n"))
        else:
            tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


def _markdown_text(text: str) -> str:
    text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", text)  # heading marks
    text = re.sub(r"(?m)^\s{0,3}([-*_])(\s*\1){2,}\s*$", "", text)  # horizontal rules
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: keep the words
    return re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)  # bold


def read_text(path: Path) -> str:
    """The raw text of a file, by what it really is (PDF, Word, HTML or plain text)."""
    path = Path(path)
    label = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise LoadError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise LoadError(f"{path} could not be read ({exc.strerror or exc})") from None
    kind = sniff_kind(data, path.suffix.lower(), label)
    if kind == "pdf":
        text = _pdf_text(data, label)
    elif kind == "docx":
        text = _docx_text(data, label)
    elif kind == "html":
        text = _html_text(data, label)
    else:
        text = decode_bytes(data, label)
        if path.suffix.lower() == ".md":
            text = _markdown_text(text)
    if not text.strip():
        hint = " (a scanned PDF? run OCR on it first)" if kind == "pdf" else ""
        raise LoadError(f"{label} has no text{hint}")
    return text


# ----------------------------------------------------------------------------- cleaning

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_FW_PUNCT = "，。、；：？！…—·“”‘’（）《》〈〉【】「」『』〔〕．～％"
_FINAL = "。！？；…"
_CLOSERS = "”’）)」』》】"
_NONFINAL_END = "，、：（《“‘—-·,(:["
_CANNOT_START = "的了和及等之，。、；：！？）》”’"
_ENUM_RE = re.compile(
    r"^\s*([一二三四五六七八九十]+、|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d{1,2}\s*[.．、]\s*(?!\d)|[①-⑳]|第[一二三四五六七八九十]+[，、部章节条])"
)
_SOURCE_RE = re.compile(r"^\s*[（(【\[]?\s*(?:文章|稿件)?来\s*源\s*[：:]\s*(\S.*?)\s*[）)】\]]?\s*$")
_CREDIT_SOURCE_RE = re.compile(r"^\s*图文(?:及数据)?来源\s*[：:]\s*(\S.*?)\s*$")
_AUTHOR_NOTE_RE = re.compile(r"^\s*[（(]\s*(作者|撰稿|撰文|执笔)")
_BYLINE_RE = re.compile(r"^\s*[◎○●]\s*\S")
_CAPTION_RE = re.compile(
    r"^(图片来源\s*[：:]|图\s*为|(资料图|供图)$|.{0,40}(供图|资料图|图片来源[：:].*)$|.{0,30}(记者|通讯员|\s)\S{0,8}\s*摄$)"
)
_PAGE_NO_RE = re.compile(r"^(第\s*\d{1,3}\s*页|[-–—]?\s*\d{1,3}\s*[-–—]?|\d{1,3}\s*/\s*\d{1,3})$")
_TOC_RE = re.compile(r"(\t\s*\d{0,3}|\s{2,}\d{1,3}|(\.{3,}|…{2,}|·{3,})\s*\d{1,3})\s*$")
_ISSUE_RE = re.compile(r"^[（(]?\s*(\d{4}\s*年\s*)?第\s*[\d一二三四五六七八九十]+\s*期")
_CAPS_RE = re.compile(r"^[A-Z][A-Z&.'\-]*(\s+[A-Z][A-Z&.'\-]*)+$")


def _width(s: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in s)


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


def _wide(c: str) -> bool:
    return _is_han(c) or c in _FW_PUNCT or unicodedata.east_asian_width(c) in "WF"


def _ends_final(s: str) -> bool:
    s = s.rstrip()
    while s and s[-1] in _CLOSERS:
        s = s[:-1]
    if not s:
        return False
    if s[-1] in _FINAL:
        return True
    # ASCII sentence end: "…实现相互信任." or an English sentence, not a number like "2.6"
    return s[-1] in ".!?;" and len(s) > 1 and not s[-2].isdigit()


@dataclass
class _Line:
    text: str  # stripped, runs of spaces collapsed
    width: float
    indent: int  # leading spaces in the raw line
    blank_before: bool
    blank_after: bool = True


def _normalize(raw: str) -> str:
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    raw = raw.replace("\ufeff", "").replace("\u200b", "").replace("\u00ad", "")
    return raw.replace("\u00a0", " ").replace("\u3000", " ").replace("\u2002", " ").replace("\u2003", " ")


def _physical_lines(raw: str) -> list[_Line]:
    out: list[_Line] = []
    blank = True
    for line in _normalize(raw).split("\n"):
        if not line.strip():
            blank = True
            if out:
                out[-1].blank_after = True
            continue
        indent = len(line) - len(line.lstrip(" "))
        text = re.sub(r"[ \t]+", " ", line.strip())
        if out and not blank:
            out[-1].blank_after = False
        out.append(_Line(text, _width(text), indent, blank))
        blank = False
    return out


def _layout_lines(raw: str) -> set[int]:
    """Indices of lines that are page layout, not content: TOC, masthead, page numbers."""
    raw_lines = [l for l in _normalize(raw).split("\n") if l.strip()]
    drop: set[int] = set()
    toc = [i for i, l in enumerate(raw_lines) if _TOC_RE.search(l.rstrip(" ")) and "\t" in l or
           re.search(r"(\.{3,}|…{2,}|·{3,})\s*\d{1,3}\s*$", l)]
    # A run of tab-led short lines, or of lines ending in spaced-out page numbers,
    # without sentence ends is a table of contents too.
    run: list[int] = []
    for i, l in enumerate(raw_lines + [""]):
        toc_like = l.startswith("\t") or re.search(r"\S\s{2,}\d{1,3}\s*$", l)
        if toc_like and not _ends_final(l) and len(l.strip()) <= 60:
            run.append(i)
            continue
        if len(run) >= 3:
            toc.extend(run)
        run = []
    drop.update(toc)
    if toc:
        first = min(toc)
        # Front matter before a leading TOC: masthead, issue number, date.
        if first < 20 and not any(_ends_final(raw_lines[j]) for j in range(first)):
            drop.update(range(first))
    return drop


def _drop_layout(lines: list[_Line], raw: str) -> list[_Line]:
    layout = _layout_lines(raw)
    counts: dict[str, int] = {}
    for ln in lines:
        counts[ln.text] = counts.get(ln.text, 0) + 1
    kept: list[_Line] = []
    for i, ln in enumerate(lines):
        t = ln.text
        if i in layout:
            continue
        if _PAGE_NO_RE.match(t) and (ln.blank_before or ln.blank_after):
            continue
        if len(t) <= 30 and (_ISSUE_RE.match(t) or _CAPS_RE.match(t) or t.endswith(" 主办")):
            continue
        if (counts[t] >= 3 and len(t) <= 20 and not _ends_final(t)
                and not _SOURCE_RE.match(t) and not re.search(r"[，,]", t)):
            continue  # running header repeated on every page
        if _CAPTION_RE.match(t) and len(t) <= 80:
            continue  # photo caption or credit: not article text, not an article end
        if ln.indent >= 2 and len(t) <= 20 and not re.search(r"[，。！？；：]", t):
            continue  # indented photo caption ("  秦淮-悦动新门西硅巷")
        kept.append(ln)
    return kept


def _wrap_width(lines: list[_Line]) -> float | None:
    """The width of a full physical line when the text is hard-wrapped, else None."""
    widths = sorted(ln.width for ln in lines if ln.width >= 8)
    if len(widths) < 10:
        return None
    long_share = sum(w > 60 for w in widths) / len(widths)
    if long_share > 0.05:
        return None  # one paragraph per line
    full = widths[int(len(widths) * 0.9)]
    near = sum(full - 3 <= w <= full + 1 for w in widths) / len(widths)
    return full if near >= 0.4 else None


def _enumerated_style(lines: list[_Line]) -> bool:
    """True when the file's headings are numbered (一、 （一） 1. (1) ①)."""
    heads = [ln.text for ln in lines if len(ln.text) <= 40 and not _ends_final(ln.text)]
    numbered = sum(bool(_ENUM_RE.match(t)) for t in heads)
    return numbered >= 3 and numbered >= 0.5 * len(heads)


def _is_marker(t: str) -> bool:
    return bool(_SOURCE_RE.match(t) or _CREDIT_SOURCE_RE.match(t) or _BYLINE_RE.match(t))


def _joins(prev: _Line, nxt: _Line, current: str, full: float | None, enumerated: bool) -> bool:
    """Does ``nxt`` continue the paragraph ``current``, whose last physical line is ``prev``?"""
    p, n = prev.text, nxt.text
    if _is_marker(n) or _is_marker(p) or _AUTHOR_NOTE_RE.match(n):
        return False
    if _AUTHOR_NOTE_RE.match(current):
        return not current.rstrip().endswith(("）", ")"))  # a note runs to its closing bracket
    wrapped_full = full is not None and prev.width >= 0.85 * full
    if wrapped_full and p[-1] in "；;":
        return True  # a clause of a long paragraph, not its end
    if _ends_final(p):
        return False
    if n[0] in _CANNOT_START and (not _is_han(n[0]) or prev.width >= 20):
        return True  # a line cannot open with these; short lines may be headings
    if wrapped_full:
        return True  # a full line of hard-wrapped text (justification varies the count)
    if _ENUM_RE.match(n):
        return False
    if p[-1] in _NONFINAL_END or (p[-1] in "”’" and prev.width > 40):
        return True
    inner = p[:-1]
    if "。" in inner or "！" in inner or "？" in inner:
        return True  # a heading never holds a full sentence
    if full is None and (prev.width > 40 or (prev.width > 32 and "，" in p and not _ENUM_RE.match(p))):
        return True  # one-paragraph-per-line text, broken at a page end; headings are shorter
    if enumerated and not _ENUM_RE.match(p) and re.search(r"[，、]", p):
        return True  # headings are numbered here, so this is a broken sentence
    return False


def _join_pair(a: str, b: str) -> str:
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return a + " " + b
    return a + b


_SPACE_RE = re.compile(r" +")


def _fix_spaces(s: str) -> str:
    """Drop the stray spaces PDF extraction puts around Chinese text; keep Latin spacing.

    In headings (short lines without a full stop) a space between two Chinese phrases
    separates title and subtitle ("易会满：更好发挥资本市场枢纽功能 推出更多务实举措")
    and is kept.
    """
    heading = len(s) <= 45 and "。" not in s
    out = []
    for m in re.finditer(r"[^ ]+| +", s):
        tok = m.group()
        if tok[0] != " ":
            out.append(tok)
            continue
        left = s[m.start() - 1] if m.start() > 0 else ""
        right = s[m.end()] if m.end() < len(s) else ""
        if not left or not right:
            continue
        if not _wide(left) and not _wide(right):
            out.append(" ")  # Latin words and numbers keep one space
        elif heading and (_is_han(left) or left in "”’）》") and (_is_han(right) or right in "“‘（《"):
            out.append(" ")
        # otherwise a space next to Chinese text is an extraction artefact
    return "".join(out)


def clean_text(raw: str) -> str:
    """Repair PDF-extracted text into readable paragraphs separated by "\\n".

    Joins hard-wrapped lines, drops page numbers, running headers, the table of
    contents and photo credits, and removes stray spaces around Chinese characters.
    Headings, ``来源`` lines and bylines stay on lines of their own.
    """
    lines = _drop_layout(_physical_lines(raw), raw)
    if not lines:
        return ""
    full = _wrap_width(lines)
    enumerated = _enumerated_style(lines)
    paragraphs: list[str] = []
    current = lines[0].text
    prev = lines[0]
    for ln in lines[1:]:
        if _joins(prev, ln, current, full, enumerated):
            current = _join_pair(current, ln.text)
        else:
            paragraphs.append(current)
            current = ln.text
        prev = ln
    paragraphs.append(current)
    out = _merge_attributions([_fix_spaces(p) for p in paragraphs])
    return "\n".join(p for p in out if p)


_SAID_RE = re.compile(r"(表示|说|指出|认为|介绍|称|坦言|透露|强调|提到|告诉记者)[。.]$")


def _merge_attributions(paragraphs: list[str]) -> list[str]:
    """Re-attach "…。”XX表示。" when a page break split the quote from its speaker."""
    out: list[str] = []
    for p in paragraphs:
        if (out and re.search(r"[。！？]”$", out[-1]) and _SAID_RE.search(p) and len(p) <= 60
                and not re.search(r"[。！？]", p[:-1])):
            out[-1] += p
        else:
            out.append(p)
    return out


# ----------------------------------------------------------------------------- articles

SECTION_LABELS = frozenset(
    {"聚焦", "创业投资", "产业公司", "理论周刊", "理论", "AI", "A I", "创新园区", "园区热点", "金融", "专题", "要闻"}
)
_DATE_RE = re.compile(r"(\d{4}\s*年\s*\d{1,2}\s*月|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]+月)")
_ORG_RE = re.compile(r"(中心|协会|研究院|研究所|委员会|办公室|人民政府|大学|学院|编辑部)$")


def _headline_like(t: str) -> bool:
    """A short line without a full stop: a title, subtitle or heading."""
    if len(t) > 40 or not re.search(r"[A-Za-z\u4e00-\u9fff]", t):
        return False  # too long for a headline, or a bare number
    if _is_marker(t) or _AUTHOR_NOTE_RE.match(t):
        return False
    if "。" in t or t.endswith(("，", "、", "：", ":", ",")):
        return False
    return True


def _is_label(lines: list[str], i: int, many: bool) -> bool:
    """A newsletter section label ("聚焦", "A I") printed above a headline.

    Besides the known labels, any very short line counts, but only in an issue
    with several articles: a lone short headline of a single article is a title.
    """
    t = lines[i].strip()
    if i + 1 >= len(lines) or not _headline_like(lines[i + 1]):
        return False
    compact = t.replace(" ", "")
    return compact in SECTION_LABELS or (
        many and len(compact) <= 4 and not re.search(r"[\d，。：:]", compact)
    )


@dataclass
class _Segment:
    lines: list[str]
    publication: str = ""
    title_lines: int = 0  # how many leading lines form the title


def _title_span(lines: list[str]) -> tuple[int, int]:
    """(start, count) of the title lines: skips a dateline, takes at most two headline lines."""
    start = 0
    while (start < len(lines) - 1 and _DATE_RE.search(lines[start]) and _headline_like(lines[start])
           and _headline_like(lines[start + 1])):
        start += 1
    count = 0
    while (start + count < len(lines) and count < 2 and _headline_like(lines[start + count])
           and not _ENUM_RE.match(lines[start + count])
           and not (count and _ORG_RE.search(lines[start + count]))):
        count += 1
    if count and start + count >= len(lines):
        count = min(count, len(lines) - start - 1)  # a title needs a body under it
    return start, count


def _join_title(parts: list[str]) -> str:
    title = parts[0]
    for part in parts[1:]:
        if (title[-1] in "：:—-（(“" or re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]{1,2}$", title)
                or len(title) <= 6 or len(part) <= 4):
            title += part  # the headline was wrapped mid-phrase, not title plus subtitle
        else:
            title += " " + part
    return title


def _fallback_title(body: list[str]) -> str:
    for line in body:
        s = line.strip()
        if not re.search(r"[A-Za-z\u4e00-\u9fff]", s):
            continue  # never a bare number
        m = re.match(r"(.+?[。！？!?])", s)
        first = m.group(1) if m else s
        return first if len(first) <= 30 else first[:30] + "…"
    return ""


def _has_letters(lines: list[str]) -> bool:
    return any(re.search(r"[A-Za-z\u4e00-\u9fff]", l) for l in lines)


def _has_sentence(lines: list[str]) -> bool:
    return any(re.search(r"[。！？!?]", l) for l in lines)


def split_articles(text: str, source: str) -> list[Document]:
    """Split a cleaned newsletter issue into its articles, one Document each.

    An article ends at its ``来源：…`` line (the publication), or at an author note
    such as "（作者单位：…）" when no 来源 line follows. Section labels before a
    headline are dropped; the title is the headline (plus a wrapped second line or
    subtitle) and stays the first line of ``Document.text``. The 来源 line itself is
    not part of the text; it is ``Document.publication``.
    """
    lines = [l.strip() for l in text.split("\n") if l.strip()]
    segments: list[_Segment] = []
    cur: list[str] = []
    for i, line in enumerate(lines):
        m = _SOURCE_RE.match(line) or _CREDIT_SOURCE_RE.match(line)
        if m:
            segments.append(_Segment(cur, _fix_spaces(m.group(1)).strip()))
            cur = []
            continue
        cur.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _AUTHOR_NOTE_RE.match(line) and nxt and not (_SOURCE_RE.match(nxt) or _CREDIT_SOURCE_RE.match(nxt)):
            segments.append(_Segment(cur))
            cur = []
    if cur:
        segments.append(_Segment(cur))

    many = len(segments) > 1
    for seg in segments:
        if seg.lines and _is_label(seg.lines, 0, many):
            seg.lines = seg.lines[1:]
    spans = [_title_span(seg.lines) for seg in segments]
    # A headline printed after its article (layout quirk): the untitled article takes
    # the first of two stacked headlines that open the next one.
    for k in range(len(segments) - 1):
        if spans[k][1] == 0 and _has_sentence(segments[k].lines):
            nxt_seg, (s, c) = segments[k + 1], spans[k + 1]
            if s == 0 and c == 2:
                segments[k].lines.insert(0, nxt_seg.lines.pop(0))
                spans[k] = (0, 1)
                spans[k + 1] = (0, 1)

    docs: list[Document] = []
    pending: list[str] = []  # text without a sentence, kept for the next article
    for seg, (start, count) in zip(segments, spans):
        if not _has_sentence(seg.lines):
            if sum(map(len, seg.lines)) >= 200:
                pending.extend(seg.lines)
            continue  # back matter: contact details, a stray label
        lines_ = pending + seg.lines if pending else seg.lines
        offset = len(pending)
        pending = []
        title_parts = lines_[offset + start: offset + start + count]
        body = lines_[:offset + start] + lines_[offset + start + count:]
        title = _join_title(title_parts) if title_parts else _fallback_title(body)
        if not title:
            continue
        docs.append(Document(source=source, title=title, text="\n".join([title] + body),
                             publication=seg.publication))
    if not docs and _has_letters(lines):
        # No sentence anywhere (a list, a note): keep it whole rather than lose it.
        title = _join_title(lines[:1]) if _headline_like(lines[0]) else _fallback_title(lines)
        body = lines[1:] if _headline_like(lines[0]) else lines
        return [Document(source=source, title=title, text="\n".join([title] + body))]
    if pending and docs:
        last = docs[-1]
        docs[-1] = Document(source=source, title=last.title, text=last.text + "\n" + "\n".join(pending),
                            publication=last.publication)
    return docs


# ----------------------------------------------------------------------------- files


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).name


def load_file(path: Path, root: Path | None = None) -> list[Document]:
    """Read, clean and split one file into articles. LoadError for unusable files."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"{path.name}: {path.suffix or 'files without a suffix'} not supported; use one of "
            f"{' '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    cleaned = clean_text(read_text(path))
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", cleaned):
        raise LoadError(f"{path.name} has no text (only numbers or page layout)")
    docs = split_articles(cleaned, _relative_name(path, root))
    if not docs:
        raise LoadError(f"{path.name} has no article text (only headings or layout lines)")
    return docs


def _hidden(path: Path, base: Path) -> bool:
    try:
        parts = path.relative_to(base).parts
    except ValueError:
        parts = path.parts
    return any(p.startswith(".") or p.startswith("~$") for p in parts)


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (recursively) to the supported files in them, sorted; skip hidden ones.

    Files named explicitly are kept whatever their suffix, so loading them reports
    a clear error instead of silently ignoring them.
    """
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(
                f for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not _hidden(f, p)
            )
        elif p.exists():
            found.append(p)
        else:
            raise LoadError(f"{p} does not exist; check the path")
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return sorted(unique)


# ----------------------------------------------------------------------------- fingerprint


def fingerprint() -> str:
    """A hash of the source of every module of this package.

    Any change to how files are read, cleaned or split changes it, so an index
    built by other loading code is recognised as stale (the index manifest uses it).
    """
    import hashlib

    package_dir = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for module in sorted(package_dir.rglob("*.py")):
        h.update(module.relative_to(package_dir).as_posix().encode("utf-8"))
        h.update(b"\x00")
        h.update(module.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()[:16]
