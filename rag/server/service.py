"""One answering service behind every programs' API: Gradio's /chat and /ask, and /v1.

``ChatService`` takes a question, earlier turns, ``top_k`` and the knowledge base's name
(``rag.server.catalog``: default = the app's default one), checks the turns once
(the question and ``top_k`` are checked by the answer pipeline), and returns the
pipeline's ``Answer`` — or streams its pieces. ``reply_text`` turns an Answer into the
text a chat client shows: the answer with its ``[n]`` marks, the warnings (an LLM
fallback is never hidden), then the numbered sources.

    service = ChatService.over(library, default_mode="extractive", top_k=5)
    answer = service.answer("问题", history=[["上一个问题", "上一个回答"]], top_k=3, kb="news")
    print(reply_text(answer))
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterator

from ..errors import QuestionError
from ..schema import Answer
from .catalog import KbCatalog

# Bounds on what a client may send. Chat clients (Open WebUI, Chatbox, the openai SDK)
# send the whole conversation with every question, so the bounds are generous; the
# answer pipeline itself reads only the last few turns (rag.answer.rewriting.HISTORY_TURNS).
MAX_HISTORY_TURNS = 100
MAX_TURN_CHARS = 20_000  # ten times the question limit (rag.answer.validation.MAX_QUESTION_CHARS)

SOURCES_HEADING = "来源"
WARNING_PREFIX = "注意："


def check_history(history: Any) -> list[tuple[str, str]]:
    """Earlier turns as (question, answer) pairs; QuestionError (Chinese, says what to send) otherwise.

    Accepted: a list of ``[question, answer]`` pairs of strings (an empty answer is fine).
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise QuestionError("history 必须是列表，每项是 [问题, 回答] 两个字符串，例如 [[\"问题\", \"回答\"]]。")
    if len(history) > MAX_HISTORY_TURNS:
        raise QuestionError(f"history 太长（{len(history)} 轮）：最多 {MAX_HISTORY_TURNS} 轮，请只发送最近的对话。")
    pairs = []
    for i, turn in enumerate(history):
        if (not isinstance(turn, (list, tuple)) or len(turn) != 2
                or not all(isinstance(x, str) for x in turn)):
            raise QuestionError(f"history 第 {i + 1} 项不是 [问题, 回答] 两个字符串：{_short(turn)}。")
        if any(len(x) > MAX_TURN_CHARS for x in turn):
            raise QuestionError(f"history 第 {i + 1} 项太长：每个问题或回答最多 {MAX_TURN_CHARS} 字。")
        pairs.append((turn[0], turn[1]))
    return pairs


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def reply_text(answer: Answer, *, escape_html: bool = False) -> str:
    """What a chat client shows: answer with [n] marks, warnings, then the numbered sources.

    ``escape_html``: for Markdown shown as a web page (/ask), so a document's ``<tags>``
    are shown as text, never run.
    """
    esc = (lambda s: html.escape(s, quote=False)) if escape_html else (lambda s: s)
    parts = [esc(answer.text)]
    if answer.warnings:
        parts.append("\n".join(f"{WARNING_PREFIX}{esc(w)}" for w in answer.warnings))
    if answer.citations:
        lines = [f"- {esc(line)}" for line in answer.sources_markdown().splitlines()]
        parts.append(f"**{SOURCES_HEADING}**\n" + "\n".join(lines))
    return "\n\n".join(parts)


def strip_sources(reply: str) -> str:
    """An earlier reply of ours without its sources list and warnings (for the history)."""
    text = reply.split(f"\n\n**{SOURCES_HEADING}**\n", 1)[0]
    return "\n\n".join(p for p in text.split("\n\n") if not p.startswith(WARNING_PREFIX))


@dataclass
class ChatService:
    """Answers for programs from any knowledge base of ``catalog`` (``kb=None``: the default one)."""

    catalog: KbCatalog
    modes: list[str]
    default_mode: str = "extractive"
    top_k: int | None = None  # None: the assistant's own default (RAG_TOP_K)

    @classmethod
    def over(cls, source: Any, default_mode: str = "extractive", top_k: int | None = None) -> "ChatService":
        """A service over a ``KnowledgeBase`` or a ``Library`` (every knowledge base, each looked up per call
        so a rebuild's new snapshot is followed); services over one source share its ``KbCatalog``."""
        catalog = KbCatalog.of(source)
        modes = catalog.modes
        if default_mode not in modes:
            default_mode = modes[0]
        return cls(catalog, modes, default_mode, top_k)

    @property
    def default_kb(self) -> str:
        return self.catalog.default_name

    def kb_names(self) -> list[str]:
        return self.catalog.names()

    def check_kb(self, kb: Any) -> str:
        """The knowledge base's name; KnowledgeBaseError (Chinese, lists the existing ones) when unknown."""
        return self.catalog.check(kb)

    def _assistant(self, mode: str | None, kb: str | None):
        return self.catalog.get(kb).assistant(mode or self.default_mode)

    def answer(self, question: Any, history: Any = None, top_k: Any = None, mode: str | None = None,
               kb: str | None = None) -> Answer:
        """The checked Answer; QuestionError for a bad question, history or top_k."""
        pairs = check_history(history)
        return self._assistant(mode, kb).answer(question, top_k=self._k(top_k), history=pairs)

    def stream(self, question: Any, history: Any = None, top_k: Any = None, mode: str | None = None,
               kb: str | None = None) -> Iterator[str | Answer]:
        """Text pieces, then the final Answer. Bad input raises here, before the first piece."""
        pairs = check_history(history)
        return self._assistant(mode, kb).stream_answer(question, top_k=self._k(top_k), history=pairs)

    def articles(self, kb: str | None = None) -> list[dict]:
        return self.catalog.get(kb).articles()

    def _k(self, top_k: Any) -> Any:
        return self.top_k if top_k is None else top_k
