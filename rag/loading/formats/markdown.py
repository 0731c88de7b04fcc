"""Markdown (.md): marks removed, the first heading is the title, ``#``/``##``… headings reported, ``> 来源：…`` quotes kept as lines."""

from __future__ import annotations

import re

from ..decoding import decode_bytes
from . import Extracted, Heading, register

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE_RE = re.compile(r"(?m)^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE_RE = re.compile(r"(?m)^\s{0,3}>\s?")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_BOLD_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_FRONT_TITLE_RE = re.compile(r"(?m)^title\s*:\s*(.+?)\s*$")


def markdown_text(text: str) -> Extracted:
    """Markdown → plain lines; the document's first heading (before any paragraph) is its title."""
    front = _FRONT_MATTER_RE.match(text)
    text = _FRONT_MATTER_RE.sub("", text)
    declared = ""
    if front:
        m = _FRONT_TITLE_RE.search(front.group(1))
        declared = m.group(1).strip().strip("'\"") if m else ""
    if declared and not _HEADING_RE.match(text.lstrip("\n").split("\n", 1)[0]):
        text = f"# {declared}\n\n{text}"  # the front matter's title becomes the heading
    title = ""
    lines = []
    headings: list[Heading] = []
    seen_paragraph = False
    for line in text.split("\n"):
        m = _HEADING_RE.match(line)
        if m:
            if not title and not seen_paragraph:
                title = m.group(2)
            line = m.group(2)
            if _plain(line):
                headings.append(Heading(_plain(line), len(m.group(1))))  # "#" is level 1, "##" level 2
        elif line.strip() and not _RULE_RE.match(line):
            seen_paragraph = True
        lines.append(line)
    text = "\n".join(lines)
    text = _RULE_RE.sub("", text)  # horizontal rules
    text = _QUOTE_RE.sub("", text)  # block quotes: "> 来源：新华社" is a 来源 line
    text = _LINK_RE.sub(r"\1", text)  # links and images: keep the words
    text = _BOLD_RE.sub(r"\2", text)
    return Extracted(text, _plain(title), tuple(headings))


def _plain(heading: str) -> str:
    """A heading's words without bold and link marks."""
    return _BOLD_RE.sub(r"\2", _LINK_RE.sub(r"\1", heading)).strip()


class MarkdownFormat:
    name = "markdown"
    suffixes = (".md",)
    kind = "text"
    description = "Markdown 文本"

    def detects(self, data: bytes) -> bool:
        return False

    def read(self, data: bytes, label: str) -> Extracted:
        return markdown_text(decode_bytes(data, label))


register(MarkdownFormat())
