"""The app's documented API endpoints for programs (``gradio_client``).

- ``/chat(question, history=[], top_k=5) -> dict``: ``Answer.to_dict()`` — text with
  [n] marks, structured citations, refused, mode, warnings, query;
- ``/chat_stream``: the same, streamed: ``{"text": growing text, "done": False}`` …
  then the full dict with ``"done": True``;
- ``/ask(question) -> str``: Markdown (answer, warnings, sources), HTML from documents escaped;
- ``/articles() -> list[dict]``: the indexed articles.

Each parameter is described in ``view_api()`` from the handler's docstring (``Args:``).
"""

# No ``from __future__ import annotations``: gr.api reads the return annotation as an
# object, and a string annotation would make the documented return type "Any".
import collections.abc
import inspect
from typing import Any, Callable, Iterator, get_args, get_origin

import gradio as gr
from gradio.context import get_blocks_context
from gradio.utils import get_function_description
from gradio_client.utils import python_type_to_json_schema

from ..errors import RagError
from ..server.service import ChatService, reply_text


def documented_api(fn: Callable, api_name: str, **kwargs) -> None:
    """``gr.api`` whose parameters carry names and the descriptions from ``fn``'s docstring.

    ``gr.api`` derives the types from the signature but leaves every parameter description
    empty and labels them "1st", "2nd"…; the docstring's ``Args:`` section fills them in.
    A generator's return type (``Iterator[dict]``) is documented as the type it yields.
    """
    dep = gr.api(fn, api_name=api_name, **kwargs)
    _, described, returns = get_function_description(fn)
    blocks = get_blocks_context().blocks
    hint = inspect.signature(fn).return_annotation
    yielded = None
    if get_origin(hint) in (collections.abc.Iterator, collections.abc.Generator, collections.abc.Iterable):
        yielded = python_type_to_json_schema(get_args(hint)[0])
    for block_id, name in zip(dep["inputs"], described):
        component = blocks[block_id]
        component._api_info = {**component._api_info, "additional_description": described[name],
                               "description": described[name]}
        component.label = name
    for block_id in dep["outputs"]:
        component = blocks[block_id]
        schema = yielded if yielded is not None else component._api_info
        component._api_info = {**schema, "description": " ".join(returns)}
        component.label = "answer"


def register_api(kb: Any, default_mode: str, top_k: int) -> None:
    """Declare the API endpoints inside the caller's ``gr.Blocks`` (``kb``: KnowledgeBase or Library)."""
    service = ChatService.over(kb, default_mode=default_mode)

    def chat(question: str, history: list[list[str]] = [], top_k: int = top_k) -> dict:  # noqa: B006
        """Answer a question from the articles, with structured citations.

        Args:
            question: The question, in Chinese (English works too). Follow-ups may lean on the history.
            history: Earlier turns, oldest first, as [question, answer] pairs of strings; at most 100 pairs.
            top_k: How many passages to retrieve, a whole number from 1 to 50.
        Returns:
            {"text": answer with [n] marks, "citations": [{"n", "title", "source", "start", "end", "text", "publication"}], "refused": bool, "mode": "extractive" | "llm", "warnings": [str], "query": the question used for retrieval, "gate": ""|"pass"|"refuse"}
        """
        try:
            return service.answer(question, history, top_k).to_dict()
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    def chat_stream(question: str, history: list[list[str]] = [], top_k: int = top_k  # noqa: B006
                    ) -> Iterator[dict]:
        """Answer a question like /chat, streaming the answer text as it is written.

        Args:
            question: The question, in Chinese (English works too). Follow-ups may lean on the history.
            history: Earlier turns, oldest first, as [question, answer] pairs of strings; at most 100 pairs.
            top_k: How many passages to retrieve, a whole number from 1 to 50.
        Returns:
            First {"text": the text so far, "done": false} as it grows, then the full /chat dict with "done": true (its text is the checked answer, which replaces the streamed one).
        """
        try:
            text = ""
            for piece in service.stream(question, history, top_k):
                if isinstance(piece, str):
                    text += piece
                    yield {"text": text, "done": False}
                else:
                    yield {**piece.to_dict(), "done": True}
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    def ask(question: str) -> str:
        """Answer one question from the articles, as Markdown.

        Args:
            question: The question, in Chinese (English works too).
        Returns:
            The answer text with [n] marks, any warnings (注意：…), then its numbered sources (Markdown; HTML from documents is escaped).
        """
        try:
            answer = service.answer(question)
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return reply_text(answer, escape_html=True)

    def articles() -> list[dict]:
        """The indexed articles: title, source file, publication, number of chunks, when indexed.

        Returns:
            One dict per article.
        """
        return kb.articles() if hasattr(kb, "articles") else kb.get().articles()

    documented_api(chat, "chat")
    documented_api(chat_stream, "chat_stream")
    documented_api(ask, "ask")
    documented_api(articles, "articles")

