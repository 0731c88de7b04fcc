"""Tiny real articles in the sample's layout (title, body, 来源 line), for index and store tests."""

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
