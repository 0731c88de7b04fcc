"""One answering service behind every programs' API: Gradio's /chat and /ask, and /v1.

``ChatService`` takes a question, earlier turns and ``top_k``, checks the turns once
(the question and ``top_k`` are checked by the answer pipeline), and returns the
pipeline's ``Answer`` — or streams its pieces. ``reply_text`` turns an Answer into the
text a chat client shows: the answer with its ``[n]`` marks, the warnings (an LLM
fallback is never hidden), then the numbered sources.

    service = ChatService.over(kb, default_mode="extractive", top_k=5)
    answer = service.answer("问题", history=[["上一个问题", "上一个回答"]], top_k=3)
    print(reply_text(answer))
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..errors import QuestionError
from ..schema import Answer

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
    """Answers for programs; ``assistant_for(mode)`` gives the assistant of the live knowledge base."""

    assistant_for: Callable[[str], Any]
    modes: list[str]
    default_mode: str = "extractive"
    top_k: int | None = None  # None: the assistant's own default (RAG_TOP_K)

    @classmethod
    def over(cls, kb: Any, default_mode: str = "extractive", top_k: int | None = None) -> "ChatService":
        """A service over a ``KnowledgeBase`` or a ``Library`` (its default knowledge base, looked up per call)."""
        if hasattr(kb, "assistant"):
            modes, assistant_for = list(kb.modes), kb.assistant
        else:  # a Library: the default knowledge base, re-read per call so a switch is followed
            modes = list(kb.get().modes)
            assistant_for = lambda mode: kb.get().assistant(mode)  # noqa: E731
        if default_mode not in modes:
            default_mode = modes[0]
        return cls(assistant_for, modes, default_mode, top_k)

    def _assistant(self, mode: str | None):
        return self.assistant_for(mode or self.default_mode)

    def answer(self, question: Any, history: Any = None, top_k: Any = None, mode: str | None = None) -> Answer:
        """The checked Answer; QuestionError for a bad question, history or top_k."""
        pairs = check_history(history)
        return self._assistant(mode).answer(question, top_k=self._k(top_k), history=pairs)

    def stream(self, question: Any, history: Any = None, top_k: Any = None, mode: str | None = None
               ) -> Iterator[str | Answer]:
        """Text pieces, then the final Answer. Bad input raises here, before the first piece."""
        pairs = check_history(history)
        return self._assistant(mode).stream_answer(question, top_k=self._k(top_k), history=pairs)

    def _k(self, top_k: Any) -> Any:
        return self.top_k if top_k is None else top_k
