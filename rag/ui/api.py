"""The app's documented API endpoints for programs (``gradio_client``).

- ``/chat(question, history=[], top_k=5, kb="default") -> dict``: ``Answer.to_dict()`` — text
  with [n] marks, structured citations, refused, mode, warnings, query — and ``kb``;
- ``/chat_stream``: the same, streamed: ``{"text": growing text, "done": False}`` …
  then the full dict with ``"done": True``;
- ``/ask(question, kb="default") -> str``: Markdown (answer, warnings, sources), HTML from documents escaped;
- ``/articles(kb="default") -> list[dict]``: the indexed articles.

``kb`` names the knowledge base to answer from (default: the app's default one, RAG_KB);
reading needs no administrator. An unknown name is an error (Chinese) that lists the
existing knowledge bases and says how to create one.

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


def register_api(source: Any, default_mode: str, top_k: int) -> None:
    """Declare the API endpoints inside the caller's ``gr.Blocks`` (``source``: KnowledgeBase or Library)."""
    service = ChatService.over(source, default_mode=default_mode)
    default_kb = service.default_kb

    def chat(question: str, history: list[list[str]] = [], top_k: int = top_k,  # noqa: B006
             kb: str = default_kb) -> dict:
        """Answer a question from the articles of a knowledge base, with structured citations.

        Args:
            question: The question, in Chinese (English works too). Follow-ups may lean on the history.
            history: Earlier turns, oldest first, as [question, answer] pairs of strings; at most 100 pairs.
            top_k: How many passages to retrieve, a whole number from 1 to 50.
            kb: The knowledge base to answer from, by name (see the 知识库 tab or `rag kb list`); empty means the app's default one.
        Returns:
            {"text": answer with [n] marks, "citations": [{"n", "title", "source", "start", "end", "text", "publication"}], "refused": bool, "mode": "extractive" | "llm", "warnings": [str], "query": the question used for retrieval, "gate": ""|"pass"|"refuse", "kb": the knowledge base answered from}
        """
        try:
            name = service.check_kb(kb)
            return {**service.answer(question, history, top_k, kb=name).to_dict(), "kb": name}
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    def chat_stream(question: str, history: list[list[str]] = [], top_k: int = top_k,  # noqa: B006
                    kb: str = default_kb) -> Iterator[dict]:
        """Answer a question like /chat, streaming the answer text as it is written.

        Args:
            question: The question, in Chinese (English works too). Follow-ups may lean on the history.
            history: Earlier turns, oldest first, as [question, answer] pairs of strings; at most 100 pairs.
            top_k: How many passages to retrieve, a whole number from 1 to 50.
            kb: The knowledge base to answer from, by name (see the 知识库 tab or `rag kb list`); empty means the app's default one.
        Returns:
            First {"text": the text so far, "done": false} as it grows, then the full /chat dict with "done": true (its text is the checked answer, which replaces the streamed one).
        """
        try:
            name = service.check_kb(kb)
            text = ""
            for piece in service.stream(question, history, top_k, kb=name):
                if isinstance(piece, str):
                    text += piece
                    yield {"text": text, "done": False}
                else:
                    yield {**piece.to_dict(), "kb": name, "done": True}
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    def ask(question: str, kb: str = default_kb) -> str:
        """Answer one question from the articles of a knowledge base, as Markdown.

        Args:
            question: The question, in Chinese (English works too).
            kb: The knowledge base to answer from, by name; empty means the app's default one.
        Returns:
            The answer text with [n] marks, any warnings (注意：…), then its numbered sources (Markdown; HTML from documents is escaped).
        """
        try:
            answer = service.answer(question, kb=service.check_kb(kb))
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return reply_text(answer, escape_html=True)

    def articles(kb: str = default_kb) -> list[dict]:
        """The indexed articles of a knowledge base: title, source file, publication, number of chunks, when indexed.

        Args:
            kb: The knowledge base, by name; empty means the app's default one.
        Returns:
            One dict per article.
        """
        try:
            return service.articles(service.check_kb(kb))
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    documented_api(chat, "chat")
    documented_api(chat_stream, "chat_stream")
    documented_api(ask, "ask")
    documented_api(articles, "articles")
