"""A conversation as the browser keeps it: turns that serialise to JSON and export as Markdown.

The chat page stores the conversation in the browser (``gr.BrowserState``, i.e. the
user's own localStorage), so a reload or a server restart loses nothing and nothing
about one person's questions is kept on the server. What is stored is exactly what
the page needs to draw an answer again: the answer text, its citations (passage text
and span), refusal, mode, warnings, the retrieval query, and the titles of the closest
passages of a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..schema import Answer, Passage

STORAGE_VERSION = 1
# The newest turns kept in the browser: 50 answers with five ~300-character citations
# are ~250 KB, well inside localStorage's 5 MB per origin (the smallest browser quota).
MAX_STORED_TURNS = 50
NEAREST_TITLES = 3  # closest articles a refusal names (render.render_sources shows three)


def _passage(d: dict) -> Passage:
    text = str(d.get("text", ""))
    start = int(d.get("start", 0))
    return Passage(
        text=text, source=str(d.get("source", "")), title=str(d.get("title", "")), score=0.0,
        start=start, end=start + len(text), chunk_id="", publication=str(d.get("publication", "")),
    )


def answer_to_dict(answer: Answer) -> dict:
    """The answer as stored in the browser (the /chat shape plus the closest titles)."""
    data = answer.to_dict()
    titles: list[str] = []
    for p in answer.passages:
        if p.title not in titles:
            titles.append(p.title)
    data["nearest"] = titles[:NEAREST_TITLES]
    return data


def answer_from_dict(data: dict) -> Answer:
    """The Answer back from :func:`answer_to_dict`; ValueError/TypeError/KeyError on junk."""
    citations = [_passage(c) for c in data.get("citations", [])]
    nearest = [Passage(text="", source="", title=str(t), score=0.0, start=0, end=0, chunk_id="")
               for t in data.get("nearest", [])]
    return Answer(
        text=str(data["text"]), citations=citations, refused=bool(data.get("refused", False)),
        mode=str(data.get("mode", "extractive")), warnings=[str(w) for w in data.get("warnings", [])],
        query=str(data.get("query", "")), passages=citations or nearest, gate=str(data.get("gate", "")),
    )


@dataclass(frozen=True)
class Turn:
    """One question and its answer; ``aid`` names the answer's source cards on the page."""

    question: str
    answer: Answer
    aid: str

    def __post_init__(self) -> None:
        if not self.question.strip():
            raise ValueError("a turn needs its question")
        if not self.aid or not self.aid.replace("-", "").isalnum():
            raise ValueError(f"turn id {self.aid!r} must be letters, digits and '-' (it is an HTML id)")

    def to_dict(self) -> dict:
        return {"question": self.question, "aid": self.aid, "answer": answer_to_dict(self.answer)}

    @classmethod
    def from_dict(cls, data: dict) -> "Turn":
        return cls(question=str(data["question"]), aid=str(data["aid"]), answer=answer_from_dict(data["answer"]))


def load_turns(stored) -> list[Turn]:
    """The turns kept in the browser; anything unreadable (an old format, edited storage) is dropped."""
    if not isinstance(stored, dict) or stored.get("version") != STORAGE_VERSION:
        return []
    turns = []
    for item in stored.get("turns") or []:
        try:
            turns.append(Turn.from_dict(item))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return turns


def dump_turns(turns: list[Turn]) -> dict:
    """What the browser stores: the newest MAX_STORED_TURNS turns."""
    return {"version": STORAGE_VERSION, "turns": [t.to_dict() for t in turns[-MAX_STORED_TURNS:]]}


def history(turns: list[Turn]) -> list[tuple[str, str]]:
    """(question, answer text) pairs, what the assistant takes as conversation history."""
    return [(t.question, t.answer.text) for t in turns]


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip().splitlines())


def to_markdown(turns: list[Turn], exported_at: datetime | None = None) -> str:
    """The conversation as a Markdown document: each question, its answer, and its sources quoted."""
    stamp = (exported_at or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M")
    out = [f"# 对话记录\n\n导出时间：{stamp}，共 {len(turns)} 个问题。"]
    for i, turn in enumerate(turns, 1):
        a = turn.answer
        out.append(f"## {i}. {turn.question.strip()}")
        if a.query and a.query.strip() != turn.question.strip():
            out.append(f"*检索用的问题：{a.query}*")
        out.append(("**未找到答案：** " if a.refused else "") + a.text.strip())
        if a.warnings:
            out.append("\n".join(f"- ⚠ {w}" for w in a.warnings))
        if a.citations:
            out.append("**来源**")
            for n, p in enumerate(a.citations, 1):
                pub = f"，{p.publication}" if p.publication else ""
                out.append(f"[{n}] 《{p.title}》（{p.source}，字符 {p.start}–{p.end}{pub}）\n\n{_quote(p.text)}")
    return "\n\n".join(out) + "\n"
