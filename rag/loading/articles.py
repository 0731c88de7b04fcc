"""Article splitting: cleaned text → one ``Document`` per article, with title and publication.

Two layouts are recognised, per file:

- **来源 at the end** (the sample newsletters): an article ends at its ``来源：…``
  line, or at an author note such as 「（作者单位：…）」; the headline opens it.
- **Header first** (most uploads): title, then 来源/作者/日期/发布时间 lines, then the
  body. Chosen when such a line comes before the first body paragraph; every
  "headline + meta lines" block after a finished paragraph opens a new article.

A file whose headings clearly mark articles (``rag.loading.headings``: Word heading
styles, PDF font sizes, HTML ``<h1>``/``<h2>``, Markdown ``#``/``##``) is first cut at
them, and each section is split as above, titled by its heading.

A title the file's structure names (Word heading, HTML ``<h1>``, Markdown ``#``,
large-font PDF lines) wins over the heuristics. An article without any title is
named after its file — never a cut sentence. The title stays the first line of
``Document.text``; 来源 lines are not part of the text but ``Document.publication``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..schema import Document
from .cleaning import (
    _AUTHOR_NOTE_RE,
    _BYLINE_RE,
    _CREDIT_SOURCE_RE,
    _ENUM_RE,
    _SOURCE_RE,
    _fix_spaces,
    _is_marker,
)
from .formats import Heading
from .headings import MIN_ARTICLE_CHARS, MIN_ARTICLES, Section, article_sections, find_lines, has_sentence

SECTION_LABELS = frozenset(
    {"聚焦", "创业投资", "产业公司", "理论周刊", "理论", "AI", "A I", "创新园区", "园区热点", "金融", "专题", "要闻"}
)
_DATE_RE = re.compile(r"(\d{4}\s*年\s*\d{1,2}\s*月|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]+月)")
_ORG_RE = re.compile(r"(中心|协会|研究院|研究所|委员会|办公室|人民政府|大学|学院|编辑部)$")
_LETTERS_RE = re.compile(r"[A-Za-z\u4e00-\u9fff]")
_SENTENCE_END_RE = re.compile(r"[。！？!?…][”’」』）)]*$")

# Publication/author/date lines ("来源：新华社", "作者：林晓禾 2024年3月5日", "发布时间：…").
_META_KEY = (
    r"(?:文章|稿件)?来\s*源|稿\s*源|出\s*处|作\s*者|撰\s*[文稿]|记\s*者|通\s*讯\s*员|责任编辑|责\s*编|编\s*辑"
    r"|发布(?:时间|日期|者)?|发表(?:时间|日期)|日\s*期|时\s*间|更新(?:时间|日期)"
)
_DATE_ONLY = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
_META_RE = re.compile(
    rf"^[\s（(【\[]*(?:{_DATE_ONLY}\s*)?(?:{_META_KEY})\s*[：:|｜]"
    r"|^(?:文\s*[/／|｜]|本报记者|记者\s|通讯员\s|原创\s)"
    # an interview's credits: 「采访／本刊记者 孙悦　整理／实习生 杨帆」
    r"|^(?:采访|整理|采写|撰文|口述|摄影)\s*[/／|｜]"
)
# A staff byline under a headline (「本刊记者 方晓禾」「本刊通讯员 卢思远」): not part of the headline. It is not a meta line:
# counted as one, it made Markdown interviews' 「### 小标题」 over 「记者：……？」 read as articles' header blocks.
_STAFF_BYLINE_RE = re.compile(r"^本[报刊](?:特约)?(?:记者|通讯员|评论员)\s*\S")
_DATE_LINE_RE = re.compile(rf"^{_DATE_ONLY}$")
_DATELINE_RE = re.compile(r"^[\d\s年月日号期第总\-/.:：（）()〇零一二三四五六七八九十星周一二三四五六天]+$")
_NAME_DATE_RE = re.compile(rf"(?<=[\u4e00-\u9fff])\s*(?={_DATE_ONLY})")
_SOURCE_VALUE_RE = re.compile(
    rf"(?:来\s*源|稿\s*源|出\s*处)\s*[：:]\s*(\S.*?)\s*(?=\s(?:{_META_KEY})\s*[：:]|\s*{_DATE_ONLY}|[）)】\]]?\s*$)"
)
# The heading of an issue's table of contents (「本期目录」, 「目录」, 「本期导读」).
_CONTENTS_RE = re.compile(r"^(?:本期)?(?:目\s*录|导\s*读|要\s*目)$")
# A section label in brackets: before a headline on its line (「【聚焦】岚州今年…」), or alone over it (「【访谈】」).
_BRACKET_LABEL = r"[【\[][^】\]]{1,6}[】\]]"
_LABELLED_RE = re.compile(rf"^{_BRACKET_LABEL}\S")
_LABEL_PREFIX_RE = re.compile(rf"^{_BRACKET_LABEL}\s*(?=\S)")
_BARE_LABEL_RE = re.compile(rf"^{_BRACKET_LABEL}$")
# Meta lines are short: a longer line with a colon is a sentence ("时间：…" as prose).
MAX_META_CHARS = 80
# The header block of the first article starts within this many lines (a section
# label and a dateline may come before the title).
MAX_HEADER_START = 4
# A structural title (see module docstring) is looked for in this many first lines.
TITLE_SCAN_LINES = 8
# Headlines run over at most this many lines.
MAX_TITLE_LINES = 3
# A segment without a sentence is kept for the next article when it is this long
# (text under a headline that cleaning could not join), else dropped as back matter.
MIN_PENDING_CHARS = 200


def is_meta(t: str) -> bool:
    """A publication/author/date line ("来源：…", "作者：… 日期", "发布时间：…", "文/…")."""
    return len(t) <= MAX_META_CHARS and "。" not in t and bool(_META_RE.match(t))


def _meta_or_date(t: str) -> bool:
    return is_meta(t) or bool(_DATE_LINE_RE.match(t.strip()))


def _headline_like(t: str) -> bool:
    """A short line without a full stop: a title, subtitle or heading."""
    if len(t) > 40 or not _LETTERS_RE.search(t):
        return False  # too long for a headline, or a bare number
    if _is_marker(t) or _AUTHOR_NOTE_RE.match(t) or is_meta(t) or _STAFF_BYLINE_RE.match(t):
        return False
    if "。" in t or t.endswith(("，", "、", "：", ":", ",")):
        return False
    return True


def _short_label(t: str) -> bool:
    compact = t.replace(" ", "")
    return compact in SECTION_LABELS or (len(compact) <= 4 and not re.search(r"[\d，。：:]", compact))


def _is_label(lines: list[str], i: int, many: bool) -> bool:
    """A newsletter section label ("聚焦", "A I") printed above a headline.

    Besides the known labels, any very short line counts, but only in an issue
    with several articles: a lone short headline of a single article is a title.
    """
    t = lines[i].strip()
    if i + 1 >= len(lines) or not _headline_like(lines[i + 1]):
        return False
    return t.replace(" ", "") in SECTION_LABELS or (many and _short_label(t))


@dataclass
class _Segment:
    lines: list[str]
    publication: str = ""
    span: tuple[int, int] | None = None  # (start, count) of the title lines, when known


def _title_span(lines: list[str]) -> tuple[int, int]:
    """(start, count) of the title lines: skips a dateline, takes at most two headline lines."""
    start = 0
    while (start < len(lines) - 1 and _DATE_RE.search(lines[start]) and _headline_like(lines[start])
           and _headline_like(lines[start + 1])):
        start += 1
    count = 0
    while (start + count < len(lines) and count < 2 and _headline_like(lines[start + count])
           and not _ENUM_RE.match(lines[start + count])
           and not (count and _DATELINE_RE.match(lines[start + count]))
           and not (count and _ORG_RE.search(lines[start + count]))):
        count += 1
    if count and start + count >= len(lines):
        count = min(count, len(lines) - start - 1)  # a title needs a body under it
    return start, count


def _join_title(parts: list[str]) -> str:
    if len(parts) > 1 and (_BARE_LABEL_RE.match(parts[0]) or _short_label(parts[0])):
        # 「【聚焦】」 or 「聚焦」 over the headline labels it and names nothing
        parts = parts[1:]
    title = _LABEL_PREFIX_RE.sub("", parts[0]) or parts[0]  # 「【聚焦】岚州今年…」 → 「岚州今年…」
    for part in parts[1:]:
        if (title[-1] in "：:—-（(“" or re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]{1,2}$", title)
                or len(title) <= 6 or len(part) <= 4):
            title += part  # the headline was wrapped mid-phrase, not title plus subtitle
        else:
            title += " " + part
    return title


def file_title(source: str, n: int = 0) -> str:
    """The title of an article whose layout gives none: its file name (numbered after the first)."""
    stem = PurePosixPath(source).stem.strip() or PurePosixPath(source).name
    return stem if n == 0 else f"{stem}（{n + 1}）"


def _has_letters(lines: list[str]) -> bool:
    return any(_LETTERS_RE.search(l) for l in lines)


def _source_value(line: str) -> str:
    m = _SOURCE_VALUE_RE.search(line)
    return _fix_spaces(m.group(1)).strip() if m else ""


# ----------------------------------------------------------------------------- 来源 at the end


def _meta_publication(lines: list[str]) -> str:
    """The publication string of author/date lines: "作者：林晓禾 2024年3月5日"."""
    text = re.sub(r"\s+", " ", " ".join(lines)).strip()
    return _NAME_DATE_RE.sub(" ", text)


def _trailing_meta(lines: list[str]) -> list[str]:
    """Author/date lines closing an article ("作者：… 日期" at the end), not author notes."""
    k = len(lines)
    while k > 1 and _meta_or_date(lines[k - 1]) and not _AUTHOR_NOTE_RE.match(lines[k - 1]):
        k -= 1
    return lines[k:] if has_sentence(lines[:k]) else []


def _footer_segments(lines: list[str]) -> list[_Segment]:
    segments: list[_Segment] = []
    cur: list[str] = []
    for i, line in enumerate(lines):
        m = _SOURCE_RE.match(line) or _CREDIT_SOURCE_RE.match(line)
        value = _source_value(line) if is_meta(line) else ""
        if m or value:
            segments.append(_Segment(cur, value or _fix_spaces(m.group(1)).strip()))
            cur = []
            continue
        cur.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _AUTHOR_NOTE_RE.match(line) and nxt and not (_SOURCE_RE.match(nxt) or _CREDIT_SOURCE_RE.match(nxt)):
            segments.append(_Segment(cur))
            cur = []
    if cur:
        segments.append(_Segment(cur))
    for seg in segments:
        if not seg.publication:
            seg.publication = _meta_publication(_trailing_meta(seg.lines))
    return segments


# ----------------------------------------------------------------------------- header first


def _first_body_line(lines: list[str], heads: frozenset[int]) -> int:
    for i, line in enumerate(lines):
        if not (i in heads or _headline_like(line) or _meta_or_date(line) or _is_marker(line)):
            return i
    return len(lines)


def _header_layout(lines: list[str], heads: frozenset[int]) -> bool:
    """True when a 来源/作者/日期 line comes before the first body paragraph.

    ``heads`` are the indices of title lines the file's structure names.
    """
    first_meta = next((i for i, l in enumerate(lines) if is_meta(l)), None)
    start = max(heads, default=-1) + 1
    # further down only under an issue's masthead and contents: 「本期目录」 and its headlines above the first block
    return (first_meta is not None and (first_meta <= start + MAX_HEADER_START or _CONTENTS_RE.match(lines[0])
                                        or any(_CONTENTS_RE.match(l) for l in lines[start:first_meta]))
            and first_meta < _first_body_line(lines, heads))


def _header_blocks(lines: list[str], heads: frozenset[int]) -> list[tuple[int, int, int]]:
    """(title start, meta start, body start) of every "headline + meta lines" block."""
    blocks: list[tuple[int, int, int]] = []
    i = 0
    while i < len(lines):
        if not is_meta(lines[i]) or (i and _meta_or_date(lines[i - 1])):
            i += 1
            continue
        meta_start = i
        # date lines and bylines right above the key line belong to the block
        while meta_start and (_meta_or_date(lines[meta_start - 1]) or _BYLINE_RE.match(lines[meta_start - 1])):
            meta_start -= 1
        end = i
        while end < len(lines) and (_meta_or_date(lines[end]) or _BYLINE_RE.match(lines[end])):
            end += 1
        floor = blocks[-1][2] if blocks else 0
        t = meta_start
        structural = bool(heads) and not blocks  # the file's structure names the first title
        while t > floor and ((t - 1 in heads) if structural else (
                meta_start - t < MAX_TITLE_LINES - 1 and _headline_like(lines[t - 1])
                and not _DATELINE_RE.match(lines[t - 1])
                and not (t < meta_start and _LABELLED_RE.match(lines[t])))):  # 「【聚焦】…」 opens its headline
            t -= 1
        if blocks:
            opens = not _headline_like(lines[t - 1])  # after a finished paragraph
        else:
            opens = not has_sentence(lines[:t])  # only labels and datelines before it
        if end < len(lines) and opens and (t < meta_start or not blocks):
            blocks.append((t, meta_start, end))
        i = end
    return blocks


def _header_segments(lines: list[str], heads: frozenset[int]) -> list[_Segment]:
    blocks = _header_blocks(lines, heads)
    segments: list[_Segment] = []
    for k, (t, m, b) in enumerate(blocks):
        start = 0 if k == 0 else t  # lines before the first block (label, dateline) go with it
        if k == 0 and any(_CONTENTS_RE.match(line) for line in lines[:t]):
            start = t  # ... but not an issue's masthead and contents
        stop = blocks[k + 1][0] if k + 1 < len(blocks) else len(lines)
        preamble = lines[start:t]
        meta = lines[m:b]
        publication = next((v for v in map(_source_value, meta) if v), "")
        kept_meta = [l for l in meta if not _source_value(l)]
        body = lines[b:stop]
        # A 来源 line followed by more text ends this article, and the text after it
        # is an article without a header block (split the 来源-at-the-end way).
        cut = next((j for j, line in enumerate(body) if _SOURCE_RE.match(line) or _CREDIT_SOURCE_RE.match(line)), None)
        rest: list[_Segment] = []
        if cut is not None:
            rest = _footer_segments(body[cut:])
            if rest and not rest[0].lines:
                footer = rest.pop(0)
                publication = publication or footer.publication
            body = body[:cut]
        if not publication and kept_meta:
            publication = _meta_publication(kept_meta)
        segment_lines = preamble + lines[t:m] + kept_meta + body
        segments.append(_Segment(segment_lines, publication, (len(preamble), m - t)))
        segments.extend(rest)
    return segments


# ----------------------------------------------------------------------------- section labels


def _label_cuts(lines: list[str]) -> list[int]:
    """Where a section label over a headline (「聚焦」 then 「低空物流驶入…」) opens an article: after a finished
    paragraph, or after the masthead and contents above the first one (only ``_front_matter`` since the file began)."""
    cuts = []
    for i in range(1, len(lines) - 1):
        if not _is_label(lines, i, True):
            continue
        prev = lines[i - 1]
        if _SENTENCE_END_RE.search(prev) or _front_matter(lines[:i]):
            cuts.append(i)
    return cuts


def _front_matter(lines: list[str]) -> bool:
    """Only headline-length lines, datelines and numbers: an issue's masthead and contents (a contents line may
    end with a question mark, 「…值不值？」), not an article's paragraphs."""
    return all(_headline_like(l) or _meta_or_date(l) or not _LETTERS_RE.search(l) for l in lines)


def _label_segments(segments: list[_Segment]) -> list[_Segment]:
    """A newsletter with neither 来源 lines nor header blocks (only the issue's closing 来源, or none) is cut at
    its section labels, when at least ``MIN_ARTICLES`` labelled articles, each with a sentence and
    ``MIN_ARTICLE_CHARS`` of text, come of it; else it stays whole."""
    k = next(j for j, seg in enumerate(segments) if has_sentence(seg.lines))
    seg = segments[k]
    cuts = _label_cuts(seg.lines)
    if len(cuts) < MIN_ARTICLES:
        return segments
    parts = [seg.lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(seg.lines)])]
    first = next((j for j, p in enumerate(parts) if not _front_matter(p)), None)  # masthead and contents before it
    articles = parts[first:] if first is not None else []
    if len(articles) < MIN_ARTICLES or any(
            not has_sentence(p) or sum(map(len, p)) < MIN_ARTICLE_CHARS for p in articles):
        return segments
    pieces = [_Segment(p) for p in parts]
    pieces[-1].publication = seg.publication  # a closing 来源 line belongs to the last article
    return segments[:k] + pieces + segments[k + 1:]


def _without_masthead(segments: list[_Segment]) -> list[_Segment]:
    """The first article set apart from the masthead above it (issue name, number, date, contents) when a section
    label opens it: otherwise the issue's name would title the first article."""
    k = next((j for j, seg in enumerate(segments) if has_sentence(seg.lines)), None)
    if k is None or segments[k].span is not None:
        return segments
    seg = segments[k]
    front = [i for i in _label_cuts(seg.lines) if _front_matter(seg.lines[:i])]
    if not front or _front_matter(seg.lines[front[-1]:]):  # no paragraph under the label: nothing to set apart
        return segments
    cut = front[-1]
    return segments[:k] + [_Segment(seg.lines[:cut]), _Segment(seg.lines[cut:], seg.publication)] + segments[k + 1:]


# ----------------------------------------------------------------------------- structural title


def _find_title(lines: list[str], title: str) -> tuple[list[str], tuple[int, int] | None]:
    """Where ``title`` (from the file's structure) stands among the first lines: (lines, (start, count)).

    When cleaning joined the title to the body, that line is cut in two again
    (the returned lines are then a new list).
    """
    return find_lines(lines, title, 0, TITLE_SCAN_LINES)


# ----------------------------------------------------------------------------- splitting


def split_articles(text: str, source: str, title: str = "", headings: tuple[Heading, ...] = ()) -> list[Document]:
    """Split cleaned text into its articles, one Document each (see the module docstring).

    ``title`` is a title the file's structure gives (may be ""); ``headings`` are the
    headings it marks (``rag.loading.headings`` decides whether they start articles);
    ``source`` names the file in each Document and, when no title is found, gives the title.
    """
    lines = [l.strip() for l in text.split("\n") if l.strip()]
    if not lines:
        return []
    if headings:
        lines, sections = article_sections(lines, headings)
        if sections:
            return _split_sections(lines, sections, source)
    return _split_lines(lines, source, title)


def _split_sections(lines: list[str], sections: list[Section], source: str) -> list[Document]:
    """One file split at its article headings: each section split on its own, titled by its heading.

    Text before the first article (a masthead, an issue line) is kept as an article
    only when it holds a sentence (an editor's note). Section labels above a heading
    are left out, as in the newsletter layouts.
    """
    docs: list[Document] = []
    before = lines[:sections[0].start]
    if has_sentence(before):
        docs.extend(_split_lines(before, source, ""))
    for sec in sections:
        docs.extend(_split_lines(lines[sec.title:sec.end], source, sec.heading.text, len(docs)))
    return docs


def _split_lines(lines: list[str], source: str, title: str, number_from: int = 0) -> list[Document]:
    """Split the non-empty, stripped lines of one file (or one heading section) into articles.

    Articles without a title are named after the file, numbered from ``number_from``.
    """
    lines, found = _find_title(lines, title) if title else (lines, None)
    heads = frozenset(range(found[0], found[0] + found[1])) if found else frozenset()
    header = _header_layout(lines, heads)
    segments = (_header_segments(lines, heads) if header else []) or _footer_segments(lines)
    if sum(has_sentence(seg.lines) for seg in segments) == 1 and not title:
        segments = _label_segments(segments)
    if not title:
        segments = _without_masthead(segments)

    many = len(segments) > 1
    for seg in segments:
        if seg.span is None and seg.lines and _is_label(seg.lines, 0, many):
            seg.lines = seg.lines[1:]
    if title:
        first = next((s for s in segments if has_sentence(s.lines)), None)
        if first is not None:
            first.lines, span = _find_title(first.lines, title)
            first.span = span or first.span
    spans = [seg.span if seg.span is not None else _title_span(seg.lines) for seg in segments]
    # A headline printed after its article (layout quirk): the untitled article takes
    # the first of two stacked headlines that open the next one.
    for k in range(len(segments) - 1):
        if spans[k][1] == 0 and has_sentence(segments[k].lines) and segments[k + 1].span is None:
            nxt_seg, (s, c) = segments[k + 1], spans[k + 1]
            if s == 0 and c == 2:
                segments[k].lines.insert(0, nxt_seg.lines.pop(0))
                spans[k] = (0, 1)
                spans[k + 1] = (0, 1)

    docs: list[Document] = []
    pending: list[str] = []  # text without a sentence, kept for the next article
    for seg, (start, count) in zip(segments, spans):
        if not has_sentence(seg.lines):
            if sum(map(len, seg.lines)) >= MIN_PENDING_CHARS:
                pending.extend(seg.lines)
            continue  # back matter: contact details, a stray label
        lines_ = pending + seg.lines if pending else seg.lines
        offset = len(pending)
        pending = []
        title_parts = lines_[offset + start: offset + start + count]
        body = lines_[:offset + start] + lines_[offset + start + count:]
        name = _join_title(title_parts) if title_parts else file_title(source, number_from + len(docs))
        docs.append(Document(source=source, title=name, text="\n".join([name] + body),
                             publication=seg.publication))
    if not docs and _has_letters(lines):
        # No sentence anywhere (a list, a note): keep it whole rather than lose it.
        first_is_title = _headline_like(lines[0])
        name = lines[0] if first_is_title else file_title(source)
        body = lines[1:] if first_is_title else lines
        return [Document(source=source, title=name, text="\n".join([name] + body))]
    if pending and docs:
        last = docs[-1]
        docs[-1] = Document(source=source, title=last.title, text=last.text + "\n" + "\n".join(pending),
                            publication=last.publication)
    return docs
