"""Sentence-aware chunking for Chinese text.

Chunks end at sentence ends (。！？；… and the closing quotes that follow them, or a
line break) and never cut a sentence unless that sentence alone is longer than the
limit. Every chunk knows its exact span: ``document.text[start:end] == chunk.text``.
"""

from __future__ import annotations

import re

from .config import ChunkSettings
from .schema import Chunk, Document

_SENTENCE_END = "。！？；!?;…"
_CLOSERS = "”’」』）)】》\"'"
# A sentence: anything up to a run of end marks plus closing quotes, or up to a newline.
_SENTENCE_RE = re.compile(
    rf"[^{_SENTENCE_END}\n]*(?:[{_SENTENCE_END}]+[{re.escape(_CLOSERS)}]*|\n|$)"
)
_SOFT_BREAK = re.compile(r"[，、,：:]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in ``text``, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at commas where possible, else at ``size``."""
    pieces: list[tuple[int, int]] = []
    while end - start > size:
        window = text[start : start + size]
        cut = max((m.end() for m in _SOFT_BREAK.finditer(window)), default=0)
        if cut < size // 3:
            cut = size
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def chunk_text(text: str, settings: ChunkSettings) -> list[tuple[int, int]]:
    """Spans of chunks of ``text``: whole sentences up to ``settings.size`` characters."""
    units: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if end - start > settings.size:
            units.extend(_split_long(text, start, end, settings.size))
        else:
            units.append((start, end))

    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= settings.size:
            j += 1
        spans.append((units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        # Next chunk starts with the trailing sentences of this one that fit in the overlap.
        # They must leave room for the next sentence, so every chunk adds new text.
        k = j + 1
        while (
            k - 1 > i
            and units[j][1] - units[k - 1][0] <= settings.overlap
            and units[j + 1][1] - units[k - 1][0] <= settings.size
        ):
            k -= 1
        i = k
    return spans


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Cut one article into chunks that carry its file, title and exact spans."""
    return [
        Chunk(
            doc_id=doc.doc_id,
            source=doc.source,
            title=doc.title,
            start=start,
            end=end,
            text=doc.text[start:end],
        )
        for start, end in chunk_text(doc.text, settings)
    ]
