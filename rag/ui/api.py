"""The app's documented API endpoints for programs (``gradio_client``): /ask, /articles."""

from __future__ import annotations

import gradio as gr

from ..errors import RagError
from ..kb import KnowledgeBase
from . import render


def register_api(kb: KnowledgeBase, default_mode: str, top_k: int) -> None:
    """Declare the API endpoints inside the caller's ``gr.Blocks``."""

    def ask(question: str) -> str:
        """Answer one question from the articles: the answer text with [n] marks, then its numbered sources (Markdown)."""
        try:
            answer = kb.assistant(default_mode).answer(question, top_k=top_k)
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return render.render_plain(answer)

    def articles() -> list[dict]:
        """The indexed articles: title, source file, publication, number of chunks, when indexed."""
        return kb.articles()

    gr.api(ask, api_name="ask")
    gr.api(articles, api_name="articles")
