"""PDF clean-up: extracted text → readable paragraphs, one per line.

The sample corpus is newsletter issues extracted from PDF: hard line breaks in the
middle of sentences, stray spaces between characters, page numbers, a table of
contents, photo credits, and several articles per file. Cleaning repairs the text
without rewriting it (characters and punctuation are kept; only whitespace, line
breaks and layout lines change), so evidence copied from the source is still found
in the cleaned articles. The line patterns here (来源 lines, bylines, numbering) are
shared with the article splitter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..text import squash
from .formats import MAX_LABEL_CHARS

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
_TOC_RE = re.compile(r"(\t\s*\d{0,3}|\s{2,}\d{1,3}|(\.{3,}|[…⋯]{2,}|·{3,})\s*\d{1,3})\s*$")
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
           re.search(r"(\.{3,}|[…⋯]{2,}|·{3,})\s*\d{1,3}\s*$", l)]
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


# A body line this long or longer that begins a contents entry is that entry's headline (a long headline can
# wrap, so its first line is a prefix of the entry); shorter lines are too common to tell.
MIN_LISTED_HEADLINE = 6


def _listed_labels(lines: list[_Line], layout: set[int]) -> set[str]:
    """Short lines repeated in the body whose every occurrence stands over a headline the contents list: section
    labels (「观察」 over each of three articles), not a running header, which heads pages, not articles."""
    # the layout lines (contents and the front matter above them), each without its page number
    entries = [squash(re.sub(r"(\.{3,}|[…⋯]{2,}|·{3,})?\s*\d{1,3}$", "", ln.text))
               for i, ln in enumerate(lines) if i in layout]
    heads: dict[str, bool] = {}
    for i, ln in enumerate(lines):
        if i in layout or len(ln.text) > MAX_LABEL_CHARS:
            continue
        nxt = squash(lines[i + 1].text) if i + 1 < len(lines) else ""
        listed = len(nxt) >= MIN_LISTED_HEADLINE and any(e.startswith(nxt) for e in entries)
        heads[ln.text] = heads.get(ln.text, True) and listed
    return {t for t, ok in heads.items() if ok}


def _drop_layout(lines: list[_Line], raw: str) -> list[_Line]:
    layout = _layout_lines(raw)
    counts: dict[str, int] = {}
    for ln in lines:
        counts[ln.text] = counts.get(ln.text, 0) + 1
    labels = _listed_labels(lines, layout) if layout else set()
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
                and not _SOURCE_RE.match(t) and not re.search(r"[，,]", t) and t not in labels):
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

