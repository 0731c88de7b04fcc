"""HTML pages (.html/.htm): block elements become lines; the title is the ``<h1>``, else ``<title>``; ``<h1>``/``<h2>`` are headings."""

from __future__ import annotations

import re

from ..decoding import decode_bytes
from . import Extracted, Heading, register

_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl",
    "figcaption", "figure", "hr", "main", "aside", "nav", "address", "caption", "time",
)
_DROP_TAGS = ["script", "style", "noscript", "template", "head"]
# The headings reported to the article splitter: page and article headlines
# (deeper levels are sections of an article).
_HEADING_TAGS = ["h1", "h2"]
_BOILERPLATE_TAGS = ["nav", "aside", "footer"]
_HTML_RE = re.compile(
    r"^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<!--)", re.I
)
_HTML_TAGS_RE = re.compile(r"</?(p|div|br|span|h[1-6]|a|li|ul|table|tr|td|body|html)[\s>/]", re.I)
# Tags that make text look like HTML when there is no doctype (a fragment).
MIN_HTML_TAGS = 3


def looks_html(text: str) -> bool:
    head = text[:2000]
    return bool(_HTML_RE.match(head)) or len(_HTML_TAGS_RE.findall(head)) >= MIN_HTML_TAGS


# "标题_新闻_某某网", "标题 - 某某网", "标题 | 某某网": the article title is the first part.
_SITE_SEPARATOR_RE = re.compile(r"\s*[|_｜–—]\s*|\s+-\s+")
MIN_TITLE_PART_CHARS = 4


def _page_title(text: str) -> str:
    """The article part of a ``<title>`` that also names the site."""
    first = _SITE_SEPARATOR_RE.split(text, maxsplit=1)[0].strip()
    return first if len(first) >= MIN_TITLE_PART_CHARS else text


def html_text(markup: str) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    head_title = soup.find("title")
    title_text = _page_title(head_title.get_text(" ", strip=True)) if head_title else ""
    h1 = soup.find("h1")
    h1_text = h1.get_text(" ", strip=True) if h1 else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup(_BOILERPLATE_TAGS):  # site navigation and page footers, not the article
        if tag.find_parent("article") is None and tag.find("h1") is None:
            tag.decompose()
    headings = tuple(Heading(text, int(tag.name[1])) for tag in soup.find_all(_HEADING_TAGS)
                     if (text := tag.get_text(" ", strip=True)))
    body_root = soup.body or soup
    if title_text and not h1_text:  # the page headline wins over <title>
        body_root.insert(0, soup.new_string(title_text + "\n\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return Extracted(soup.get_text(), h1_text or title_text, headings)


class HtmlFormat:
    name = "html"
    suffixes = (".html", ".htm")
    kind = "html"
    description = "HTML 网页"

    def detects(self, data: bytes) -> bool:
        return False  # HTML is text; sniffing tells it apart by its tags

    def read(self, data: bytes, label: str) -> Extracted:
        return html_text(decode_bytes(data, label))


register(HtmlFormat())
