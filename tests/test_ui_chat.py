"""The chat tab's pieces that need no browser: the export file."""

from __future__ import annotations

from pathlib import Path

from rag.schema import Answer, Passage
from rag.ui.chat import export_file
from rag.ui.conversation import Turn

TEXT = "崂山区打造了“1134”模式，即1套机制、1个中心、3项能力、4大场景。"


def test_export_file_is_the_markdown_of_the_conversation():
    p = Passage(text=TEXT, source="004.txt", title="崂山区", score=0.5, start=10, end=10 + len(TEXT), chunk_id="c")
    turns = [Turn("“1134”模式是什么？", Answer(text=TEXT + "[1]", citations=[p]), "a1")]
    path = Path(export_file(turns))
    assert path.suffix == ".md" and path.name.startswith("对话记录-")
    text = path.read_text("utf-8")
    assert "## 1. “1134”模式是什么？" in text and f"> {TEXT}" in text
    assert Path(export_file(turns)).parent == path.parent  # the same conversation: the same folder (content hash)


def test_nothing_to_export_without_turns():
    assert export_file([]) is None
