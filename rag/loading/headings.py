"""Headings → article boundaries: which heading level, if any, starts the articles of a file.

A reader reports the headings its format marks (``Extracted.headings``: Word styles
and outline levels, HTML ``<h1>``/``<h2>``, Markdown ``#``/``##``, PDF font sizes).
A newsletter is split at them only when one heading level clearly marks articles:

1. The headings are found among the cleaned lines, in order (a heading that cleaning
   joined to the body is cut off again). A text that is a heading more than once is
   a running header or a repeated label, and a short heading (≤ ``MAX_LABEL_CHARS``)
   directly above another heading is a section label (「要闻」): neither starts an article.
2. The article level is the highest level that occurs more than once. A level that
   occurs once is passed over only when it is the first heading and no sentence
   stands under it before the next heading (a masthead over the issue line); any
   other single heading is the title of a one-article document, and nothing is split.
3. That level splits only when its headings are not numbered (「一、」「（一）」「1.」
   「1.1」「第一章」 number the sections of one article) and every section under them
   holds a sentence and at least ``MIN_ARTICLE_CHARS`` characters of text.

Otherwise the file is split as before (来源/作者 lines), so a single article with
section headings stays whole.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..text import squash
from .cleaning import _ENUM_RE
from .formats import MAX_LABEL_CHARS, Heading

# A section shorter than this is not an article (a FAQ answer, a short part of a
# report): about three sentences, the median sentence of the sample corpus being
# 48 characters (1,760 sentences); the shortest of its 34 articles has 540.
MIN_ARTICLE_CHARS = 150
# A level must start at least this many articles to split a file.
MIN_ARTICLES = 2
# Headlines run over at most this many lines of cleaned text.
MAX_HEADING_LINES = 3

_SENTENCE_RE = re.compile(r"[。！？!?]")
_NUMBERED_RE = re.compile(r"^\s*(\d+(?:\.\d+)+|第\s*[\d一二三四五六七八九十百]+\s*[章节部篇条])")


def has_sentence(lines: list[str]) -> bool:
    return any(_SENTENCE_RE.search(l) for l in lines)


def find_lines(lines: list[str], text: str, start: int = 0, stop: int | None = None,
               cut: bool = True) -> tuple[list[str], tuple[int, int] | None]:
    """Where ``text`` stands as whole lines from line ``start`` on: (lines, (first, count)).

    It may run over up to ``MAX_HEADING_LINES`` lines (spaces ignored). With ``cut``, a
    line that starts with ``text`` (cleaning joined a heading to the body) is cut in
    two, and the returned lines are then a new list. A match on the last line has no
    body under it and counts as none.
    """
    want = squash(text)
    if not want:
        return lines, None
    end = len(lines) if stop is None else min(stop, len(lines))
    for k in range(start, end):
        joined = ""
        for n in range(1, MAX_HEADING_LINES + 1):
            if k + n > len(lines):
                break
            joined += squash(lines[k + n - 1])
            if joined == want:
                return (lines, (k, n)) if k + n < len(lines) else (lines, None)
            if not want.startswith(joined):
                if cut and n == 1 and joined.startswith(want):
                    at, seen = 0, 0
                    while seen < len(want):
                        seen += not lines[k][at].isspace()
                        at += 1
                    head, rest = lines[k][:at].strip(), lines[k][at:].strip()
                    return lines[:k] + [head, rest] + lines[k + 1:], (k, 1)
                break
    return lines, None


@dataclass(frozen=True)
class Section:
    """One article's lines under a heading: ``lines[start:end]``, its heading at ``title``."""

    start: int  # first line (a section label above the heading included)
    title: int  # first line of the heading
    count: int  # lines of the heading
    end: int
    heading: Heading


@dataclass(frozen=True)
class _Found:
    index: int
    count: int
    heading: Heading

    @property
    def after(self) -> int:
        return self.index + self.count


def _locate(lines: list[str], headings: tuple[Heading, ...]) -> tuple[list[str], list[_Found]]:
    """The headings found in ``lines``, in order; whole lines first, else a line cut in two."""
    found: list[_Found] = []
    pos = 0
    for heading in headings:
        lines_, at = find_lines(lines, heading.text, pos, cut=False)
        if at is None:
            lines_, at = find_lines(lines, heading.text, pos, cut=True)
        if at is None:
            continue
        lines = lines_
        found.append(_Found(at[0], at[1], heading))
        pos = at[0] + at[1]
    return lines, found


def _article_level(lines: list[str], found: list[_Found]) -> int | None:
    """Rule 2 of the module docstring: the level that starts articles, or None."""
    for level in sorted({f.heading.level for f in found}):
        at = [f for f in found if f.heading.level == level]
        if len(at) >= MIN_ARTICLES:
            return level
        masthead = at[0] is found[0] and len(found) > 1 and not has_sentence(lines[found[0].after:found[1].index])
        if not masthead:
            return None
    return None


def _numbered(found: list[_Found]) -> bool:
    numbered = sum(bool(_ENUM_RE.match(f.heading.text) or _NUMBERED_RE.match(f.heading.text)) for f in found)
    return 2 * numbered >= len(found)


def article_sections(lines: list[str], headings: tuple[Heading, ...]) -> tuple[list[str], list[Section]]:
    """The article sections of ``lines`` by the module's rule, or [] when headings do not split it.

    Returns the lines too: finding a heading may cut a joined line in two.
    """
    texts = Counter(squash(h.text) for h in headings)
    lines, found = _locate(lines, tuple(h for h in headings if texts[squash(h.text)] == 1))
    labels = {k for k in range(len(found) - 1)
              if len(squash(found[k].heading.text)) <= MAX_LABEL_CHARS and found[k + 1].index == found[k].after}
    candidates = [f for k, f in enumerate(found) if k not in labels]
    if len(candidates) < MIN_ARTICLES:
        return lines, []
    level = _article_level(lines, candidates)
    if level is None:
        return lines, []
    at = [f for f in candidates if f.heading.level == level]
    if _numbered(at):
        return lines, []
    label_texts = {t for t in texts if len(t) <= MAX_LABEL_CHARS}
    starts = []
    floor = 0
    for f in at:
        start = f.index
        while start > floor and squash(lines[start - 1]) in label_texts:
            start -= 1  # section labels right above the heading go with its article
        starts.append(start)
        floor = f.after
    sections = [Section(s, f.index, f.count, e, f.heading)
                for s, f, e in zip(starts, at, [*starts[1:], len(lines)])]
    for sec in sections:
        body = lines[sec.title + sec.count:sec.end]
        if not has_sentence(body) or sum(map(len, body)) < MIN_ARTICLE_CHARS:
            return lines, []
    return lines, sections
