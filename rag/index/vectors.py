"""What gets embedded, and the embedding cache keyed on exactly that text plus the model.

Chunk vectors and sentence vectors share one key scheme: ``vector_key(model, text)`` hashes
the very string handed to the embedder (passage side), so a changed title, a changed
prefix rule or another model never reuses a stale vector, and identical text is never
embedded twice.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

import numpy as np

from ..chunking import split_sentences
from ..schema import Chunk, content_hash

# Sentences shorter than this (characters) get no stored vector: headings, 「记者：」-style
# fragments and list markers. Callers embed those few themselves (sentence_vectors → None).
# Same bound as the answer judge's candidates (rag.answer.evidence.MIN_SENTENCE_CHARS).
MIN_SENTENCE_CHARS = 6
# Questions (an interviewer's) are never answer candidates either: no stored vector.
_QUESTION_END_RE = re.compile(r"[？?][”’」』）)]*$")


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded: the chunk, prefixed by its article title for context."""
    if chunk.text.startswith(chunk.title):
        return chunk.text
    return f"{chunk.title}\n{chunk.text}"


def vector_key(model_id: str, text: str) -> str:
    """Cache key of one embedded text (passage side) under one model."""
    return content_hash(model_id, "passage", text, length=20)


def chunk_sentences(chunk: Chunk, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """The sentences of a chunk that get stored vectors (exact substrings of its text): every
    ``split_sentences`` piece of at least ``min_chars`` that is neither the title nor a question."""
    out = []
    for s, e in split_sentences(chunk.text):
        text = chunk.text[s:e]
        if e - s >= min_chars and text != chunk.title and not _QUESTION_END_RE.search(text):
            out.append(text)
    return out


class VectorCache:
    """Vectors by ``vector_key``; fills the missing ones with one embedder call per build step."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.vectors: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.vectors)

    def key(self, text: str) -> str:
        return vector_key(self.model_id, text)

    def add(self, keys: Iterable[str], vectors: Iterable[np.ndarray]) -> None:
        for k, v in zip(keys, vectors):
            self.vectors[k] = np.asarray(v, dtype=np.float32)

    def get(self, text: str) -> np.ndarray | None:
        return self.vectors.get(self.key(text))

    def missing(self, texts: Sequence[str]) -> list[str]:
        """Distinct texts without a cached vector, in first-seen order."""
        seen, out = set(), []
        for t in texts:
            k = self.key(t)
            if k not in self.vectors and k not in seen:
                seen.add(k)
                out.append(t)
        return out

    def fill(
        self, texts: Sequence[str], embed: Callable[..., np.ndarray],
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Embed the texts not cached yet (shortest first: batches pad less); returns how many."""
        todo = sorted(self.missing(texts), key=len)
        if todo:
            vecs = embed(todo, progress=progress)
            self.add((self.key(t) for t in todo), vecs)
        return len(todo)

    def matrix(self, texts: Sequence[str], dim: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.vstack([self.vectors[self.key(t)] for t in texts]).astype(np.float32)
